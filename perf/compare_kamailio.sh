#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# sipredir against Kamailio 5.6 (Debian's package; stateless sl 302 with dispatcher round robin,
# perf/kamailio/redirect.cfg) on the same path: the namespace lab of scripts/lib/lab.sh, the same
# load from perf/tools/sip_blaster in the callers' namespace, one core for the server under test
# (Kamailio: one UDP worker, all its processes pinned to CPU 1; sipredir: one worker lcore on
# CPU 1), the blaster on CPU 0. On a 2-core machine the one blaster core saturates first, so
# replies/s under load measure the path; the per-core comparison is replies per second of the
# server's own CPU time (Kamailio: utime + stime of all its processes; sipredir: the time its
# poll-mode worker spent on polls that received frames, "busy_seconds" in its stats).
# Each server gets, in turn:
#   capacity  closed loop, WINDOW requests in flight for SECONDS: replies/s, p99 at saturation;
#   latency   open loop at RATE requests/s (default: half of Kamailio's capacity) for SECONDS:
#             p50/p99 when neither server is saturated.
# Every INVITE's 302 is ACKed, as a caller does. Prints both and the ratios; --record appends
# them to perf/RESULTS.md. Run as root. Bounded: two servers x two runs of SECONDS (default 10).
# Usage: perf/compare_kamailio.sh [--record] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
record=0
if [ "${1:-}" = "--record" ]; then
    record=1
    shift
fi
seconds=${1:-10}
window=${COMPARE_WINDOW:-64}

if [ "$(id -u)" -ne 0 ]; then
    echo "compare_kamailio: run as root (network namespaces, DPDK af_packet)" >&2
    exit 1
fi
if [ "$(nproc)" -lt 2 ]; then
    echo "compare_kamailio: needs two CPUs (one for the server under test, one for the load)" >&2
    exit 1
fi

scripts/deps.sh
if ! command -v kamailio >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends kamailio >/dev/null
fi
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build dpdk-apps/sipredir perf/sip_blaster >/dev/null
blaster=$root/build/perf/sip_blaster

lab_sipredir=$root/build/dpdk-apps/sipredir
LAB_PREFIX=srcmp
# shellcheck source=../scripts/lib/lab.sh
source scripts/lib/lab.sh
# shellcheck source=lib/results.sh
source perf/lib/results.sh
work=$(mktemp -d)
kamailio_pid=
cleanup() {
    [ -n "$kamailio_pid" ] && kill "$kamailio_pid" 2>/dev/null
    lab_down
    rm -rf "$work"
}
trap cleanup EXIT

ns_cpu_seconds() { # CPU time (user + system) of every process in the appliance's namespace
    ip netns pids "$lab_ns_app" | python3 -c '
import os, sys
ticks = os.sysconf("SC_CLK_TCK")
total = 0
for pid in sys.stdin.read().split():
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    total += int(fields[11]) + int(fields[12])  # utime, stime
print(total / ticks)'
}

blast() { # blast OUT MODE VALUE: one run of the blaster from the callers' namespace
    ip netns exec "$lab_ns_callers" taskset -c 0 "$blaster" --target 198.18.0.1:5060 \
        --source 198.18.0.2:5070 --seconds "$seconds" "--$2" "$3" --timeout-ms 500 >"$1"
}

lab_up

echo "== Kamailio $(kamailio -v | sed -n 's/^version: kamailio \([^ ]*\).*/\1/p'): sl + dispatcher round robin, children=1, CPU 1"
ip -n "$lab_ns_app" addr add 198.18.0.1/15 dev app0
mkdir -p "$work/kamailio"
ip netns exec "$lab_ns_app" taskset -c 1 kamailio -f "$root/perf/kamailio/redirect.cfg" \
    -A "DISPATCHER_LIST=\"$root/perf/kamailio/dispatcher.list\"" -DD -E -m 64 -M 8 \
    -Y "$work/kamailio" -P "$work/kamailio/kamailio.pid" >"$work/kamailio.log" 2>&1 &
kamailio_pid=$!
lab_wait_udp "$lab_ns_app" '198.18.0.1:5060 ' 1 "$kamailio_pid" || {
    echo "Kamailio did not start:" >&2
    cat "$work/kamailio.log" >&2
    exit 1
}
cpu_before=$(ns_cpu_seconds)
blast "$work/kamailio-capacity.json" window "$window"
rate=${COMPARE_RATE:-$(python3 -c "import json,sys; print(max(1000, int(json.load(open(sys.argv[1]))['replies_per_s'] / 2)))" "$work/kamailio-capacity.json")}
blast "$work/kamailio-latency.json" rate "$rate"
cpu_after=$(ns_cpu_seconds)
echo "{\"cpu_seconds\": $(python3 -c "print($cpu_after - $cpu_before)")}" >"$work/kamailio-cpu.json"
kill "$kamailio_pid"
wait "$kamailio_pid" 2>/dev/null || true
kamailio_pid=
ip -n "$lab_ns_app" addr del 198.18.0.1/15 dev app0

echo "== sipredir: net_af_packet on the same veth, 1 worker on CPU 1"
# The lab configuration, but polling: a benchmark measures the busy worker.
sed 's/^idle = "sleep"/idle = "poll"/' config/lab.toml >"$work/compare.toml"
lab_start_sipredir "$work/compare.toml" 600 "$work/sipredir-stats.json" "$work/sipredir.log"
blast "$work/sipredir-capacity.json" window "$window"
blast "$work/sipredir-latency.json" rate "$rate"
kill -INT "$lab_sipredir_pid"
wait "$lab_sipredir_pid" || true

report=$(python3 - "$work" "$window" "$rate" "$seconds" <<'PY'
import json, sys
work, window, rate, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
r = {f"{s}-{m}": json.load(open(f"{work}/{s}-{m}.json"))
     for s in ("kamailio", "sipredir") for m in ("capacity", "latency")}
stats = json.load(open(f"{work}/sipredir-stats.json"))
kamailio_cpu = json.load(open(f"{work}/kamailio-cpu.json"))["cpu_seconds"]
kamailio_replies = r["kamailio-capacity"]["answered"] + r["kamailio-latency"]["answered"]
kamailio_per_cpu = kamailio_replies / kamailio_cpu if kamailio_cpu > 0 else 0
sipredir_per_cpu = stats["replies_per_busy_second"]
print(f"{'':28} {'Kamailio':>12} {'sipredir':>12} {'ratio':>8}")
kc, sc = r["kamailio-capacity"], r["sipredir-capacity"]
print(f"{'302/s, window ' + str(window):28} {kc['replies_per_s']:12,.0f} {sc['replies_per_s']:12,.0f} "
      f"{sc['replies_per_s'] / max(kc['replies_per_s'], 1):7.1f}x")
print(f"{'p99 us at saturation':28} {kc['p99_us']:12,.0f} {sc['p99_us']:12,.0f}")
print(f"{'302/s per CPU-second':28} {kamailio_per_cpu:12,.0f} {sipredir_per_cpu:12,.0f} "
      f"{sipredir_per_cpu / max(kamailio_per_cpu, 1):7.1f}x   (goal >= 10x)")
kl, sl = r["kamailio-latency"], r["sipredir-latency"]
print(f"{'p50 us at ' + str(rate) + '/s':28} {kl['p50_us']:12,.0f} {sl['p50_us']:12,.0f}")
print(f"{'p99 us at ' + str(rate) + '/s':28} {kl['p99_us']:12,.0f} {sl['p99_us']:12,.0f}")
for name in ("kamailio", "sipredir"):
    for m in ("capacity", "latency"):
        x = r[f"{name}-{m}"]
        print(f"{name} {m}: sent {x['sent']:,}, answered {x['answered']:,}, lost {x['lost']:,}, "
              f"late {x['late']:,}, codes {x['codes']}")
print(f"Kamailio CPU {kamailio_cpu:.2f} s for {kamailio_replies:,} replies; sipredir worker busy "
      f"{stats['busy_seconds']:.2f} s for {stats['replies']:,} replies")
print(f"sipredir accounting identity: {'holds' if stats['accounting_balanced'] else 'BROKEN'}; "
      f"drops {stats['dropped']}; port {stats['port']}")
PY
)
echo "$report"
if [ "$record" -eq 1 ]; then
    results_record "perf/compare_kamailio.sh $seconds" "$report"
fi
