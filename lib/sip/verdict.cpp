// SPDX-License-Identifier: BSD-3-Clause
#include "verdict.hpp"

#include "fields.hpp"

namespace sipredir::sip {
namespace {

verdict reply(std::uint16_t code, defect why = defect::none) noexcept {
    verdict v;
    v.what = action::reply;
    v.code = code;
    v.why = why;
    return v;
}

verdict dropped(drop_reason reason) noexcept {
    verdict v;
    v.drop = reason;
    return v;
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

verdict decide(const message_view& m, const verdict_policy& p) noexcept {
    if (m.kind == message_kind::response) {
        return dropped(drop_reason::response);
    }
    if (m.kind != message_kind::request) {
        return dropped(drop_reason::start_line_bad);
    }
    if (m.via_count == 0 || !m.top_via_readable) {
        return dropped(drop_reason::unroutable);
    }
    if (m.request_method == method::ack) {
        verdict v;
        v.what = action::absorb;
        return v;
    }
    const bool version_read = m.first_defect != defect::request_line_bad;
    if (version_read && (m.version_major != 2 || m.version_minor != 0)) {
        return reply(505);
    }
    if (m.first_defect != defect::none) {
        return reply(400, m.first_defect);
    }
    if (!m.has_to) {
        return reply(400, defect::to_missing);
    }
    if (!m.has_from) {
        return reply(400, defect::from_missing);
    }
    if (m.call_id.empty()) {
        return reply(400, defect::call_id_missing);
    }
    if (!m.has_cseq) {
        return reply(400, defect::cseq_missing);
    }
    if (m.request_uri_parts.scheme == uri_scheme::other) {
        return reply(416);
    }
    if (m.max_forwards == 0) {
        return reply(483); // RFC 3261 §16.3 step 3, checked before the method (as Kamailio)
    }
    const method_set mask = bit(m.request_method);
    std::uint16_t code = 0;
    if ((p.redirect_methods & mask) != 0) {
        code = 302;
    } else if (m.request_method == method::options || m.request_method == method::cancel) {
        code = 200;
    } else {
        return reply(405);
    }
    // RFC 3261 §8.1.1.7 / RFC 4475 §3.1.2.17: CSeq names the request's own method. Compared
    // byte-exact, as method names are case-sensitive.
    if (m.cseq_method_text != m.method_text) {
        return reply(400, defect::cseq_method_mismatch);
    }
    if (m.request_method != method::cancel) {
        verdict v = reply(420);
        collect_unsupported(m, p, v);
        if (v.unsupported_count > 0) {
            return v;
        }
    }
    return reply(code);
}

} // namespace sipredir::sip
