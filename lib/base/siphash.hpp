// SPDX-License-Identifier: BSD-3-Clause
// Streaming SipHash-c-d: a keyed 64-bit hash over several byte strings without concatenating
// them. SipHash-2-4 is the paper's recommended instance (libsodium's crypto_shorthash computes
// it one-shot; the unit tests use it as the reference); SipHash-1-3 is the faster instance for
// the per-packet To-tag (docs/security.md says why it is enough there).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipredir {

using siphash_key = std::array<std::uint8_t, 16>;

// `Compression` rounds per 8-octet block, `Finalization` rounds at the end.
template <int Compression, int Finalization> class basic_siphash {
public:
    explicit basic_siphash(const siphash_key& key) noexcept;

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

using siphash24 = basic_siphash<2, 4>;
using siphash13 = basic_siphash<1, 3>;

extern template class basic_siphash<2, 4>;
extern template class basic_siphash<1, 3>;

} // namespace sipredir
