#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes a pcap of N distinct INVITEs (different Call-ID, branch, From-tag, Request-URI and
caller address), each frame 700-900 octets, to 198.18.0.1:5060. Deterministic (seeded)."""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "tools"))
import pcap  # noqa: E402


def invite(i, rng):
    user = f"+1555{rng.randrange(10**7):07d}"
    caller = f"198.18.{2 + i % 200}.{1 + i % 250}"
    lines = [
        f"INVITE sip:{user}@198.18.0.1:5060 SIP/2.0",
        f"Via: SIP/2.0/UDP {caller}:5060;branch=z9hG4bK{rng.getrandbits(64):016x}",
        "Max-Forwards: 70",
        f"From: \"Caller {i}\" <sip:{i:08d}@{caller}>;tag={rng.getrandbits(48):012x}",
        f"To: <sip:{user}@198.18.0.1>",
        f"Call-ID: {rng.getrandbits(96):024x}@{caller}",
        "CSeq: 1 INVITE",
        f"Contact: <sip:{i:08d}@{caller}:5060>",
        "User-Agent: sipredir-bench",
        "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE",
        "Content-Type: application/sdp",
    ]
    sdp = ["v=0", f"o=- {i} 1 IN IP4 {caller}", "s=-", f"c=IN IP4 {caller}", "t=0 0",
           f"m=audio {10000 + 2 * (i % 20000)} RTP/AVP 0 8 101", "a=rtpmap:0 PCMU/8000",
           "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000", "a=sendrecv"]
    # Pad the SDP so frames spread over 700-900 octets.
    target = 672 + rng.randrange(190)
    body = "\r\n".join(sdp) + "\r\n"
    head = "\r\n".join(lines) + "\r\n"
    while len(head) + len(body) + 40 < target:
        body += f"a=x-pad:{'p' * min(60, target - len(head) - len(body) - 50)}\r\n"
    msg = head + f"Content-Length: {len(body)}\r\n\r\n" + body
    return pcap.udp_frame(msg.encode(), src=caller, sport=5060)


def main(path, count):
    rng = random.Random(5060)
    frames = [invite(i, rng) for i in range(count)]
    pcap.write_pcap(path, frames)
    sizes = [len(f) for f in frames]
    print(f"{path}: {count} INVITEs, frames {min(sizes)}-{max(sizes)} octets")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10000)
