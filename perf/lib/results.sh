# SPDX-License-Identifier: BSD-3-Clause
# Appends a benchmark's report to perf/RESULTS.md under a heading with the command that made
# it, the date, the core count and the commit. Source it from the repository root.
results_record() { # results_record COMMAND REPORT
    {
        echo
        echo "### $1 — $(date -u +%Y-%m-%d) on $(nproc) cores ($(git rev-parse --short HEAD))"
        echo
        echo '```'
        echo "$2"
        echo '```'
    } >>perf/RESULTS.md
}
