// SPDX-License-Identifier: BSD-3-Clause
// What a stateless redirect server answers to a parsed message, by RFC 3261's rules; the
// choice of backend for a redirect is lib/balance's.
#pragma once

#include "message_view.hpp"
#include "parser.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace sipredir::sip {

enum class action : std::uint8_t {
    reply,  // write a response with `code`
    absorb, // ACK: never answered (RFC 3261 §17.1.1.3: it ends a non-2xx transaction)
    drop,   // no reply can or may be sent; counted by `drop`
};

enum class drop_reason : std::uint8_t {
    none,
    response,       // a redirect server has no client transactions (RFC 3261 §18.1.2)
    start_line_bad, // not recognisable as a request
    unroutable,     // no readable top Via: nowhere a reply could go
};

struct drop_reason_info {
    drop_reason id;
    std::string_view name;
    std::string_view help;
};

inline constexpr auto drop_reason_table = std::to_array<drop_reason_info>({
        {drop_reason::none, "drop_none", "not dropped"},
        {drop_reason::response, "drop_response", "SIP responses, which are never answered"},
        {drop_reason::start_line_bad,
         "drop_start_line_bad",
         "datagrams whose first line is neither a request nor a status line"},
        {drop_reason::unroutable,
         "drop_unroutable",
         "requests without a readable top Via, so no reply can be routed"},
});

// The appliance's choices; the defaults are the RFC 4475 INDEX's reference policy.
struct verdict_policy {
    method_set redirect_methods = bit(method::invite);
    // Option tags accepted in Require. A redirect server sends no provisional or 2xx response,
    // so the extensions that only shape those are trivially honoured.
    std::span<const std::string_view> supported_option_tags;
};

inline constexpr std::array<std::string_view, 3> default_supported_option_tags = {
        "100rel",
        "timer",
        "replaces",
};

inline constexpr std::size_t max_unsupported = 8;

struct verdict {
    action what = action::drop;
    std::uint16_t code = 0;    // action::reply: 200, 302 (redirect), 400, 405, 416, ...
    defect why = defect::none; // 400: the defect the reason phrase names
    drop_reason drop = drop_reason::none;
    std::array<std::string_view, max_unsupported> unsupported{}; // 420
    std::uint8_t unsupported_count = 0;
};

// Decides in this order: not a request or no route → drop; ACK → absorb; SIP-Version other than
// 2.0 → 505; a parse defect or a missing To/From/Call-ID/CSeq → 400; Request-URI scheme other
// than sip/sips/tel → 416 (RFC 3261 §8.2.2.1); Max-Forwards 0 → 483; then by method: redirected
// → 302, OPTIONS → 200, CANCEL → 200, any other → 405; a 302 or 200 whose CSeq method differs
// from the request's → 400; Require with an unsupported tag → 420 (RFC 3261 §8.2.2.3).
verdict decide(const message_view& m, const verdict_policy& policy) noexcept;
// The same into `out`, which the worker reuses: its scalar fields are set, and its unsupported
// array only up to unsupported_count (the rest keeps what it held).
void decide(const message_view& m, const verdict_policy& policy, verdict& out) noexcept;

} // namespace sipredir::sip
