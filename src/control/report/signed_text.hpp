// SPDX-License-Identifier: BSD-3-Clause
// One-line text messages signed with libsodium's crypto_auth (HMAC-SHA-512-256): the pushed load
// report (SRLR/1) and the fleet's redirect exchange (SRFX/1) share this framing:
//
//   <magic> key=value key=value ... mac=<64 lower-case hex digits>
//
// The MAC covers every byte before " mac=". Parsing takes views and never allocates.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sipredir::control {

inline constexpr std::size_t signing_key_size = 32; // crypto_auth_KEYBYTES
using signing_key = std::array<std::uint8_t, signing_key_size>;
using signed_mac = std::array<std::uint8_t, 32>; // crypto_auth_BYTES

struct signed_line {
    std::string_view fields;      // between the magic and " mac="
    std::string_view signed_part; // the magic and the fields: what the MAC covers
    signed_mac mac{};
};

// Splits `d` (one line, a trailing newline tolerated, at most max_size bytes) that starts with
// `magic` ("SRLR/1 "); false when it does not have that shape.
bool split_signed_line(
        std::string_view d, std::string_view magic, std::size_t max_size, signed_line& out
) noexcept;

// Constant-time check of the MAC.
bool signature_valid(const signed_line& l, const signing_key& key) noexcept;

// Appends " mac=<hex>" over everything in `line`.
void sign_line(std::string& line, const signing_key& key);

// Field readers: whole-string, no sign, no leading '+'.
bool read_u64_field(std::string_view s, std::uint64_t& out) noexcept;
// A backend or appliance name: 1–64 of [A-Za-z0-9._-].
bool valid_name(std::string_view s) noexcept;

// The next "key=value" of `rest` (space separated), advancing it; false at a malformed item.
bool next_field(std::string_view& rest, std::string_view& key, std::string_view& value) noexcept;

template <std::size_t N>
bool read_hex_bytes(std::string_view hex, std::array<std::uint8_t, N>& out) noexcept;

} // namespace sipredir::control
