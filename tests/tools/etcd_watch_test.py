#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# sipredir-etcd-watch against a real etcd (Debian's etcd-server 3.4) on loopback and a stand-in
# for sipredirctl that refuses any file containing BROKEN: the file is the common parts then the
# appliance's own, with the revision; a change is written, reloaded and its status put back; a
# change to another appliance's keys reloads nothing; a refused file is put back as it was;
# with etcd stopped nothing changes and the watcher waits; etcd back, the next change applies.
# A stand-in for `sipredir --check-config` refuses any file containing UNCHECKED: such a file is
# neither written nor reloaded, and --once exits 1; a check program that is not there is
# skipped and the log says so.
# The file is 0640 whatever the umask, and a symbolic link in its place is refused; with the first
# endpoint dead the watcher uses the next. Then an etcd with TLS (a CA and certificates made here
# with openssl), client certificates and users with one role per appliance (docs/fleet.md's
# commands): the watcher works through it, renews an expired token, and with a wrong password, no
# user, another appliance's name, no client certificate or no CA it changes nothing and says why.
# Usage: etcd_watch_test.py WATCHER. Exit 77 (skipped) without etcd.
import atexit
import json
import os
import stat
import shutil
import socket
import subprocess
import sys
import tempfile
import time

watcher = sys.argv[1]
failures = 0
if not shutil.which("etcd") or not shutil.which("etcdctl") or not shutil.which("openssl"):
    print("SKIP: etcd-server, etcd-client or openssl is not installed (scripts/deps.sh installs them)")
    sys.exit(77)  # meson's "skipped"
os.umask(0o022)  # the usual one: the file must still not be world-readable
started = []  # every etcd and watcher, stopped at exit whatever happened


@atexit.register
def stop_all():
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()


class Popen(subprocess.Popen):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        started.append(self)


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
verb = sys.argv[-1]  # after the options the watcher gives (--json)
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


FAKE_CHECK = r'''
import sys
path = sys.argv[1]
if "UNCHECKED" in open(path).read():
    sys.exit(print(path + ":4: unchecked on purpose", file=sys.stderr) or 1)
'''


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(d):
    """A CA, etcd's certificate for 127.0.0.1 and the watcher's client certificate (no CN:
    etcd 3.4's gateway refuses a client certificate with one), as docs/fleet.md makes them."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=sipredir test etcd CA", cwd=d)
    for name, subject, ext in (
            ("server", "/CN=etcd-test",
             "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n"),
            ("sr-1", "/O=sipredir/OU=sr-1", "extendedKeyUsage=clientAuth\n")):
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext)
        openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject, cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext", cwd=d)


def content(path):
    return open(path).read() if os.path.exists(path) else ""


def mtime(path):
    return os.stat(path).st_mtime_ns if os.path.exists(path) else None


def tls_phase(d):
    make_certificates(d)
    client, peer, dead = free_port(), free_port(), free_port()
    url = f"https://127.0.0.1:{client}"
    tls = ["--cacert", f"{d}/ca.pem", "--cert", f"{d}/sr-1.pem", "--key", f"{d}/sr-1.key"]
    # A token lives 1 s unused: the watcher, idle longer than that, must authenticate again.
    etcd = Popen(
        ["etcd", "--name", "t", "--data-dir", os.path.join(d, "etcd"),
         "--listen-client-urls", url, "--advertise-client-urls", url,
         "--listen-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-cluster", f"t=http://127.0.0.1:{peer}",
         "--cert-file", f"{d}/server.pem", "--key-file", f"{d}/server.key",
         "--client-cert-auth", "--trusted-ca-file", f"{d}/ca.pem", "--auth-token-ttl", "1"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "etcd.log"), "a"))

    def etcdctl(*args, user="root", stdin=None):
        credentials = ["--user", f"{user}:{passwords[user]}"] if user and auth_on else []
        return subprocess.run(["etcdctl", "--endpoints", url, *tls, *credentials, *args],
                              capture_output=True, text=True, timeout=20, input=stdin)

    passwords = {"root": "root-secret", "sr-1": "sr-1-secret", "sr-2": "sr-2-secret"}
    auth_on = False
    check("etcd with TLS and client certificates starts",
          bool(until(lambda: etcdctl("endpoint", "health").returncode == 0)),
          open(os.path.join(d, "etcd.log")).read()[-2000:])
    # docs/fleet.md, "Securing etcd": root, then one user and role per appliance.
    setup = [("user", "add", "root", "--interactive=false"), ("user", "grant-role", "root", "root")]
    for name in ("sr-1", "sr-2"):
        setup += [("user", "add", name, "--interactive=false"), ("role", "add", name),
                  ("role", "grant-permission", name, "read", "--prefix=true", "/sr/common/"),
                  ("role", "grant-permission", name, "read", "--prefix=true", f"/sr/appliance/{name}/"),
                  ("role", "grant-permission", name, "write", f"/sr/status/{name}"),
                  ("user", "grant-role", name, name)]
    setup.append(("auth", "enable"))
    outs = []
    for command in setup:
        out = etcdctl(*command, user=None,
                      stdin=passwords[command[2]] + "\n" if command[:2] == ("user", "add") else None)
        outs.append((command, out.returncode, out.stderr.strip()))
    auth_on = True
    check("users, roles and authentication set up with the documented commands",
          all(rc == 0 for _, rc, _ in outs), [o for o in outs if o[1]])
    etcdctl("put", "/sr/common/00-base", '[listen]\naddresses = ["198.18.0.11"]\n')
    etcdctl("put", "/sr/appliance/sr-1/00-fleet", '[fleet]\nname = "sr-1"\n')
    etcdctl("put", "/sr/appliance/sr-2/00-fleet", '[fleet]\nname = "sr-2"\n')
    check("an appliance's user cannot write common/ (the attack) nor another's status",
          etcdctl("put", "/sr/common/99-evil", "x", user="sr-1").returncode != 0
          and etcdctl("put", "/sr/status/sr-2", "x", user="sr-1").returncode != 0
          and etcdctl("put", "/sr/status/sr-1", "{}", user="sr-1").returncode == 0)

    with open(os.path.join(d, "sr-1.password"), "w") as f:
        f.write(passwords["sr-1"] + "\n")
    os.chmod(os.path.join(d, "sr-1.password"), 0o600)
    with open(os.path.join(d, "wrong.password"), "w") as f:
        f.write("not the password\n")
    # Paths relative to the file; the first endpoint dead.
    with open(os.path.join(d, "etcd.toml"), "w") as f:
        f.write(f'endpoints = ["https://127.0.0.1:{dead}", "{url}"]\ncacert = "ca.pem"\n'
                f'cert = "sr-1.pem"\nkey = "sr-1.key"\nuser = "sr-1"\npassword_file = "sr-1.password"\n')
    config = os.path.join(d, "sr-1.toml")
    state = os.path.join(d, "reloads")
    with open(os.path.join(d, "ctl.py"), "w") as f:
        f.write(FAKE_CTL)
    base = ["--prefix", "/sr", "--config", config, "--retry-ms", "200"]

    def run_once(*args, env=None):
        return subprocess.run([watcher, *base, *args, "--once"], capture_output=True, text=True,
                              timeout=60, env=env)

    once = run_once("--name", "sr-1", "--etcd-config", os.path.join(d, "etcd.toml"))
    check("over TLS with a user: --once writes the file (first endpoint dead, --etcd-config)",
          once.returncode == 0 and 'name = "sr-1"' in content(config),
          once.stderr)
    log_path = os.path.join(d, "watch.log")
    proc = Popen([watcher, *base, "--name", "sr-1", "--etcd-config", os.path.join(d, "etcd.toml"),
                             "--ctl", f"python3 {d}/ctl.py {config} {state}", "--watch-s", "2"],
                            stderr=open(log_path, "w"))
    expired = until(lambda: "token_expired" in open(log_path).read(), 30)
    etcdctl("put", "/sr/common/20-pool", '[[pool]]\nname = "default"\n')
    applied = until(lambda: "[[pool]]" in content(config))

    def status():
        out = etcdctl("get", "--print-value-only", "/sr/status/sr-1").stdout.strip()
        return json.loads(out) if out.startswith("{") and out != "{}" else {}

    st = until(lambda: status() if status().get("state") == "applied" else None)
    check("the token expires unused; the watcher authenticates again, applies the change, writes its status",
          bool(expired) and bool(applied) and bool(st) and "etcd_refused" not in open(log_path).read(),
          open(log_path).read()[-2000:])
    proc.terminate()
    proc.wait(timeout=20)

    before = content(config)
    mtime_before = mtime(config)
    etcdctl("put", "/sr/common/30-more", "# a change the next watchers must not bring in\n")
    status_before = etcdctl("get", "/sr/status/sr-1", "-w", "json").stdout
    bad_log = os.path.join(d, "bad.log")
    bad = Popen([watcher, *base, "--name", "sr-1", "--endpoints", url, *tls, "--user", "sr-1",
                            "--password-file", os.path.join(d, "wrong.password"),
                            "--ctl", f"python3 {d}/ctl.py {config} {state}"], stderr=open(bad_log, "w"))
    said = until(lambda: "etcd_refused" in open(bad_log).read())
    running = bad.poll() is None
    bad.terminate()
    bad.wait(timeout=20)
    text = open(bad_log).read()
    check("a wrong password: the watcher says so, keeps running, and changes nothing",
          bool(said) and running and "authentication failed" in text and "sr-1" in text
          and content(config) == before and mtime(config) == mtime_before
          and etcdctl("get", "/sr/status/sr-1", "-w", "json").stdout == status_before, text)

    cases = [
        ("no user", ["--name", "sr-1", "--endpoints", url, *tls], None, "requires authentication"),
        ("another appliance's name (sr-1's user reading sr-2's keys)",
         ["--name", "sr-2", "--endpoints", url, *tls, "--user", "sr-1", "--password-file",
          os.path.join(d, "sr-1.password")], None, "denied user 'sr-1' reading /sr/appliance/sr-2/"),
        ("no client certificate", ["--name", "sr-1", "--endpoints", url, "--cacert", f"{d}/ca.pem",
                                   "--user", "sr-1", "--password-file", os.path.join(d, "sr-1.password")],
         None, "client certificate"),
        ("etcd's certificate from an unknown CA (no --cacert)",
         ["--name", "sr-1", "--endpoints", url, "--cert", f"{d}/sr-1.pem", "--key", f"{d}/sr-1.key",
          "--user", "sr-1", "--password-file", os.path.join(d, "sr-1.password")],
         None, "certificate verify failed"),
    ]
    for name, args, env, said in cases:
        out = run_once(*args, env=env)
        check(f"{name}: --once fails, says why, and the file is untouched",
              out.returncode != 0 and said in out.stderr and content(config) == before
              and mtime(config) == mtime_before, (out.returncode, out.stderr))

    # systemd's LoadCredential=etcd-password: the password from $CREDENTIALS_DIRECTORY.
    credentials = os.path.join(d, "credentials")
    os.mkdir(credentials, 0o700)
    shutil.copy(os.path.join(d, "sr-1.password"), os.path.join(credentials, "etcd-password"))
    out = run_once("--name", "sr-1", "--endpoints", url, *tls, "--user", "sr-1",
                   env={**os.environ, "CREDENTIALS_DIRECTORY": credentials})
    check("the password from systemd's credentials directory",
          out.returncode == 0 and "a change the next" in content(config), out.stderr)
    etcd.terminate()
    etcd.wait(timeout=20)


with tempfile.TemporaryDirectory() as d:
    client, peer = free_port(), free_port()
    url = f"http://127.0.0.1:{client}"

    def start_etcd():
        return Popen(
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
    with open(os.path.join(d, "check.py"), "w") as f:
        f.write(FAKE_CHECK)
    common = ["--endpoints", url, "--prefix", "/sr", "--name", "sr-1", "--check",
              f"python3 {d}/check.py", "--config", config]

    once = subprocess.run([watcher, *common, "--once"], capture_output=True, text=True, timeout=30)
    text = open(config).read() if os.path.exists(config) else ""
    check("--once writes the file and exits 0", once.returncode == 0 and "config_revision = " in text,
          once.stderr)
    check("common parts in key order, then this appliance's own, not another's",
          text.index("[listen]") < text.index("[[backend]]") < text.index('name = "sr-1"')
          and "sr-2" not in text, text)
    mode = stat.S_IMODE(os.stat(config).st_mode)
    check("the file is 0640 (it holds the fleet's keys), whatever the umask", mode == 0o640, oct(mode))
    victim = os.path.join(d, "victim")
    with open(victim, "w") as f:
        f.write("not the watcher's\n")
    link = os.path.join(d, "link.toml")
    os.symlink(victim, link)
    linked = subprocess.run([watcher, *common[:-1], link, "--once"], capture_output=True, text=True,
                            timeout=30)
    check("a symbolic link in the file's place is refused, and says so; neither it nor its target change",
          linked.returncode != 0 and "symbolic link" in linked.stderr and os.path.islink(link)
          and open(victim).read() == "not the watcher's\n", (linked.returncode, linked.stderr))
    check("no temporary file is left beside the file",
          sorted(f for f in os.listdir(d) if f.endswith(".tmp")) == [], os.listdir(d))

    log_path = os.path.join(d, "watch.log")
    proc = Popen([watcher, *common, "--ctl", f"python3 {d}/ctl.py {config} {state}",
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

    before, reloads_before = open(config).read(), reloads()
    etcdctl("put", "/sr/common/40-unchecked", "UNCHECKED = true\n")
    st = until(lambda: status() if "unchecked" in status().get("error", "") else None)
    check("a file sipredir --check-config refuses: status refused with its file:line, naming the file",
          bool(st) and st.get("state") == "refused" and st["error"].startswith(config + ":4: "), st)
    check("and it is neither written nor reloaded, and no judged copy is left",
          open(config).read() == before and reloads() == reloads_before
          and not [f for f in os.listdir(d) if f.endswith(".check")], (reloads(), os.listdir(d)))
    once = subprocess.run([watcher, *common, "--once"], capture_output=True, text=True, timeout=30)
    check("--once with a refused file exits 1 and leaves the file alone",
          once.returncode == 1 and open(config).read() == before, once.stderr)
    etcdctl("del", "/sr/common/40-unchecked")
    until(lambda: status().get("state") == "applied")
    skipped = subprocess.run([watcher, *common[:6], "--check", f"{d}/no-sipredir --check-config",
                              *common[8:], "--once"], capture_output=True, text=True, timeout=30)
    check("a --check program that is not there: skipped, and the log says so",
          skipped.returncode == 0 and "event=check_skipped" in skipped.stderr, skipped.stderr)

    # The first endpoint dead: the watcher reads and watches through the second. A long --watch-s,
    # so that only the watch (not a periodic re-read) can bring the change in.
    config2, log2 = os.path.join(d, "sr-2.toml"), os.path.join(d, "watch2.log")
    failover = Popen([watcher, "--endpoints", f"http://127.0.0.1:{free_port()},{url}",
                                 "--prefix", "/sr", "--name", "sr-2", "--config", config2,
                                 "--retry-ms", "200", "--watch-s", "60"], stderr=open(log2, "w"))
    until(lambda: os.path.exists(config2))
    etcdctl("put", "/sr/appliance/sr-2/20-y", "# failover\n")
    check("first endpoint dead: the watcher uses the next, watches there, and never calls etcd unreachable",
          bool(until(lambda: os.path.exists(config2) and "# failover" in open(config2).read()))
          and "etcd_unreachable" not in open(log2).read() and "endpoint_switched" in open(log2).read(),
          open(log2).read()[-1500:])
    failover.terminate()
    failover.wait(timeout=20)

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

with tempfile.TemporaryDirectory() as d:
    tls_phase(d)
print(f"{failures} failed")
sys.exit(1 if failures else 0)
