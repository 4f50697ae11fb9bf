#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs what is missing, builds, and runs every test: unit tests (release, -Werror), the same
# under ASan+UBSan, the concurrency tests under TSan, bounded libFuzzer runs, and the tree's own
# rules. Ends with the line
# "N passed, N failed[, N skipped]" and exits non-zero on any failure.
#   FUZZ_SECONDS=60 scripts/test.sh     # seconds for the SIP fuzz target (default 60)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

passed=0
failed=0
skipped=0
failures=()

step() { printf '\n== %s\n' "$*"; }
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); failures+=("$1"); echo "FAIL: $1"; }

# Adds the cases of one meson test run to the tally; a run that produced no log is a failure.
tally_meson() {
    local build=$1 label=$2 log="$1/meson-logs/testlog.junit.xml" counts
    if [ ! -s "$log" ]; then
        fail "$label: no test log"
        return
    fi
    counts=$(python3 scripts/lib/junit_tally.py "$log") || { fail "$label: unreadable log"; return; }
    read -r p f s <<<"$counts"
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
    [ "$f" -eq 0 ] || failures+=("$label: $f test cases")
    echo "$label: $p passed, $f failed, $s skipped"
}

# meson setup, or reconfigure when the directory exists.
configure() {
    local dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi
}

step "dependencies"
scripts/deps.sh || { echo "deps.sh failed"; exit 1; }

step "release build (-Werror) and unit tests"
if configure build -Dwerror=true && ninja -C build; then
    meson test -C build --suite unit --print-errorlogs
    tally_meson build "unit (release)"
    step "the real program: golden pcaps, RFC corpora (net_pcap); SIPp lab (namespaces)"
    meson test -C build --suite dataplane --suite lab --print-errorlogs
    tally_meson build "dataplane and lab"
else
    fail "release build"
fi

step "ASan + UBSan build and unit tests"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# No -Werror here: GCC 12 reports false -Wmaybe-uninitialized inside libstdc++'s <regex> when
# sanitizers are on. The release and fuzz builds compile the same code with -Werror.
if configure build-asan -Dwerror=false -Dbuildtype=debugoptimized -Db_sanitize=address,undefined \
    -Db_lundef=false -Db_lto=false -Dbenchmarks=disabled && ninja -C build-asan; then
    meson test -C build-asan --suite unit --print-errorlogs
    tally_meson build-asan "unit (asan+ubsan)"
else
    fail "sanitizer build"
fi

step "ThreadSanitizer build and concurrency tests"
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
if configure build-tsan -Dwerror=false -Dbuildtype=debugoptimized -Db_sanitize=thread \
    -Db_lundef=false -Db_lto=false -Dbenchmarks=disabled -Ddpdk=disabled && ninja -C build-tsan; then
    meson test -C build-tsan --suite concurrency --print-errorlogs
    tally_meson build-tsan "concurrency (tsan)"
else
    fail "tsan build"
fi

step "libFuzzer targets (bounded)"
# shellcheck source=scripts/lib/fuzz.sh
source scripts/lib/fuzz.sh
if fuzz_build; then
    run_fuzz() {
        local target=$1 seconds=$2
        shift 2
        local corpus
        corpus=$(mktemp -d)
        if build-fuzz/tests/fuzz/"$target" -max_total_time="$seconds" -timeout=10 \
            -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$root/build-fuzz/" \
            "$corpus" "$@" >"build-fuzz/$target.log" 2>&1; then
            pass "fuzz $target (${seconds}s, $(grep -o 'Done [0-9]* runs' "build-fuzz/$target.log"))"
        else
            tail -30 "build-fuzz/$target.log"
            fail "fuzz $target (artifact in build-fuzz/)"
        fi
        rm -rf "$corpus"
    }
    for entry in "${fuzz_targets[@]}"; do
        target=${entry%% *}
        # The SIP target sees the most input shapes: it gets the longest run.
        seconds=20
        [ "$target" = sip_fuzz ] && seconds=${FUZZ_SECONDS:-60}
        # shellcheck disable=SC2046 # the seed directories are words
        run_fuzz "$target" "$seconds" $(fuzz_seeds "$target")
    done
else
    fail "fuzz build"
fi

step "perf tools (smoke: they run and account; their numbers are judged in perf/, not here)"
if [ -x build/dpdk-apps/sipredir-loadgen ]; then
    if out=$(perf/overload.sh 1 1 2>&1) && grep -q '^goodput at 2x / goodput at 1x' <<<"$out"; then
        pass "perf/overload.sh runs ($(grep '^goodput at 2x' <<<"$out"))"
    else
        echo "$out" | tail -20
        fail "perf/overload.sh"
    fi
    # One load (80 %) for a second: the stamps go out and every 302 is matched back.
    if out=$(perf/latency.sh 1 1 0.8 2>&1) && grep -q '^p99 at 80 % of capacity' <<<"$out"; then
        pass "perf/latency.sh runs ($(grep '^p99 at 80 %' <<<"$out"))"
    else
        echo "$out" | tail -20
        fail "perf/latency.sh"
    fi
else
    fail "perf/overload.sh: no sipredir-loadgen (release build)"
fi

step "tree rules"
# lib/ and src/ build without DPDK: no rte_ header may appear there.
if grep -rlE '#include *[<"]rte_' lib src; then
    fail "DPDK headers outside dpdk-apps/"
else
    pass "no DPDK headers in lib/ or src/"
fi
if command -v clang-format-16 >/dev/null; then
    mapfile -t sources < <(git ls-files '*.cpp' '*.hpp')
    if style=$(clang-format-16 --dry-run -Werror "${sources[@]}" 2>&1); then
        pass "clang-format-16 clean (${#sources[@]} files)"
    else
        echo "$style" | head -20
        fail "clang-format-16: run clang-format-16 -i on the files above"
    fi
else
    fail "clang-format-16 missing"
fi

echo
for f in "${failures[@]}"; do
    echo "failed: $f"
done
summary="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
