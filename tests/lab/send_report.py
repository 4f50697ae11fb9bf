#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Sends pushed load reports (docs/operations.md, version 1) to sipredir, as sipredir-agent
# would: HMAC-SHA-512-256 is HMAC-SHA-512 cut to 32 bytes (libsodium crypto_auth). For tests:
# --key-hex for a wrong key, --ts-offset-ms for a stale one, --repeat to replay the same bytes,
# --source for the address it is sent from (sipredir takes a backend's reports from its own).
# Usage: send_report.py TARGET:PORT KEYFILE BACKEND LOAD_PERCENT SEQ [options]
import argparse
import hashlib
import hmac
import socket
import time

p = argparse.ArgumentParser()
p.add_argument("target")
p.add_argument("keyfile")
p.add_argument("backend")
p.add_argument("load", type=float)
p.add_argument("seq", type=int)
p.add_argument("--key-hex")
p.add_argument("--ts-offset-ms", type=int, default=0)
p.add_argument("--repeat", type=int, default=1)
p.add_argument("--source")
a = p.parse_args()
key = bytes.fromhex(a.key_hex or open(a.keyfile).readline().strip())
ts = int(time.time() * 1000) + a.ts_offset_ms
body = f"SRLR/1 backend={a.backend} seq={a.seq} ts={ts} load={a.load:.2f}"
mac = hmac.new(key, body.encode(), hashlib.sha512).digest()[:32].hex()
host, port = a.target.rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if a.source:
    s.bind((a.source, 0))
for _ in range(a.repeat):
    s.sendto(f"{body} mac={mac}".encode(), (host, int(port)))
