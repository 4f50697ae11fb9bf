#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Redirects per second a race pool sustains in the lab (network namespaces, net_af_packet, one
# worker plus the control lcore), with and without coalescing, as a ratio against a least-load
# pool on the same lab in the same invocation. Three SIPp backends answer OPTIONS after 5, 40
# and 80 ms; sip_blaster offers RATE INVITEs per second for SECONDS (every load bounded).
#   least-load: the reference (the worker answers; no race)
#   race:       every request races (3 OPTIONS legs each)
#   race+20ms:  requests within 20 ms of a race's start or result share it
# Usage: perf/race_rate.sh [--record] [SECONDS (default 3)] [RATE (default 4000)]. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
record=0
if [ "${1:-}" = "--record" ]; then
    record=1
    shift
fi
seconds=${1:-3}
rate=${2:-4000}
lab_sipredir=$root/build/dpdk-apps/sipredir
blaster=$root/build/perf/sip_blaster
for exe in "$lab_sipredir" "$blaster"; do
    [ -x "$exe" ] || { echo "build first: meson setup build && ninja -C build" >&2; exit 1; }
done
export lab_sipredir
LAB_PREFIX=srp
export LAB_PREFIX
# shellcheck source=../scripts/lib/lab.sh
source "$root/scripts/lib/lab.sh"
work=$(mktemp -d)
trap 'lab_down; rm -rf "$work"' EXIT

lab_up
delays=(5 40 80)
for i in 1 2 3; do
    ip netns exec "$lab_ns_backends" sipp -sf "$root/tests/lab/sipp/race_options_uas.xml" \
        -i "198.18.1.$i" -p 5060 -bg -d "${delays[$((i - 1))]}" -deadcall_wait 0 -nostdin \
        >/dev/null 2>&1 || true
done
lab_wait_udp "$lab_ns_backends" ':5060 ' 3

run() { # run LABEL POOL-LINES: one sipredir, one blast; prints "LABEL answered/s 302s races"
    # Capacity far above the offered calls: least-load then never runs out of room (the
    # redirects it counts as calls would otherwise make every backend busy within seconds).
    sed -e '/^policy = "wrr"/d' \
        -e 's/^address = "198.18.1.\(.\):5060"/&\ncapacity = 1000000/' "$root/config/lab.toml" \
        >"$work/c.toml"
    printf '%s\n' "$2" >>"$work/c.toml"
    lab_start_sipredir "$work/c.toml" 60 "$work/s.json" "$work/l.log"
    ip netns exec "$lab_ns_callers" "$blaster" --target 198.18.0.1:5060 \
        --source 198.18.0.2:0 --seconds "$seconds" --rate "$rate" --timeout-ms 1000 >"$work/b.json"
    kill -INT "$lab_sipredir_pid"
    wait "$lab_sipredir_pid" || true
    python3 - "$1" "$work/b.json" "$work/s.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[2]))
s = json.load(open(sys.argv[3]))
r = s.get("race", {})
redirected = b["codes"].get("302", 0) / b["seconds"]
print(f"{sys.argv[1]}\t{redirected:.0f}\t{b['sent']}\t{b['codes']}\t{r.get('races', 0)}\t"
      f"{r.get('coalesced', 0)}\t{b['p50_us']:.0f}\t{b['p99_us']:.0f}")
PY
}

results=$(
    run least-load 'policy = "least-load"'
    run race $'policy = "race"\nrace_max_legs_per_second = 0'
    run race+20ms $'policy = "race"\nrace_max_legs_per_second = 0\nrace_coalesce_ms = 20'
)
report=$(python3 - "$rate" "$seconds" <<PY
import sys
rows = [l.split("\t") for l in """$results""".splitlines()]
ref = float(rows[0][1])
print(f"offered {sys.argv[1]}/s for {sys.argv[2]} s; backends answer OPTIONS after 5/40/80 ms")
print("| pool | 302s/s | vs least-load | sent | replies | races | coalesced | p50 / p99 us |")
print("|---|---:|---:|---:|---|---:|---:|---:|")
for label, per_s, sent, codes, races, coalesced, p50, p99 in rows:
    print(f"| {label} | {per_s} | {float(per_s) / ref:.2f} | {sent} | {codes} | {races} | "
          f"{coalesced} | {p50} / {p99} |")
PY
)
echo "$report"
if [ "$record" = 1 ]; then
    # shellcheck source=lib/results.sh
    source perf/lib/results.sh
    results_record "perf/race_rate.sh $seconds $rate" "$report"
fi
