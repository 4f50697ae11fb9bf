// SPDX-License-Identifier: BSD-3-Clause
// SipHash-c-d (Aumasson and Bernstein, 2012), written from the paper's description.
#include "siphash.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace sipredir {
namespace {

std::uint64_t load_le64(const std::uint8_t* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::big) {
        v = __builtin_bswap64(v);
    }
    return v;
}

static_assert(std::endian::native == std::endian::little, "load_partial assumes it");

// The first n < 8 octets at p as a little-endian word, zero above them.
std::uint64_t load_partial(const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t v = 0;
    if (n & 4) {
        std::uint32_t w;
        std::memcpy(&w, p + (n & 3), sizeof w);
        v = std::uint64_t{w} << (8 * (n & 3));
    }
    if (n & 2) {
        std::uint16_t w;
        std::memcpy(&w, p + (n & 1), sizeof w);
        v |= std::uint64_t{w} << (8 * (n & 1));
    }
    if (n & 1) {
        v |= p[0];
    }
    return v;
}

} // namespace

template <int C, int D> basic_siphash<C, D>::basic_siphash(const siphash_key& key) noexcept {
    const std::uint64_t k0 = load_le64(key.data());
    const std::uint64_t k1 = load_le64(key.data() + 8);
    _v0 = k0 ^ 0x736f6d6570736575ULL;
    _v1 = k1 ^ 0x646f72616e646f6dULL;
    _v2 = k0 ^ 0x6c7967656e657261ULL;
    _v3 = k1 ^ 0x7465646279746573ULL;
}

// Forced inline: out of line, the call per round was a tenth of the worker's time.
template <int C, int D> [[gnu::always_inline]] inline void basic_siphash<C, D>::round() noexcept {
    _v0 += _v1;
    _v1 = std::rotl(_v1, 13);
    _v1 ^= _v0;
    _v0 = std::rotl(_v0, 32);
    _v2 += _v3;
    _v3 = std::rotl(_v3, 16);
    _v3 ^= _v2;
    _v0 += _v3;
    _v3 = std::rotl(_v3, 21);
    _v3 ^= _v0;
    _v2 += _v1;
    _v1 = std::rotl(_v1, 17);
    _v1 ^= _v2;
    _v2 = std::rotl(_v2, 32);
}

template <int C, int D>
[[gnu::always_inline]] inline void basic_siphash<C, D>::compress(std::uint64_t m) noexcept {
    _v3 ^= m;
    for (int i = 0; i < C; ++i) {
        round();
    }
    _v0 ^= m;
}

template <int C, int D>
void basic_siphash<C, D>::update(const void* data, std::size_t size) noexcept {
    const auto* p = static_cast<const std::uint8_t*>(data);
    _total += size;
    if (_tail_size != 0) {
        // Top up the pending block: the To-tag's inputs are short fields split by one-octet
        // separators, so most calls start and end inside a block.
        const std::size_t take = std::min(size, 8 - _tail_size);
        _tail |= load_partial(p, take) << (8 * _tail_size);
        _tail_size += take;
        p += take;
        size -= take;
        if (_tail_size < 8) {
            return;
        }
        compress(_tail);
        _tail = 0;
        _tail_size = 0;
    }
    for (; size >= 8; size -= 8, p += 8) {
        compress(load_le64(p));
    }
    _tail = load_partial(p, size);
    _tail_size = size;
}

template <int C, int D> std::uint64_t basic_siphash<C, D>::finish() noexcept {
    compress(_tail | (_total << 56));
    _v2 ^= 0xff;
    for (int i = 0; i < D; ++i) {
        round();
    }
    return _v0 ^ _v1 ^ _v2 ^ _v3;
}

template class basic_siphash<2, 4>;
template class basic_siphash<1, 3>;

} // namespace sipredir
