#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# sipredir-agent against a UDP socket on loopback: it reads the load from a file or a command,
# and sends signed version 1 reports (HMAC-SHA-512-256 checked here independently of libsodium)
# with growing sequence numbers, to every --to, at once on a large change; a bad key file is
# refused. Usage: agent_test.py AGENT
import hashlib
import hmac
import os
import socket
import subprocess
import sys
import tempfile
import time

agent = sys.argv[1]
failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok" if ok else "FAILED") + " - " + name + ("" if ok else f": {detail}"))
    failures += 0 if ok else 1


def receive(args, count, key):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(10)
    port = s.getsockname()[1]
    proc = subprocess.run([agent, "--to", f"127.0.0.1:{port}", "--count", str(count),
                           "--interval-ms", "20"] + args, capture_output=True, timeout=30)
    reports = []
    for _ in range(count):
        data, _ = s.recvfrom(2048)
        body, mac = data.decode().rsplit(" mac=", 1)
        expected = hmac.new(key, body.encode(), hashlib.sha512).digest()[:32].hex()
        reports.append((body, mac == expected))
    return proc, reports


with tempfile.TemporaryDirectory() as d:
    key = os.urandom(32)
    keyfile = os.path.join(d, "k")
    # Only its owner may read a key file.
    with open(os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(key.hex() + "\n")
    loadfile = os.path.join(d, "load")
    with open(loadfile, "w") as f:
        f.write("42\n")
    common = ["--backend", "proxy-a", "--key-file", keyfile]
    proc, reports = receive(common + ["--file", loadfile], 2, key)
    check("exits 0 after --count reports", proc.returncode == 0, proc.stderr)
    check("reports are signed with the key", all(ok for _, ok in reports), reports)
    fields = [dict(kv.split("=", 1) for kv in body.split(" ")[1:]) for body, _ in reports]
    check("version 1, backend and load from the file",
          all(b.startswith("SRLR/1 ") for b, _ in reports) and fields[0]["backend"] == "proxy-a"
          and fields[0]["load"] == "42.00", reports)
    check("the sequence grows", int(fields[1]["seq"]) > int(fields[0]["seq"]), fields)
    proc, reports = receive(common + ["--command", "echo 'calls=30;capacity=60'"], 1, key)
    check("load from a command (calls=30;capacity=60 -> 50 %)", "load=50.00" in reports[0][0], reports)
    proc, reports = receive(common + ["--command", "echo 'dialog:active_dialogs = 12'",
                                      "--capacity", "48"], 1, key)
    check("Kamailio-style dialog count over --capacity", "calls=12 capacity=48" in reports[0][0], reports)
    # Every appliance of a fleet gets each report.
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in (a, b):
        s.bind(("127.0.0.1", 0))
        s.settimeout(10)
    proc = subprocess.run([agent, "--to", f"127.0.0.1:{a.getsockname()[1]}", "--to",
                           f"127.0.0.1:{b.getsockname()[1]}", "--count", "1", "--file", loadfile]
                          + common, capture_output=True, timeout=30)
    got_a, got_b = a.recvfrom(2048)[0], b.recvfrom(2048)[0]
    check("several --to: each appliance gets the same report", got_a == got_b and b"load=42.00" in got_a,
          (got_a, got_b))
    # A large change goes out before the interval is over (after half of it, not at its end).
    with open(loadfile, "w") as f:
        f.write("10\n")
    a.settimeout(30)
    agent_proc = subprocess.Popen([agent, "--to", f"127.0.0.1:{a.getsockname()[1]}", "--count", "2",
                                   "--interval-ms", "4000", "--sample-ms", "20", "--file", loadfile]
                                  + common, stderr=subprocess.PIPE)
    first = a.recvfrom(2048)[0]
    with open(loadfile, "w") as f:
        f.write("60\n")
    started = time.monotonic()
    second = a.recvfrom(2048)[0]
    waited = time.monotonic() - started
    agent_proc.wait(timeout=30)
    check("a change of 50 points is sent before the 4 s interval ends",
          b"load=10.00" in first and b"load=60.00" in second and waited < 3.5, (first, second, waited))
    os.chmod(keyfile, 0o644)
    bad = subprocess.run([agent, "--to", "127.0.0.1:9", "--file", loadfile] + common,
                         capture_output=True, timeout=30)
    check("a key file others can read is refused", bad.returncode == 1 and b"chmod 600" in bad.stderr,
          bad.stderr)
    os.chmod(keyfile, 0o600)
    with open(keyfile, "w") as f:
        f.write("not a key\n")
    bad = subprocess.run([agent, "--to", "127.0.0.1:9", "--file", loadfile] + common,
                         capture_output=True, timeout=30)
    check("a bad key file is refused", bad.returncode == 1 and b"64 hex digits" in bad.stderr, bad.stderr)
    # Numbers are checked whole: "abc" or "12x" must not quietly become 0 or 12.
    for flag, value in (("--capacity", "abc"), ("--capacity", "0"), ("--interval-ms", "12x"),
                        ("--sample-ms", ""), ("--count", "-1"), ("--change", "ten")):
        bad = subprocess.run([agent, "--to", "127.0.0.1:9", "--file", loadfile, flag, value] + common,
                             capture_output=True, timeout=30)
        check(f"{flag} {value!r} is refused", bad.returncode == 2 and flag.encode() in bad.stderr,
              bad.stderr)
print(f"{failures} failed")
sys.exit(1 if failures else 0)
