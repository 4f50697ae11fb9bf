// SPDX-License-Identifier: BSD-3-Clause
// Per-source token buckets on a fake millisecond clock: burst then rate, prefixes, the
// allow-list, and a bounded table under a spray of sources.
#include <gtest/gtest.h>

#include <pipeline/source_limiter.hpp>

using namespace sipredir;
using namespace sipredir::pipeline;

namespace {

const siphash_key key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

net::ip_address v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return net::ip_address::v4(a, b, c, d);
}

net::ip_address v6(const char* text) {
    net::ip_address ip;
    EXPECT_TRUE(net::parse_ip(text, ip));
    return ip;
}

source_limit_settings limit(double rate, double burst) {
    source_limit_settings s;
    s.rate = rate;
    s.burst = burst;
    s.sources = 1024;
    return s;
}

int admitted(source_limiter& l, const net::ip_address& ip, int requests, std::uint64_t at_ms) {
    int n = 0;
    for (int i = 0; i < requests; ++i) {
        n += l.admit(ip, at_ms) ? 1 : 0;
    }
    return n;
}

} // namespace

TEST(source_limiter, a_burst_then_the_rate) {
    source_limiter l(limit(10, 20), key);
    const auto a = v4(198, 18, 0, 2);
    EXPECT_EQ(admitted(l, a, 100, 1000), 20) << "the burst, at once";
    EXPECT_EQ(admitted(l, a, 100, 1100), 1) << "10/s: one token per 100 ms";
    EXPECT_EQ(admitted(l, a, 100, 2100), 10);
    EXPECT_EQ(admitted(l, a, 100, 60'000), 20) << "refill stops at the burst";
}

TEST(source_limiter, sources_do_not_share_buckets) {
    source_limiter l(limit(1, 5), key);
    EXPECT_EQ(admitted(l, v4(198, 18, 0, 2), 50, 0), 5);
    EXPECT_EQ(admitted(l, v4(198, 18, 0, 3), 50, 0), 5) << "a flooder leaves others their own";
    EXPECT_EQ(admitted(l, v6("2001:db8::1"), 50, 0), 5);
    EXPECT_EQ(admitted(l, v6("2001:db8:0:1::1"), 50, 0), 5) << "another /64";
}

TEST(source_limiter, a_prefix_is_one_source) {
    source_limit_settings s = limit(1, 5);
    s.ipv4_prefix = 24;
    s.ipv6_prefix = 48;
    source_limiter l(s, key);
    EXPECT_EQ(admitted(l, v4(198, 18, 0, 2), 3, 0) + admitted(l, v4(198, 18, 0, 200), 3, 0), 5);
    EXPECT_EQ(admitted(l, v4(198, 18, 1, 2), 3, 0), 3) << "another /24";
    EXPECT_EQ(admitted(l, v6("2001:db8::1"), 3, 0) + admitted(l, v6("2001:db8:0:ff::9"), 3, 0), 5);
}

TEST(source_limiter, the_allow_list_is_never_limited) {
    source_limit_settings s = limit(1, 1);
    s.allow.push_back({v4(198, 18, 7, 0), 24});
    s.allow.push_back({v6("2001:db8:1::"), 48});
    source_limiter l(s, key);
    EXPECT_EQ(admitted(l, v4(198, 18, 7, 9), 1000, 0), 1000);
    EXPECT_EQ(admitted(l, v6("2001:db8:1:2::3"), 1000, 0), 1000);
    EXPECT_EQ(admitted(l, v4(198, 18, 8, 9), 1000, 0), 1);
    EXPECT_EQ(l.tracked(), 1u) << "allow-listed sources take no entry";
}

TEST(source_limiter, off_when_the_rate_is_zero) {
    source_limiter l(source_limit_settings{}, key);
    EXPECT_EQ(admitted(l, v4(198, 18, 0, 2), 10'000, 0), 10'000);
    EXPECT_EQ(l.tracked(), 0u);
}

TEST(source_limiter, a_spray_of_sources_stays_in_a_bounded_table_and_a_flooder_stays_limited) {
    source_limit_settings s = limit(10, 10);
    s.sources = 256;
    source_limiter l(s, key);
    const auto flooder = v4(198, 18, 0, 2);
    int flooder_admitted = 0;
    std::uint32_t sprayed = 0;
    // 10 s: the flooder sends every millisecond, and 10 new (spoofed) sources arrive with it.
    for (std::uint64_t ms = 0; ms < 10'000; ++ms) {
        flooder_admitted += l.admit(flooder, ms) ? 1 : 0;
        for (int k = 0; k < 10; ++k, ++sprayed) {
            const auto spoofed =
                    v4(198,
                       19,
                       static_cast<std::uint8_t>(sprayed >> 8),
                       static_cast<std::uint8_t>(sprayed));
            l.admit(spoofed, ms);
        }
    }
    EXPECT_LE(l.tracked(), 256u);
    // Its entry is the most recently seen of its bucket every millisecond, so it is never the
    // one evicted: burst + 10/s for 10 s.
    EXPECT_NEAR(flooder_admitted, 10 + 100, 2);
}

TEST(source_limiter, the_clock_wrapping_its_32_bit_milliseconds_refills_normally) {
    source_limiter l(limit(10, 10), key);
    const auto a = v4(198, 18, 0, 2);
    const std::uint64_t before_wrap = (1ULL << 32) - 50;
    EXPECT_EQ(admitted(l, a, 100, before_wrap), 10);
    EXPECT_EQ(admitted(l, a, 100, before_wrap + 250), 2) << "250 ms across the wrap: 2 tokens";
}

TEST(ip_prefix, membership) {
    EXPECT_TRUE(in_prefix(v4(198, 18, 0, 1), {v4(198, 18, 0, 0), 15}));
    EXPECT_TRUE(in_prefix(v4(198, 19, 255, 1), {v4(198, 18, 0, 0), 15}));
    EXPECT_FALSE(in_prefix(v4(198, 20, 0, 1), {v4(198, 18, 0, 0), 15}));
    EXPECT_TRUE(in_prefix(v4(10, 1, 2, 3), {v4(0, 0, 0, 0), 0}));
    EXPECT_FALSE(in_prefix(v6("::ffff:198.18.0.1"), {v4(198, 18, 0, 0), 15})) << "family matters";
    EXPECT_TRUE(in_prefix(v6("2001:db8::1"), {v6("2001:db8::"), 32}));
    EXPECT_FALSE(in_prefix(v6("2001:db9::1"), {v6("2001:db8::"), 32}));
}
