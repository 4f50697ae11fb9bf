// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target, differential: every datagram through the two-stage parser (with each stage 1
// kernel this CPU has) and through the scalar reference parser. Invariant: identical views
// (every field, as offsets into the input) and identical verdicts; and no over-read (ASan) on an
// exact-size copy.
#include "require.hpp"
#include "view_diff.hpp"

#include <sip/parser.hpp>
#include <sip/stage1.hpp>
#include <sip/verdict.hpp>
#include <vector>

using namespace sipredir::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<char> datagram(data, data + size);
    const std::string_view bytes(datagram.data(), datagram.size());
    message_view reference;
    const parse_result want = parse_scalar(bytes, reference);
    const verdict_policy policy{.supported_option_tags = default_supported_option_tags};
    const verdict want_verdict = decide(reference, policy);
    testing::view_diff diff(bytes);
    for (const auto v : {stage1::variant::ssse3, stage1::variant::avx2, stage1::variant::avx512}) {
        if (!stage1::select(v)) {
            continue;
        }
        message_view m;
        const parse_result got = parse(bytes, m);
        sipredir::fuzz::require(got.status == want.status && got.reason == want.reason);
        sipredir::fuzz::require(diff(m, reference).empty());
        sipredir::fuzz::require(diff(decide(m, policy), want_verdict).empty());
    }
    return 0;
}
