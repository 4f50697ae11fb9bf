#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Reproduces docs/balancing.md's tables and plots: builds the simulator, runs four scenarios
# (fresh estimate, stale estimate, bursty arrivals, backends that report nothing) and two fleet
# scenarios (1, 3 and 50 appliances; redirects shared every 100 ms or every second) at a
# carrier's call rate, and draws the PNGs into docs/img/; then the priority tiers scenario (a
# primary and an overflow site through a surge; a table, no plots). Deterministic: the same seed
# gives the same numbers on every machine. About four minutes.
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
echo "plots: docs/img/sim_{fresh,stale,bursty,unreported,fleet,fleet_slow_exchange}_{utilisation,setup_delay,rejected}.png,"
echo "       docs/img/sim_{fleet,fleet_slow_exchange}_balance.png"
