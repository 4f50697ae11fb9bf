// SPDX-License-Identifier: BSD-3-Clause
// The key a `hash` pool maps to a backend: Call-ID, From, To or Request-URI user, or the source
// address, hashed with a keyed SipHash so that every appliance sharing the key sends a request to
// the same backend.
#pragma once

#include <balance/pool_config.hpp>
#include <base/siphash.hpp>
#include <cstdint>
#include <net/ip_address.hpp>
#include <sip/message_view.hpp>
#include <string_view>

namespace sipredir::pipeline {

// The bytes of the pool's key in `m`, or for source_ip those of `source` (the address in
// network order, 4 or 16 bytes; the view points into `source`). A From, To or Request-URI
// without a user part (sip:host) has nothing to spread on, so the Call-ID stands in for it.
std::string_view request_key(
        const sip::message_view& m, balance::hash_key kind, const net::ip_address& source
) noexcept;

// SipHash-2-4 of request_key(m, kind, source) under `key`.
std::uint64_t request_key_hash(
        const sip::message_view& m,
        balance::hash_key kind,
        const net::ip_address& source,
        const siphash_key& key
) noexcept;

} // namespace sipredir::pipeline
