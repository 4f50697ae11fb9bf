# SPDX-License-Identifier: BSD-3-Clause
# The names of the series sipredir exports on /metrics, read from the code that writes them
# (src/control/metrics.cpp and the counter catalogue), and the sipredir_ names a PromQL
# expression uses: for the tests of the shipped alert rules and Grafana dashboard.
import os
import re


def exported_names(root):
    """Every series name /metrics can carry (a histogram's _bucket, _sum and _count, not its
    family name), with or without the optional race and fleet families."""
    control = os.path.join(root, "src", "control")
    with open(os.path.join(control, "metrics.cpp"), encoding="utf-8") as f:
        names = set(re.findall(r'"(sipredir_[a-z0-9_]+)"', f.read()))
    # A family written with _bucket samples is a histogram: only its three series exist.
    names -= {n[: -len("_bucket")] for n in names if n.endswith("_bucket")}
    with open(os.path.join(control, "counter_catalogue.hpp"), encoding="utf-8") as f:
        catalogue = f.read()
    table = catalogue[catalogue.index("counter_table") :]
    table = table[: table.index("});")]
    # One row per field: {&pipeline::stats_totals::FIELD, "name", "help"[, kind, unit, ...]}.
    for row in table.split("{&pipeline::stats_totals::")[1:]:
        name = re.search(r'"([a-z0-9_]+)"', row).group(1)
        shown = name + ("_seconds" if "counter_unit::nanoseconds" in row else "")
        names.add("sipredir_" + shown + ("" if "counter_kind::gauge" in row else "_total"))
    return names


def used_names(expr):
    """The sipredir_ series names in a PromQL expression (label values in quotes left out)."""
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    return set(re.findall(r"\bsipredir_[a-z0-9_]+\b", unquoted))
