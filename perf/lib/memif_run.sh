# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# One appliance and one load over net_memif, for perf/overload.sh and perf/latency.sh: sipredir
# (1 worker, core 1; its control lcore on core 0) takes frames from sipredir-loadgen (core 0),
# which replays the bench pcap (10,000 distinct INVITEs, net_pcap infinite_rx). Source it from
# the repository root, then call memif_setup once and memif_run per load.

# memif_setup NAME: checks the build, makes the work directory and the pcap, and arranges that
# the processes this invocation started are stopped on exit (by their ids). NAME (a word)
# names the caller in the EAL file prefixes.
memif_setup() {
    sipredir=$PWD/build/dpdk-apps/sipredir
    loadgen=$PWD/build/dpdk-apps/sipredir-loadgen
    for exe in "$sipredir" "$loadgen"; do
        [ -x "$exe" ] || { echo "build first: meson setup build && ninja -C build" >&2; exit 1; }
    done
    work=$(mktemp -d)
    trap 'memif_stop; rm -rf "$work"' EXIT
    python3 perf/tools/make_invites.py "$work/invites.pcap" 10000 >/dev/null
    memif_eal=(--no-huge -m 1024 --no-pci --log-level '*:warning')
    # Unique per invocation: two runs at once (two checkouts) do not share EAL files.
    memif_prefix="$1$$"
}

memif_stop() {
    local f
    for f in "$work"/*.pid; do
        [ -e "$f" ] && kill -INT "$(cat "$f")" 2>/dev/null
        rm -f "$f"
    done
    return 0
}

# memif_run RUN RATE SECONDS [LOADGEN OPTION...]: runs the appliance, offers RATE frames/s for a
# 1 s warm-up and SECONDS more, and prints the loadgen's JSON line. RUN (a word) names the
# run's files in $work. Fails if the appliance's accounting of frames does not balance.
memif_run() {
    local run=$1 rate=$2 seconds=$3 i
    shift 3
    local sock="$work/memif-$run.sock" log="$work/sipredir-$run.log"
    "$sipredir" "${memif_eal[@]}" --lcores '0@0,1@1' --file-prefix "$memif_prefix-s$run" \
        --vdev "net_memif0,role=server,socket=$sock" -- --config config/bench.toml \
        --duration "$(awk -v s="$seconds" 'BEGIN { printf "%d", s + 10.999 }')" \
        --stats-json "$work/stats-$run.json" >"$log" 2>&1 &
    local appliance=$!
    echo "$appliance" >"$work/appliance-$run.pid"
    # The appliance listens on the memif socket once it says ready (bounded: 20 s).
    for ((i = 0; i < 200; i++)); do
        grep -qs '^sipredir: ready' "$log" && break
        kill -0 "$appliance" 2>/dev/null || { cat "$log" >&2; return 1; }
        sleep 0.1
    done
    "$loadgen" "${memif_eal[@]}" -m 512 -l 0 --file-prefix "$memif_prefix-g$run" \
        --vdev "net_pcap0,rx_pcap=$work/invites.pcap,infinite_rx=1" \
        --vdev "net_memif0,role=client,socket=$sock" -- \
        --rate "$rate" --seconds "$seconds" --warmup 1 "$@" 2>"$work/loadgen-$run.log" | tail -1
    kill -INT "$appliance" 2>/dev/null || true
    wait "$appliance" || true
    rm -f "$work/appliance-$run.pid"
    if ! python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['accounting_balanced']" \
        "$work/stats-$run.json"; then
        echo "run $run: the appliance's accounting is missing or does not balance" >&2
        tail -n 20 "$log" "$work/loadgen-$run.log" >&2
        return 1
    fi
}
