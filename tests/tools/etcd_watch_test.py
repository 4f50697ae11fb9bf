#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# sipredir-etcd-watch against a real etcd (Debian's etcd-server 3.4) on loopback and a stand-in
# for sipredirctl that refuses any file containing BROKEN: the file is the common parts then the
# appliance's own, with the revision; a change is written, reloaded and its status put back; a
# change to another appliance's keys reloads nothing; a refused file is put back as it was;
# with etcd stopped nothing changes and the watcher waits; etcd back, the next change applies.
# Usage: etcd_watch_test.py WATCHER. Exit 77 (skipped) without etcd.
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

watcher = sys.argv[1]
failures = 0
if not shutil.which("etcd") or not shutil.which("etcdctl"):
    print("SKIP: etcd-server and etcd-client are not installed (scripts/deps.sh installs them)")
    sys.exit(77)  # meson's "skipped"


def check(name, ok, detail=""):
    global failures
    print(("ok" if ok else "FAILED") + " - " + name + ("" if ok else f": {detail}"))
    failures += 0 if ok else 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(condition, seconds=15):
    """Polls condition (bounded) until it holds; its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


FAKE_CTL = r'''
import json, sys
config, state = sys.argv[1], sys.argv[2]
verb = sys.argv[3]
if verb == "reload":
    text = open(config).read()
    if "BROKEN" in text:
        print(json.dumps({"ok": False, "error": config + ":9: broken on purpose"}))
    else:
        revision = next(l.split("=")[1].strip() for l in text.splitlines() if l.startswith("config_revision"))
        with open(state, "a") as f:
            f.write(revision + "\n")
        print(json.dumps({"ok": True}))
elif verb == "version":
    lines = open(state).read().split() if __import__("os").path.exists(state) else []
    print(json.dumps({"ok": True, "config_revision": lines[-1] if lines else ""}))
'''

with tempfile.TemporaryDirectory() as d:
    client, peer = free_port(), free_port()
    url = f"http://127.0.0.1:{client}"

    def start_etcd():
        return subprocess.Popen(
            ["etcd", "--name", "t", "--data-dir", os.path.join(d, "etcd"),
             "--listen-client-urls", url, "--advertise-client-urls", url,
             "--listen-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-cluster", f"t=http://127.0.0.1:{peer}"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "etcd.log"), "a"))

    def etcdctl(*args):
        return subprocess.run(["etcdctl", "--endpoints", url, *args], capture_output=True, text=True,
                              timeout=20)

    def status():
        out = etcdctl("get", "--print-value-only", "/sr/status/sr-1").stdout.strip()
        return json.loads(out) if out else {}

    etcd = start_etcd()
    check("etcd starts", bool(until(lambda: etcdctl("endpoint", "health").returncode == 0)),
          open(os.path.join(d, "etcd.log")).read()[-2000:])
    etcdctl("put", "/sr/common/10-backends", '[[backend]]\nname = "b1"\naddress = "198.18.1.1:5060"\n')
    etcdctl("put", "/sr/common/00-base", '[listen]\naddresses = ["198.18.0.11"]\n')
    etcdctl("put", "/sr/appliance/sr-1/00-fleet", '[fleet]\nname = "sr-1"\n')
    etcdctl("put", "/sr/appliance/sr-2/00-fleet", '[fleet]\nname = "sr-2"\n')
    config = os.path.join(d, "sr-1.toml")
    state = os.path.join(d, "reloads")
    with open(os.path.join(d, "ctl.py"), "w") as f:
        f.write(FAKE_CTL)
    common = ["--endpoints", url, "--prefix", "/sr", "--name", "sr-1", "--config", config]

    once = subprocess.run([watcher, *common, "--once"], capture_output=True, text=True, timeout=30)
    text = open(config).read() if os.path.exists(config) else ""
    check("--once writes the file and exits 0", once.returncode == 0 and "config_revision = " in text,
          once.stderr)
    check("common parts in key order, then this appliance's own, not another's",
          text.index("[listen]") < text.index("[[backend]]") < text.index('name = "sr-1"')
          and "sr-2" not in text, text)

    log_path = os.path.join(d, "watch.log")
    proc = subprocess.Popen([watcher, *common, "--ctl", f"python3 {d}/ctl.py {config} {state}",
                             "--retry-ms", "200", "--watch-s", "2"],
                            stderr=open(log_path, "w"))
    reloads = lambda: open(state).read().split() if os.path.exists(state) else []  # noqa: E731
    put = etcdctl("put", "/sr/common/20-pool", '[[pool]]\nname = "default"\nbackends = ["b1"]\n')
    revision = until(lambda: reloads()[-1] if reloads() else None)
    check("a change is written and reloaded", revision is not None and "[[pool]]" in open(config).read(),
          open(log_path).read())
    st = until(lambda: status() if status().get("state") == "applied" else None)
    check("the status key says applied, at the revision the appliance runs",
          bool(st) and str(st["revision"]) == revision, st)

    etcdctl("put", "/sr/appliance/sr-2/10-x", "# another appliance's\n")
    etcdctl("put", "/sr/appliance/sr-1/10-limits", "[limits]\nrate = 100\n")
    until(lambda: "[limits]" in open(config).read())
    time_limit = until(lambda: len(reloads()) >= 2)
    check("another appliance's change reloads nothing; ours reloads once",
          bool(time_limit) and len(reloads()) == 2 and "another" not in open(config).read(), reloads())
    mod = json.loads(etcdctl("get", "/sr/appliance/sr-1/10-limits", "-w", "json").stdout)["kvs"][0]["mod_revision"]
    check("the revision is that of this appliance's newest key, not the store's (status writes move that)",
          reloads()[-1] == str(mod), (reloads(), mod))

    before = open(config).read()
    etcdctl("put", "/sr/common/30-broken", "BROKEN = true\n")
    st = until(lambda: status() if status().get("state") == "refused" else None)
    check("a file the appliance refuses: status refused, with the appliance's error",
          bool(st) and "broken on purpose" in st.get("error", ""), st)
    check("and the running file is put back", open(config).read() == before)
    etcdctl("del", "/sr/common/30-broken")
    until(lambda: status().get("state") == "applied")

    etcd.terminate()
    etcd.wait(timeout=20)
    unreachable = until(lambda: "etcd_unreachable" in open(log_path).read())
    check("etcd stopped: the watcher says so, keeps running, and leaves the file alone",
          bool(unreachable) and proc.poll() is None and "[limits]" in open(config).read(),
          open(log_path).read()[-1500:])
    etcd = start_etcd()
    until(lambda: etcdctl("endpoint", "health").returncode == 0)
    etcdctl("put", "/sr/common/20-pool", '[[pool]]\nname = "default"\nbackends = ["b1"]\npolicy = "wrr"\n')
    check("etcd back: the next change applies", bool(until(lambda: 'policy = "wrr"' in open(config).read())),
          open(log_path).read()[-1500:])
    proc.terminate()
    proc.wait(timeout=20)
    etcd.terminate()
    etcd.wait(timeout=20)
print(f"{failures} failed")
sys.exit(1 if failures else 0)
