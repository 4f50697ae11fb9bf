#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End-to-end latency over net_memif at fractions of one worker's measured capacity.
# sipredir (1 worker, core 1) takes frames from sipredir-loadgen (core 0), which stamps each
# INVITE's Call-ID with a sequence number and its send time (TSC), matches every 302 to the
# INVITE it answers, and keeps the round trips in a histogram (within 0.8 %).
#   1. capacity: offered far above what one worker can take; its goodput is C.
#   2. each LOAD (a fraction of C), paced by the TSC, REPS times interleaved: p50, p99, p99.9 of
#      the window's requests (median over the repetitions), and the goodput.
# Goal: p99 <= 20 us at 80 % of capacity. Latency here includes both memif copies and the
# loadgen's own polling, on a core it shares with sipredir's control lcore: a machine shared
# with other work shows it in the tail.
# Usage: perf/latency.sh [--record] [--plot] [SECONDS per run (default 5)] [REPS (default 3)]
#                        [LOADS (default "0.5 0.8 0.95")]
# --plot draws perf/img/latency-*.png and goodput-*.png (python3-matplotlib); --record also
# appends the table and the pictures' links to perf/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
record=0
plot=0
while [ $# -gt 0 ]; do
    case $1 in
    --record) record=1 plot=1 ;;
    --plot) plot=1 ;;
    *) break ;;
    esac
    shift
done
seconds=${1:-5}
reps=${2:-3}
loads=${3:-0.5 0.8 0.95}

# shellcheck source=perf/lib/memif_run.sh
source perf/lib/memif_run.sh
memif_setup latency
load_before=$(cut -d' ' -f1 /proc/loadavg)

capacity_json=$(memif_run cap 50000000 "$seconds")
capacity=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['goodput_pps'])" \
    "$capacity_json")
[ "$capacity" -gt 0 ] || { echo "no goodput at capacity: $capacity_json" >&2; exit 1; }
echo "cap $capacity_json" >"$work/runs"
for ((r = 0; r < reps; r++)); do
    for load in $loads; do
        rate=$(awk -v l="$load" -v c="$capacity" 'BEGIN { printf "%d", l * c + 0.5 }')
        # Assigned first, so that a failed run (set -e) stops the script.
        one=$(memif_run "$load-$r" "$rate" "$seconds")
        echo "$load $one" >>"$work/runs"
    done
done

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
load_after=$(cut -d' ' -f1 /proc/loadavg)
machine="$cpu, $(nproc) cores; load average $load_before at start, $load_after at end"
report=$(python3 - "$work/runs" "$work/points.json" "$machine" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    label, text = line.split(" ", 1)
    runs.setdefault(label, []).append(json.loads(text))
cap = runs.pop("cap")[0]
# A reply whose stamp names no frame awaiting an answer is a stamping or matching fault.
bad = [r for rs in list(runs.values()) + [[cap]] for r in rs if r["unmatched"] or r["unstamped"]]
if bad:
    sys.exit(f"replies not matched to a stamped frame: {bad[0]}")
capacity = cap["goodput_pps"]
med = statistics.median

def row(label, rs):
    lat = lambda k: med(r["latency_us"][k] for r in rs)
    timed = sum(r["timed"] for r in rs)
    return {
        "label": label,
        "load": med(r["offered_pps"] for r in rs) / capacity,
        "offered_pps": med(r["offered_pps"] for r in rs),
        "goodput_pps": med(r["goodput_pps"] for r in rs),
        "refused": med(r["refused"] / max(r["offered"], 1) for r in rs),
        "unanswered": sum(r["timed"] - r["answered"] for r in rs),
        "timed": timed,
        "p50": lat("p50"), "p99": lat("p99"), "p999": lat("p999"), "max": lat("max"),
        "p99_runs": [r["latency_us"]["p99"] for r in rs],
        "lag": max(r["sender_lag_us_max"] for r in rs),
    }

rows = [row(f"{float(l) * 100:g} %", rs) for l, rs in sorted(runs.items(), key=lambda x: float(x[0]))]
rows.append(row("capacity run", [cap]))
print(f"capacity: offered {cap['offered_pps'] / 1e6:.2f} Mpps, goodput {capacity / 1e6:.3f} Mpps "
      f"(1 worker, net_memif); TSC {cap['tsc_hz'] / 1e9:.2f} GHz; "
      f"{max(len(v) for v in runs.values())} run(s) per load, medians")
print(f"machine: {sys.argv[3]}")
print("| load | offered Mpps | goodput Mpps | refused | unanswered / timed | p50 us | p99 us | p99.9 us | max us | p99 of each run | sender lag us |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
for r in rows:
    runs_p99 = ", ".join(f"{v:.1f}" for v in r["p99_runs"])
    print(f"| {r['label']} | {r['offered_pps'] / 1e6:.3f} | {r['goodput_pps'] / 1e6:.3f} | "
          f"{r['refused'] * 100:.1f} % | {r['unanswered']} / {r['timed']} | {r['p50']:.1f} | "
          f"{r['p99']:.1f} | {r['p999']:.1f} | {r['max']:.1f} | {runs_p99} | {r['lag']:.0f} |")
at80 = [r for r in rows if r["label"] == "80 %"]
print("sender lag: the most the loadgen fell behind its schedule (a stalled sender then sends a "
      "burst); the capacity run offers more than it can send, so there it is large by design.")
if at80:
    print(f"p99 at 80 % of capacity = {at80[0]['p99']:.1f} us   (goal <= 20)")
json.dump({"capacity_pps": capacity, "rows": rows}, open(sys.argv[2], "w"), indent=1)
PY
)
echo "$report"

if [ "$plot" = 1 ]; then
    stem="$(date -u +%Y-%m-%d)-$(git rev-parse --short HEAD)"
    # matplotlib comes from Debian's python3-matplotlib (scripts/deps.sh): that interpreter.
    py=python3
    python3 -c 'import matplotlib' 2>/dev/null || py=/usr/bin/python3
    mkdir -p perf/img
    "$py" perf/plot_latency.py "$work/points.json" "perf/img/latency-$stem.png" \
        "perf/img/goodput-$stem.png"
fi

if [ "$record" = 1 ]; then
    # shellcheck source=perf/lib/results.sh
    source perf/lib/results.sh
    results_record "perf/latency.sh --record $seconds $reps \"$loads\"" "$report"
    {
        echo
        echo "![latency against offered load](img/latency-$stem.png)"
        echo "![goodput against offered load](img/goodput-$stem.png)"
    } >>perf/RESULTS.md
fi
