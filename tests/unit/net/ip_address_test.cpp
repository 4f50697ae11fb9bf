// SPDX-License-Identifier: BSD-3-Clause
// IP text forms against the C library's inet_pton / inet_ntop, and RFC 5952's examples.
#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <net/ip_address.hpp>
#include <string>

namespace sipredir::net {
namespace {

std::string text(const ip_address& ip) {
    char out[max_ip_text];
    return std::string(out, format_ip(ip, out));
}

ip_address parsed(std::string_view s) {
    ip_address ip;
    EXPECT_TRUE(parse_ip(s, ip)) << s;
    return ip;
}

TEST(ip_address, every_octet_value_in_every_position_as_inet_ntop_writes_it) {
    for (unsigned position = 0; position < 4; ++position) {
        for (unsigned v = 0; v < 256; ++v) {
            ip_address ip;
            ip.family = ip_family::v4;
            const std::uint8_t others[4] = {198, 18, 7, 9};
            for (unsigned i = 0; i < 4; ++i) {
                ip.bytes[i] = i == position ? static_cast<std::uint8_t>(v) : others[i];
            }
            char want[INET_ADDRSTRLEN];
            ASSERT_NE(inet_ntop(AF_INET, ip.bytes.data(), want, sizeof want), nullptr);
            ASSERT_EQ(text(ip), want);
            ip_address mapped{};
            mapped.family = ip_family::v6;
            mapped.bytes[10] = 0xff;
            mapped.bytes[11] = 0xff;
            std::copy_n(ip.bytes.begin(), 4, mapped.bytes.begin() + 12);
            ASSERT_EQ(text(mapped), std::string("::ffff:") + want);
        }
    }
}

TEST(ip_address, rfc5952_canonical_text) {
    const struct {
        std::string_view in;
        std::string_view out;
    } cases[] = {
            {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
            {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    // first of equal runs
            {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, // one zero group stays
            {"2001:DB8::9:1", "2001:db8::9:1"},               // lower case
            {"::", "::"},
            {"::1", "::1"},
            {"1::", "1::"},
            {"::ffff:192.0.2.10", "::ffff:192.0.2.10"}, // mapped keeps dotted tail
            {"2001:db8::192.0.2.1", "2001:db8::c000:201"},
            {"198.18.0.2", "198.18.0.2"},
            {"0.0.0.0", "0.0.0.0"},
            {"255.255.255.255", "255.255.255.255"},
            {"[2001:db8::9:255]", "2001:db8::9:255"}, // RFC 5118 §4.5 brackets
    };
    for (const auto& c : cases) {
        EXPECT_EQ(text(parsed(c.in)), c.out) << c.in;
    }
}

TEST(ip_address, rejects_what_is_not_an_address) {
    for (std::string_view bad :
         {"",
          "1.2.3",
          "1.2.3.4.5",
          "256.1.1.1",
          "1..2.3",
          "1.2.3.4 ",
          "example.com",
          ":::",
          "1:2:3:4:5:6:7:8:9",
          "2001:db8:::192.0.2.1",
          "12345::",
          "1:2",
          "[::1",
          "::1]",
          "1::2::3",
          "1:",
          ":1"}) {
        ip_address ip;
        EXPECT_FALSE(parse_ip(bad, ip)) << bad;
    }
}

TEST(ip_address, agrees_with_inet_pton_and_inet_ntop) {
    // Every address with groups drawn from {0, 1, ffff} in 8 positions: all run shapes.
    const std::uint16_t values[] = {0, 1, 0xffff};
    for (int code = 0; code < 6561; ++code) {
        ip_address ip;
        ip.family = ip_family::v6;
        int c = code;
        for (int g = 0; g < 8; ++g, c /= 3) {
            ip.bytes[2 * g] = static_cast<std::uint8_t>(values[c % 3] >> 8);
            ip.bytes[2 * g + 1] = static_cast<std::uint8_t>(values[c % 3]);
        }
        char reference[INET6_ADDRSTRLEN];
        ASSERT_NE(inet_ntop(AF_INET6, ip.bytes.data(), reference, sizeof reference), nullptr);
        const std::string ours = text(ip);
        // glibc prints ::ffff:a.b.c.d and ::a.b.c.d (deprecated compatible form) mixed; RFC 5952
        // §5 only recommends the mapped one, so compare bytes after a round trip instead.
        ip_address back;
        ASSERT_TRUE(parse_ip(ours, back)) << ours;
        EXPECT_EQ(back, ip) << ours;
        ip_address from_reference;
        ASSERT_TRUE(parse_ip(reference, from_reference)) << reference;
        EXPECT_EQ(from_reference, ip) << reference;
        if (std::string_view(reference).find('.') == std::string_view::npos) {
            EXPECT_EQ(ours, reference);
        }
    }
}

} // namespace
} // namespace sipredir::net
