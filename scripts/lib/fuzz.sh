# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# The libFuzzer targets and their seed corpora, shared by scripts/test.sh (bounded runs) and
# tests/fuzz/long_run.sh (nightly-style runs). Source it from the project root.

# target seed-directory...
fuzz_targets=(
    "sip_fuzz tests/data/sip/rfc4475 tests/data/sip/rfc5118 tests/golden/sip
        tests/data/sip/fuzz-regressions"
    "parser_diff_fuzz tests/data/sip/rfc4475 tests/data/sip/rfc5118 tests/golden/sip
        tests/data/sip/fuzz-regressions"
    "frame_fuzz tests/data/frames"
    "report_fuzz tests/data/reports"
    "config_fuzz tests/data/config"
    "rules_fuzz tests/data/rules"
)

# Configures and builds build-fuzz: clang, libFuzzer, ASan+UBSan, no DPDK.
fuzz_build() {
    # shellcheck disable=SC2054 # address,undefined is one meson value
    local args=(-Dwerror=true -Dfuzz=true -Dtests=disabled -Dbenchmarks=disabled -Ddpdk=disabled
        -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false -Db_lto=false)
    if [ -f build-fuzz/build.ninja ]; then
        CXX=clang++ meson setup --reconfigure build-fuzz "${args[@]}" >/dev/null
    else
        CXX=clang++ meson setup build-fuzz "${args[@]}" >/dev/null
    fi && ninja -C build-fuzz
}

# The seed directories of one target.
fuzz_seeds() {
    local entry
    for entry in "${fuzz_targets[@]}"; do
        if [ "${entry%% *}" = "$1" ]; then
            echo "${entry#* }"
            return 0
        fi
    done
    return 1
}
