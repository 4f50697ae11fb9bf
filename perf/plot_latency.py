#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Draws perf/latency.sh's points: latency (p50, p99, p99.9) against offered load, and goodput
against offered load, as two PNGs.

Usage: plot_latency.py POINTS.json LATENCY.png GOODPUT.png
POINTS.json: {"capacity_pps": C, "rows": [{"label", "load", "offered_pps", "goodput_pps",
"p50", "p99", "p999"}, ...]} with load = offered / C and latencies in microseconds."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, NullLocator  # noqa: E402

GOAL_P99_US = 20
GOAL_LOAD = 0.8


def label_ticks(axis, values, text):
    """Log axis ticks at the measured points only, written out (no powers of ten)."""
    axis.set_major_locator(FixedLocator(values))
    axis.set_minor_locator(NullLocator())
    axis.set_ticklabels([text(v) for v in values])


def latency_figure(rows, path):
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    loads = [r["load"] * 100 for r in rows]
    for key, label, style in (("p50", "p50", "o-"), ("p99", "p99", "s-"),
                              ("p999", "p99.9", "^-")):
        ax.plot(loads, [r[key] for r in rows], style, label=label)
    ax.plot([GOAL_LOAD * 100], [GOAL_P99_US], "k*", markersize=12,
            label=f"goal: p99 <= {GOAL_P99_US} us at {GOAL_LOAD * 100:.0f} %")
    ax.set_yscale("log")
    ax.set_xscale("log")
    label_ticks(ax.xaxis, loads, lambda v: f"{v:.0f}")
    ax.tick_params(axis="x", labelrotation=45)
    ax.set_xlabel("offered load, % of measured capacity")
    ax.set_ylabel("round trip over memif, us (log)")
    ax.set_title("sipredir, 1 worker: latency against offered load")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def goodput_figure(capacity, rows, path):
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    offered = [r["offered_pps"] / 1e6 for r in rows]
    ax.plot(offered, [r["goodput_pps"] / 1e6 for r in rows], "o-", label="302s per second")
    # y = x, sampled along the log axis so that it draws as the curve it is there.
    lo, hi = min(offered), max(offered)
    ideal = [lo * (hi / lo) ** (i / 99) for i in range(100)]
    ax.plot(ideal, ideal, color="grey", linestyle=":", linewidth=1,
            label="every request answered")
    ax.axhline(capacity / 1e6, color="grey", linestyle="--", linewidth=1,
               label=f"measured capacity {capacity / 1e6:.3f} Mpps")
    ax.set_xscale("log")
    label_ticks(ax.xaxis, offered, lambda v: f"{v:.2f}")
    ax.tick_params(axis="x", labelrotation=45)
    ax.set_xlabel("offered, Mpps (log)")
    ax.set_ylabel("goodput, Mpps")
    ax.set_ylim(0, max(capacity, max(r["goodput_pps"] for r in rows)) / 1e6 * 1.3)
    ax.set_title("sipredir, 1 worker: goodput against offered load")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    for i, (r, x) in enumerate(zip(rows, offered)):
        ax.annotate(r["label"], (x, r["goodput_pps"] / 1e6), textcoords="offset points",
                    xytext=(0, 8), ha="right" if i == len(rows) - 1 else "center", fontsize=7)
    fig.tight_layout()
    fig.savefig(path)


def main(points, latency_png, goodput_png):
    data = json.load(open(points))
    rows = sorted(data["rows"], key=lambda r: r["load"])
    latency_figure(rows, latency_png)
    goodput_figure(data["capacity_pps"], rows, goodput_png)
    print(f"{latency_png}, {goodput_png}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
