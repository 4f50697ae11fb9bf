#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Draws the simulator's CSVs: utilisation of every backend over time per policy, the setup-delay
# distribution, and rejected calls.
#   plot.py OUT_DIR IMAGE_PREFIX [--fleet [--goal G] [--title T] [--balance-only]]
# With --fleet (sim --fleet): the utilisation of the largest fleet's runs, and the per-second
# max/mean of every run grouped by the number of appliances, against the goal G (1.10);
# --balance-only draws that one plot.
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

out_dir, prefix = sys.argv[1], sys.argv[2]
# The policies in the order the simulator ran them (the first column of its summary).
summary = {}
with open(os.path.join(out_dir, "summary.csv")) as f:
    for row in csv.reader(f):
        summary[row[0]] = [float(x) for x in row[1:]]
policies = list(summary)
options = sys.argv[3:]
fleet = "--fleet" in options
goal = float(options[options.index("--goal") + 1]) if "--goal" in options else 1.10
title = (options[options.index("--title") + 1] if "--title" in options
         else "A fleet behind ECMP: own counts against shared counts")
if fleet:
    # Runs are named "<variant>__<appliances>_" (sim.cpp's file names for "<variant> (<n>)").
    counts = sorted({int(p.rstrip("_").rsplit("_", 1)[1]) for p in policies})
    # In the order the largest fleet ran them (one appliance has no "shared" runs).
    variants = [p.rstrip("_").rsplit("__", 1)[0] for p in policies
                if p.endswith(f"__{counts[-1]}_")]
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(variants)
    for k, v in enumerate(variants):
        xs, ys = [], []
        for i, n in enumerate(counts):
            name = f"{v}__{n}_"
            if name in summary:
                xs.append(i + k * width)
                ys.append(summary[name][1])
        ax.bar(xs, ys, width, label=v.replace("_", " ").replace("  ", ", "))
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(counts))])
    ax.set_xticklabels([f"{n} appliance{'s' if n > 1 else ''}" for n in counts])
    ax.axhline(goal, color="black", linestyle=":", linewidth=0.8)
    ax.set_ylim(1.0, max(max(r[1] for r in summary.values()) + 0.02, goal + 0.02))
    ax.set_ylabel("max/mean utilisation, per second")
    ax.set_title(f"{title} (dotted: the {goal:.2f} goal)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(f"{prefix}_balance.png", dpi=80)
    policies = [p for p in policies if p.endswith(f"__{counts[-1]}_")]
    if "--balance-only" in options:
        sys.exit(0)


def utilisation(policy):
    with open(os.path.join(out_dir, f"utilisation_{policy}.csv")) as f:
        rows = list(csv.reader(f))
    header, data = rows[0], [[float(x) for x in r] for r in rows[1:]]
    return header[1:], [r[0] for r in data], [[r[i + 1] for r in data] for i in range(len(header) - 1)]


rows = math.ceil(len(policies) / 2)
fig, axes = plt.subplots(rows, 2, figsize=(13, 3 * rows), sharex=True, sharey=True)
for ax in axes.flat[len(policies):]:
    ax.set_visible(False)
for ax, policy in zip(axes.flat, policies):
    names, t, series = utilisation(policy)
    for name, s in zip(names, series):
        ax.plot(t, [100 * x for x in s], linewidth=0.7, label=name.replace("_cap", " cap "))
    ax.axhline(90, color="black", linestyle=":", linewidth=0.8)
    ax.set_title(policy)
    ax.set_ylim(0, 105)
axes[0][0].set_ylabel("utilisation %")
axes[-1][0].set_xlabel("time s")
axes[0][1].legend(fontsize=6, ncol=2, loc="lower right")
fig.suptitle("Backend utilisation over time (dotted: threshold); one backend dies at mid-run, one halves later")
fig.tight_layout(rect=(0, 0, 1, 0.98))  # room for the title
fig.savefig(f"{prefix}_utilisation.png", dpi=80)

fig, ax = plt.subplots(figsize=(8, 5))
for policy in policies:
    with open(os.path.join(out_dir, f"setup_{policy}.csv")) as f:
        d = sorted(float(x) for x in f)
    if d:
        ax.plot(d, [i / len(d) for i in range(len(d))], label=policy,
                linestyle="--" if policy.startswith("race") else "-")
ax.set_xscale("log")
ax.set_xlabel("call-setup delay ms (log)")
ax.set_ylabel("fraction of calls")
ax.set_title("Call-setup delay distribution")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(f"{prefix}_setup_delay.png", dpi=80)

fig, ax = plt.subplots(figsize=(9, 4))
ax.bar(policies, [100 * summary[p][-1] for p in policies])
ax.set_ylabel("rejected or failed calls %")
ax.set_title("Calls not set up (503 from appliance or backend, or sent to a dead backend)")
plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
fig.tight_layout()
fig.savefig(f"{prefix}_rejected.png", dpi=80)
