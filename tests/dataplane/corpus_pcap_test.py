#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Every RFC 4475 and RFC 5118 torture message through the real program (net_pcap): each gets
the answer its INDEX.md names, every reply parses, and rx = replied + absorbed + to_exception
+ dropped holds exactly."""
import os
import re
import sys
import tempfile

from harness import join_fragments, pcap, run_sipredir, status_code, tap, udp_payload

ROW = re.compile(r"^\| `([^`]+\.dat)` \|[^|]*\|[^|]*\|[^|]*\| \*\*([a-z0-9]+)\*\* \|")


def load_index(data, corpus):
    cases = []
    with open(os.path.join(data, "sip", corpus, "INDEX.md")) as f:
        for line in f:
            m = ROW.search(line)
            if m:
                cases.append((corpus, m.group(1), m.group(2)))
    return cases


def main(program, root):
    data = os.path.join(root, "tests", "data")
    cases = load_index(data, "rfc4475") + load_index(data, "rfc5118")
    t = tap()
    t.check(len(cases) == 62, "the INDEX files list all 62 messages", len(cases))
    frames = []
    for i, (corpus, name, _) in enumerate(cases):
        with open(os.path.join(data, "sip", corpus, name), "rb") as f:
            frames.append(pcap.udp_frame(f.read(), sport=20000 + i))
    with tempfile.TemporaryDirectory() as work:
        replies, stats = run_sipredir(program, os.path.join(root, "config", "bench.toml"),
                                      frames, work)
    replies = join_fragments(replies)
    by_port = {}
    for r in replies:
        udp = udp_payload(r)
        if udp is not None:
            by_port.setdefault(udp[1], []).append(udp[2])
    for i, (corpus, name, expected) in enumerate(cases):
        got = by_port.get(20000 + i, [])
        if expected in ("drop", "absorb"):
            t.check(not got, f"{corpus}/{name}: {expected}", f"got {len(got)} replies")
        else:
            codes = [status_code(p) for p in got]
            t.check(codes == [int(expected)], f"{corpus}/{name}: {expected}", f"got {codes}")
    t.check(stats["received_frames"] == len(frames), "every frame was received", stats["received_frames"])
    t.check(stats["accounting_balanced"], "rx = replied + absorbed + to_exception + dropped",
            {k: stats[k] for k in ("received_frames", "replies", "absorbed", "exception_frames", "dropped")})
    t.check(stats["replies"] == len(replies), "replied counts the frames in the reply pcap",
            f"{stats['replies']} vs {len(replies)}")
    return t.done()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
