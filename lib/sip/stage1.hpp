// SPDX-License-Identifier: BSD-3-Clause
// Stage 1 of the parser: one SIMD pass over the start line and the header section that turns
// every 64-octet block into bit masks (bit i = octet i of the block) of the octets the line and
// field grammars care about. Stage 2 (parser.cpp) then finds lines with a count of trailing
// zeros over the LF mask instead of searching again for every line, and sees from the masks
// whether a line is plain (no fold, no control octet, no backslash, no stray CR) or must go
// through the scalar reference reader. The instruction set is chosen once, from CPUID, at start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipredir::sip::stage1 {

inline constexpr std::size_t block_size = 64;
// Blocks classified at most: 4 KiB covers every ordinary request's start line and headers; a
// longer header section is read by the scalar reader past this point.
inline constexpr std::size_t max_blocks = 64;

// Only the classes stage 2 reads are computed: every class costs a compare and a mask
// extraction per 32 octets, which is most of stage 1's instructions.
struct block_masks {
    std::uint64_t lf;
    // Octets a plain line never holds: CR (one before the LF is outside the line), controls
    // (below 0x20 but HT and LF; and DEL, as chars.hpp's is_control_octet) and the backslash
    // (a quoted-pair).
    std::uint64_t special;
    std::uint64_t token; // RFC 3261 §25.1 token characters
};

// Where the end of the header section may straddle two blocks.
struct carry {
    std::uint64_t lf = 0;
    std::uint64_t special = 0;
};

// Classifies up to n blocks of 64 readable octets at p into out[0..), and returns how many it
// did: it stops after the block that may hold the empty line (`found` set): LF LF, or LF, a
// special octet (CR), LF. Stopping early is never wrong: stage 2 reads past the classified
// octets with the scalar reader.
using classify_fn = std::size_t (*)(
        const char* p, std::size_t n, block_masks* out, carry& c, bool& found
) noexcept;

enum class variant : std::uint8_t { ssse3, avx2, avx512 };

// "ssse3", "avx2", "avx512bw": as the operator sees it (sipredir_build_info).
constexpr std::string_view name_of(variant v) noexcept {
    switch (v) {
    case variant::ssse3:
        return "ssse3";
    case variant::avx2:
        return "avx2";
    case variant::avx512:
        return "avx512bw";
    }
    return "?";
}

// The structural index of one datagram's head. Octets past the datagram are never read: the
// last partial block is classified from a zero-padded copy and its masks cut at the end.
struct index {
    const char* base = nullptr;
    std::size_t covered = 0; // octets classified, from base; <= the datagram's size
    // Octets [0, head_end) hold the start line and headers up to the empty line's LF, when
    // stage 1 found the empty line; else head_end == covered. What the masks say past it is
    // the body's.
    std::size_t head_end = 0;
    std::size_t blocks = 0;
    block_masks block[max_blocks];

    // Classifies blocks from `data` until one holds the end of the header section, the
    // datagram ends, or max_blocks are done.
    void build(const char* data, std::size_t size) noexcept;
};

// The variant in use, and a way for tests to force one (false when this CPU lacks it).
variant active() noexcept;
bool select(variant v) noexcept;

// The scalar definition of every mask, for tests of the SIMD kernels.
void classify_reference(const char* p, block_masks& out) noexcept;
// The kernel of a variant (nullptr when this CPU lacks it).
classify_fn kernel(variant v) noexcept;

} // namespace sipredir::sip::stage1
