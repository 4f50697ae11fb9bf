#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A flame graph (SVG) from `perf script` output, standard library only.

Each sample's stack is folded into one line, root first; equal stacks are counted; each frame
is drawn as wide as the samples under it, callers below callees. Frames of the same name share
a colour, so one function is easy to follow across stacks. Hover a frame for its name and share.

    perf script -i perf.data | perf/tools/flamegraph.py --title "..." > flame.svg
    perf/tools/flamegraph.py --folded < perf.script     # the folded stacks, one per line
"""
import argparse
import collections
import hashlib
import html
import re
import sys

WIDTH = 1200
FRAME_HEIGHT = 16
MIN_WIDTH = 0.1  # pixels: narrower frames are left out (they would not show)


def samples(lines):
    """Yields each sample's frames, innermost first, from perf script's text."""
    frames = []
    in_sample = False
    for line in lines:
        if not line.strip():
            if frames:
                yield frames
            frames = []
            in_sample = False
            continue
        if not line.startswith((" ", "\t")):
            in_sample = True  # the sample's header line (command, pid, time, event)
            continue
        if in_sample:
            # "    7f12 symbol+0x1c (/path/to/dso)"
            m = re.match(r"\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$", line)
            if not m:
                continue
            symbol, dso = m.group(1), m.group(2)
            symbol = re.sub(r"\+0x[0-9a-f]+$", "", symbol)
            if symbol == "[unknown]":
                name = dso.rsplit("/", 1)[-1]
                symbol = name if name.startswith("[") else "[" + name + "]"
            frames.append(symbol)
    if frames:
        yield frames


def shorten(symbol):
    """Drops argument lists and namespaces' noise, so a frame reads as its function."""
    depth = 0
    out = []
    for ch in symbol:
        if ch == "(":
            if depth == 0:
                out.append("()")
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out).replace("sipredir::", "").replace("(anonymous namespace)::", "")


def fold(lines):
    counts = collections.Counter()
    for frames in samples(lines):
        counts[";".join(shorten(f) for f in reversed(frames))] += 1
    return counts


def colour(name):
    h = int(hashlib.md5(name.encode()).hexdigest()[:6], 16)
    return f"rgb({205 + h % 50},{80 + (h >> 8) % 120},{40 + (h >> 16) % 50})"


def svg(counts, title):
    total = sum(counts.values())
    # A tree of frames: name -> [samples, children].
    root = [0, {}]
    for stack, n in counts.items():
        node = root
        node[0] += n
        for name in stack.split(";"):
            node = node[1].setdefault(name, [0, {}])
            node[0] += n
    depth_max = 0
    rects = []

    def walk(node, x, depth):
        nonlocal depth_max
        for name, child in sorted(node[1].items()):
            w = child[0] * WIDTH / total
            if w >= MIN_WIDTH:
                depth_max = max(depth_max, depth)
                rects.append((x, depth, w, name, child[0]))
                walk(child, x, depth + 1)
            x += w

    walk(root, 0.0, 0)
    height = (depth_max + 1) * FRAME_HEIGHT + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'font-family="monospace" font-size="11">',
        f'<rect width="100%" height="100%" fill="#fdfdf5"/>',
        f'<text x="4" y="16" font-size="14">{html.escape(title)} ({total} samples)</text>',
    ]
    for x, depth, w, name, n in rects:
        y = height - (depth + 1) * FRAME_HEIGHT - 4
        share = 100.0 * n / total
        label = html.escape(name)
        out.append(
            f'<g><title>{label} ({n} samples, {share:.2f} %)</title>'
            f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{FRAME_HEIGHT - 1}" '
            f'fill="{colour(name)}"/>'
        )
        chars = int(w / 7)
        if chars >= 3:
            text = label if len(name) <= chars else html.escape(name[: chars - 2]) + ".."
            out.append(f'<text x="{x + 2:.2f}" y="{y + FRAME_HEIGHT - 4}">{text}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--title", default="flame graph")
    ap.add_argument("--folded", action="store_true", help="print the folded stacks instead")
    args = ap.parse_args()
    counts = fold(sys.stdin)
    if not counts:
        sys.exit("flamegraph.py: no samples with stacks in the input")
    if args.folded:
        for stack, n in counts.most_common():
            print(stack, n)
        return
    sys.stdout.write(svg(counts, args.title))


if __name__ == "__main__":
    main()
