// SPDX-License-Identifier: BSD-3-Clause
// Splitting a reply larger than the path MTU into IP fragments (RFC 791; RFC 8200 §4.5), as a
// kernel would for a UDP socket: RFC 4475's 3.5 kB longreq gets a 302 that copies all its Vias.
#pragma once

#include "frame.hpp"

#include <cstdint>
#include <span>

namespace sipredir::net {

struct fragment_plan {
    std::size_t count = 0; // 0: cannot be fragmented for this MTU
    std::size_t chunk = 0; // octets of the UDP datagram per fragment (a multiple of 8)
};

// How a reply frame of `frame_size` octets laid out as `layout` splits for IP packets of at
// most `mtu` octets.
fragment_plan plan_fragments(
        const reply_layout& layout, std::size_t frame_size, std::size_t mtu, bool ipv6
) noexcept;

// Writes fragment `index` of the plan into `out`: the frame's Ethernet header (and tags), its
// IP header adjusted (IPv6: plus a Fragment header), and the chunk. `id` is the IP
// identification (IPv4: its low 16 bits). Returns the fragment's size, 0 if `out` is too short.
std::size_t write_fragment(
        std::span<const std::uint8_t> frame,
        const reply_layout& layout,
        bool ipv6,
        const fragment_plan& plan,
        std::size_t index,
        std::uint32_t id,
        std::span<std::uint8_t> out
) noexcept;

} // namespace sipredir::net
