// SPDX-License-Identifier: BSD-3-Clause
// The SIP message parser: one UDP datagram in, views out (RFC 3261 §7, §18.3).
#pragma once

#include "message_view.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace sipredir::sip {

enum class parse_status : std::uint8_t {
    ok,
    truncated, // the datagram ends before the header section or the announced body does
    invalid,   // the grammar is broken; `reason` says where
};

struct parse_result {
    parse_status status = parse_status::ok;
    defect reason = defect::none;
};

// Parses one datagram. Never allocates, copies or reads outside `datagram`; never throws.
// `out` is filled as far as the parse got, also on failure, so that a 400 can copy Via, From,
// To, Call-ID and CSeq when they were readable. Octets past Content-Length are ignored
// (RFC 3261 §18.3); without Content-Length the body is the rest of the datagram. Fields the
// server does not read are not checked (RFC 3261 §8.2: no rejection over an unused header).
//
// Two stages: stage1.hpp's SIMD pass classifies the head into bit masks, and the header lines
// are walked over them; a line with a fold, a control octet, a backslash or a stray CR, and any
// part of a head past stage 1's reach, goes through the scalar reader. Both give exactly what
// parse_scalar gives (the differential fuzz target and parser_differential_test hold them to it).
parse_result parse(std::string_view datagram, message_view& out) noexcept;

// The scalar reference parser: the same answers octet by octet, one line at a time.
parse_result parse_scalar(std::string_view datagram, message_view& out) noexcept;

inline parse_result parse(std::span<const std::uint8_t> datagram, message_view& out) noexcept {
    return parse(
            std::string_view(reinterpret_cast<const char*>(datagram.data()), datagram.size()), out
    );
}

constexpr parse_status status_of(defect d) {
    switch (d) {
    case defect::none:
        return parse_status::ok;
    case defect::header_section_unterminated:
    case defect::content_length_exceeds_datagram:
        return parse_status::truncated;
    default:
        return parse_status::invalid;
    }
}

} // namespace sipredir::sip
