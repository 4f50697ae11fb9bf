#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# `sipredirctl top` as a person sees it: run in a tmux pane against a stand-in appliance on a
# UNIX socket whose counters move, the pane read with capture-pane. Checks that the screen shows
# the backends' redirects/s and share, the workers' rates, an event when a backend goes down,
# and that q ends it. Every wait has a deadline (the pane is polled), none is a fixed sleep.
# Usage: top_test.py SIPREDIRCTL
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from standin_appliance import serve_standin  # noqa: E402

ctl = sys.argv[1]
failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok" if ok else "FAILED") + " - " + name + ("" if ok else f":\n{detail}"))
    failures += 0 if ok else 1


state = {"calls": 0, "b2": "up"}
lock = threading.Lock()


def answer(verb):
    with lock:
        state["calls"] += 1
        n = state["calls"]
        b2 = state["b2"]
    # b1 gets one redirect in four, b2 three: 25 % and 75 % whatever the interval.
    if verb == "stats":
        return {
            "ok": True,
            "appliance": {
                "seconds": float(n), "workers": 1, "received_frames": 1000 * n,
                "replies": 1000 * n, "replies_by_code": {"302": 1000 * n},
                "dropped": 0, "dropped_by_cause": {"not_sip": 0}, "busy_seconds": 0.0,
                "exception_frames": 0, "race_handoffs": 0,
                "latency_ns": {"histogram_log2": [0] * 12 + [1000 * n] + [0] * 19},
            },
            "reloads": {"applied": 0, "refused": 0},
            "table_generation": 7,
        }
    if verb == "backends":
        return {"ok": True, "backends": [
            {"name": "b1", "state": "up", "load": 0.1, "rtt_ms": 0.4, "redirects": 250 * n},
            {"name": "b2", "state": b2, "load": 0.3, "rtt_ms": 0.6, "redirects": 750 * n},
        ]}
    return {"ok": False, "error": "this appliance has no [fleet]"}


def pane(session):
    out = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                         capture_output=True, text=True)
    return out.stdout


def wait_for(session, predicate, seconds=15):
    deadline = time.monotonic() + seconds
    text = ""
    while time.monotonic() < deadline:
        text = pane(session)
        if predicate(text):
            return True, text
        time.sleep(0.05)  # polling the pane, bounded by the deadline
    return False, text


def alive(session):
    return subprocess.run(["tmux", "has-session", "-t", session],
                          capture_output=True).returncode == 0


with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "sr.sock")
    server = serve_standin(path, lambda verb: json.dumps(answer(verb)) + "\n")
    session = f"sipredir-top-{os.getpid()}"
    env = dict(os.environ, TMUX_TMPDIR=d)
    os.environ["TMUX_TMPDIR"] = d  # a tmux server of our own, gone with the directory
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                    f"{ctl} --socket {path} top --interval 0.2"], check=True, env=env)
    try:
        ok, text = wait_for(session, lambda t: "b1" in t and "25.0" in t and "75.0" in t)
        check("the backends' shares of the interval's redirects (25 % and 75 %)", ok, text)
        check("the workers' rates", "replies/s" in text and "302" in text, text)
        check("no event yet", "none yet" in text, text)
        with lock:
            state["b2"] = "down"
        ok, text = wait_for(session, lambda t: "backend b2 up -> down" in t)
        check("a backend going down shows as an event", ok, text)
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True, env=env)
        deadline = time.monotonic() + 10
        while alive(session) and time.monotonic() < deadline:
            time.sleep(0.05)
        check("q ends top", not alive(session))
    finally:
        subprocess.run(["tmux", "kill-server"], capture_output=True, env=env)
        server.close()

sys.exit(1 if failures else 0)
