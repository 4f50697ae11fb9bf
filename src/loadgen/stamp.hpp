// SPDX-License-Identifier: BSD-3-Clause
// The load generator's stamp: a sequence number and a send time (TSC) written as 24 hex digits
// over the start of an INVITE's Call-ID, which a 302 copies (RFC 3261 §8.2.6.2), so every reply
// names the request it answers and when that request left. Frames are Ethernet + IPv4 + UDP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <net/checksum.hpp>
#include <optional>
#include <span>
#include <string_view>

namespace sipredir::loadgen {

struct stamp {
    std::uint32_t seq = 0;
    std::uint64_t tsc = 0;
    friend bool operator==(const stamp&, const stamp&) = default;
};

// 8 hex digits of sequence number, then 16 of TSC, lowercase.
constexpr std::size_t stamp_digits = 24;

// Where a frame's UDP datagram and SIP message are.
struct udp_layout {
    std::size_t udp = 0;     // offset of the UDP header in the frame
    std::size_t payload = 0; // offset of the SIP message
    std::size_t end = 0;     // end of the datagram (never past the frame)
};

// The layout of an untagged Ethernet frame carrying IPv4 and UDP, or nullopt for any other
// frame or one too short for the headers it announces.
inline std::optional<udp_layout> find_udp(std::span<const std::uint8_t> f) noexcept {
    constexpr std::size_t eth = 14;
    if (f.size() < eth + 20 + 8 || f[12] != 0x08 || f[13] != 0x00 || (f[eth] >> 4) != 4
        || f[eth + 9] != 17) {
        return std::nullopt;
    }
    const std::size_t udp = eth + std::size_t{f[eth] & 0x0fu} * 4;
    if (udp < eth + 20 || udp + 8 > f.size()) {
        return std::nullopt;
    }
    const std::size_t length = std::size_t{f[udp + 4]} << 8 | f[udp + 5];
    if (length < 8 || udp + length > f.size()) {
        return std::nullopt;
    }
    return udp_layout{udp, udp + 8, udp + length};
}

// The offset in the frame of the first octet of the Call-ID's value (after `Call-ID:` and any
// blanks, the header name as written by the generator and by the appliance's reply writer),
// when at least stamp_digits octets of it precede the end of its line; 0 otherwise.
inline std::size_t stamp_offset(std::span<const std::uint8_t> f) noexcept {
    const auto l = find_udp(f);
    if (!l) {
        return 0;
    }
    const std::string_view sip(
            reinterpret_cast<const char*>(f.data()) + l->payload, l->end - l->payload
    );
    constexpr std::string_view name = "\r\nCall-ID:";
    const std::size_t at = sip.find(name);
    if (at == std::string_view::npos) {
        return 0;
    }
    std::size_t v = at + name.size();
    while (v < sip.size() && (sip[v] == ' ' || sip[v] == '\t')) {
        ++v;
    }
    const std::size_t eol = sip.find('\r', v);
    if (eol == std::string_view::npos || eol - v < stamp_digits) {
        return 0;
    }
    return l->payload + v;
}

// Writes `s` at `offset` (from stamp_offset) and keeps the UDP checksum right (RFC 1624
// eqn. 3 over the words the digits touch; a zero checksum, "none" over IPv4, stays zero).
inline void write_stamp(std::span<std::uint8_t> f, std::size_t offset, stamp s) noexcept {
    const auto l = find_udp(f);
    if (!l || offset < l->payload || offset + stamp_digits > l->end) {
        return;
    }
    // The checksum sums 16-bit words counted from the UDP header: take whole words around the
    // digits (an odd last octet of the datagram is summed padded with zero, as here).
    const std::size_t from = l->udp + ((offset - l->udp) & ~std::size_t{1});
    const std::size_t to = std::min(l->end, offset + stamp_digits + 1);
    const auto words = f.subspan(from, to - from);
    const std::uint16_t before = net::fold(net::ones_sum(words));
    constexpr char hex[] = "0123456789abcdef";
    for (std::size_t i = 0; i < 8; ++i) {
        f[offset + i] = static_cast<std::uint8_t>(hex[(s.seq >> (28 - 4 * i)) & 0xf]);
    }
    for (std::size_t i = 0; i < 16; ++i) {
        f[offset + 8 + i] = static_cast<std::uint8_t>(hex[(s.tsc >> (60 - 4 * i)) & 0xf]);
    }
    const std::size_t at = l->udp + 6;
    const std::uint16_t check = static_cast<std::uint16_t>(f[at] << 8 | f[at + 1]);
    if (check == 0) {
        return;
    }
    const std::uint16_t after = net::fold(net::ones_sum(words));
    // HC' = ~(~HC + ~m + m'), with m and m' the sums of the changed words before and after.
    std::uint16_t updated = static_cast<std::uint16_t>(~net::fold(
            std::uint32_t{static_cast<std::uint16_t>(~check)}
            + std::uint32_t{static_cast<std::uint16_t>(~before)} + after
    ));
    // RFC 768: a computed zero is sent as all ones.
    updated = updated == 0 ? 0xffff : updated;
    f[at] = static_cast<std::uint8_t>(updated >> 8);
    f[at + 1] = static_cast<std::uint8_t>(updated);
}

// The stamp a frame carries (a request we sent, or a reply that copied its Call-ID), or
// nullopt when its Call-ID does not start with stamp_digits lowercase hex digits.
inline std::optional<stamp> read_stamp(std::span<const std::uint8_t> f) noexcept {
    const std::size_t offset = stamp_offset(f);
    if (offset == 0) {
        return std::nullopt;
    }
    std::uint64_t digits[2] = {0, 0};
    for (std::size_t i = 0; i < stamp_digits; ++i) {
        const std::uint8_t c = f[offset + i];
        unsigned d = 0;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else {
            return std::nullopt;
        }
        auto& into = digits[i < 8 ? 0 : 1];
        into = into << 4 | d;
    }
    return stamp{static_cast<std::uint32_t>(digits[0]), digits[1]};
}

} // namespace sipredir::loadgen
