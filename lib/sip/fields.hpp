// SPDX-License-Identifier: BSD-3-Clause
// Grammars of the header fields a redirect server reads (RFC 3261 §20, §25).
#pragma once

#include "message_view.hpp"
#include "scan.hpp"

#include <cstring>
#include <string_view>

namespace sipredir::sip {

// Splits a comma-separated header value (Via, Contact, Route, Require) into LWS-trimmed
// elements, ignoring commas inside quoted strings and <...>. Calls f(element) for each, empty
// elements included; stops early when f returns false. Returns false when a quote or '<' is
// left open (the elements up to it have been reported).
template <typename F> bool for_each_list_element(std::string_view value, F&& f) noexcept;

struct via_parse {
    bool readable = false; // sent-protocol and sent-by parsed: a reply can be routed
    bool valid = false;    // the whole value follows the grammar
};

// Parses one Via value (via-parm) into `out`.
via_parse parse_via_value(std::string_view value, via_top& out) noexcept;

// True when `value` is one whole via-parm: sent-protocol LWS sent-by *( SEMI via-params )
// (RFC 3261 §20.42, §25.1), as parse_via_value checks it, keeping nothing.
bool via_value_valid(std::string_view value) noexcept;

// From / To: ( name-addr / addr-spec ) *( SEMI generic-param ). False on a grammar error
// (unclosed quote, non-token display name, LWS inside <>, bad parameter); `out.value` is set
// either way so the field can still be copied into a 400. `may_hold_controls` false: the caller
// knows the value holds no control octet (the parser's stage 1 masks say so), and the check is
// skipped.
bool parse_name_addr(
        std::string_view value, name_addr& out, bool may_hold_controls = true
) noexcept;

// Call-ID = word [ "@" word ]
bool call_id_valid(std::string_view value) noexcept;

// CSeq = 1*DIGIT LWS Method. RFC 3261 §8.1.1.5: the number is below 2^31.
enum class cseq_status : std::uint8_t { ok, bad, out_of_range };
cseq_status
parse_cseq(std::string_view value, std::uint32_t& number, std::string_view& method) noexcept;

// ---------------------------------------------------------------------------------------------

template <typename F> bool for_each_list_element(std::string_view value, F&& f) noexcept {
    const char* p = value.data();
    const char* const end = p + value.size();
    const char* start = p;
    while (p < end) {
        if (*p == '"') {
            p = scan::skip_quoted(p, end);
            if (p == nullptr) {
                return false;
            }
            continue;
        }
        if (*p == '<') {
            const void* close = std::memchr(p, '>', static_cast<std::size_t>(end - p));
            if (close == nullptr) {
                return false;
            }
            p = static_cast<const char*>(close) + 1;
            continue;
        }
        if (*p == ',') {
            if (!f(scan::trim_lws(std::string_view(start, static_cast<std::size_t>(p - start))))) {
                return true;
            }
            start = p + 1;
        }
        ++p;
    }
    f(scan::trim_lws(std::string_view(start, static_cast<std::size_t>(end - start))));
    return true;
}

} // namespace sipredir::sip
