// SPDX-License-Identifier: BSD-3-Clause
// Writes the response to a parsed request into a caller-provided buffer (RFC 3261 §8.2.6).
#pragma once

#include "contact_uri.hpp"
#include "message_view.hpp"

#include <base/siphash.hpp>
#include <cstdint>
#include <net/ip_address.hpp>
#include <optional>
#include <span>
#include <string_view>

namespace sipredir::sip {

// One Contact of a 3xx. `uri` is the backend's part, rendered with its brackets and no user:
// "<sip:198.18.1.1:5060;transport=udp>"; write_reply puts the request's user and URI
// parameters in it as reply_spec::contact_from says (write_contact_uri).
struct contact_entry {
    std::string_view uri;
    std::uint16_t q_milli = 0; // q-value in thousandths, 1..1000; 0: no q parameter
    std::uint32_t expires = 0;
    bool has_expires = false;
};

// RFC 7339 §5.2, §5.3: the overload control parameters a server puts in the top Via of a reply.
struct via_overload {
    std::uint8_t reduction = 0;    // oc: percent of requests the client should shed, 0..100
    std::uint32_t validity_ms = 0; // oc-validity
    std::uint64_t seq_ms = 0;      // oc-seq, written as seconds.milliseconds
};

struct reply_spec {
    std::uint16_t code = 0;
    std::string_view reason;                 // empty: the standard phrase of `code`
    std::span<const contact_entry> contacts; // 3xx
    // Whose user every Contact carries (the same for all of them).
    contact_user contact_from = contact_user::request_uri;
    std::uint32_t retry_after = 0; // 503 (and 3xx/4xx if wanted), seconds
    bool has_retry_after = false;
    std::string_view allow;                        // 405, and 200 to OPTIONS; a comma list
    std::span<const std::string_view> unsupported; // 420: the option tags refused
    std::string_view server;                       // Server header value; empty: none
    net::ip_endpoint source;                       // where the request came from
    const siphash_key* to_tag_key = nullptr;       // required
    // to_tag_digest(*to_tag_key, request), when the caller has it already; else computed here.
    std::optional<std::uint64_t> to_tag_digest;
    // Written into the top Via when it offered overload control (`oc`); null: the Via's own
    // oc parameters are copied as they are.
    const via_overload* overload = nullptr;
};

struct write_result {
    std::size_t size = 0; // bytes written; when !ok, the bytes the reply needs
    bool ok = false;
};

// The standard reason phrase of the codes this server sends ("" for others).
std::string_view standard_reason(std::uint16_t code) noexcept;

// Writes the reply. Copies every Via value in order, one per line; the top one gets
// `received=<source>` when the source differs from its sent-by or it has rport or received, and
// `rport=<source port>` when it asked (RFC 3581); with spec.overload, when it has `oc`, the
// overload parameters in place of its own (RFC 7339 §5.2). From, Call-ID and CSeq are copied
// byte-exact (folds removed); To too, with a deterministic tag added when it has none. Headers
// the request lacks are left out (a 400 to RFC 4475's insuf has no To). Never writes past `out`.
write_result
write_reply(const message_view& request, const reply_spec& spec, std::span<char> out) noexcept;

} // namespace sipredir::sip
