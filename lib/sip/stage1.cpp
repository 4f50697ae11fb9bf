// SPDX-License-Identifier: BSD-3-Clause
// Stage 1 kernels: single octets by comparison, the token and control classes by two nibble
// table lookups (pshufb) whose AND is non-zero exactly for the class members, as simdjson's
// stage 1 classifies its structural characters. SSSE3 is the baseline (x86-64-v2); AVX-512BW
// or AVX2 is taken when CPUID reports it, once, when the program starts.
#include "stage1.hpp"

#include "chars.hpp"

#include <array>
#include <cstring>
#include <immintrin.h>

namespace sipredir::sip::stage1 {
namespace {

// Bits of the nibble tables. Token octets lie in rows 0x2-0x7: row r is bit r - 2 of the high
// table, and the low table holds, for each low nibble, the rows where it makes a token. Control
// octets lie in rows 0x0 (bit 6, HT LF CR excepted) and 0x1 (bit 7); DEL is compared alone.
constexpr std::uint8_t token_bits = 0x3f;
constexpr std::uint8_t control_bits = 0xc0;

constexpr std::array<std::uint8_t, 16> make_high() {
    std::array<std::uint8_t, 16> t{};
    for (unsigned r = 2; r <= 7; ++r) {
        t[r] = static_cast<std::uint8_t>(1U << (r - 2));
    }
    t[0] = 0x40;
    t[1] = 0x80;
    return t;
}

constexpr std::array<std::uint8_t, 16> make_low() {
    std::array<std::uint8_t, 16> t{};
    for (unsigned l = 0; l < 16; ++l) {
        for (unsigned r = 2; r <= 7; ++r) {
            if (is(static_cast<char>(r << 4 | l), cc_token)) {
                t[l] = static_cast<std::uint8_t>(t[l] | 1U << (r - 2));
            }
        }
        if (is_control_octet(static_cast<char>(l))) {
            t[l] |= 0x40;
        }
        t[l] |= 0x80;
    }
    return t;
}

constexpr std::array<std::uint8_t, 16> high_table = make_high();
constexpr std::array<std::uint8_t, 16> low_table = make_low();

constexpr bool tables_exact() {
    for (unsigned c = 0; c < 256; ++c) {
        const unsigned v = low_table[c & 15] & high_table[c >> 4];
        const bool token = (v & token_bits) != 0;
        const bool control = (v & control_bits) != 0 || c == 0x7f;
        if (token != is(static_cast<char>(c), cc_token)
            || control != is_control_octet(static_cast<char>(c))) {
            return false;
        }
    }
    return true;
}
static_assert(tables_exact(), "the nibble tables must define exactly cc_token and controls");

constexpr std::array<std::uint8_t, 64> four_times(const std::array<std::uint8_t, 16>& t) {
    std::array<std::uint8_t, 64> x{};
    for (std::size_t i = 0; i < x.size(); ++i) {
        x[i] = t[i % 16];
    }
    return x;
}

constexpr std::array<std::uint8_t, 64> low_table_x4 = four_times(low_table);
constexpr std::array<std::uint8_t, 64> high_table_x4 = four_times(high_table);

// Whether the block (after `c`'s block) holds the empty line, and `c` moved on to it.
inline bool ends_head(const block_masks& b, carry& c) noexcept {
    const std::uint64_t inside = b.lf & ((b.lf >> 1) | ((b.special >> 1) & (b.lf >> 2)));
    const std::uint64_t across = ((c.lf >> 63) & (b.lf | (b.special & (b.lf >> 1))))
                                 | ((c.lf >> 62) & (c.special >> 63) & b.lf);
    c.lf = b.lf;
    c.special = b.special;
    return (inside | (across & 1)) != 0;
}

// 16 octets -> 16 bits of each mask, shifted into place. Token and special bits are collected
// inverted (not-member) and flipped once per block.
inline void classify16(const char* p, unsigned shift, block_masks& o) noexcept {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const auto bits = [shift](__m128i v) noexcept {
        return static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(v)))
               << shift;
    };
    const auto is = [&x](char c) noexcept { return _mm_cmpeq_epi8(x, _mm_set1_epi8(c)); };
    o.lf |= bits(is('\n'));
    const __m128i nibble = _mm_set1_epi8(0x0f);
    const __m128i low = _mm_shuffle_epi8(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(low_table.data())),
            _mm_and_si128(x, nibble)
    );
    const __m128i high = _mm_shuffle_epi8(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(high_table.data())),
            _mm_and_si128(_mm_srli_epi16(x, 4), nibble)
    );
    const __m128i v = _mm_and_si128(low, high);
    const __m128i zero = _mm_setzero_si128();
    o.token |= bits(_mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8(token_bits)), zero));
    o.special |= bits(_mm_andnot_si128(
            _mm_or_si128(_mm_or_si128(is(0x7f), is('\\')), is('\r')),
            _mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8(static_cast<char>(control_bits))), zero)
    ));
}

std::size_t
classify_ssse3(const char* p, std::size_t n, block_masks* out, carry& c, bool& found) noexcept {
    for (std::size_t i = 0; i < n; ++i, p += block_size) {
        block_masks& o = out[i];
        o = block_masks{};
        classify16(p, 0, o);
        classify16(p + 16, 16, o);
        classify16(p + 32, 32, o);
        classify16(p + 48, 48, o);
        o.token = ~o.token;
        o.special = ~o.special;
        if (ends_head(o, c)) {
            found = true;
            return i + 1;
        }
    }
    return n;
}

#define SIPREDIR_AVX2 __attribute__((target("avx2"), always_inline)) inline

// Helpers are functions of their own (not lambdas): GCC gives a lambda no target attribute.
SIPREDIR_AVX2 std::uint64_t bits64(__m256i lo, __m256i hi) noexcept {
    return static_cast<std::uint32_t>(_mm256_movemask_epi8(lo))
           | static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm256_movemask_epi8(hi))) << 32;
}

// 0xff for each octet whose lookup has no bit of `cls`: not of the class.
SIPREDIR_AVX2 __m256i not_member(__m256i v, __m256i cls) noexcept {
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, cls), _mm256_setzero_si256());
}

__attribute__((target("avx2"))) std::size_t
classify_avx2(const char* p, std::size_t n, block_masks* out, carry& c, bool& found) noexcept {
    const __m256i nibble = _mm256_set1_epi8(0x0f);
    const __m256i low_t = _mm256_broadcastsi128_si256(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(low_table.data()))
    );
    const __m256i high_t = _mm256_broadcastsi128_si256(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(high_table.data()))
    );
    const __m256i lf = _mm256_set1_epi8('\n');
    const __m256i cr = _mm256_set1_epi8('\r');
    const __m256i del = _mm256_set1_epi8(0x7f);
    const __m256i backslash = _mm256_set1_epi8('\\');
    const __m256i token = _mm256_set1_epi8(token_bits);
    const __m256i control = _mm256_set1_epi8(static_cast<char>(control_bits));
    for (std::size_t i = 0; i < n; ++i, p += block_size) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
        const __m256i va = _mm256_and_si256(
                _mm256_shuffle_epi8(low_t, _mm256_and_si256(a, nibble)),
                _mm256_shuffle_epi8(high_t, _mm256_and_si256(_mm256_srli_epi16(a, 4), nibble))
        );
        const __m256i vb = _mm256_and_si256(
                _mm256_shuffle_epi8(low_t, _mm256_and_si256(b, nibble)),
                _mm256_shuffle_epi8(high_t, _mm256_and_si256(_mm256_srli_epi16(b, 4), nibble))
        );
        block_masks& o = out[i];
        o.lf = bits64(_mm256_cmpeq_epi8(a, lf), _mm256_cmpeq_epi8(b, lf));
        o.token = ~bits64(not_member(va, token), not_member(vb, token));
        o.special = ~bits64(
                _mm256_andnot_si256(
                        _mm256_or_si256(
                                _mm256_or_si256(
                                        _mm256_cmpeq_epi8(a, del), _mm256_cmpeq_epi8(a, backslash)
                                ),
                                _mm256_cmpeq_epi8(a, cr)
                        ),
                        not_member(va, control)
                ),
                _mm256_andnot_si256(
                        _mm256_or_si256(
                                _mm256_or_si256(
                                        _mm256_cmpeq_epi8(b, del), _mm256_cmpeq_epi8(b, backslash)
                                ),
                                _mm256_cmpeq_epi8(b, cr)
                        ),
                        not_member(vb, control)
                )
        );
        if (ends_head(o, c)) {
            found = true;
            return i + 1;
        }
    }
    return n;
}

// AVX-512BW: a block is one register, and compares yield the 64-bit masks directly (no
// movemask, no inversion).
__attribute__((target("avx512bw"))) std::size_t
classify_avx512(const char* p, std::size_t n, block_masks* out, carry& c, bool& found) noexcept {
    const __m512i nibble = _mm512_set1_epi8(0x0f);
    // pshufb looks up within each 16-octet lane: the tables, four times over. (Not
    // _mm512_broadcast_i32x4: GCC 12 warns about its undefined source operand.)
    const __m512i low_t = _mm512_loadu_si512(low_table_x4.data());
    const __m512i high_t = _mm512_loadu_si512(high_table_x4.data());
    const __m512i lf = _mm512_set1_epi8('\n');
    const __m512i cr = _mm512_set1_epi8('\r');
    const __m512i del = _mm512_set1_epi8(0x7f);
    const __m512i backslash = _mm512_set1_epi8('\\');
    const __m512i token = _mm512_set1_epi8(token_bits);
    const __m512i control = _mm512_set1_epi8(static_cast<char>(control_bits));
    for (std::size_t i = 0; i < n; ++i, p += block_size) {
        const __m512i x = _mm512_loadu_si512(p);
        const __m512i v = _mm512_and_si512(
                _mm512_shuffle_epi8(low_t, _mm512_and_si512(x, nibble)),
                _mm512_shuffle_epi8(high_t, _mm512_and_si512(_mm512_srli_epi16(x, 4), nibble))
        );
        block_masks& o = out[i];
        o.lf = _mm512_cmpeq_epi8_mask(x, lf);
        o.token = _mm512_test_epi8_mask(v, token);
        o.special = _mm512_test_epi8_mask(v, control) | _mm512_cmpeq_epi8_mask(x, del)
                    | _mm512_cmpeq_epi8_mask(x, backslash) | _mm512_cmpeq_epi8_mask(x, cr);
        if (ends_head(o, c)) {
            found = true;
            return i + 1;
        }
    }
    return n;
}

bool has_avx512() noexcept {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bw") != 0;
}

bool has_avx2() noexcept {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
}

constinit classify_fn active_kernel = classify_ssse3;
constinit variant active_variant = variant::ssse3;

// Chosen once, before main, never per packet.
[[maybe_unused]] const bool chosen =
        select(variant::avx512) || select(variant::avx2) || select(variant::ssse3);

} // namespace

classify_fn kernel(variant v) noexcept {
    switch (v) {
    case variant::ssse3:
        return classify_ssse3;
    case variant::avx2:
        return has_avx2() ? classify_avx2 : nullptr;
    case variant::avx512:
        return has_avx512() ? classify_avx512 : nullptr;
    }
    return nullptr;
}

bool select(variant v) noexcept {
    const classify_fn k = kernel(v);
    if (k == nullptr) {
        return false;
    }
    active_kernel = k;
    active_variant = v;
    return true;
}

variant active() noexcept {
    return active_variant;
}

void classify_reference(const char* p, block_masks& o) noexcept {
    o = block_masks{};
    for (unsigned i = 0; i < block_size; ++i) {
        const char c = p[i];
        const std::uint64_t bit = std::uint64_t{1} << i;
        o.lf |= c == '\n' ? bit : 0;
        o.special |= is_control_octet(c) || c == '\\' || c == '\r' ? bit : 0;
        o.token |= is(c, cc_token) ? bit : 0;
    }
}

namespace {

// Just past the empty line that made the kernel stop after `blocks` blocks: its first LF is in
// one of the last two blocks, and the masks' candidate (an LF, a special octet, an LF) is
// confirmed against the octets themselves, since the special octet might not be a CR.
// `covered` when no candidate is the empty line.
std::size_t find_head_end(const index& x) noexcept {
    const std::size_t first_block = x.blocks >= 2 ? x.blocks - 2 : 0;
    for (std::size_t b = first_block; b < x.blocks; ++b) {
        for (std::uint64_t lf = x.block[b].lf; lf != 0; lf &= lf - 1) {
            const std::size_t p = b * block_size + static_cast<std::size_t>(__builtin_ctzll(lf));
            if (p + 1 < x.covered && x.base[p + 1] == '\n') {
                return p + 2;
            }
            if (p + 2 < x.covered && x.base[p + 1] == '\r' && x.base[p + 2] == '\n') {
                return p + 3;
            }
        }
    }
    return x.covered;
}

} // namespace

void index::build(const char* data, std::size_t size) noexcept {
    base = data;
    const classify_fn k = active_kernel;
    carry c;
    bool found = false;
    std::size_t full = size / block_size;
    full = full < max_blocks ? full : max_blocks;
    blocks = k(data, full, block, c, found);
    covered = blocks * block_size;
    head_end = covered;
    if (found) {
        head_end = find_head_end(*this);
        return;
    }
    if (blocks == max_blocks || covered == size) {
        return;
    }
    // The last partial block through a padded copy: never a read past the datagram.
    const std::size_t left = size - covered;
    alignas(32) char tail[block_size] = {};
    std::memcpy(tail, data + covered, left);
    block_masks& b = block[blocks];
    k(tail, 1, &b, c, found);
    const std::uint64_t valid = (std::uint64_t{1} << left) - 1;
    b.lf &= valid;
    b.special &= valid;
    b.token &= valid;
    ++blocks;
    covered = size;
    head_end = found ? find_head_end(*this) : covered;
}

} // namespace sipredir::sip::stage1
