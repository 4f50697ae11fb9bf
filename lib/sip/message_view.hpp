// SPDX-License-Identifier: BSD-3-Clause
// What the parser finds in one SIP datagram: views into the caller's bytes, never copies.
#pragma once

#include "defect.hpp"
#include "method.hpp"
#include "uri.hpp"

#include <array>
#include <cstdint>
#include <string_view>

namespace sipredir::sip {

// longreq (RFC 4475 §3.1.1.7) carries 34 Via values; 64 leaves room for real proxy chains.
inline constexpr std::size_t max_via_values = 64;
inline constexpr std::size_t max_require_headers = 8;

// The top Via value, parsed (RFC 3261 §20.42, RFC 3581, RFC 7339).
struct via_top {
    std::string_view protocol;  // "SIP"
    std::string_view version;   // "2.0"
    std::string_view transport; // "UDP", "TCP", ...
    std::string_view host;      // sent-by host as written (IPv6 with its brackets)
    std::uint16_t port = 0;
    bool has_port = false;
    std::string_view branch;
    bool has_branch = false;
    // RFC 3581: rport with no value asks the server to fill it in.
    bool has_rport = false;
    std::string_view rport_value;
    std::string_view received; // value; brackets kept when the sender wrote them (RFC 5118 §4.5)
    bool has_received = false;
    // Where the rport and received parameters sit in the value, so a reply can rewrite them:
    // rport_param spans `rport[=value]`; received_param spans `;received=value` from its ';'.
    std::string_view rport_param;
    std::string_view received_param;
    // RFC 7339 overload control parameters.
    bool has_oc = false;
    std::string_view oc;
    std::string_view oc_validity;
    std::string_view oc_seq;
    std::string_view oc_algo;
    // Where each sits, `;name[=value]` from its ';', so a reply can replace them.
    std::string_view oc_param;
    std::string_view oc_validity_param;
    std::string_view oc_seq_param;
    std::string_view oc_algo_param;
};

// From or To (RFC 3261 §20.20, §20.39).
struct name_addr {
    std::string_view value;        // whole field value, LWS-trimmed; may contain folds
    std::string_view display_name; // with its quotes when quoted
    std::string_view uri;          // inside <> or the bare addr-spec
    std::string_view tag;
    bool has_tag = false;
};

enum class message_kind : std::uint8_t { unknown, request, response };

// The scalar fields, which the parser resets in one assignment per packet. The parsed
// sub-structures and arrays of message_view are written by their own parsers (or reset when the
// header is absent), so a packet never pays for zeroing them twice.
struct message_fields {
    message_kind kind = message_kind::unknown;

    // request line
    method request_method = method::unknown;
    std::string_view method_text;
    std::string_view request_uri;
    uri_status request_uri_status = uri_status::bad;
    // status line
    std::uint16_t status_code = 0;
    std::string_view reason_phrase;
    // both; SIP-Version digits. Only 2.0 is served (505 otherwise).
    std::uint16_t version_major = 0;
    std::uint16_t version_minor = 0;

    std::uint8_t via_count = 0;
    bool top_via_readable = false; // sent-protocol and sent-by parsed: a reply can be formed

    bool has_from = false;
    bool has_to = false;
    std::string_view call_id;
    std::string_view cseq; // whole value, for copying
    std::uint32_t cseq_number = 0;
    std::string_view cseq_method_text;
    bool has_cseq = false;
    int max_forwards = -1;            // -1: absent
    std::int64_t content_length = -1; // -1: absent
    std::uint8_t require_count = 0;
    std::string_view user_agent;
    std::string_view first_route;   // first Route header value (raw)
    std::string_view first_contact; // first Contact header value (raw)
    std::string_view expires;       // raw; the redirect server does not need its value

    std::string_view headers;     // from the first header line to the empty line, exclusive
    std::string_view body;        // Content-Length octets (or the rest of the datagram)
    std::size_t message_size = 0; // start line to end of body; octets past it are ignored

    // Some header line was folded: copied values may hold CRLF + WSP and need unfolding. A
    // message without folds and without defects holds no CR or LF in any field a reply copies.
    bool has_folded_lines = false;

    defect first_defect = defect::none;
};

struct message_view : message_fields {
    uri_view request_uri_parts; // empty unless the request line was read
    via_top top_via;            // empty unless via_count > 0
    name_addr from;             // empty unless has_from
    name_addr to;               // empty unless has_to
    // Every Via value in order, across header lines and comma lists; each LWS-trimmed.
    std::array<std::string_view, max_via_values> vias;
    // Require header values as written (each may be a comma list of option tags).
    std::array<std::string_view, max_require_headers> require_values;
};

} // namespace sipredir::sip
