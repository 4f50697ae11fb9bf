// SPDX-License-Identifier: BSD-3-Clause
// The deterministic To-tag of a stateless reply, as Kamailio's sl module makes one: a keyed hash
// of Call-ID, From-tag and top Via branch, so a retransmission gets the same tag.
#pragma once

#include "message_view.hpp"

#include <array>
#include <base/siphash.hpp>

namespace sipredir::sip {

inline constexpr std::size_t to_tag_size = 16;

// SipHash-1-3(key, Call-ID 0x00 From-tag 0x00 branch). Missing fields hash as empty (RFC 2543
// requests have no branch or From-tag), still deterministic. The pipeline also draws its backend
// choice from this digest: one hash per request instead of two, and a retransmission (same
// three fields) gets the same backends.
std::uint64_t to_tag_digest(const siphash_key& key, const message_view& m) noexcept;

// The digest as 16 lower-case hex digits.
std::array<char, to_tag_size> render_to_tag(std::uint64_t digest) noexcept;

} // namespace sipredir::sip
