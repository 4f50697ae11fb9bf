#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# config/grafana/sipredir.json: valid JSON, a Grafana dashboard whose panels query the chosen
# Prometheus data source, with unique ids, and whose every PromQL expression reads only series
# the appliance exports (names from src/control/metrics.cpp and the counter catalogue; the
# monitoring lab compares them with a real scrape too).
# Usage: dashboard_test.py ROOT
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exported_metrics import exported_names, used_names  # noqa: E402

root = sys.argv[1]
path = os.path.join(root, "config", "grafana", "sipredir.json")
failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok" if ok else "FAILED") + " - " + name + ("" if ok else f": {detail}"))
    failures += 0 if ok else 1


try:
    dashboard = json.load(open(path, encoding="utf-8"))
except ValueError as e:
    check("the dashboard is valid JSON", False, str(e))
    sys.exit(1)
check("the dashboard is valid JSON", True)

panels = [p for p in dashboard.get("panels", []) if p.get("type") != "row"]
check("it has a title, a uid and panels", dashboard.get("title") and dashboard.get("uid") and panels)
ids = [p.get("id") for p in dashboard["panels"]]
check("panel ids are unique", len(ids) == len(set(ids)), str(ids))
variables = {v["name"] for v in dashboard.get("templating", {}).get("list", [])}
check("it has the datasource and instance variables", {"datasource", "instance"} <= variables,
      str(variables))

exprs = [(p["title"], t.get("expr", "")) for p in panels for t in p.get("targets", [])]
exprs += [("annotation " + a["name"], a.get("expr", ""))
          for a in dashboard.get("annotations", {}).get("list", []) if "expr" in a]
check("every panel has a query", all(p.get("targets") for p in panels))
exported = exported_names(root)
used = set()
for title, expr in exprs:
    names = used_names(expr)
    used |= names
    check(f"{title}: reads only series sipredir exports", names and names <= exported,
          f"{expr!r} reads {sorted(names - exported) or 'no sipredir series'}")
for p in panels:
    check(f"{p['title']}: queries the chosen data source",
          p.get("datasource", {}).get("uid") == "${datasource}"
          and all(t.get("datasource", {}).get("uid") == "${datasource}" for t in p["targets"]))

# The series an operator looks at first are all on it.
wanted = {"sipredir_backend_up", "sipredir_backend_load_ratio", "sipredir_backend_rtt_seconds",
          "sipredir_redirects_total", "sipredir_replies_total", "sipredir_pool_redirects_total",
          "sipredir_dropped_total", "sipredir_reply_latency_seconds_bucket", "sipredir_fleet_peers"}
check("it shows backends, replies, drops, latency and the fleet", wanted <= used,
      f"missing {sorted(wanted - used)}")

# With a scrape at hand (the monitoring lab passes the names it saw), the names are checked
# against it as well.
if len(sys.argv) > 2:
    scraped = set(open(sys.argv[2], encoding="utf-8").read().split())
    check("every series the dashboard reads was in the scrape", used <= scraped,
          f"not scraped: {sorted(used - scraped)}")

sys.exit(1 if failures else 0)
