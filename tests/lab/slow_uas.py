#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A backend that answers SIP OPTIONS with 200 OK after a fixed delay: a far or congested proxy,
for the least-latency policy's lab test (SIPp answers probes at once and this kernel has no
netem). Each request is answered once, in arrival order; anything but OPTIONS is ignored.

Usage: slow_uas.py ADDRESS:PORT DELAY_MS LIFETIME_S  (exits after LIFETIME_S: always bounded)
"""
import heapq
import select
import socket
import sys
import time

COPIED = ("via", "v", "from", "f", "to", "t", "call-id", "i", "cseq")


def reply_to(request: bytes) -> bytes | None:
    head = request.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace").split("\r\n")
    if not head or not head[0].startswith("OPTIONS "):
        return None
    lines = ["SIP/2.0 200 OK"]
    for line in head[1:]:
        name = line.split(":", 1)[0].strip().lower()
        if name in COPIED:
            lines.append(line)
    lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def main() -> int:
    host, port = sys.argv[1].rsplit(":", 1)
    delay = float(sys.argv[2]) / 1000
    deadline = time.monotonic() + float(sys.argv[3])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, int(port)))
    due: list[tuple[float, int, bytes, tuple]] = []
    order = 0
    while time.monotonic() < deadline:
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, _, data, peer = heapq.heappop(due)
            sock.sendto(data, peer)
        wait = min(deadline - now, (due[0][0] - now) if due else 0.1)
        readable, _, _ = select.select([sock], [], [], max(wait, 0))
        if readable:
            data, peer = sock.recvfrom(65535)
            answer = reply_to(data)
            if answer is not None:
                order += 1
                heapq.heappush(due, (time.monotonic() + delay, order, answer, peer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
