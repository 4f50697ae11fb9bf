// SPDX-License-Identifier: BSD-3-Clause
// Which request sources can be answered: a reply goes back to the source address and port, so
// a source that no host can send from, or that names many hosts, is a spoofed request (or a
// reflection aimed at this host, its neighbours or a multicast group).
#pragma once

#include <cstdint>
#include <net/ip_address.hpp>

namespace sipredir::pipeline {

namespace detail {

// RFC 1122 §3.2.1.3: 0/8 ("this network"), 127/8 (loopback) and the limited broadcast
// 255.255.255.255 are never a datagram's source; RFC 1112 §4: 224/4 is multicast and 240/4
// reserved.
constexpr bool invalid_v4(std::uint8_t first_octet) noexcept {
    return first_octet == 0 || first_octet == 127 || first_octet >= 224;
}

} // namespace detail

// False for 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0 and above; ::, ::1, ff00::/8 and an IPv4-mapped
// address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) of the IPv4 ones; and port 0. Constant time,
// no allocation: the worker path calls it for every request.
constexpr bool answerable_source(const net::ip_address& ip, std::uint16_t port) noexcept {
    if (port == 0) {
        return false;
    }
    const auto& b = ip.bytes;
    if (ip.family == net::ip_family::v4) {
        return !detail::invalid_v4(b[0]);
    }
    // RFC 4291 §2.7: ff00::/8 is multicast.
    if (b[0] == 0xff) {
        return false;
    }
    bool zero_to_10 = true;
    for (std::size_t i = 0; i < 10; ++i) {
        zero_to_10 = zero_to_10 && b[i] == 0;
    }
    if (!zero_to_10) {
        return true;
    }
    if (b[10] == 0xff && b[11] == 0xff) {
        return !detail::invalid_v4(b[12]);
    }
    // RFC 4291 §2.5.2, §2.5.3: :: (unspecified) and ::1 (loopback).
    const bool zero_to_15 = b[10] == 0 && b[11] == 0 && b[12] == 0 && b[13] == 0 && b[14] == 0;
    return !(zero_to_15 && b[15] <= 1);
}

} // namespace sipredir::pipeline
