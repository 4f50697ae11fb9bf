// SPDX-License-Identifier: BSD-3-Clause
// An IPv4 or IPv6 address in network byte order, and its text forms.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sipredir::net {

enum class ip_family : std::uint8_t { v4, v6 };

struct ip_address {
    ip_family family = ip_family::v4;
    std::array<std::uint8_t, 16> bytes{}; // v4 uses the first 4

    static ip_address v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept {
        ip_address ip;
        ip.bytes[0] = a;
        ip.bytes[1] = b;
        ip.bytes[2] = c;
        ip.bytes[3] = d;
        return ip;
    }
    std::size_t size() const noexcept { return family == ip_family::v4 ? 4 : 16; }
    friend bool operator==(const ip_address&, const ip_address&) = default;
};

struct ip_endpoint {
    ip_address address;
    std::uint16_t port = 0; // host byte order
    friend bool operator==(const ip_endpoint&, const ip_endpoint&) = default;
};

// Longest text: an IPv6 address with an embedded IPv4 one ("ffff:...:255.255.255.255").
inline constexpr std::size_t max_ip_text = 45;

// Writes the address as text (dotted quad; RFC 5952 for IPv6: lower case, the longest run of
// two or more zero groups as "::", leftmost on a tie) into `out`, which must hold max_ip_text.
// Returns the number of characters written.
std::size_t format_ip(const ip_address& ip, std::span<char, max_ip_text> out) noexcept;

// Parses a dotted quad, or an IPv6 address in any RFC 4291 text form (with an optional
// embedded IPv4 tail), with or without enclosing brackets. False on anything else.
bool parse_ip(std::string_view text, ip_address& out) noexcept;

} // namespace sipredir::net
