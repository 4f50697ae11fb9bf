#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Thousands of generated malformed requests through the real program (net_pcap): broken
request lines, overlong and repeated headers, integer overflows in Content-Length / CSeq /
Max-Forwards, NUL bytes and bad UTF-8, truncated datagrams, bad IP/UDP lengths and checksums,
random byte flips. sipredir must exit cleanly, account for every frame (replied, absorbed,
to the kernel, or dropped with a cause), and every reply it sends must be a well-formed SIP
response, sent only to a frame whose IP and UDP headers were sound. Deterministic (fixed seed).

It found two defects, both fixed with unit tests: a NUL inside a copied header was echoed into
the reply (reply_writer_test), and a frame larger than one mbuf was answered despite a bad IPv4
header checksum (check 8 here; the worker's linear path is DPDK-only).
Run by hand: tests/dataplane/robustness_pcap_test.py build/dpdk-apps/sipredir ."""
import random
import re
import struct
import sys
import tempfile
import os

from harness import join_fragments, pcap, run_sipredir, tap, udp_payload

SEED = 4475
BASE = (
    "INVITE sip:+4930123456@198.18.0.1;user=phone SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bK-{n};rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: \"Caller\" <sip:+4940987654@198.18.0.2>;tag=f{n}\r\n"
    "To: <sip:+4930123456@198.18.0.1>\r\n"
    "Call-ID: robust-{n}@198.18.0.2\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:+4940987654@198.18.0.2:5061>\r\n"
    "User-Agent: robustness\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n"
)
STATUS = re.compile(rb"^SIP/2\.0 [1-6][0-9][0-9] [^\r\n\0]*\r\n")
# No control octet but HTAB in a header, except escaped by a quoted-pair (RFC 3261 §25.1).
HEADER = re.compile(rb"^[A-Za-z0-9!%*_+`'~.-]+: ?(?:[^\x00-\x08\x0a-\x1f\x7f\\]|\\[^\r\n])*$")
# A response copies From, To, Call-ID and CSeq when the request has them (RFC 3261 §8.2.6.2); a
# 400 to a request without them cannot. Via (its route back) and Content-Length it always has.
REQUIRED = (b"via", b"content-length")


def replace_header(text, name, value):
    return re.sub(rf"(?m)^{name}: [^\r]*", f"{name}: {value}", text, count=1)


def mutate_sip(rng, n):
    """One malformed (or borderline) request as bytes, and what was done to it."""
    text = BASE.format(n=n)
    kind = rng.randrange(10)
    if kind == 0:
        lines = [
            "INVITE  sip:x@198.18.0.1 SIP/2.0", "INVITE sip:x@198.18.0.1", "INVITE SIP/2.0",
            "IN\tVITE sip:x SIP/2.0", "INVITE sip:x@198.18.0.1 SIP/2.0 extra", "sip:x SIP/2.0",
            "INVITE sip:x@198.18.0.1 SIP/9.9", "INVITE sip:[::1 SIP/2.0", "INV(ITE sip:x SIP/2.0",
            "".join(chr(rng.randrange(32, 127)) for _ in range(rng.randrange(1, 80))),
        ]
        text = rng.choice(lines) + text[text.index("\r\n"):]
        return text.encode(), "request line"
    if kind == 1:
        name = rng.choice(["Subject", "User-Agent", "Call-ID", "Via", "X-Long", "Contact"])
        value = "a" * rng.choice([255, 1000, 1300, 4000])
        head = text.index("\r\n") + 2
        return (text[:head] + f"{name}: {value}\r\n" + text[head:]).encode(), "overlong header"
    if kind == 2:
        name = rng.choice(["Via", "Call-ID", "CSeq", "From", "To", "Max-Forwards", "Require"])
        value = {"Via": "SIP/2.0/UDP 198.18.0.9;branch=z9hG4bKx", "Call-ID": "dup@x",
                 "CSeq": "2 INVITE", "From": "<sip:a@x>;tag=2", "To": "<sip:b@x>",
                 "Max-Forwards": "10", "Require": "foo"}[name]
        head = text.index("\r\n") + 2
        repeat = rng.choice([2, 10, 70, 200])
        extra = "".join(f"{name}: {value}\r\n" for _ in range(repeat))
        return (text[:head] + extra + text[head:]).encode(), "repeated header"
    if kind == 3:
        name = rng.choice(["Content-Length", "CSeq", "Max-Forwards"])
        bad = rng.choice(["99999999999999999999999", "-1", "4294967296", "2147483648", "0x10",
                          "1e9", "", " ", "18446744073709551616", "007", "+5"])
        value = f"{bad} INVITE" if name == "CSeq" else bad
        return replace_header(text, name, value).encode(), "integer overflow"
    data = bytearray(text.encode())
    if kind == 4:
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = 0
        return bytes(data), "NUL bytes"
    if kind == 5:
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(len(data))] = rng.choice([0x80, 0xC0, 0xFE, 0xFF, 0xED, 0xF4])
        return bytes(data), "bad UTF-8"
    if kind == 6:
        return bytes(data[:rng.randrange(0, len(data))]), "truncated datagram"
    if kind == 7:
        for _ in range(rng.randrange(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data), "random bytes"
    if kind == 8:
        folded = text.replace("\r\nTo:", "\r\n To:", 1) if rng.random() < 0.5 else \
            text.replace("\r\n", "\n")
        return folded.encode(), "folds and bare LF"
    return text.encode(), "well formed (control)"


def break_frame(rng, frame):
    """Damages the IP or UDP header of an IPv4 frame; returns (frame, what)."""
    f = bytearray(frame)
    kind = rng.randrange(5)
    if kind == 0:
        f[16:18] = struct.pack("!H", rng.choice([0, 19, 28, len(f) + 100, 0xFFFF]))
        return bytes(f), "bad IP total length"
    if kind == 1:
        f[38:40] = struct.pack("!H", rng.choice([0, 7, 9, len(f), 0xFFFF]))
        return bytes(f), "bad UDP length"
    if kind == 2:
        f[24] ^= 0x5A
        return bytes(f), "bad IP checksum"
    if kind == 3:
        f[40] ^= 0x5A
        f[41] ^= 0xA5
        return bytes(f), "bad UDP checksum"
    return bytes(f[:rng.randrange(14, 42)]), "truncated frame"


def well_formed(payload):
    """Why the reply is not a well-formed SIP response, or None."""
    if not STATUS.match(payload):
        return "status line"
    if b"\r\n\r\n" not in payload:
        return "no end of headers"
    head, body = payload.split(b"\r\n\r\n", 1)
    names = set()
    for line in head.split(b"\r\n")[1:]:
        if not HEADER.match(line):
            return f"header line {line[:60]!r}"
        names.add(line.split(b":", 1)[0].strip().lower())
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        return f"missing {missing}"
    length = re.search(rb"(?mi)^content-length: *([0-9]+)", head)
    if int(length.group(1)) != len(body):
        return "Content-Length is not the body's"
    return None


def main(program, root):
    rng = random.Random(SEED)
    frames, sound, kinds = [], set(), {}
    for i in range(3000):
        sport = 10000 + i
        payload, what = mutate_sip(rng, i)
        frame = pcap.udp_frame(payload, sport=sport)
        if rng.random() < 0.15:
            frame, what = break_frame(rng, frame)
        else:
            sound.add(sport)
        kinds[what] = kinds.get(what, 0) + 1
        frames.append(frame)
    t = tap()
    t.check(len(kinds) >= 15, f"{len(frames)} frames of {len(kinds)} kinds", kinds)
    with tempfile.TemporaryDirectory() as work:
        try:
            replies, stats = run_sipredir(
                program, os.path.join(root, "config", "bench.toml"), frames, work)
        except Exception as e:  # a crash, a hang (timeout) or an error exit
            t.check(False, "sipredir runs the whole pcap and exits cleanly", e)
            return t.done()
    t.check(True, "sipredir runs the whole pcap and exits cleanly")
    t.check(stats["received_frames"] == len(frames), "every frame was received", stats["received_frames"])
    t.check(stats["accounting_balanced"], "rx = replied + absorbed + to_exception + dropped",
            {k: stats[k] for k in ("received_frames", "replies", "absorbed", "exception_frames", "dropped")})
    causes = {k: v for k, v in stats["dropped_by_cause"].items() if v}
    t.check(stats["dropped"] == sum(causes.values()) and stats["dropped"] > 0,
            f"every drop has its cause ({stats['dropped']}: {causes})", causes)
    joined = join_fragments(replies)
    t.check(stats["replies"] == len(joined), "replied counts the replies sent",
            f"{stats['replies']} vs {len(joined)}")
    bad, strays, codes = [], [], {}
    for r in joined:
        udp = udp_payload(r)
        if udp is None:
            bad.append("not UDP")
            continue
        if udp[1] not in sound:
            strays.append(udp[1])
        why = well_formed(udp[2])
        if why:
            bad.append(f"to port {udp[1]}: {why}")
        else:
            code = int(udp[2][8:11])
            codes[code] = codes.get(code, 0) + 1
    t.check(not bad, f"every reply is a well-formed SIP response (codes {dict(sorted(codes.items()))})",
            "\n".join(bad[:20]))
    t.check(not strays, "no reply to a frame with a broken IP or UDP header", strays[:20])
    t.check(codes.get(400, 0) > 100 and codes.get(302, 0) > 100,
            "malformed requests get 400s, sound ones 302s", codes)
    return t.done()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
