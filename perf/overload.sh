#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Goodput under overload, against the same appliance at its capacity in the same invocation.
# sipredir (1 worker, core 1) takes frames over net_memif from sipredir-loadgen (core 0), which
# replays the bench pcap (10,000 distinct INVITEs, net_pcap infinite_rx) at a fixed rate and
# counts the 302s that come back. Frames the appliance's ring has no room for are refused, as
# a NIC counts imissed.
#   1. capacity: offered far above what one worker can take; its goodput is C.
#   2. 1x: offered at C; 2x: offered at 2C, each REPS times (median).
# Goal: goodput at 2x >= 95 % of goodput at 1x: no livelock, no collapse.
# Usage: perf/overload.sh [--record] [SECONDS per run (default 5)] [REPS (default 3)]
set -euo pipefail
cd "$(dirname "$0")/.."
record=0
if [ "${1:-}" = "--record" ]; then
    record=1
    shift
fi
seconds=${1:-5}
reps=${2:-3}
# shellcheck source=perf/lib/memif_run.sh
source perf/lib/memif_run.sh
memif_setup overload

# run_at NAME RATE: one appliance, one load; prints the loadgen's JSON. NAME is the run's own
# (each run its own memif socket and EAL file prefix).
run_at() {
    memif_run "$1" "$2" "$seconds"
}

field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$2'])" "$1"; }

capacity_json=$(run_at cap 50000000)
capacity=$(field "$capacity_json" goodput_pps)
: >"$work/runs"
for ((r = 0; r < reps; r++)); do
    # Assigned first, so that a failed run (set -e) stops the script.
    one=$(run_at "1x-$r" "$capacity")
    two=$(run_at "2x-$r" "$((capacity * 2))")
    printf '1x %s\n2x %s\n' "$one" "$two" >>"$work/runs"
done

report=$(python3 - "$capacity_json" "$work/runs" <<'PY'
import json, statistics, sys
cap = json.loads(sys.argv[1])
runs = {"1x": [], "2x": []}
for line in open(sys.argv[2]):
    label, text = line.split(" ", 1)
    runs[label].append(json.loads(text))
def median(label, key):
    return statistics.median(r[key] for r in runs[label])
print(f"capacity (offered {cap['offered_pps'] / 1e6:.2f} Mpps)  goodput {cap['goodput_pps'] / 1e6:.3f} Mpps")
for label in ("1x", "2x"):
    rs = runs[label]
    each = ", ".join(f"{r['goodput_pps'] / 1e6:.3f}" for r in rs)
    print(f"{label}: offered {median(label, 'offered_pps') / 1e6:.3f} Mpps, "
          f"refused {statistics.median(r['refused'] / max(r['offered'], 1) for r in rs) * 100:.1f} %, "
          f"goodput {median(label, 'goodput_pps') / 1e6:.3f} Mpps "
          f"(runs: {each})")
ratio = median("2x", "goodput_pps") / median("1x", "goodput_pps")
print(f"goodput at 2x / goodput at 1x = {ratio:.3f}   (goal >= 0.95)")
PY
)
echo "$report"

if [ "$record" = 1 ]; then
    # shellcheck source=lib/results.sh
    source perf/lib/results.sh
    results_record "perf/overload.sh $seconds $reps" "$report"
fi
