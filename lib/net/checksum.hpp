// SPDX-License-Identifier: BSD-3-Clause
// Internet checksums (RFC 1071) for IPv4 headers and UDP over IPv4/IPv6, full and incremental.
#pragma once

#include "ip_address.hpp"

#include <cstdint>
#include <span>

namespace sipredir::net {

// One's-complement sum of big-endian 16-bit words (an odd last byte is padded with zero),
// added to `initial`; not folded.
std::uint32_t ones_sum(std::span<const std::uint8_t> bytes, std::uint32_t initial = 0) noexcept;

// Folds a sum to 16 bits (not complemented).
std::uint16_t fold(std::uint32_t sum) noexcept;

// The checksum field value of an IPv4 header whose checksum field holds zero, or, over a header
// with its checksum in place, zero when that checksum is right.
std::uint16_t ipv4_header_checksum(std::span<const std::uint8_t> header) noexcept;

// The one's-complement sum of two addresses of the same family (network-order words), folded:
// the part of a UDP pseudo-header, and of an IPv4 header, that a reply shares with its request
// (the same two addresses, swapped).
std::uint32_t address_sum(const ip_address& a, const ip_address& b) noexcept;

// The checksum field of the IPv4 header write_reply_headers writes (version 4, IHL 5, TOS 0,
// no flags or offset, TTL 64, UDP) from its addresses' address_sum, total length and ID: what
// ipv4_header_checksum gives over the whole header, without reading it back.
std::uint16_t ipv4_reply_header_checksum(
        std::uint32_t addresses, std::uint16_t total_length, std::uint16_t id
) noexcept;

// Sum of the UDP pseudo-header (RFC 768 / RFC 8200 §8.1), folded, not complemented: what a NIC
// with UDP checksum offload expects in the checksum field.
std::uint16_t udp_pseudo_header_sum(
        const ip_address& src, const ip_address& dst, std::uint16_t udp_length
) noexcept;

// The UDP checksum field value for `udp` (header with checksum zero + payload). A computed zero
// is sent as 0xffff (RFC 768).
std::uint16_t udp_checksum(
        const ip_address& src, const ip_address& dst, std::span<const std::uint8_t> udp
) noexcept;

// RFC 1624 eqn. 3: the checksum after one 16-bit word of the covered data changes.
std::uint16_t
checksum_update(std::uint16_t checksum, std::uint16_t old_word, std::uint16_t new_word) noexcept;

} // namespace sipredir::net
