#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# config/prometheus/sipredir-alerts.yml: valid for Prometheus (`promtool check rules`, which
# also parses every annotation's template), every sipredir_ series it reads is one the
# appliance exports, every rule has a for:, a severity and a summary and description, and its
# unit tests pass (`promtool test rules` on sipredir-alerts.test.yml, run over a copy of the
# rules without their description annotations, so the tests spell out summaries only).
# Usage: alert_rules_test.py ROOT
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exported_metrics import exported_names, used_names  # noqa: E402

root = sys.argv[1]
rules_dir = os.path.join(root, "config", "prometheus")
rules = os.path.join(rules_dir, "sipredir-alerts.yml")
tests = os.path.join(rules_dir, "sipredir-alerts.test.yml")
failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok" if ok else "FAILED") + " - " + name + ("" if ok else f": {detail}"))
    failures += 0 if ok else 1


def without_descriptions(text):
    """The rules file with each `description:` key and its indented continuation removed."""
    out, within = [], None
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip())
        if within is not None:
            if not line.strip() or indent > within:
                continue
            within = None
        if re.match(r"\s+description:", line):
            within = indent
            continue
        out.append(line)
    return "\n".join(out)


def rule_blocks(text):
    """(alert name, its text) for each `- alert:` entry."""
    parts = re.split(r"\n(?=\s+- alert: )", text)
    return [(re.search(r"- alert: (\S+)", p).group(1), p) for p in parts if "- alert: " in p]


text = open(rules, encoding="utf-8").read()
exported = exported_names(root)
blocks = rule_blocks(text)
check("the rules file has alerts", len(blocks) >= 8, f"{len(blocks)} found")
for name, block in blocks:
    expr = re.search(r"expr: (?:>-\n)?(.*?)\n\s+for:", block, re.S)
    unknown = sorted(used_names(expr.group(1) if expr else "") - exported)
    check(f"{name}: reads only series sipredir exports", expr is not None and not unknown,
          f"not exported: {unknown}")
    check(f"{name}: has for:, a severity, a summary and a description",
          all(re.search(p, block) for p in (r"\n\s+for: \d+[smh]", r"\n\s+severity: (critical|warning|info)\n",
                                            r"\n\s+summary: ", r"\n\s+description: ")))

promtool = shutil.which("promtool")
check("promtool is installed (Debian package prometheus, scripts/deps.sh)", promtool is not None)
if promtool is None:
    sys.exit(1)

run = subprocess.run([promtool, "check", "rules", rules], capture_output=True, text=True, timeout=60)
check("promtool check rules", run.returncode == 0, run.stdout + run.stderr)

with tempfile.TemporaryDirectory() as work:
    with open(os.path.join(work, "sipredir-alerts.yml"), "w", encoding="utf-8") as f:
        f.write(without_descriptions(text))
    shutil.copy(tests, work)
    run = subprocess.run([promtool, "test", "rules", os.path.basename(tests)], cwd=work,
                         capture_output=True, text=True, timeout=120)
    check("promtool test rules (every alert fires when it should, and only then)",
          run.returncode == 0, run.stdout + run.stderr)
    tested = set(re.findall(r"alertname: (\S+)", open(tests, encoding="utf-8").read()))
    untested = sorted({name for name, _ in blocks} - tested)
    check("every alert has unit tests", not untested, f"untested: {untested}")

sys.exit(1 if failures else 0)
