// SPDX-License-Identifier: BSD-3-Clause
// Internet checksum arithmetic.
#include "checksum.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace sipredir::net {

namespace {

constexpr std::uint32_t ip_proto_udp_number = 17;

std::uint64_t load64(const std::uint8_t* p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
}

// Adds the two 32-bit halves of w: the carries collect in the accumulator's upper half.
std::uint64_t halves(std::uint64_t w) noexcept {
    return (w & 0xffffffffULL) + (w >> 32);
}

} // namespace

// The tail assembly and the final swap below take the native words as little-endian (x86).
static_assert(std::endian::native == std::endian::little);

namespace {

#if defined(__SSE2__)
// 32 octets a step, while 32 remain; `p` and `n` move past them. pmaddwd adds each pair of
// adjacent 16-bit words into a 32-bit lane, but signed: the words are biased by -2^15 first
// (xor 0x8000) and 2^16 per pair is added back at the end. A lane moves by at most 2^16 per
// step, so a run of 2^18 octets (2^13 steps) cannot overflow it; the lanes are then added up in
// 64 bits.
std::uint64_t sum_blocks(const std::uint8_t*& p, std::size_t& n) noexcept {
    const __m128i bias = _mm_set1_epi16(static_cast<short>(0x8000));
    const __m128i ones = _mm_set1_epi16(1);
    std::uint64_t a = 0;
    while (n >= 32) {
        std::size_t run = std::min<std::size_t>(n, std::size_t{1} << 18) & ~std::size_t{31};
        n -= run;
        a += std::uint64_t{run / 4} << 16; // the bias taken back: 2^16 for each pair of words
        __m128i s0 = _mm_setzero_si128();
        __m128i s1 = _mm_setzero_si128();
        for (; run != 0; run -= 32, p += 32) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
            const __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
            s0 = _mm_add_epi32(s0, _mm_madd_epi16(_mm_xor_si128(x, bias), ones));
            s1 = _mm_add_epi32(s1, _mm_madd_epi16(_mm_xor_si128(y, bias), ones));
        }
        alignas(16) std::int32_t lanes[8];
        _mm_store_si128(reinterpret_cast<__m128i*>(lanes), s0);
        _mm_store_si128(reinterpret_cast<__m128i*>(lanes + 4), s1);
        for (const std::int32_t lane : lanes) {
            a += static_cast<std::uint64_t>(std::int64_t{lane}); // modulo 2^64: exact at the end
        }
    }
    return a;
}

// The same 64 octets a step with AVX2 (two 32-octet registers), taken when CPUID reports it:
// half the steps of the SSE2 loop for a datagram's worth of octets. Leaves fewer than 64.
__attribute__((target("avx2"))) std::uint64_t
sum_blocks_avx2(const std::uint8_t*& p, std::size_t& n) noexcept {
    const __m256i bias = _mm256_set1_epi16(static_cast<short>(0x8000));
    const __m256i ones = _mm256_set1_epi16(1);
    std::uint64_t a = 0;
    while (n >= 64) {
        std::size_t run = std::min<std::size_t>(n, std::size_t{1} << 18) & ~std::size_t{63};
        n -= run;
        a += std::uint64_t{run / 4} << 16;
        __m256i s0 = _mm256_setzero_si256();
        __m256i s1 = _mm256_setzero_si256();
        for (; run != 0; run -= 64, p += 64) {
            const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
            const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
            s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_xor_si256(x, bias), ones));
            s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_xor_si256(y, bias), ones));
        }
        alignas(32) std::int32_t lanes[16];
        _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s0);
        _mm256_store_si256(reinterpret_cast<__m256i*>(lanes + 8), s1);
        for (const std::int32_t lane : lanes) {
            a += static_cast<std::uint64_t>(std::int64_t{lane});
        }
    }
    return a;
}

using blocks_fn = std::uint64_t (*)(const std::uint8_t*&, std::size_t&) noexcept;

std::uint64_t no_blocks(const std::uint8_t*&, std::size_t&) noexcept {
    return 0;
}

// Chosen once, before main, never per packet. Constant-initialised to the SSE2-only path, so a
// sum taken during another file's static initialisation is still right.
constinit blocks_fn wide_blocks = no_blocks;
[[maybe_unused]] const bool wide_chosen = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") != 0) {
        wide_blocks = sum_blocks_avx2;
    }
    return true;
}();
#endif

// The last 0-7 bytes, zero-padded after them, built in registers: a byte-wise copy to the
// stack and a word load back stalled on store forwarding.
std::uint64_t tail_word(const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t tail = 0;
    unsigned shift = 0;
    if (n >= 4) {
        std::uint32_t w;
        std::memcpy(&w, p, sizeof w);
        tail = w;
        shift = 32;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        std::uint16_t w;
        std::memcpy(&w, p, sizeof w);
        tail |= std::uint64_t{w} << shift;
        shift += 16;
        p += 2;
        n -= 2;
    }
    if (n == 1) {
        tail |= std::uint64_t{*p} << shift;
    }
    return tail;
}

} // namespace

std::uint32_t ones_sum(std::span<const std::uint8_t> b, std::uint32_t initial) noexcept {
    // RFC 1071 §2: the sum does not depend on byte order, and 2^16 = 1 in its arithmetic. So the
    // bytes are summed as native words (carries deferred in wide accumulators, folded to 16 bits
    // and swapped into network order once at the end).
    const std::uint8_t* p = b.data();
    std::size_t n = b.size();
    std::uint64_t a = 0;
#if defined(__SSE2__)
    a = wide_blocks(p, n);
    a += sum_blocks(p, n);
#endif
    std::uint64_t c = 0;
    for (; n >= 16; n -= 16, p += 16) {
        a += halves(load64(p));
        c += halves(load64(p + 8));
    }
    a += c;
    if (n >= 8) {
        a += halves(load64(p));
        p += 8;
        n -= 8;
    }
    a += halves(tail_word(p, n));
    while (a >> 16) {
        a = (a & 0xffff) + (a >> 16);
    }
    const std::uint64_t sum =
            std::uint64_t{initial} + __builtin_bswap16(static_cast<std::uint16_t>(a));
    return static_cast<std::uint32_t>((sum & 0xffffffffULL) + (sum >> 32));
}

std::uint16_t fold(std::uint32_t sum) noexcept {
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(sum);
}

std::uint16_t ipv4_header_checksum(std::span<const std::uint8_t> header) noexcept {
    return static_cast<std::uint16_t>(~fold(ones_sum(header)));
}

std::uint32_t address_sum(const ip_address& a, const ip_address& b) noexcept {
    // The words of both addresses, as native 32-bit loads; ones_sum's swap at the end is done
    // here the same way.
    std::uint64_t sum = 0;
    const std::size_t n = a.size();
    for (std::size_t i = 0; i < n; i += 4) {
        std::uint32_t x;
        std::uint32_t y;
        std::memcpy(&x, a.bytes.data() + i, sizeof x);
        std::memcpy(&y, b.bytes.data() + i, sizeof y);
        sum += std::uint64_t{x} + y;
    }
    sum = (sum & 0xffffffffULL) + (sum >> 32);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return __builtin_bswap16(static_cast<std::uint16_t>(sum));
}

std::uint16_t udp_pseudo_header_sum(
        const ip_address& src, const ip_address& dst, std::uint16_t udp_length
) noexcept {
    return fold(address_sum(src, dst) + ip_proto_udp_number + std::uint32_t{udp_length});
}

std::uint16_t ipv4_reply_header_checksum(
        std::uint32_t addresses, std::uint16_t total_length, std::uint16_t id
) noexcept {
    // Version/IHL/TOS 0x4500, flags and offset 0, TTL 64 / protocol UDP 0x4011, checksum 0.
    return static_cast<std::uint16_t>(
            ~fold(0x4500 + 0x4011 + addresses + std::uint32_t{total_length} + id)
    );
}

std::uint16_t udp_checksum(
        const ip_address& src, const ip_address& dst, std::span<const std::uint8_t> udp
) noexcept {
    const std::uint32_t sum =
            ones_sum(udp, udp_pseudo_header_sum(src, dst, static_cast<std::uint16_t>(udp.size())));
    const auto c = static_cast<std::uint16_t>(~fold(sum));
    return c == 0 ? 0xffff : c;
}

std::uint16_t
checksum_update(std::uint16_t checksum, std::uint16_t old_word, std::uint16_t new_word) noexcept {
    const std::uint32_t sum = static_cast<std::uint16_t>(~checksum)
                              + static_cast<std::uint16_t>(~old_word) + std::uint32_t{new_word};
    return static_cast<std::uint16_t>(~fold(sum));
}

} // namespace sipredir::net
