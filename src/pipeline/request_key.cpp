// SPDX-License-Identifier: BSD-3-Clause
#include "request_key.hpp"

#include <sip/uri.hpp>

namespace sipredir::pipeline {

std::string_view request_key(const sip::message_view& m, balance::hash_key kind) noexcept {
    std::string_view user;
    switch (kind) {
    case balance::hash_key::call_id:
        return m.call_id;
    case balance::hash_key::from_user:
        if (m.has_from) {
            // Second pass: the fast path keeps the From URI as a view, not parsed.
            sip::uri_view from;
            if (sip::parse_uri(m.from.uri, from) != sip::uri_status::bad) {
                user = from.user;
            }
        }
        break;
    case balance::hash_key::request_uri_user:
        user = m.request_uri_parts.user;
        break;
    }
    return user.empty() ? m.call_id : user;
}

std::uint64_t request_key_hash(
        const sip::message_view& m, balance::hash_key kind, const siphash_key& key
) noexcept {
    siphash24 h(key);
    h.update(request_key(m, kind));
    return h.finish();
}

} // namespace sipredir::pipeline
