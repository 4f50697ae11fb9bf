// SPDX-License-Identifier: BSD-3-Clause
#include "verdict.hpp"

#include "fields.hpp"

namespace sipredir::sip {
namespace {

// The setters write a verdict's scalar fields only: its unsupported array (8 views) is read up
// to unsupported_count and is never cleared, so a verdict reused per packet costs no zeroing.
void set(verdict& v, action what, std::uint16_t code, defect why, drop_reason drop) noexcept {
    v.what = what;
    v.code = code;
    v.why = why;
    v.drop = drop;
    v.unsupported_count = 0;
}

void reply(verdict& v, std::uint16_t code, defect why = defect::none) noexcept {
    set(v, action::reply, code, why, drop_reason::none);
}

void dropped(verdict& v, drop_reason reason) noexcept {
    set(v, action::drop, 0, defect::none, reason);
}

bool supported(std::string_view tag, std::span<const std::string_view> tags) noexcept {
    for (std::string_view s : tags) {
        // Option tags compare case-sensitively (RFC 3261 §19.2).
        if (s == tag) {
            return true;
        }
    }
    return false;
}

void collect_unsupported(const message_view& m, const verdict_policy& p, verdict& v) noexcept {
    for (std::size_t i = 0; i < m.require_count; ++i) {
        for_each_list_element(m.require_values[i], [&](std::string_view tag) noexcept {
            if (tag.empty() || supported(tag, p.supported_option_tags)) {
                return true;
            }
            if (v.unsupported_count == max_unsupported) {
                return false;
            }
            v.unsupported[v.unsupported_count++] = tag;
            return true;
        });
    }
}

} // namespace

namespace {

// What no request method changes: responses and unroutable requests dropped, ACK absorbed, a
// version or a defect answered. False when the request passed.
bool screened_out(const message_view& m, verdict& out) noexcept {
    if (m.kind == message_kind::response) {
        dropped(out, drop_reason::response);
    } else if (m.kind != message_kind::request) {
        dropped(out, drop_reason::start_line_bad);
    } else if (m.via_count == 0 || !m.top_via_readable) {
        dropped(out, drop_reason::unroutable);
    } else if (m.request_method == method::ack) {
        set(out, action::absorb, 0, defect::none, drop_reason::none);
    } else if (m.first_defect != defect::request_line_bad && (m.version_major != 2 || m.version_minor != 0)) {
        reply(out, 505);
    } else if (m.first_defect != defect::none) {
        reply(out, 400, m.first_defect);
    } else {
        return false;
    }
    return true;
}

// The mandatory headers of RFC 3261 §8.1.1, in the order a 400 names the first one missing.
bool lacks_a_header(const message_view& m, verdict& out) noexcept {
    const defect missing = !m.has_to           ? defect::to_missing
                           : !m.has_from       ? defect::from_missing
                           : m.call_id.empty() ? defect::call_id_missing
                           : !m.has_cseq       ? defect::cseq_missing
                                               : defect::none;
    if (missing == defect::none) {
        return false;
    }
    reply(out, 400, missing);
    return true;
}

} // namespace

void decide(const message_view& m, const verdict_policy& p, verdict& out) noexcept {
    if (screened_out(m, out) || lacks_a_header(m, out)) {
        return;
    }
    if (m.request_uri_parts.scheme == uri_scheme::other) {
        return reply(out, 416);
    }
    if (m.max_forwards == 0) {
        return reply(out, 483); // RFC 3261 §16.3 step 3, checked before the method (as Kamailio)
    }
    const method_set mask = bit(m.request_method);
    std::uint16_t code = 0;
    if ((p.redirect_methods & mask) != 0) {
        code = 302;
    } else if (m.request_method == method::options || m.request_method == method::cancel) {
        code = 200;
    } else {
        return reply(out, 405);
    }
    // RFC 3261 §8.1.1.7 / RFC 4475 §3.1.2.17: CSeq names the request's own method. Compared
    // byte-exact, as method names are case-sensitive.
    if (m.cseq_method_text != m.method_text) {
        return reply(out, 400, defect::cseq_method_mismatch);
    }
    reply(out, 420);
    if (m.request_method != method::cancel) {
        collect_unsupported(m, p, out);
        if (out.unsupported_count > 0) {
            return;
        }
    }
    reply(out, code);
}

verdict decide(const message_view& m, const verdict_policy& p) noexcept {
    verdict v;
    decide(m, p, v);
    return v;
}

} // namespace sipredir::sip
