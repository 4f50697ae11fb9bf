#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Draws two of the Grafana dashboard's panels from a monitoring lab run's Prometheus data
(tests/lab/monitoring_test.sh with MONITORING_PLOT_DIR): backends (up, redirects/s each) and
replies (replies/s by code, latency p50 and p99), as monitoring_backends.png and
monitoring_replies.png.

Usage: monitoring_plot.py RANGES.jsonl OUT_DIR
RANGES.jsonl: the answers of /api/v1/query_range, one a line, in this order: backend up,
redirects/s by backend, replies/s by code, latency p50, latency p99."""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def series(answer, label):
    """[(legend, seconds from the first sample, values)] of one query_range answer."""
    out = []
    for r in answer["data"]["result"]:
        points = [(float(t), float(v)) for t, v in r["values"]]
        out.append((r["metric"].get(label, ""), points))
    return out


def main():
    answers = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
    up, redirects, replies, p50, p99 = answers
    start = min(t for a in answers for _, pts in series(a, "") for t, _ in pts)

    dashes = ["-", "--", ":"]

    def draw(ax, answer, label, fmt="{}", scale=1.0, step=False, skip_zero=False):
        # Dashes differ between lines, so equal series (b2 and b3 share the load) stay visible.
        for i, (name, pts) in enumerate(sorted(series(answer, label))):
            if skip_zero and not any(v for _, v in pts):
                continue
            xs = [t - start for t, _ in pts]
            ys = [v * scale for _, v in pts]
            if step:
                ax.step(xs, ys, where="post", label=fmt.format(name), linestyle=dashes[i % 3])
            else:
                ax.plot(xs, ys, label=fmt.format(name), linestyle=dashes[i % 3])

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5), dpi=110, sharex=True,
                                      gridspec_kw={"height_ratios": [1, 2]})
    draw(top, up, "backend", step=True)
    top.set_ylabel("sipredir_backend_up")
    top.set_ylim(-0.1, 1.1)
    top.set_yticks([0, 1])
    top.legend(loc="lower left", ncol=3, fontsize="small")
    top.set_title("Backends: b1 killed (SipredirBackendDown fires)")
    draw(bottom, redirects, "backend")
    bottom.set_ylabel("redirects/s per backend")
    bottom.set_xlabel("seconds")
    bottom.legend(loc="upper left", ncol=3, fontsize="small")
    bottom.set_ylim(bottom=0)
    fig.tight_layout()
    fig.savefig(os.path.join(sys.argv[2], "monitoring_backends.png"))

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5), dpi=110, sharex=True)
    draw(top, replies, "code", skip_zero=True)
    top.set_ylabel("replies/s by code")
    top.set_ylim(bottom=0)
    top.legend(loc="upper left", fontsize="small")
    top.set_title("Replies and reply latency (RX burst to TX burst)")
    draw(bottom, p50, "", fmt="p50", scale=1e6)
    draw(bottom, p99, "", fmt="p99", scale=1e6)
    bottom.set_ylabel("latency (us)")
    bottom.set_xlabel("seconds")
    bottom.set_ylim(bottom=0)
    bottom.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    fig.savefig(os.path.join(sys.argv[2], "monitoring_replies.png"))


main()
