#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Rule matching per INVITE (Hyperscan) with 1, 100 and 1,000 rules: 7 repetitions, median / MAD
# ns per request, and the ratio against parsing the same INVITE measured in the same run.
#   perf/run_rules.sh            # print the table
#   perf/run_rules.sh --record   # and append it, with date, commit and machine, to RESULTS.md
set -euo pipefail
cd "$(dirname "$0")/.."
record=${1:-}

[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build perf/rules_bench >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
build/perf/rules_bench --benchmark_repetitions=7 --benchmark_min_time=0.5 \
    --benchmark_format=json >"$out" 2>/dev/null

table=$(python3 - "$out" <<'PY'
import json, sys
rows = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("run_type") == "aggregate":
        rows.setdefault(b["run_name"], {})[b["aggregate_name"]] = b["cpu_time"]
ref = rows["reference_parse_invite"]["median"]
print("| operation | median ns | MAD | ratio to parsing the INVITE |")
print("|---|---:|---:|---:|")
print(f"| parse the 800 B INVITE (reference) | {ref:.1f} | {rows['reference_parse_invite']['mad']:.1f} | 1.00 |")
for n in (1, 100, 1000):
    r = rows[f"match_rules/rules:{n}"]
    print(f"| match {n} rules | {r['median']:.1f} | {r['mad']:.1f} | {r['median'] / ref:.2f} |")
PY
)
echo "$table"
if [ "$record" = --record ]; then
    {
        echo
        echo "### Rules (Hyperscan), $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD)"
        echo
        echo "Command: \`perf/run_rules.sh --record\` on $(nproc) cores of $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)."
        echo
        echo "$table"
    } >>perf/RESULTS.md
fi
