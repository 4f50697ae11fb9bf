// SPDX-License-Identifier: BSD-3-Clause
// Probing shared out across a fleet: which appliances probe which backend. Each backend is probed
// by the k members (this appliance and the peers heard within their timeout) that rank highest
// for it by rendezvous (highest-random-weight) hashing: every member computes the same ranking
// from the same names, so the members agree without talking about it, and a member that leaves
// (or joins) moves only the backends it probed (or comes to probe). Pure; no clock.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace sipredir::control::fleet {

// The weight of `member` for `backend`: SipHash-2-4 (libsodium crypto_shorthash) of the bytes
// backend, 0x00, member, under the fixed 16-byte key "sipredir-probers", read little-endian.
// Fixed so that every appliance, of any build, ranks alike.
std::uint64_t probe_weight(std::string_view backend, std::string_view member) noexcept;

// The members that probe `backend`, the highest weight first (equal weights: the smaller name
// first): the first k of them, or all of them when k is 0 (nothing shared) or k >= their number.
std::vector<std::string_view>
probers_of(std::string_view backend, std::span<const std::string_view> members, std::size_t k);

// Whether `self` is among probers_of(backend, members, k); `members` includes `self`.
bool probes(
        std::string_view backend,
        std::string_view self,
        std::span<const std::string_view> members,
        std::size_t k
);

} // namespace sipredir::control::fleet
