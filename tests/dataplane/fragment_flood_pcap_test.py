#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A fragment flood through the real program (net_pcap): 6,000 IPv4 datagrams from spoofed
sources, each sent as 7 fragments that all carry More-Fragments (so none ever completes), with
300 valid INVITEs spread through them. Reassembly may hold only its share of the mbuf pool, so
the flood must not starve RX: >= 99 % of the INVITEs get their 302, no frame is lost for want of
an mbuf, and every fragment is accounted for (received = merged into a datagram + dropped, by
cause: over the reassembly cap, rate-limited, or given up unreassembled at timeout or exit).
Deterministic (fixed seed). Run by hand:
tests/dataplane/fragment_flood_pcap_test.py build/dpdk-apps/sipredir ."""
import os
import random
import struct
import sys
import tempfile

from harness import pcap, run_sipredir, status_code, tap, udp_payload

SEED = 791
DATAGRAMS = 6000
PIECES = 7
PIECE_SIZE = 512  # octets of IP payload per fragment (a multiple of 8)
INVITES = 300
FIRST_INVITE_PORT = 20000


def invite(n):
    return (
        f"INVITE sip:+4930123456@198.18.0.1;user=phone SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 198.18.0.2:{FIRST_INVITE_PORT + n};branch=z9hG4bK-flood-{n}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:+4940987654@198.18.0.2>;tag=f{n}\r\n"
        "To: <sip:+4930123456@198.18.0.1>\r\n"
        f"Call-ID: flood-{n}@198.18.0.2\r\n"
        "CSeq: 1 INVITE\r\n"
        "Content-Length: 0\r\n"
        "\r\n"
    ).encode()


def incomplete_datagram(rng):
    """7 fragments of one datagram from a random source, More-Fragments set on every one."""
    src = bytes([10, rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)])
    dst = pcap.ip_bytes("198.18.0.1")
    ip_id = rng.randrange(1 << 16)
    frames = []
    for piece in range(PIECES):
        body = bytes(rng.randrange(256) for _ in range(8)) * (PIECE_SIZE // 8)
        if piece == 0:
            body = struct.pack("!HHHH", rng.randrange(1024, 65536), 5060, 8 + 8 * PIECE_SIZE, 0) \
                + body[8:]
        frag = 0x2000 | (piece * PIECE_SIZE // 8)
        frames.append(pcap.ethernet(pcap.APPLIANCE_MAC, pcap.CALLER_MAC, (),
                                    pcap.ip_packet(src, dst, 17, body, ip_id, frag)))
    return frames


def flood():
    """(frames, fragment count): the INVITEs evenly spread through the flood."""
    rng = random.Random(SEED)
    frames, fragments, n = [], 0, 0
    every = DATAGRAMS // INVITES
    for d in range(DATAGRAMS):
        pieces = incomplete_datagram(rng)
        frames += pieces
        fragments += len(pieces)
        if d % every == every // 2:
            frames.append(pcap.udp_frame(invite(n), sport=FIRST_INVITE_PORT + n))
            n += 1
    return frames, fragments


def main(program, root):
    frames, fragments = flood()
    t = tap()
    t.check(fragments == DATAGRAMS * PIECES and len(frames) == fragments + INVITES,
            f"{DATAGRAMS} incomplete datagrams in {fragments} fragments, {INVITES} INVITEs")
    with tempfile.TemporaryDirectory() as work:
        try:
            replies, stats = run_sipredir(
                program, os.path.join(root, "tests", "data", "dataplane", "golden.toml"), frames,
                work)
        except Exception as e:  # a crash, a hang (timeout) or an error exit
            t.check(False, "sipredir runs the whole flood and exits cleanly", e)
            return t.done()
    t.check(True, "sipredir runs the whole flood and exits cleanly")
    port = stats["port"]
    t.check(port["rx_nombuf"] == 0, "no frame was lost for want of an mbuf",
            f"rx_nombuf {port['rx_nombuf']}")
    t.check(stats["received_frames"] == len(frames), "every frame reached the worker",
            f"rx {stats['received_frames']} of {len(frames)}")
    answered = set()
    for r in replies:
        udp = udp_payload(r)
        if udp is not None and status_code(udp[2]) == 302 \
                and FIRST_INVITE_PORT <= udp[1] < FIRST_INVITE_PORT + INVITES:
            answered.add(udp[1])
    t.check(len(answered) * 100 >= INVITES * 99, ">= 99 % of the INVITEs got their 302",
            f"{len(answered)} of {INVITES}")
    causes = stats["dropped_by_cause"]
    capped = causes.get("fragment_over_cap", 0)
    t.check(capped > 0, "reassembly refused fragments over its mbuf cap (fragment_over_cap)",
            {k: v for k, v in causes.items() if v})
    by_cause = {k: v for k, v in causes.items() if k.startswith("fragment_") and v}
    t.check(stats["fragments_merged"] + sum(by_cause.values()) == fragments,
            "every fragment is counted: merged + dropped by cause (over the cap, rate-limited, "
            "unreassembled at timeout or exit)",
            f"{fragments} sent; merged {stats['fragments_merged']}, dropped {by_cause}")
    t.check(stats["accounting_balanced"],
            "rx = replied + absorbed + to_exception + to_race + dropped + fragments merged",
            {k: stats[k] for k in ("received_frames", "replies", "absorbed", "exception_frames", "dropped",
                                   "fragments_merged")})
    return t.done()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
