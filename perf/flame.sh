#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Where one worker's time goes, as a flame graph: sipredir with 1 worker (lcore 1 on core 1)
# answers the bench pcap's 10,000 INVITEs replayed from memory, as in perf/bench_pcap.sh, and
# `perf record -e cpu-clock` samples the worker's thread (rte-worker-1) with DWARF call stacks
# for SECONDS: other programs on the core are not counted, but do slow the worker down, so run it
# on an otherwise idle machine. Writes
# perf/img/flame-DATE-COMMIT.svg (perf/tools/flamegraph.py) and prints the hottest functions
# (self time). Needs perf (Debian: linux-perf) and the release build's .eh_frame (no -g needed).
# Another build's binary: SIPREDIR_BIN=... LABEL=... (the label goes into the file name).
# Usage: perf/flame.sh [SECONDS (default 4)]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-4}
command -v perf >/dev/null || { echo "perf/flame.sh: needs perf (apt-get install linux-perf)" >&2; exit 1; }
sipredir=${SIPREDIR_BIN:-$root/build/dpdk-apps/sipredir}
[ -x "$sipredir" ] || { echo "build first: meson setup build && ninja -C build" >&2; exit 1; }
label=${LABEL:-$(git rev-parse --short HEAD)}
work=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

python3 perf/tools/make_invites.py "$work/invites.pcap" 10000 >/dev/null
"$sipredir" --no-huge -m 1024 --no-pci --log-level '*:warning' --lcores '0@0,1@1' \
    --file-prefix "flame-$$" --vdev "net_pcap0,rx_pcap=$work/invites.pcap,infinite_rx=1" -- \
    --config config/bench.toml --duration "$((seconds + 6))" --stats-json "$work/run.json" \
    >"$work/run.log" 2>&1 &
pid=$!
# Sample once the worker answers: its ready line is printed after the launch.
for _ in $(seq 100); do
    grep -q "sipredir: ready" "$work/run.log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/run.log" >&2; exit 1; }
    sleep 0.1
done
grep -q "sipredir: ready" "$work/run.log" || { echo "sipredir did not start" >&2; exit 1; }
worker=$(grep -l '^rte-worker-1$' /proc/"$pid"/task/*/comm | head -1 | cut -d/ -f5)
[ -n "$worker" ] || { echo "no rte-worker-1 thread in sipredir" >&2; exit 1; }
perf record -q -e cpu-clock -F 499 -t "$worker" --call-graph dwarf,8192 -o "$work/perf.data" \
    -- sleep "$seconds" 2>/dev/null
wait "$pid"
pid=
rate=$(python3 -c "import json,sys; s=json.load(open(sys.argv[1])); \
print(int(s['replies_by_code']['302'] / s['seconds']))" "$work/run.json")
mkdir -p perf/img
out="perf/img/flame-$(date -u +%Y-%m-%d)-$label.svg"
perf script -i "$work/perf.data" 2>/dev/null >"$work/perf.script"
python3 perf/tools/flamegraph.py --title "1 worker, bench pcap, $label: $rate replies/s" \
    <"$work/perf.script" >"$out"
echo "$out ($rate replies/s over the run)"
echo "hottest functions (self, share of the worker core's samples):"
perf report -i "$work/perf.data" --stdio --no-children -g none --sort symbol 2>/dev/null |
    grep -E '^ +[0-9]' | head -15 | sed -E 's/ +- +- *$//; s/ +$//' 
