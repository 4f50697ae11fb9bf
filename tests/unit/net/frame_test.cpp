// SPDX-License-Identifier: BSD-3-Clause
// Frame parsing and reply headers over frames built field by field.
#include "../test_support.hpp"
#include "frame_builder.hpp"

#include <gtest/gtest.h>

#include <net/checksum.hpp>
#include <net/fragment.hpp>
#include <net/frame.hpp>

namespace sipredir::net {
namespace {

using test::build_frame;
using test::frame_spec;

constexpr std::string_view payload = "OPTIONS sip:198.18.0.1 SIP/2.0\r\n\r\n";

ip_address v6(std::string_view text) {
    ip_address ip;
    EXPECT_TRUE(parse_ip(text, ip));
    return ip;
}

std::string_view payload_of(const std::vector<std::uint8_t>& f, const frame_view& v) {
    return {reinterpret_cast<const char*>(f.data()) + v.payload_offset, v.payload_size};
}

TEST(frame, udp_over_ipv4) {
    const auto f = build_frame({}, payload);
    frame_view v;
    const frame_result r = parse_frame(f, v);
    ASSERT_EQ(r.kind, frame_class::udp) << frame_defect_table[static_cast<int>(r.reason)].name;
    EXPECT_EQ(v.src_ip, ip_address::v4(198, 18, 0, 2));
    EXPECT_EQ(v.dst_ip, ip_address::v4(198, 18, 0, 1));
    EXPECT_EQ(v.src_port, 5061);
    EXPECT_EQ(v.dst_port, 5060);
    EXPECT_EQ(v.l3_offset, 14);
    EXPECT_EQ(payload_of(f, v), payload);
}

TEST(frame, ipv4_options_and_ethernet_padding) {
    frame_spec s;
    s.ipv4_options = {0x01, 0x01, 0x01, 0x00}; // NOP NOP NOP EOL
    auto f = build_frame(s, "x");
    f.resize(f.size() + 20, 0); // short frames arrive padded to 60 octets
    frame_view v;
    ASSERT_EQ(parse_frame(f, v).kind, frame_class::udp);
    EXPECT_EQ(v.l4_offset, 14 + 24);
    EXPECT_EQ(payload_of(f, v), "x");
}

TEST(frame, vlan_and_qinq) {
    frame_spec s;
    s.vlans = {100};
    auto f = build_frame(s, payload);
    frame_view v;
    ASSERT_EQ(parse_frame(f, v).kind, frame_class::udp);
    EXPECT_EQ(v.vlan_count, 1);
    EXPECT_EQ(v.vlan_tci[0], 100);
    EXPECT_EQ(v.l3_offset, 18);

    s.vlans = {200, 300};
    f = build_frame(s, payload);
    ASSERT_EQ(parse_frame(f, v).kind, frame_class::udp);
    EXPECT_EQ(v.vlan_count, 2);
    EXPECT_EQ(v.vlan_tpid[0], ethertype_qinq);
    EXPECT_EQ(v.vlan_tci[1], 300);
    EXPECT_EQ(payload_of(f, v), payload);

    s.vlans = {1, 2, 3};
    f = build_frame(s, payload);
    EXPECT_EQ(parse_frame(f, v).reason, frame_defect::too_many_vlan_tags);
}

TEST(frame, udp_over_ipv6_with_extension_headers) {
    frame_spec s;
    s.src = v6("2001:db8::2");
    s.dst = v6("2001:db8::1");
    // hop-by-hop (8 octets, next: destination options), destination options (16, next: UDP)
    s.ipv6_first_next_header = 0;
    s.ipv6_extensions = {60, 0, 1, 4, 0, 0, 0, 0, ip_proto_udp, 1, 1, 12, 0, 0, 0, 0,
                         0,  0, 0, 0, 0, 0, 0, 0};
    const auto f = build_frame(s, payload);
    frame_view v;
    const frame_result r = parse_frame(f, v);
    ASSERT_EQ(r.kind, frame_class::udp) << frame_defect_table[static_cast<int>(r.reason)].name;
    EXPECT_EQ(v.l4_offset, 14 + 40 + 24);
    EXPECT_EQ(v.src_ip, s.src);
    EXPECT_EQ(payload_of(f, v), payload);
}

TEST(frame, fragments_are_classified_not_parsed) {
    frame_spec s;
    s.ipv4_fragment = 0x2000; // MF, offset 0: the first fragment
    frame_view v;
    EXPECT_EQ(parse_frame(build_frame(s, payload), v).kind, frame_class::ip_fragment);
    EXPECT_TRUE(v.more_fragments);
    s.ipv4_fragment = 0x0010; // last fragment, offset 128
    EXPECT_EQ(parse_frame(build_frame(s, payload), v).kind, frame_class::ip_fragment);
    EXPECT_FALSE(v.more_fragments);

    frame_spec s6;
    s6.src = v6("2001:db8::2");
    s6.dst = v6("2001:db8::1");
    s6.ipv6_first_next_header = 44;
    s6.ipv6_extensions = {ip_proto_udp, 0, 0x00, 0x01, 0, 0, 0, 7}; // offset 0, M = 1
    EXPECT_EQ(parse_frame(build_frame(s6, payload), v).kind, frame_class::ip_fragment);
    // RFC 6946 atomic fragment: offset 0, M = 0 is a whole datagram.
    s6.ipv6_extensions = {ip_proto_udp, 0, 0x00, 0x00, 0, 0, 0, 7};
    EXPECT_EQ(parse_frame(build_frame(s6, payload), v).kind, frame_class::udp);
}

TEST(frame, classes_for_the_exception_path) {
    frame_spec s;
    s.protocol = 1; // ICMP
    frame_view v;
    EXPECT_EQ(parse_frame(build_frame(s, payload), v).kind, frame_class::not_udp);
    auto arp = build_frame({}, payload);
    arp[12] = 0x08;
    arp[13] = 0x06;
    EXPECT_EQ(parse_frame(arp, v).kind, frame_class::not_ip);
}

TEST(frame, bad_lengths_and_checksums_are_named) {
    frame_view v;
    auto f = build_frame({}, payload);
    f[14 + 10] ^= 1;
    EXPECT_EQ(parse_frame(f, v).reason, frame_defect::ipv4_bad_checksum);
    EXPECT_EQ(parse_frame(f, v, {.ipv4_header_checksum = false}).kind, frame_class::udp)
            << "a NIC that checked it lets the parser skip it";

    f = build_frame({}, payload);
    f[f.size() - 1] ^= 0x20; // payload changed, UDP checksum stale
    EXPECT_EQ(parse_frame(f, v).reason, frame_defect::udp_bad_checksum);

    frame_spec no_sum;
    no_sum.udp_checksum = false;
    EXPECT_EQ(parse_frame(build_frame(no_sum, payload), v).kind, frame_class::udp)
            << "RFC 768: zero means no checksum over IPv4";
    no_sum.src = v6("2001:db8::2");
    no_sum.dst = v6("2001:db8::1");
    EXPECT_EQ(parse_frame(build_frame(no_sum, payload), v).reason, frame_defect::udp_bad_checksum)
            << "RFC 8200: zero is not allowed over IPv6";

    f = build_frame({}, payload);
    f[14 + 3] += 1; // IPv4 total length one past the frame
    f[14 + 10] = f[14 + 11] = 0;
    const std::uint16_t c = ipv4_header_checksum({f.data() + 14, 20});
    f[14 + 10] = static_cast<std::uint8_t>(c >> 8);
    f[14 + 11] = static_cast<std::uint8_t>(c);
    EXPECT_EQ(parse_frame(f, v).reason, frame_defect::ipv4_bad_total_length);

    f = build_frame({}, payload);
    f[14 + 20 + 5] += 1; // UDP length past the IP packet
    EXPECT_EQ(parse_frame(f, v).reason, frame_defect::udp_bad_length);

    f = build_frame({}, payload);
    f[14] = 0x44; // IHL 4
    EXPECT_EQ(parse_frame(f, v).reason, frame_defect::ipv4_bad_header_length);
}

TEST(frame, every_truncation_is_malformed_and_read_within_bounds) {
    frame_spec s6;
    s6.src = v6("2001:db8::2");
    s6.dst = v6("2001:db8::1");
    s6.vlans = {7};
    for (const auto& whole : {build_frame({}, payload), build_frame(s6, payload)}) {
        for (std::size_t n = 0; n < whole.size(); ++n) {
            const sipredir::test::guarded_copy g({reinterpret_cast<const char*>(whole.data()), n});
            frame_view v;
            const auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(g.view().data()), n);
            EXPECT_EQ(parse_frame(bytes, v).kind, frame_class::malformed) << n;
        }
    }
}

TEST(frame, reply_headers_swap_and_verify) {
    const std::array<std::uint8_t, 6> own = {0x02, 0x70, 0x63, 0x61, 0x70, 0x00};
    frame_spec v6spec;
    v6spec.src = v6("2001:db8::2");
    v6spec.dst = v6("2001:db8::1");
    v6spec.vlans = {42};
    frame_spec options_spec;
    options_spec.ipv4_options = {1, 1, 1, 0};
    for (const frame_spec& s : {frame_spec{}, v6spec, options_spec}) {
        const auto request = build_frame(s, payload);
        frame_view req;
        ASSERT_EQ(parse_frame(request, req).kind, frame_class::udp);
        constexpr std::string_view answer = "SIP/2.0 200 OK\r\n\r\n";
        std::vector<std::uint8_t> out(200);
        const reply_layout l = write_reply_headers(req, own, answer.size(), 7, out);
        ASSERT_NE(l.payload_offset, 0);
        std::copy(answer.begin(), answer.end(), out.begin() + l.payload_offset);
        fill_udp_checksum(out, l, req, answer.size());
        out.resize(l.payload_offset + answer.size());

        frame_view rep;
        const frame_result r = parse_frame(out, rep);
        ASSERT_EQ(r.kind, frame_class::udp) << frame_defect_table[static_cast<int>(r.reason)].name;
        EXPECT_EQ(rep.dst_mac, req.src_mac);
        EXPECT_EQ(rep.src_mac, own);
        EXPECT_EQ(rep.src_ip, req.dst_ip);
        EXPECT_EQ(rep.dst_ip, req.src_ip);
        EXPECT_EQ(rep.src_port, req.dst_port);
        EXPECT_EQ(rep.dst_port, req.src_port);
        EXPECT_EQ(rep.vlan_count, req.vlan_count);
        EXPECT_EQ(rep.vlan_tci, req.vlan_tci);
        EXPECT_EQ(rep.ttl, 64);
        EXPECT_EQ(payload_of(out, rep), answer);
    }
}

TEST(frame, reply_headers_refuse_what_does_not_fit) {
    const auto request = build_frame({}, payload);
    frame_view req;
    ASSERT_EQ(parse_frame(request, req).kind, frame_class::udp);
    std::vector<std::uint8_t> small(14 + 20 + 7);
    EXPECT_EQ(write_reply_headers(req, req.dst_mac, 10, 0, small).payload_offset, 0);
    std::vector<std::uint8_t> enough(64);
    EXPECT_EQ(write_reply_headers(req, req.dst_mac, 65535 - 28 + 1, 0, enough).payload_offset, 0)
            << "an IPv4 packet holds at most 65535 octets";
    EXPECT_NE(write_reply_headers(req, req.dst_mac, 65535 - 28, 0, enough).payload_offset, 0);
}

} // namespace
} // namespace sipredir::net

namespace sipredir::net {
namespace {

// A reply larger than the MTU, split and put back together, is the datagram it was.
void fragments_reassemble(bool ipv6) {
    test::frame_spec spec;
    if (ipv6) {
        parse_ip("2001:db8::2", spec.src);
        parse_ip("2001:db8::1", spec.dst);
    }
    const std::string payload(3000, 'x');
    std::vector<std::uint8_t> frame = test::build_frame(spec, payload);
    frame_view request;
    ASSERT_EQ(parse_frame(frame, request).kind, frame_class::udp);
    reply_layout layout{request.l3_offset, request.l4_offset, request.payload_offset};
    const fragment_plan plan = plan_fragments(layout, frame.size(), 1500, ipv6);
    ASSERT_EQ(plan.count, 3u);
    std::vector<std::uint8_t> joined;
    for (std::size_t i = 0; i < plan.count; ++i) {
        std::vector<std::uint8_t> out(2000);
        const std::size_t size = write_fragment(frame, layout, ipv6, plan, i, 0x10203, out);
        ASSERT_NE(size, 0u);
        out.resize(size);
        EXPECT_LE(size - layout.l3_offset, 1500u);
        frame_view f;
        EXPECT_EQ(parse_frame(out, f).kind, frame_class::ip_fragment) << i;
        EXPECT_EQ(f.more_fragments, i + 1 < plan.count);
        const std::size_t data_at = layout.l4_offset + (ipv6 ? 8 : 0);
        joined.insert(joined.end(), out.begin() + static_cast<std::ptrdiff_t>(data_at), out.end());
    }
    EXPECT_TRUE(
            std::equal(joined.begin(), joined.end(), frame.begin() + layout.l4_offset, frame.end())
    );
    EXPECT_EQ(joined.size(), frame.size() - layout.l4_offset);
}

TEST(fragment, ipv4_reply_splits_and_joins) {
    fragments_reassemble(false);
}

TEST(fragment, ipv6_reply_splits_and_joins) {
    fragments_reassemble(true);
}

TEST(fragment, mtu_too_small_for_any_data_is_refused) {
    const reply_layout layout{14, 34, 42};
    EXPECT_EQ(plan_fragments(layout, 3000, 28, false).count, 0u);
}

} // namespace
} // namespace sipredir::net
