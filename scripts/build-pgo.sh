#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A profile-guided release build of sipredir for deployment (GCC -fprofile-generate/-use through
# meson's b_pgo): build instrumented, let one worker answer the bench pcap's 10,000 INVITEs for
# a few seconds (the worker's hot path: classify, parse, decide, choose, reply), then build again
# with that profile. The compiler then lays the fast path out straight and keeps the rare
# branches (defects, folds, fragments) out of its way. perf/RESULTS.md has what it measured.
#
#   scripts/build-pgo.sh [BUILD_DIR (default build-pgo)] [TRAIN_SECONDS (default 6)]
#
# The binary is BUILD_DIR/dpdk-apps/sipredir; compare it with perf/bench_pcap.sh
# (SIPREDIR_BIN=BUILD_DIR/dpdk-apps/sipredir). Behaviour is the same as the plain build's: the
# profile changes code layout and inlining, not what the code does; the whole suite runs on the
# plain build (scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-pgo}
seconds=${2:-6}
case "$seconds" in '' | *[!0-9]*) echo "usage: $0 [BUILD_DIR] [TRAIN_SECONDS]" >&2; exit 2 ;; esac
command -v meson >/dev/null && command -v dpdk-testpmd >/dev/null || scripts/deps.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -f "$build/build.ninja" ]; then
    meson configure "$build" -Db_pgo=generate >/dev/null
else
    meson setup "$build" -Db_pgo=generate -Dtests=disabled -Dbenchmarks=disabled >/dev/null
fi
find "$build" -name '*.gcda' -delete
ninja -C "$build" dpdk-apps/sipredir

python3 perf/tools/make_invites.py "$work/invites.pcap" 10000 >/dev/null
echo "training: 1 worker, bench pcap, ${seconds} s"
"$build/dpdk-apps/sipredir" --no-huge -m 1024 --no-pci --log-level '*:warning' --lcores '0@0,1@1' \
    --file-prefix "pgo-$$" --vdev "net_pcap0,rx_pcap=$work/invites.pcap,infinite_rx=1" -- \
    --config config/bench.toml --duration "$seconds" --stats-json "$work/train.json" \
    >"$work/train.log" 2>&1 || { cat "$work/train.log" >&2; exit 1; }
python3 - "$work/train.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
replies = s["replies_by_code"].get("302", 0)
if not s["accounting_balanced"] or replies == 0:
    sys.exit("training run answered nothing: no profile to use")
print(f"trained on {replies} redirects")
PY
profiles=$(find "$build" -name '*.gcda' | wc -l)
[ "$profiles" -gt 0 ] || { echo "no profile data (*.gcda) was written" >&2; exit 1; }

meson configure "$build" -Db_pgo=use >/dev/null
ninja -C "$build" dpdk-apps/sipredir
echo "$build/dpdk-apps/sipredir: built with the profile of $profiles objects"
