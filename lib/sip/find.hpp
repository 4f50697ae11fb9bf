// SPDX-License-Identifier: BSD-3-Clause
// Byte search over whole 16-byte blocks inside the buffer with SSE2, then a scalar tail: never a
// read past `end`, not even "harmlessly" (picohttpparser's rule). Inline, so a short line costs
// a few instructions instead of a library call.
#pragma once

#include <emmintrin.h>

namespace sipredir::sip {

// The first `c` in [p, end), or nullptr.
inline const char* find_byte(const char* p, const char* end, char c) noexcept {
    const __m128i needle = _mm_set1_epi8(c);
    while (end - p >= 16) {
        const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const unsigned mask =
                static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, needle)));
        if (mask != 0) {
            return p + __builtin_ctz(mask);
        }
        p += 16;
    }
    for (; p < end; ++p) {
        if (*p == c) {
            return p;
        }
    }
    return nullptr;
}

} // namespace sipredir::sip
