#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The SIP microbenchmarks, Seastar-style: 7 repetitions of each, median / MAD / min / max ns per
# operation, instructions per operation (callgrind, exact), allocations per operation, and each
# operation as a ratio of medians against the memchr line walk over the same bytes, measured in
# the same invocation.
#   perf/run_micro.sh            # print the table
#   perf/run_micro.sh --record   # and append it, with date, commit and machine, to RESULTS.md
set -euo pipefail
cd "$(dirname "$0")/.."
record=${1:-}

[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build perf/sip_bench perf/sip_ops perf/balance_bench >/dev/null

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
build/perf/sip_bench --benchmark_repetitions=7 --benchmark_min_time=0.5 \
    --benchmark_format=json >"$out/bench.json" 2>/dev/null
build/perf/balance_bench --benchmark_repetitions=7 --benchmark_min_time=0.3 \
    --benchmark_format=json >"$out/balance.json" 2>/dev/null

instructions() { # op message -> instructions per operation
    local n=20000 base full
    base=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null build/perf/sip_ops "$1" "$2" 0 2>&1 |
        sed -n 's/.*Collected : //p')
    full=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null build/perf/sip_ops "$1" "$2" $n 2>&1 |
        sed -n 's/.*Collected : //p')
    echo $(((full - base) / n))
}
for op in memchr parse write; do
    for msg in invite options; do
        echo "$op $msg $(instructions $op $msg)"
    done
done >"$out/instructions.txt"

table=$(python3 - "$out/bench.json" "$out/instructions.txt" <<'PY'
import json, sys
bench = json.load(open(sys.argv[1]))
instr = {}
for line in open(sys.argv[2]):
    op, msg, n = line.split()
    instr[(op, msg)] = int(n)
names = {"reference_memchr_lines": "memchr", "parse_message": "parse", "decide_and_write": "write"}
stats = {}
kernels = {}  # parse_by_stage1_variant: (message, kernel) -> aggregate -> benchmark
for b in bench["benchmarks"]:
    if b.get("run_type") != "aggregate" or b.get("error_occurred"):
        continue
    parts = b["run_name"].split("/")
    msg = "invite" if parts[1].endswith(":0") else "options"
    if parts[0] == "parse_by_stage1_variant":
        kernels.setdefault((msg, int(parts[2].split(":")[1])), {})[b["aggregate_name"]] = b
        continue
    key = (names[parts[0]], msg)
    stats.setdefault(key, {})[b["aggregate_name"]] = b
    stats[key]["allocs"] = b.get("allocs/op", 0)
msgs = {"invite": "INVITE 800 B", "options": "OPTIONS 260 B"}
print("| operation | message | median ns | MAD | min | max | instr/op | allocs/op |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for op in ("memchr", "parse", "write"):
    for msg in ("invite", "options"):
        s = stats[(op, msg)]
        print(f"| {op} | {msgs[msg]} | {s['median']['cpu_time']:.1f} | {s['mad']['cpu_time']:.1f} "
              f"| {s['min']['cpu_time']:.1f} | {s['max']['cpu_time']:.1f} | {instr[(op, msg)]} "
              f"| {s['allocs']:g} |")
print()
print("| ratio of medians (vs memchr line walk, same bytes, same run) | INVITE | OPTIONS |")
print("|---|---:|---:|")
for op in ("parse", "write"):
    r = [stats[(op, m)]["median"]["cpu_time"] / stats[("memchr", m)]["median"]["cpu_time"]
         for m in ("invite", "options")]
    print(f"| {op} / memchr | {r[0]:.2f} | {r[1]:.2f} |")
if kernels:
    print()
    print("| parse, stage 1 kernel forced (same run) | INVITE median ns | OPTIONS median ns |")
    print("|---|---:|---:|")
    for k, name in enumerate(("SSSE3", "AVX2", "AVX-512BW")):
        cells = [kernels.get((m, k), {}).get("median") for m in ("invite", "options")]
        shown = [f"{c['cpu_time']:.1f}" if c else "n/a (CPU lacks it)" for c in cells]
        print(f"| {name} | {shown[0]} | {shown[1]} |")
ctx = bench["context"]
print()
print(f"{ctx['num_cpus']} CPUs at {ctx['mhz_per_cpu']} MHz, library build type "
      f"{ctx.get('library_build_type', '?')}, caches "
      + ", ".join(f"L{c['level']} {c['size'] // 1024} KiB" for c in ctx.get("caches", [])
                  if c["type"] in ("Data", "Unified")))
PY
)
balance=$(python3 - "$out/balance.json" <<'PY'
import json, sys
bench = json.load(open(sys.argv[1]))
policies = ["least-load", "proportional", "p2c", "sequence", "wrr", "hash", "random"]
stats = {}
for b in bench["benchmarks"]:
    if b.get("run_type") == "aggregate":
        stats.setdefault(b["run_name"], {})[b["aggregate_name"]] = b["cpu_time"]
ref = stats["reference_random_index"]
print("| choice (10 backends, incl. snapshot and Contact loads) | median ns | MAD | min | max | / reference |")
print("|---|---:|---:|---:|---:|---:|")
print(f"| reference: random draw + index + Contact load | {ref['median']:.2f} | {ref['mad']:.2f} "
      f"| {ref['min']:.2f} | {ref['max']:.2f} | 1.00 |")
for i, name in enumerate(policies):
    s = stats[f"choose_policy/policy:{i}"]
    print(f"| {name} | {s['median']:.2f} | {s['mad']:.2f} | {s['min']:.2f} | {s['max']:.2f} "
          f"| {s['median'] / ref['median']:.2f} |")
PY
)
table="$table

$balance"
echo "$table"
if [ "$record" = "--record" ]; then
    {
        echo
        echo "### $(date -u +%Y-%m-%d) · commit $(git rev-parse --short HEAD) · $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
        echo
        echo "Command: \`perf/run_micro.sh --record\` (release build, -march=x86-64-v2)"
        echo
        echo "$table"
    } >>perf/RESULTS.md
    echo "appended to perf/RESULTS.md"
fi
