#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Throughput against a reference in the same invocation: 10,000 distinct 700-900-octet INVITEs
# replayed from memory (net_pcap infinite_rx=1) through dpdk-testpmd 5tswap forwarding to
# net_null (1 forwarding core), then through sipredir (1 worker, then 2), replies dropped by the
# same pcap port. testpmd moves by a fifth from run to run on a shared machine, so the three
# runs alternate for ROUNDS rounds and each ratio is taken within its round; prints the median,
# min and max of each. --record appends to RESULTS.md.
# Usage: perf/bench_pcap.sh [--record] [SECONDS (default 10)] [ROUNDS (default 3)]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
record=0
if [ "${1:-}" = "--record" ]; then
    record=1
    shift
fi
seconds=${1:-10}
rounds=${2:-3}
sipredir=${SIPREDIR_BIN:-$root/build/dpdk-apps/sipredir} # another build: SIPREDIR_BIN
[ -x "$sipredir" ] || { echo "build first: meson setup build && ninja -C build" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 perf/tools/make_invites.py "$work/invites.pcap" 10000
eal=(--no-huge -m 1024 --no-pci --log-level '*:warning')

# testpmd prints each port's Rx-pps every second; port 0 (the pcap) is the one with a byte
# rate. The first reading covers start-up; take the median of the rest.
run_testpmd() {
    timeout -s INT "$((seconds + 2))" dpdk-testpmd "${eal[@]}" -l 0,1 --file-prefix bench-testpmd \
        --vdev "net_pcap0,rx_pcap=$work/invites.pcap,infinite_rx=1" --vdev net_null0 -- \
        --forward-mode=5tswap --total-num-mbufs=32768 --stats-period 1 >"$work/testpmd.log" 2>&1 || true
    python3 - "$work/testpmd.log" <<'PY'
import re, statistics, sys
text = open(sys.argv[1], errors="replace").read()
pps = [int(a) for a, b in re.findall(r"Rx-pps:\s+(\d+)\s+Rx-bps:\s+(\d+)", text) if int(b) > 0]
print(int(statistics.median(pps[1:])) if len(pps) > 1 else 0)
PY
}

run_sipredir() { # run_sipredir LABEL LCORES RX_QUEUES
    local label=$1 lcores=$2 queues=$3 vdev="net_pcap0" q
    for ((q = 0; q < queues; q++)); do vdev+=",rx_pcap=$work/invites.pcap"; done
    "$sipredir" "${eal[@]}" --lcores "$lcores" --file-prefix "bench-$label" \
        --vdev "$vdev,infinite_rx=1" -- --config config/bench.toml --duration "$seconds" \
        --stats-json "$work/$label.json" >"$work/$label.log" 2>&1
    python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['accounting_balanced']; \
print(int(s['replies_by_code']['302'] / s['seconds']))" "$work/$label.json"
}
# Two workers on this 2-core machine: the second shares core 0 with the (mostly sleeping)
# control lcore.
runs=()
for ((r = 0; r < rounds; r++)); do
    t=$(run_testpmd)
    one=$(run_sipredir one '0@0,1@1' 1)
    two=$(run_sipredir two '0@0,1@0,2@1' 2)
    runs+=("$t $one $two")
done

report=$(python3 - "${runs[@]}" <<'PY'
import statistics, sys
runs = [[int(x) for x in r.split()] for r in sys.argv[1:]]
# A round whose testpmd printed no rate (it did not start) gives no ratio.
failed = sum(1 for r in runs if r[0] == 0)
runs = [r for r in runs if r[0] > 0]
if not runs:
    sys.exit("testpmd gave no rate in any round")
def line(label, values, unit):
    m = statistics.median(values)
    return f"{label} {m:7.3f} {unit} (min {min(values):.3f}, max {max(values):.3f})"
t = [r[0] / 1e6 for r in runs]
one = [r[1] / 1e6 for r in runs]
two = [r[2] / 1e6 for r in runs]
print(f"{len(runs)} alternating rounds; medians, with min and max"
      + (f" ({failed} more left out: testpmd gave no rate)" if failed else ""))
print(line("testpmd 5tswap (1 core)  ", t, "Mpps"))
print(line("sipredir 302s (1 worker) ", one, "Mpps"))
print(line("sipredir 302s (2 workers)", two, "Mpps"))
print(line("1 worker / testpmd       ", [r[1] / r[0] for r in runs], "x   ") + "   (goal >= 0.40)")
print(line("2 workers / 1 worker     ", [r[2] / r[1] for r in runs], "x   "))
PY
)
echo "$report"
if [ "$record" -eq 1 ]; then
    # shellcheck source=lib/results.sh
    source perf/lib/results.sh
    results_record "perf/bench_pcap.sh $seconds $rounds" "$report"
fi
