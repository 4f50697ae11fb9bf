#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# The command-line contract of every binary: --version prints meson's version, --help the
# usage (exit 0); sipredir --check-config judges a file without EAL, hugepages or root, and
# sipredir's own numbers are checked; sipredirctl's exit status follows the answer's JSON
# ("ok": true 0, "ok": false 1, Prometheus text for metrics 0, nobody there 2), against a
# stand-in appliance on a UNIX socket.
# Usage: cli_test.py VERSION SOURCE_ROOT SIPREDIRCTL AGENT ETCD_WATCH [SIPREDIR LOADGEN]
# (sipredir and sipredir-loadgen only where DPDK is built).
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from standin_appliance import serve_standin  # noqa: E402

version, root, ctl, agent, watch = sys.argv[1:6]
sipredir, loadgen = (sys.argv[6:8] + [None, None])[:2]
failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok" if ok else "FAILED") + " - " + name + ("" if ok else f": {detail}"))
    failures += 0 if ok else 1


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, **kw)


def as_nobody():
    # Root here (the lab runs as root): show that the answer needs none of it.
    if os.getuid() == 0:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)


binaries = {"sipredirctl": ctl, "sipredir-agent": agent, "sipredir-etcd-watch": watch}
if sipredir:
    binaries["sipredir"] = sipredir
if loadgen:
    binaries["sipredir-loadgen"] = loadgen
for name, path in binaries.items():
    out = run([path, "--version"])
    check(f"{name} --version prints '{name} {version}'",
          out.returncode == 0 and out.stdout.strip() == f"{name} {version}", out)
    out = run([path, "--help"])
    check(f"{name} --help prints its usage and exits 0",
          out.returncode == 0 and "usage" in out.stdout.lower(), out)

with tempfile.TemporaryDirectory() as d:
    os.chmod(d, 0o755)
    # A copy nobody can read: the checkout may sit in a directory only root may enter (a clone
    # under mktemp -d is mode 0700).
    # (with the rules file it names, relative to it).
    good = os.path.join(d, "example.toml")
    shutil.copyfile(os.path.join(root, "config", "example.toml"), good)
    shutil.copytree(os.path.join(root, "config", "rules"), os.path.join(d, "rules"))
    for base, dirs, files in os.walk(d):
        for name in dirs:
            os.chmod(os.path.join(base, name), 0o755)
        for name in files:
            os.chmod(os.path.join(base, name), 0o644)
    bad = os.path.join(d, "bad.toml")
    with open(bad, "w") as f:
        f.write("[listen]\nports = [5060]\nno_such_key = 1\n")
    if sipredir:
        out = run([sipredir, "--check-config", good], preexec_fn=as_nobody)
        check("check-config: config/example.toml is good (exit 0), without root or EAL",
              out.returncode == 0 and "EAL" not in out.stderr, out)
        check("check-config: the example warns of nothing",
              "warning" not in out.stderr, out)
        # The example with its TAP addresses taken out: still good, but probes would fail.
        unaddressed = os.path.join(d, "unaddressed.toml")
        with open(good) as f, open(unaddressed, "w") as out_file:
            out_file.write("\n".join(line for line in f.read().splitlines()
                                     if not line.startswith("addresses = [\"198.18.0.1/24\"")
                                     and not line.startswith("routes = ")))
        os.chmod(unaddressed, 0o644)
        out = run([sipredir, "--check-config", unaddressed], preexec_fn=as_nobody)
        check("check-config: probing with an unaddressed TAP is good but warned of (exit 0)",
              out.returncode == 0 and "warning: probe_tap_without_address" in out.stderr, out)
        out = run([sipredir, "--check-config", bad], preexec_fn=as_nobody)
        check("check-config: an unknown key exits 1 with file:line: on stderr",
              out.returncode == 1 and out.stderr.startswith(f"{bad}:3: "), out)
        out = run([sipredir, "--check-config", os.path.join(d, "absent.toml")])
        check("check-config: a missing file exits 1 naming it",
              out.returncode == 1 and "absent.toml:0: " in out.stderr, out)
        out = run([sipredir, "--check-config"])
        check("check-config without a FILE exits 2", out.returncode == 2, out)
        for flag, value in [("--duration", "abc"), ("--duration", "5s"), ("--duration", "0"),
                            ("--duration", "nan"), ("--exit-when-idle", "abc"),
                            ("--exit-when-idle", "-1"), ("--exit-when-idle", "12x")]:
            out = run([sipredir, "-l", "0,1", "--", "--config", good, flag, value])
            check(f"sipredir {flag} {value} is refused before EAL (exit 2)",
                  out.returncode == 2 and flag in out.stderr and "EAL" not in out.stderr, out)
    if loadgen:
        out = run([loadgen, "--no-huge", "--no-pci", "-l", "0", "--", "--rate", "10",
                   "--seconds", "1", "--count", "1.5"])
        check("sipredir-loadgen --count 1.5 is refused", out.returncode != 0 and "--count" in out.stderr,
              out)

    # sipredirctl against a stand-in appliance: each verb answers what the test set for it.
    answers = {
        "version": '{"ok": true, "version": "sipredir 0", "config_revision": ""}\n',
        "drain": '{"ok": false, "error": "no backend named \'x\\": true\'"}\n',
        "reload": '{"ok": false, "error": "a.toml:3: the \\"ok\\": true key"}\n',
        "metrics": "# HELP sipredir_rx_total frames received\nsipredir_rx_total 5\n",
        "stats": "Internal error\n",
        "pools": '[{"ok": true}]\n',
        "backends": '{"ok": "true"}\n',
        "query": "",
    }
    path = os.path.join(d, "sr.sock")
    server = serve_standin(
        path, lambda verb: answers.get(verb, '{"ok": false, "error": "unknown"}\n'))
    for args, status, what in [
        (["version"], 0, '"ok": true'),
        (["drain", "x"], 1, '"ok": false, with "ok\\": true" inside the error'),
        (["reload"], 1, '"ok": false, with \\"ok\\": true in the message'),
        (["metrics"], 0, "Prometheus text to metrics"),
        (["stats"], 1, "an answer that is not JSON"),
        (["pools"], 1, "a JSON array, not an object"),
        (["backends"], 1, '"ok" as a string'),
        (["query"], 2, "closed without answering"),
    ]:
        out = run([ctl, "--socket", path] + args)
        check(f"sipredirctl {' '.join(args)}: {what} exits {status}", out.returncode == status, out)
    out = run([ctl, "version", "--json", "--socket", path])
    check("sipredirctl: --json and --socket after the command, the answer as it came",
          out.returncode == 0 and out.stdout.startswith('{"ok": true'), out)
    out = run([ctl, "--socket", path, "version"])
    check("sipredirctl: without --json, a line for a person", out.stdout == "sipredir 0\n", out)
    out = run([ctl, "--socket", path, "drain", "x"])
    check("sipredirctl: a refusal's error on stderr, nothing on stdout",
          out.returncode == 1 and out.stdout == "" and "no backend named" in out.stderr, out)
    answers["metrics"] = '{"ok": false, "error": "metrics refused"}\n'
    out = run([ctl, "--socket", path, "metrics"])
    check("sipredirctl metrics: a JSON refusal exits 1", out.returncode == 1, out)
    out = run([ctl, "--socket", os.path.join(d, "nobody.sock"), "version"])
    check("sipredirctl: no appliance at the socket exits 2", out.returncode == 2, out)
    out = run([ctl])
    check("sipredirctl without a command exits 2", out.returncode == 2, out)
    server.close()

sys.exit(1 if failures else 0)
