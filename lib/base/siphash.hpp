// SPDX-License-Identifier: BSD-3-Clause
// Streaming SipHash-2-4: a keyed 64-bit hash over several byte strings without concatenating
// them. libsodium's crypto_shorthash computes the same function one-shot; the unit tests use it
// as the reference.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipredir {

using siphash_key = std::array<std::uint8_t, 16>;

class siphash24 {
public:
    explicit siphash24(const siphash_key& key) noexcept;

    // Appends bytes to the message. Any split of the same bytes gives the same digest.
    void update(const void* data, std::size_t size) noexcept;
    void update(std::string_view s) noexcept { update(s.data(), s.size()); }

    // The digest of everything appended. Call once.
    std::uint64_t finish() noexcept;

private:
    void round() noexcept;
    void compress(std::uint64_t m) noexcept;

    std::uint64_t _v0, _v1, _v2, _v3;
    std::uint64_t _tail = 0; // pending bytes, little-endian, fewer than 8
    std::size_t _tail_size = 0;
    std::uint64_t _total = 0; // message length in bytes, mod 2^64 (the spec keeps 8 bits)
};

} // namespace sipredir
