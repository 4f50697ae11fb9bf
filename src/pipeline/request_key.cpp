// SPDX-License-Identifier: BSD-3-Clause
#include "request_key.hpp"

#include <sip/uri.hpp>

namespace sipredir::pipeline {

namespace {

// The user part of a From or To URI. Second pass: the fast path keeps these URIs as views.
std::string_view user_of(bool present, const sip::name_addr& field) noexcept {
    if (!present) {
        return {};
    }
    sip::uri_view uri;
    if (sip::parse_uri(field.uri, uri) == sip::uri_status::bad) {
        return {};
    }
    return uri.user;
}

} // namespace

std::string_view request_key(
        const sip::message_view& m, balance::hash_key kind, const net::ip_address& source
) noexcept {
    std::string_view user;
    switch (kind) {
    case balance::hash_key::call_id:
        return m.call_id;
    case balance::hash_key::from_user:
        user = user_of(m.has_from, m.from);
        break;
    case balance::hash_key::to_user:
        user = user_of(m.has_to, m.to);
        break;
    case balance::hash_key::request_uri_user:
        user = m.request_uri_parts.user;
        break;
    case balance::hash_key::source_ip:
        return {reinterpret_cast<const char*>(source.bytes.data()), source.size()};
    }
    return user.empty() ? m.call_id : user;
}

std::uint64_t request_key_hash(
        const sip::message_view& m,
        balance::hash_key kind,
        const net::ip_address& source,
        const siphash_key& key
) noexcept {
    siphash24 h(key);
    h.update(request_key(m, kind, source));
    return h.finish();
}

} // namespace sipredir::pipeline
