// SPDX-License-Identifier: BSD-3-Clause
#include <gtest/gtest.h>

#include <algorithm>
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
    // Every length through the AVX2 and SSE2 loops' 64- and 32-octet steps and the 16- and
    // 8-octet tails, then datagram sizes; every offset within a vector.
    std::vector<std::size_t> lengths;
    for (std::size_t length = 0; length <= 300; ++length) {
        lengths.push_back(length);
    }
    for (std::size_t length = 301; length <= 1500; length += 37) {
        lengths.push_back(length);
    }
    for (const std::size_t length : lengths) {
        for (std::size_t offset = 0; offset < 16; ++offset) {
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

ip_address random_address(std::mt19937& rng, ip_family family) {
    ip_address a;
    a.family = family;
    for (std::size_t i = 0; i < a.size(); ++i) {
        a.bytes[i] = static_cast<std::uint8_t>(rng());
    }
    return a;
}

TEST(checksum, address_sum_is_the_sum_of_both_addresses) {
    std::mt19937 rng(11);
    for (int round = 0; round < 2000; ++round) {
        const ip_family family = round % 2 == 0 ? ip_family::v4 : ip_family::v6;
        const ip_address a = random_address(rng, family);
        const ip_address b = random_address(rng, family);
        std::vector<std::uint8_t> both(a.bytes.begin(), a.bytes.begin() + a.size());
        both.insert(both.end(), b.bytes.begin(), b.bytes.begin() + b.size());
        EXPECT_EQ(fold(address_sum(a, b)), reference_sum(both, 0));
        EXPECT_EQ(address_sum(a, b), address_sum(b, a));
    }
}

// The reply's IPv4 header checksum from its parts, against the full computation over it.
TEST(checksum, ipv4_reply_header_checksum_matches_the_full_header) {
    std::mt19937 rng(5);
    for (int round = 0; round < 5000; ++round) {
        const ip_address src = random_address(rng, ip_family::v4);
        const ip_address dst = random_address(rng, ip_family::v4);
        const auto length = static_cast<std::uint16_t>(round < 4 ? 0xffff * (round % 2) : rng());
        const auto id = static_cast<std::uint16_t>(round < 4 ? 0xffff * (round / 2) : rng());
        std::uint8_t h[20] = {0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17};
        h[2] = static_cast<std::uint8_t>(length >> 8);
        h[3] = static_cast<std::uint8_t>(length);
        h[4] = static_cast<std::uint8_t>(id >> 8);
        h[5] = static_cast<std::uint8_t>(id);
        std::copy_n(src.bytes.data(), 4, h + 12);
        std::copy_n(dst.bytes.data(), 4, h + 16);
        const std::uint16_t c = ipv4_reply_header_checksum(address_sum(src, dst), length, id);
        EXPECT_EQ(c, ipv4_header_checksum(h));
        h[10] = static_cast<std::uint8_t>(c >> 8);
        h[11] = static_cast<std::uint8_t>(c);
        EXPECT_EQ(ipv4_header_checksum(h), 0);
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
