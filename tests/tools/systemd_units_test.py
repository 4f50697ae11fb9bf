#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# The shipped systemd units run sandboxed: systemd's own offline audit (systemd-analyze security)
# rates each at exposure 4.0 or lower, sipredir runs as its own user with the capabilities
# docs/security.md names and no others, and the agent gets its key as a credential. sipredir is
# a Type=notify service with a watchdog, after dpdk.service, reloaded by sipredirctl (whose exit
# status shows a refused reload). meson installs every unit.
# Usage: systemd_units_test.py UNIT_DIR SECURITY_MD
import os
import re
import shutil
import subprocess
import sys
import tempfile

unit_dir, security_md = sys.argv[1], sys.argv[2]
failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok" if ok else "FAILED") + " - " + name + ("" if ok else f": {detail}"))
    failures += 0 if ok else 1


def directives(path, wanted="[Service]"):
    """Key -> list of values of one section (continuation lines joined)."""
    out, section, pending = {}, None, ""
    for raw in open(path, encoding="utf-8"):
        line = pending + raw.rstrip("\n")
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == wanted and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


units = ["sipredir.service", "sipredir-agent.service", "sipredir-etcd-watch.service"]
analyze = shutil.which("systemd-analyze")
check("systemd-analyze is installed (scripts/deps.sh)", analyze is not None)

with tempfile.TemporaryDirectory() as work:
    for unit in units:
        copy = os.path.join(work, unit)
        shutil.copy(os.path.join(unit_dir, unit), copy)
        if analyze is None:
            continue
        run = subprocess.run(
            [analyze, "security", "--offline=yes", "--no-pager", "--threshold=40", copy],
            capture_output=True, text=True, timeout=60)
        level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", run.stdout)
        check(f"{unit}: exposure at most 4.0", run.returncode == 0 and level is not None,
              f"level {level.group(1) if level else '?'}, exit {run.returncode}")

main = directives(os.path.join(unit_dir, "sipredir.service"))
check_config = "/usr/local/bin/sipredir --check-config /etc/sipredir/sipredir.toml"
check("sipredir checks its configuration before it starts",
      main.get("ExecStartPre") == [check_config], main.get("ExecStartPre"))
check("sipredir checks its configuration before it reloads, then sipredirctl reloads it (its "
      "exit status shows a refused reload)",
      main.get("ExecReload") == [
          check_config, "/usr/local/bin/sipredirctl --socket /run/sipredir/sipredir.sock reload"],
      main.get("ExecReload"))
check("sipredir tells systemd when it is ready (Type=notify)",
      main.get("Type") == ["notify"], main.get("Type"))
watchdog = main.get("WatchdogSec", [""])
seconds = re.fullmatch(r"([0-9]+)s?", watchdog[-1])
check("sipredir has a watchdog of 1 to 60 s",
      seconds is not None and 1 <= int(seconds.group(1)) <= 60, watchdog)
unit_section = directives(os.path.join(unit_dir, "sipredir.service"), "[Unit]")
after = " ".join(unit_section.get("After", [])).split()
check("sipredir starts after dpdk.service (NIC binding, hugepages)",
      "dpdk.service" in after, after)
check("sipredir runs as user sipredir", main.get("User") == ["sipredir"], main.get("User"))
check("sipredir runs as group sipredir", main.get("Group") == ["sipredir"], main.get("Group"))
for key, value in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                   ("PrivateTmp", "yes")]:
    check(f"sipredir {key}={value}", main.get(key) == [value], main.get(key))
paths = " ".join(main.get("ReadWritePaths", [])).split()
check("sipredir may write the hugepages and /run/sipredir only",
      sorted(paths) == ["/dev/hugepages", "/run/sipredir"], paths)
check("sipredir has a system call filter", bool(main.get("SystemCallFilter")))
check("sipredir restricts address families", bool(main.get("RestrictAddressFamilies")))
caps = set(" ".join(main.get("CapabilityBoundingSet", [])).split())
ambient = set(" ".join(main.get("AmbientCapabilities", [])).split())
check("sipredir's capabilities are bounded", bool(caps) and ambient == caps,
      f"bounding {sorted(caps)}, ambient {sorted(ambient)}")
doc = open(security_md, encoding="utf-8").read()
for cap in sorted(caps):
    check(f"docs/security.md says why sipredir needs {cap}", cap in doc)
check("no capability beyond the three the data plane needs",
      caps <= {"CAP_IPC_LOCK", "CAP_NET_ADMIN", "CAP_NET_RAW"}, sorted(caps))

agent = directives(os.path.join(unit_dir, "sipredir-agent.service"))
credential = agent.get("LoadCredential", [])
check("the agent's key comes as a credential",
      any(c.startswith("report.key:") for c in credential), credential)
check("the agent reads the key from the credentials directory",
      "--key-file %d/report.key" in " ".join(agent.get("ExecStart", [])), agent.get("ExecStart"))

for unit in units:
    d = directives(os.path.join(unit_dir, unit))
    check(f"{unit}: NoNewPrivileges=yes", d.get("NoNewPrivileges") == ["yes"])

# meson installs each unit (config/meson.build names every file of config/systemd).
installer = open(os.path.join(unit_dir, os.pardir, "meson.build"), encoding="utf-8").read()
for unit in sorted(f for f in os.listdir(unit_dir) if f.endswith(".service")):
    check(f"{unit}: installed by meson", f"'systemd/{unit}'" in installer)
check("every unit is checked here", set(units) == {
    f for f in os.listdir(unit_dir) if f.endswith(".service")})

print(f"{failures} failed")
sys.exit(1 if failures else 0)
