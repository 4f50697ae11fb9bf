#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Nightly-style fuzzing: every libFuzzer target for a long, bounded time, each keeping a corpus
# that grows from run to run. scripts/test.sh runs the same targets for seconds; this is the
# hours-long run a nightly job or an engineer before a release starts.
#
#   tests/fuzz/long_run.sh [seconds-per-target] [jobs-per-target] [corpus-root]
#   defaults: 3600 s, 1 job, fuzz-corpus/   (the corpus root is kept; artifacts go beside it)
#
# Exits non-zero if any target found a crash, a leak or a timeout; its input is in
# <corpus-root>/artifacts/ and its log in <corpus-root>/<target>.log. Every input found this
# way becomes a regression test (docs/security.md).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
root=$(pwd)
seconds=${1:-3600}
jobs=${2:-1}
corpus_root=$(realpath -m "${3:-fuzz-corpus}")
case "$seconds$jobs" in *[!0-9]*) echo "usage: $0 [seconds] [jobs] [corpus-root]" >&2; exit 2 ;; esac

# shellcheck source=scripts/lib/fuzz.sh
source scripts/lib/fuzz.sh
command -v clang++ >/dev/null || scripts/deps.sh || exit 1
fuzz_build >/dev/null || { echo "fuzz build failed" >&2; exit 1; }
mkdir -p "$corpus_root/artifacts"

found=0
for entry in "${fuzz_targets[@]}"; do
    target=${entry%% *}
    mkdir -p "$corpus_root/$target"
    log="$corpus_root/$target.log"
    echo "== $target: ${seconds}s, $jobs job(s), corpus $corpus_root/$target"
    parallel=()
    # -jobs runs that many processes, each writing fuzz-<n>.log where it was started: the
    # corpus root.
    [ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")
    before=$(find "$corpus_root/artifacts" -type f | wc -l)
    # shellcheck disable=SC2046 # the seed directories are words
    (cd "$corpus_root" && "$root/build-fuzz/tests/fuzz/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "${parallel[@]}" -artifact_prefix="$corpus_root/artifacts/" \
        "$corpus_root/$target" $(for d in $(fuzz_seeds "$target"); do echo "$root/$d"; done) \
        >"$log" 2>&1)
    status=$?
    after=$(find "$corpus_root/artifacts" -type f | wc -l)
    # With -jobs the parent's status does not always carry a job's crash: the artifacts do.
    if [ "$status" -eq 0 ] && [ "$after" -eq "$before" ]; then
        echo "   ok: corpus $(find "$corpus_root/$target" -type f | wc -l) inputs"
    else
        found=1
        echo "   FOUND SOMETHING (status $status): see $log and $corpus_root/artifacts/"
        tail -20 "$log"
    fi
done
exit "$found"
