// SPDX-License-Identifier: BSD-3-Clause
#include <gtest/gtest.h>

#include <net/checksum.hpp>
#include <random>
#include <vector>

namespace sipredir::net {
namespace {

TEST(checksum, rfc1071_example) {
    // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (folded).
    const std::uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(fold(ones_sum(bytes)), 0xddf2);
}

TEST(checksum, ipv4_header_known_value) {
    // A textbook header (Wikipedia's IPv4 checksum example): checksum b861.
    std::uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                        0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    EXPECT_EQ(ipv4_header_checksum(h), 0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    EXPECT_EQ(ipv4_header_checksum(h), 0) << "a correct header sums to zero";
}

TEST(checksum, odd_length_pads_with_zero) {
    const std::uint8_t odd[] = {0x12, 0x34, 0x56};
    const std::uint8_t padded[] = {0x12, 0x34, 0x56, 0x00};
    EXPECT_EQ(ones_sum(odd), ones_sum(padded));
}

// RFC 1071's definition, a 16-bit word at a time: the reference the word-wise sum must match.
std::uint16_t reference_sum(const std::vector<std::uint8_t>& b, std::uint32_t initial) {
    std::uint64_t sum = initial;
    for (std::size_t i = 0; i < b.size(); i += 2) {
        sum += static_cast<std::uint32_t>(b[i] << 8 | (i + 1 < b.size() ? b[i + 1] : 0));
    }
    return fold(static_cast<std::uint32_t>((sum & 0xffffffffULL) + (sum >> 32)));
}

TEST(checksum, word_wise_sum_matches_rfc1071_for_every_length_and_alignment) {
    std::mt19937 rng(7);
    std::vector<std::uint8_t> buffer(1600);
    for (std::size_t length = 0; length <= 200; ++length) {
        for (std::size_t offset = 0; offset < 8; ++offset) {
            for (auto& b : buffer) {
                b = static_cast<std::uint8_t>(rng());
            }
            const std::vector<std::uint8_t> bytes(
                    buffer.begin() + static_cast<std::ptrdiff_t>(offset),
                    buffer.begin() + static_cast<std::ptrdiff_t>(offset + length)
            );
            const std::uint32_t initial = length % 3 == 0 ? 0 : rng();
            EXPECT_EQ(
                    fold(ones_sum({buffer.data() + offset, length}, initial)),
                    reference_sum(bytes, initial)
            ) << "length "
              << length << " offset " << offset;
        }
    }
    // All-ones data: every deferred carry path at once, up to a jumbo datagram.
    const std::vector<std::uint8_t> ones(9000, 0xff);
    EXPECT_EQ(fold(ones_sum(ones, 0xffffffffU)), reference_sum(ones, 0xffffffffU));
}

TEST(checksum, incremental_update_matches_full_recompute) {
    std::mt19937 rng(42);
    for (int round = 0; round < 2000; ++round) {
        std::vector<std::uint8_t> data(2 * (1 + rng() % 40));
        for (auto& b : data) {
            b = static_cast<std::uint8_t>(rng());
        }
        const std::uint16_t before = static_cast<std::uint16_t>(~fold(ones_sum(data)));
        const std::size_t word = 2 * (rng() % (data.size() / 2));
        const std::uint16_t old_word = static_cast<std::uint16_t>(data[word] << 8 | data[word + 1]);
        const std::uint16_t new_word = static_cast<std::uint16_t>(rng());
        data[word] = static_cast<std::uint8_t>(new_word >> 8);
        data[word + 1] = static_cast<std::uint8_t>(new_word);
        const std::uint16_t after = static_cast<std::uint16_t>(~fold(ones_sum(data)));
        const std::uint16_t updated = checksum_update(before, old_word, new_word);
        // One's complement has two zeros (0x0000 and 0xffff); RFC 1624 §3 says both are the sum.
        EXPECT_TRUE(updated == after || (updated ^ after) == 0xffff)
                << std::hex << before << " " << old_word << "->" << new_word;
    }
}

TEST(checksum, udp_over_ipv4_and_ipv6_verifies) {
    for (const ip_family family : {ip_family::v4, ip_family::v6}) {
        ip_address src;
        ip_address dst;
        src.family = dst.family = family;
        src.bytes[0] = 198;
        dst.bytes[0] = 198;
        src.bytes[3] = 2;
        dst.bytes[3] = 1;
        std::vector<std::uint8_t> udp = {
                0x13, 0xc5, 0x13, 0xc4, 0x00, 0x0d, 0x00, 0x00, 'O', 'P', 'T', 'I', 'O'};
        const std::uint16_t c = udp_checksum(src, dst, udp);
        udp[6] = static_cast<std::uint8_t>(c >> 8);
        udp[7] = static_cast<std::uint8_t>(c);
        EXPECT_EQ(fold(ones_sum(udp, udp_pseudo_header_sum(src, dst, 13))), 0xffff);
    }
}

} // namespace
} // namespace sipredir::net
