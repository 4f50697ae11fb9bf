#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# OPTIONS probes per second that one backend receives from a fleet of N appliances, with and
# without shared probing, and what happens to it when its probers die. Prints Markdown tables and
# draws IMAGE (default docs/img/fleet_probe_load.png).   probe_load.py [IMAGE]
#
# Without sharing every appliance probes every backend once per probe interval I: N / I a second.
# With sharing each backend is probed by the k appliances that rank highest for it (rendezvous
# hash of backend and appliance names), who share what they saw: min(k, N) / I. An appliance that
# has had no fresh shared result for a backend for two intervals probes it itself (the fallback).
# A dead appliance stays in the live set until the peer timeout (3 s) passes; the next-ranked
# appliance then takes its place. The transient is simulated probe by probe: each appliance has a
# timer of its own phase, the probers die at t = 0, and every probe sent is counted per second.
import random
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

image = sys.argv[1] if len(sys.argv) > 1 else "docs/img/fleet_probe_load.png"
K = 2
PEER_TIMEOUT = 3.0
COUNTS = [1, 2, 3, 5, 10, 20, 50, 100, 200]
INTERVALS = [1.0, 0.25]


def steady(n, interval, shared):
    return (min(K, n) if shared else n) / interval


BIN = 0.25  # s


def transient(n, interval, dead, fallback_shared, runs=100, until=8.0, seed=1):
    """Probes per second to one backend, per BIN from -2 s to `until`, averaged over `runs`
    draws of the appliances' timer phases. Appliances 0..K-1 are its probers, K.. rank next;
    `dead` of the probers die at t = 0 (their last result came before). With fallback_shared, a
    fallback prober shares its result too, and the others count it as fresh."""
    rng = random.Random(seed)
    start = -2.0
    bins = [0.0] * int((until - start) / BIN)
    for _ in range(runs):
        phase = [rng.uniform(0, interval) for _ in range(n)]
        probers = list(range(min(K, n)))
        dead_set = set(probers[:dead])
        before = set(probers)
        after = set([x for x in range(n) if x not in dead_set][: min(K, n)])
        # Every tick of every appliance in time order.
        ticks = []
        for a in range(n):
            t = start - interval + phase[a]
            while t < until:
                ticks.append((t, a))
                t += interval
        ticks.sort()
        last_fresh = start - interval  # the newest shared result anyone has seen
        for t, a in ticks:
            if t >= 0 and a in dead_set:
                continue
            # The rendezvous set of the live members: the dead leave it at the peer timeout.
            current = before if t < PEER_TIMEOUT else after
            if a in current:
                probe, shares = True, True
            elif t - last_fresh > 2 * interval:
                probe, shares = True, fallback_shared
            else:
                probe, shares = False, False
            if probe and t >= start:
                bins[int((t - start) / BIN)] += 1.0 / (runs * BIN)
            if shares:
                last_fresh = t
    return [start + i * BIN for i in range(len(bins))], bins


def busiest_second(t, rate):
    """The most probes in any 1 s window (of whole bins) from t = 0 on."""
    after = [r for x, r in zip(t, rate) if x >= 0]
    w = int(1 / BIN)
    return max(sum(after[i:i + w]) * BIN for i in range(len(after) - w + 1))


rows = []
for n in COUNTS:
    row = [n]
    for interval in INTERVALS:
        row += [steady(n, interval, False), steady(n, interval, True)]
    rows.append(row)
print("Steady state, OPTIONS per second per backend (k = %d):\n" % K)
print("| appliances | no sharing, 1 s | shared, 1 s | no sharing, 250 ms | shared, 250 ms |")
print("|---:|---:|---:|---:|---:|")
for r in rows:
    print("| %d | %g | %g | %g | %g |" % tuple(r))

# Transients: the busiest second after the probers die, and the probes beyond the steady state
# summed over the 8 s after (what the fallback costs).
cases = [
    ("one of 2 probers dead", 1, False),
    ("both dead", 2, False),
    ("both dead, fallback shared", 2, True),
]
print("\nAfter the probers die at t = 0: busiest second (extra probes over the next 8 s):\n")
print("| appliances | " + " | ".join(f"{c[0]}, {i * 1000:g} ms" for c in cases for i in INTERVALS)
      + " |")
print("|---:|" + "---:|" * (len(cases) * len(INTERVALS)))
peaks = {}
for n in COUNTS:
    cells = []
    for label, dead, fb in cases:
        for interval in INTERVALS:
            if n <= dead:
                cells.append("–")  # nobody is left to take over
                continue
            t, rate = transient(n, interval, dead, fb, runs=40 if n >= 100 else 100)
            after = [r for x, r in zip(t, rate) if x >= 0]
            extra = (sum(after) - steady(n, interval, True) * len(after)) * BIN
            peaks[(label, interval, n)] = busiest_second(t, rate)
            cells.append(f"{peaks[(label, interval, n)]:.0f} ({extra:+.0f})")
    print(f"| {n} | " + " | ".join(cells) + " |")

fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
colours = {1.0: "tab:blue", 0.25: "tab:red"}
for interval in INTERVALS:
    c = colours[interval]
    name = f"{interval * 1000:g} ms" if interval < 1 else f"{interval:g} s"
    left.plot(COUNTS, [steady(n, interval, False) for n in COUNTS], "o-", color=c,
              label=f"no sharing, every {name}")
    left.plot(COUNTS, [steady(n, interval, True) for n in COUNTS], "s--", color=c,
              label=f"shared (k = {K}), every {name}")
    ns = [n for n in COUNTS if n > 2]
    left.plot(ns, [peaks[(cases[1][0], interval, n)] for n in ns], "^:", color=c,
              label=f"both probers dead, busiest second, every {name}")
left.set_xscale("log")
left.set_yscale("log")
left.set_xlabel("appliances")
left.set_ylabel("OPTIONS per second to one backend")
left.set_title("Probe load on a backend")
left.grid(True, which="both", linewidth=0.3)
left.legend(fontsize=7)
for label, dead, fb in cases:
    for interval in INTERVALS:
        t, rate = transient(200, interval, dead, fb, runs=40)
        name = f"{interval * 1000:g} ms" if interval < 1 else f"{interval:g} s"
        right.step(t, rate, where="post", color=colours[interval],
                   linestyle=":" if fb else {1: "-", 2: "--"}[dead],
                   label=f"{label}, every {name}")
right.axvline(0, color="black", linewidth=0.5)
right.axvline(PEER_TIMEOUT, color="grey", linewidth=0.5, linestyle=":")
right.set_yscale("symlog", linthresh=1)
right.set_ylim(0, 2000)
right.set_xlabel("seconds after the probers die (dotted: peer timeout, the set moves on)")
right.set_ylabel("OPTIONS per second to that backend")
right.set_title("200 appliances, shared probing (k = 2): the dead-prober transient")
right.legend(fontsize=7)
fig.tight_layout()
fig.savefig(image, dpi=80)
print(f"\nplot: {image}")
