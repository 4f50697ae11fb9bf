// SPDX-License-Identifier: BSD-3-Clause
#include "../net/frame_builder.hpp"

#include <gtest/gtest.h>

#include <loadgen/stamp.hpp>
#include <string>
#include <vector>

namespace sipredir::loadgen {
namespace {

using net::test::build_frame;
using net::test::frame_spec;

std::string invite(std::string_view call_id_line) {
    return std::string("INVITE sip:+15551234567@198.18.0.1:5060 SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP 198.18.2.1:5060;branch=z9hG4bK0123456789abcdef\r\n"
                       "From: <sip:1@198.18.2.1>;tag=abc\r\n"
                       "To: <sip:+15551234567@198.18.0.1>\r\n")
           + std::string(call_id_line) + "\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
}

// The frame's UDP checksum is right: the sum over pseudo-header and datagram verifies.
bool udp_checksum_right(const std::vector<std::uint8_t>& f, const frame_spec& s) {
    const auto l = find_udp(f);
    std::vector<std::uint8_t> udp(f.begin() + l->udp, f.begin() + l->end);
    const std::uint16_t carried = static_cast<std::uint16_t>(udp[6] << 8 | udp[7]);
    udp[6] = 0;
    udp[7] = 0;
    return net::udp_checksum(s.src, s.dst, udp) == carried;
}

TEST(stamp, finds_the_call_id_value) {
    const frame_spec s;
    const auto f = build_frame(s, invite("Call-ID: 0123456789abcdef01234567@198.18.2.1"));
    const std::size_t at = stamp_offset(f);
    ASSERT_NE(at, 0u);
    EXPECT_EQ(std::string(f.begin() + at, f.begin() + at + 4), "0123");
}

struct refusal {
    const char* name;
    std::string call_id_line;
};

TEST(stamp, no_place_for_a_stamp) {
    const refusal cases[] = {
            {"value too short", "Call-ID: 0123456789abcdef0123456"},
            {"no Call-ID", "X-Call-ID-ish: 0123456789abcdef01234567@x"},
            {"compact form is not looked for", "i: 0123456789abcdef01234567@x"},
    };
    const frame_spec s;
    for (const auto& c : cases) {
        const auto f = build_frame(s, invite(c.call_id_line));
        EXPECT_EQ(stamp_offset(f), 0u) << c.name;
        EXPECT_FALSE(read_stamp(f)) << c.name;
    }
}

TEST(stamp, other_frames_have_none) {
    frame_spec v6;
    ASSERT_TRUE(net::parse_ip("2001:db8::2", v6.src));
    ASSERT_TRUE(net::parse_ip("2001:db8::1", v6.dst));
    const std::string msg = invite("Call-ID: 0123456789abcdef01234567@x");
    EXPECT_EQ(stamp_offset(build_frame(v6, msg)), 0u) << "IPv6";
    frame_spec tagged;
    tagged.vlans = {100};
    EXPECT_EQ(stamp_offset(build_frame(tagged, msg)), 0u) << "802.1Q";
    auto truncated = build_frame(frame_spec{}, msg);
    truncated.resize(truncated.size() - 10); // shorter than its UDP length says
    EXPECT_EQ(stamp_offset(truncated), 0u) << "truncated";
}

struct round_trip_case {
    const char* name;
    std::string call_id_line;
    stamp s;
};

TEST(stamp, written_then_read_back_with_the_checksum_kept_right) {
    // Both parities of the value's offset in the datagram: the checksum update must align.
    const round_trip_case cases[] = {
            {"even", "Call-ID: 0123456789abcdef01234567@198.18.2.1", {0, 0}},
            {"odd", "Call-ID:  0123456789abcdef01234567@198.18.2.1", {1, 0x1234567890abcdefULL}},
            {"tab", "Call-ID:\t0123456789abcdef01234567", {0xffffffffU, ~0ULL}},
            {"long value", "Call-ID: 0123456789abcdef0123456789abcdef@h", {42, 3'000'000'000ULL}},
    };
    for (const auto& c : cases) {
        const frame_spec s;
        auto f = build_frame(s, invite(c.call_id_line));
        ASSERT_TRUE(udp_checksum_right(f, s)) << c.name;
        const std::size_t at = stamp_offset(f);
        ASSERT_NE(at, 0u) << c.name;
        write_stamp(f, at, c.s);
        EXPECT_EQ(read_stamp(f), c.s) << c.name;
        EXPECT_TRUE(udp_checksum_right(f, s)) << c.name;
        const std::string line(f.begin() + at, f.begin() + at + stamp_digits);
        EXPECT_EQ(line.find_first_not_of("0123456789abcdef"), std::string::npos) << c.name;
    }
}

TEST(stamp, every_stamp_keeps_the_checksum_right) {
    const frame_spec s;
    auto f = build_frame(s, invite("Call-ID: 0123456789abcdef01234567@198.18.2.1"));
    const std::size_t at = stamp_offset(f);
    std::uint64_t tsc = 0x9e3779b97f4a7c15ULL;
    for (std::uint32_t seq = 0; seq < 5000; ++seq) {
        tsc = tsc * 6364136223846793005ULL + 1442695040888963407ULL;
        write_stamp(f, at, {seq, tsc});
        ASSERT_TRUE(udp_checksum_right(f, s)) << seq;
        ASSERT_EQ(read_stamp(f), (stamp{seq, tsc})) << seq;
    }
}

TEST(stamp, a_zero_checksum_stays_zero) {
    frame_spec s;
    s.udp_checksum = false;
    auto f = build_frame(s, invite("Call-ID: 0123456789abcdef01234567@198.18.2.1"));
    write_stamp(f, stamp_offset(f), {7, 99});
    const auto l = find_udp(f);
    EXPECT_EQ(f[l->udp + 6], 0);
    EXPECT_EQ(f[l->udp + 7], 0);
    EXPECT_EQ(read_stamp(f), (stamp{7, 99}));
}

TEST(stamp, a_call_id_that_is_not_a_stamp_reads_as_none) {
    const frame_spec s;
    EXPECT_FALSE(read_stamp(build_frame(s, invite("Call-ID: 0123456789ABCDEF01234567@x"))))
            << "upper case is not what write_stamp writes";
    EXPECT_FALSE(read_stamp(build_frame(s, invite("Call-ID: a84b4c76e66710@pc33.atlanta.com"))));
}

} // namespace
} // namespace sipredir::loadgen
