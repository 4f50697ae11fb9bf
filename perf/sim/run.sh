#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Reproduces docs/balancing.md's tables and plots: builds the simulator, runs four scenarios
# (fresh estimate, stale estimate, bursty arrivals, backends that report nothing) and two fleet
# scenarios (1, 3 and 50 appliances; redirects shared every 100 ms or every second) at a
# carrier's call rate, and draws the PNGs into docs/img/; then the priority tiers scenario (a
# primary and an overflow site through a surge; a table, no plots); then the larger fleets: 200
# appliances sharing through a NATS-like broker at 90 % load (fleet200), every fleet policy at
# 95 % load on 1, 50 and 200 appliances against the 1.05 goal (goal95) and what the exchange's
# settings do to it (goal95_sweep), and the probe load of shared probing (perf/sim/probe_load.py).
# Deterministic: the same seed gives the same numbers on every machine. About fifteen minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build perf/sim/sim >/dev/null
mkdir -p docs/img
for scenario in "fresh:--publish-ms 10" "stale:--publish-ms 250" "bursty:--publish-ms 10 --bursty" \
    "unreported:--publish-ms 10 --no-reports" "fleet:--publish-ms 10 --fleet" \
    "fleet_slow_exchange:--publish-ms 10 --fleet --exchange-ms 1000"; do
    name=${scenario%%:*}
    args=${scenario#*:}
    out=build/perf/sim/out/$name
    rm -rf "$out"
    echo "### $name: sim --scale 20 $args"
    echo
    # shellcheck disable=SC2086
    build/perf/sim/sim --scale 20 $args --out "$out"
    echo
    # Debian's interpreter, which python3-matplotlib installs into (a pyenv python3 on PATH
    # would not see it).
    plot_args=()
    [[ $args == *--fleet* ]] && plot_args=(--fleet)
    /usr/bin/python3 perf/sim/plot.py "$out" "docs/img/sim_$name" "${plot_args[@]}"
done
echo "### tiers: sim --scale 10 --duration 600 --tiers"
echo
build/perf/sim/sim --scale 10 --duration 600 --tiers
echo
goal95="--duration 300 --steady --offered 95 --threshold 100 --fleet --broker"
for scenario in "fleet200:--publish-ms 10 --fleet --broker --appliances 1,50,200" \
    "goal95:$goal95 --appliances 1,50,200 --goal 1.05 \
--fleet-policies least-load,proportional,p2c,sequence,wrr,hash,random"; do
    name=${scenario%%:*}
    args=${scenario#*:}
    out=build/perf/sim/out/$name
    rm -rf "$out"
    echo "### $name: sim --scale 20 $args"
    echo
    # shellcheck disable=SC2086
    build/perf/sim/sim --scale 20 $args --out "$out"
    echo
    plot_args=(--fleet --balance-only)
    [[ $name == goal95 ]] && plot_args+=(--goal 1.05 --title "95 % load, 1 s reports, every policy")
    [[ $name == fleet200 ]] && plot_args+=(--title "Counts shared through a broker")
    /usr/bin/python3 perf/sim/plot.py "$out" "docs/img/sim_$name" "${plot_args[@]}"
done
# What the goal asks of the exchange: 200 appliances, least-load, proportional and p2c, as the
# counts are shared less often, not at all, with the send trigger, through a slower broker, or
# folded at longer publication intervals. Then sequence, which fills backends in order, on 50
# appliances with less headroom under its threshold or fresher counts.
for sweep in "--own-counts" "--exchange-ms 100" "--exchange-ms 500" "--exchange-ms 700" \
    "--exchange-ms 1000" "--exchange-ms 2000" "--exchange-ms 1000 --send-fraction 0.05" \
    "--exchange-ms 1000 --send-fraction 0.01" "--exchange-ms 100 --broker-ms 20" \
    "--exchange-ms 100 --publish-ms 50" "--exchange-ms 100 --publish-ms 100" \
    "--exchange-ms 100 --publish-ms 250" "--exchange-ms 100 --publish-ms 1000"; do
    echo "### goal95_sweep: sim --scale 20 $goal95 --appliances 200 --goal 1.05 $sweep"
    # shellcheck disable=SC2086
    build/perf/sim/sim --scale 20 $goal95 --appliances 200 --goal 1.05 \
        --fleet-policies least-load,proportional,p2c $sweep | sed -n '/^Per-second/,$p'
    echo
done
for sweep in "--threshold 100 --exchange-ms 20" "--threshold 100 --send-fraction 0.05" \
    "--threshold 97" "--threshold 95"; do
    echo "### goal95_sequence: sim --scale 20 ${goal95/--threshold 100 /} --appliances 50 $sweep"
    # shellcheck disable=SC2086
    build/perf/sim/sim --scale 20 ${goal95/--threshold 100 /} --appliances 50 --goal 1.05 \
        --fleet-policies sequence $sweep | sed -n '/^Per-second/,$p'
    echo
done
echo "### probe load: perf/sim/probe_load.py"
echo
/usr/bin/python3 perf/sim/probe_load.py docs/img/fleet_probe_load.png
echo
echo "plots: docs/img/sim_{fresh,stale,bursty,unreported,fleet,fleet_slow_exchange}_{utilisation,setup_delay,rejected}.png,"
echo "       docs/img/sim_{fleet,fleet_slow_exchange,fleet200,goal95}_balance.png, docs/img/fleet_probe_load.png"
