// SPDX-License-Identifier: BSD-3-Clause
// The operations the microbenchmarks measure, written once so that the timed benchmark
// (sip_bench) and the instruction counter (sip_ops) measure the same code.
#pragma once

#include <cstring>
#include <sip/parser.hpp>
#include <sip/reply_writer.hpp>
#include <sip/verdict.hpp>
#include <span>
#include <string_view>

namespace sipredir::perf {

// The reference: walk every line of the message with memchr, the least any parser does.
inline std::size_t memchr_lines(std::string_view msg) noexcept {
    const char* p = msg.data();
    const char* const end = p + msg.size();
    std::size_t lines = 0;
    while (const void* lf = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
        p = static_cast<const char*>(lf) + 1;
        ++lines;
    }
    return lines;
}

// Verdict and reply for a parsed message: the 302 with one Contact for the INVITE (To-tag
// hashed, received added: the source is not the sent-by), the 200 for the OPTIONS.
inline sip::write_result write_answer(const sip::message_view& m, std::span<char> out) noexcept {
    static const siphash_key key = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static constexpr sip::contact_entry contacts[] = {{"<sip:198.18.1.1:5060;transport=udp>"}};
    static const sip::verdict_policy policy{
            .supported_option_tags = sip::default_supported_option_tags};
    const sip::verdict v = sip::decide(m, policy);
    sip::reply_spec spec;
    spec.code = v.code;
    spec.contacts = contacts;
    spec.source = {net::ip_address::v4(198, 18, 0, 3), 5060};
    spec.to_tag_key = &key;
    return sip::write_reply(m, spec, out);
}

} // namespace sipredir::perf
