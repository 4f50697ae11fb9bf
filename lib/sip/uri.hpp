// SPDX-License-Identifier: BSD-3-Clause
// A view of a URI (RFC 3261 §19.1, RFC 3966 for tel, RFC 5118 for IPv6 references).
#pragma once

#include <cstdint>
#include <string_view>

namespace sipredir::sip {

enum class uri_scheme : std::uint8_t { other, sip, sips, tel };

enum class uri_status : std::uint8_t {
    ok,
    bad,         // does not follow the grammar of its scheme
    has_headers, // a sip/sips URI with a ?header part
};

struct uri_view {
    uri_scheme scheme = uri_scheme::other;
    std::string_view scheme_text;
    std::string_view user; // sip/sips: before '@' and ':' password; tel: the number
    std::string_view password;
    std::string_view host; // as written; an IPv6 reference keeps its brackets
    std::uint16_t port = 0;
    bool has_port = false;
    std::string_view params;  // from the first ';' after the host, without the headers
    std::string_view headers; // after '?', without it
};

// Parses `text` as a URI. For sip/sips/tel the grammar is checked (a sip host must be a
// hostname, an IPv4 address or a bracketed IPv6 reference; the port a number up to 65535); for
// any other scheme only `scheme ":" 1*non-space` is required and the rest is opaque. Fills `out`
// on ok and, where it got that far, on failure.
uri_status parse_uri(std::string_view text, uri_view& out) noexcept;

} // namespace sipredir::sip
