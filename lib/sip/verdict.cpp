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

namespace {

// What no request method changes: responses and unroutable requests dropped, ACK absorbed, a
// version or a defect answered. False when the request passed.
bool screened_out(const message_view& m, verdict& out) noexcept {
    if (m.kind == message_kind::response) {
        out = dropped(drop_reason::response);
    } else if (m.kind != message_kind::request) {
        out = dropped(drop_reason::start_line_bad);
    } else if (m.via_count == 0 || !m.top_via_readable) {
        out = dropped(drop_reason::unroutable);
    } else if (m.request_method == method::ack) {
        out = verdict{};
        out.what = action::absorb;
    } else if (m.first_defect != defect::request_line_bad && (m.version_major != 2 || m.version_minor != 0)) {
        out = reply(505);
    } else if (m.first_defect != defect::none) {
        out = reply(400, m.first_defect);
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
    out = reply(400, missing);
    return true;
}

} // namespace

verdict decide(const message_view& m, const verdict_policy& p) noexcept {
    verdict early;
    if (screened_out(m, early) || lacks_a_header(m, early)) {
        return early;
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
