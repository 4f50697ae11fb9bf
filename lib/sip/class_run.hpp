// SPDX-License-Identifier: BSD-3-Clause
// Runs of one octet class, 16 octets at a time: the end of a token, a host, a Call-ID or a run
// of URI characters in about a dozen instructions per 16 octets instead of four or five per
// octet. The class is looked up with two SSSE3 `pshufb` nibble tables (x86-64-v2, the build's
// baseline, has SSSE3): lo[l] holds bit h when octet (h << 4 | l) is in the class, hi[h] is
// 1 << h for h < 8 (and 0 above, so no octet >= 0x80 is ever in a class); an octet is in the
// class when lo[its low nibble] & hi[its high nibble] is not zero. Never reads at or past `end`,
// nor before the `floor` the caller says is readable.
#pragma once

#include "chars.hpp"

#include <array>
#include <cstdint>

#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif

namespace sipredir::sip::run {

struct nibble_tables {
    alignas(16) std::array<std::uint8_t, 16> lo{};
    alignas(16) std::array<std::uint8_t, 16> hi{};
    std::array<bool, 256> octet{}; // the same class, one entry per octet, for short runs
};

// The tables of the octets < 0x80 for which `member` holds.
template <typename Member> constexpr nibble_tables tables_of(Member member) {
    nibble_tables t;
    for (unsigned h = 0; h < 8; ++h) {
        t.hi[h] = static_cast<std::uint8_t>(1U << h);
        for (unsigned l = 0; l < 16; ++l) {
            if (member(static_cast<unsigned char>(h << 4 | l))) {
                t.lo[l] = static_cast<std::uint8_t>(t.lo[l] | (1U << h));
                t.octet[h << 4 | l] = true;
            }
        }
    }
    return t;
}

// The tables of char_table classes, plus `extra` octets, less `except` octets.
constexpr nibble_tables
classes(std::uint16_t cls, std::string_view extra = {}, std::string_view except = {}) {
    return tables_of([=](unsigned char c) {
        return !detail::in(except, c)
               && ((detail::char_table[c] & cls) != 0 || detail::in(extra, c));
    });
}

template <const nibble_tables& T> constexpr bool member(char c) noexcept {
    return T.octet[static_cast<unsigned char>(c)];
}

#if defined(__SSSE3__)
// Bit i set when octet i of the 16 at p is NOT in the class.
template <const nibble_tables& T> inline unsigned outside16(const char* p) noexcept {
    const __m128i lo_table = _mm_load_si128(reinterpret_cast<const __m128i*>(T.lo.data()));
    const __m128i hi_table = _mm_load_si128(reinterpret_cast<const __m128i*>(T.hi.data()));
    const __m128i low4 = _mm_set1_epi8(0x0f);
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i lo = _mm_shuffle_epi8(lo_table, _mm_and_si128(v, low4));
    const __m128i hi = _mm_shuffle_epi8(hi_table, _mm_and_si128(_mm_srli_epi16(v, 4), low4));
    const __m128i in = _mm_and_si128(lo, hi);
    return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(in, _mm_setzero_si128())));
}
#endif

// The first octet at or after p (before end) outside the class, or end. Octets in [floor, end)
// are readable; floor <= p. A run ending within 16 octets of `end` is read with one load ending
// at `end` when [floor, end) holds 16 octets, else octet by octet.
template <const nibble_tables& T>
inline const char* skip(const char* p, const char* end, const char* floor) noexcept {
#if defined(__SSSE3__)
    while (end - p >= 16) {
        const unsigned out = outside16<T>(p);
        if (out != 0) {
            return p + __builtin_ctz(out);
        }
        p += 16;
    }
    if (p < end && end - floor >= 16) {
        const char* const last = end - 16;
        // Octets before p (already in the run) count as inside.
        const unsigned out = outside16<T>(last) >> (p - last);
        return out != 0 ? p + __builtin_ctz(out) : end;
    }
#endif
    while (p < end && member<T>(*p)) {
        ++p;
    }
    return p;
}

template <const nibble_tables& T> inline const char* skip(const char* p, const char* end) noexcept {
    return skip<T>(p, end, p);
}

// The classes the field grammars scan for.
inline constexpr nibble_tables token = classes(cc_token);
inline constexpr nibble_tables host = classes(cc_host);
inline constexpr nibble_tables ipv6 = classes(cc_ipv6);
inline constexpr nibble_tables call_id = classes(cc_call_id);
// A Call-ID's word: its octets less the '@' between two words.
inline constexpr nibble_tables call_id_word = classes(cc_call_id, {}, "@");
// A gen-value that is a token or a host with its port (`received`, `maddr`).
inline constexpr nibble_tables token_or_colon = classes(cc_token, ":");
// userinfo and uri-parameter octets of a SIP URI, less the '%' whose escape is checked apart.
inline constexpr nibble_tables user = classes(cc_user, {}, "%");
inline constexpr nibble_tables uri_param = classes(cc_param, ";=", "%");

} // namespace sipredir::sip::run
