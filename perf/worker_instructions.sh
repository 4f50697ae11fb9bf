#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Instructions per frame through the worker's pipeline (classify, parse, decide, choose, write
# the reply, count), exact under callgrind: build/perf/worker_ops over the bench pcap's 10,000
# INVITEs (perf/tools/make_invites.py), at N and at 0 frames, the difference divided by N.
# --record appends the figure to perf/RESULTS.md. BUILD=DIR counts another build directory's
# (e.g. one configured with -Db_lto=false).
# Usage: [BUILD=DIR] perf/worker_instructions.sh [--record] [N (default 20000)]
set -euo pipefail
cd "$(dirname "$0")/.."
record=0
if [ "${1:-}" = "--record" ]; then
    record=1
    shift
fi
n=${1:-20000}
build=${BUILD:-build}
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" perf/worker_ops >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 perf/tools/make_invites.py "$work/invites.pcap" 10000 >/dev/null

collected() { # frames -> instructions of the whole run
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$build/perf/worker_ops" config/bench.toml "$work/invites.pcap" "$1" 2>&1 |
        sed -n 's/.*Collected : //p'
}
base=$(collected 0)
full=$(collected "$n")
lto=$(meson introspect --buildoptions "$build" |
    python3 -c "import json,sys; print(next(o['value'] for o in json.load(sys.stdin) if o['name'] == 'b_lto'))")
report="worker pipeline, bench pcap INVITEs: $(((full - base) / n)) instructions/frame ($n frames, b_lto=$lto)"
echo "$report"
if [ "$record" -eq 1 ]; then
    # shellcheck source=lib/results.sh
    source perf/lib/results.sh
    results_record "BUILD=$build perf/worker_instructions.sh $n" "$report"
fi
