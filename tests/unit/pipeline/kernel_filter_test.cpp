// SPDX-License-Identifier: BSD-3-Clause
// The exception path's filter, table by table: what reaches the kernel, what is urgent, what is
// dropped and why; the ICMP allowance over time; and the filter built from a configuration.
#include "../net/frame_builder.hpp"
#include "../test_support.hpp"

#include <gtest/gtest.h>

#include <control/config.hpp>
#include <control/snapshot_builder.hpp>
#include <filesystem>
#include <fstream>
#include <pipeline/kernel_filter.hpp>
#include <string>
#include <unistd.h>

namespace sipredir::pipeline {
namespace {

using net::test::build_frame;
using net::test::frame_spec;

const net::ip_address backend = net::ip_address::v4(198, 18, 1, 1);
const net::ip_address fleet_peer = net::ip_address::v4(198, 18, 0, 9);
const net::ip_address stranger = net::ip_address::v4(198, 19, 7, 7);

kernel_filter filter_under_test() {
    kernel_filter k;
    k.serve(5062, balance::cs_probe);
    k.serve(5065, balance::cs_reports);
    k.serve(5070, balance::cs_fleet);
    k.tcp_port = 9090;
    k.icmp_per_second = 3;
    return k;
}

std::vector<balance::control_peer> peers_under_test() {
    std::vector<balance::control_peer> p = {
            {fleet_peer, balance::cs_fleet},
            {backend, balance::cs_probe | balance::cs_race | balance::cs_reports},
    };
    std::sort(p.begin(), p.end(), [](const auto& a, const auto& b) {
        return balance::peer_before(a.address, b.address);
    });
    return p;
}

struct filter_case {
    const char* name;
    std::vector<std::uint8_t> frame;
    kernel_admission expected;
};

std::vector<std::uint8_t> udp_from(net::ip_address src, std::uint16_t port) {
    frame_spec s;
    s.src = src;
    s.dst_port = port;
    return build_frame(s, "payload");
}

std::vector<std::uint8_t>
l4(std::uint8_t protocol, std::uint16_t first, std::uint16_t second, bool v6 = false) {
    frame_spec s;
    s.protocol = protocol;
    s.src_port = first; // the builder's first two L4 octets: ICMP type and code, TCP source
    s.dst_port = second;
    if (v6) {
        EXPECT_TRUE(net::parse_ip("2001:db8::2", s.src));
        EXPECT_TRUE(net::parse_ip("2001:db8::1", s.dst));
    }
    return build_frame(s, "....");
}

std::vector<std::uint8_t> ethertype(std::uint16_t type) {
    std::vector<std::uint8_t> f(60, 0);
    f[12] = static_cast<std::uint8_t>(type >> 8);
    f[13] = static_cast<std::uint8_t>(type);
    return f;
}

kernel_admission
admit(const kernel_filter& k,
      std::span<const balance::control_peer> peers,
      icmp_bucket& icmp,
      std::uint64_t now_ms,
      const std::vector<std::uint8_t>& frame) {
    net::frame_view f;
    const net::frame_result r = net::parse_frame(frame, f);
    return admit_to_kernel(k, peers, icmp, now_ms, r.kind, f, frame);
}

TEST(kernel_filter, passes_what_the_appliance_needs_and_nothing_else) {
    using enum kernel_admission;
    const filter_case cases[] = {
            {"ARP", ethertype(0x0806), urgent},
            {"LLDP", ethertype(0x88cc), filtered},
            {"probe answer from a backend", udp_from(backend, 5062), pass},
            {"probe port from a stranger", udp_from(stranger, 5062), filtered},
            {"report from a backend", udp_from(backend, 5065), pass},
            {"fleet port from a backend", udp_from(backend, 5070), filtered},
            {"fleet port from a peer", udp_from(fleet_peer, 5070), pass},
            {"probe port from a fleet peer", udp_from(fleet_peer, 5062), filtered},
            {"closed port from a backend", udp_from(backend, 9999), filtered},
            {"closed port from a stranger", udp_from(stranger, 9999), filtered},
            {"TCP to the metrics port", l4(6, 40000, 9090), pass},
            {"TCP to ssh", l4(6, 40000, 22), filtered},
            {"ICMP echo", l4(1, 0x0800, 0), pass},
            {"ICMPv6 neighbour solicitation", l4(58, 135 << 8, 0, true), urgent},
            {"ICMPv6 router advertisement", l4(58, 134 << 8, 0, true), urgent},
            {"ICMPv6 echo", l4(58, 128 << 8, 0, true), pass},
            {"IGMP", l4(2, 0x1100, 0), filtered},
            {"SCTP", l4(132, 5060, 5060), filtered},
    };
    const kernel_filter k = filter_under_test();
    const auto peers = peers_under_test();
    for (const filter_case& c : cases) {
        icmp_bucket icmp;
        EXPECT_EQ(admit(k, peers, icmp, 1000, c.frame), c.expected) << c.name;
    }
}

TEST(kernel_filter, before_any_snapshot_no_control_port_is_open) {
    const kernel_filter k = filter_under_test();
    icmp_bucket icmp;
    EXPECT_EQ(admit(k, {}, icmp, 0, udp_from(backend, 5062)), kernel_admission::filtered);
    EXPECT_EQ(admit(k, {}, icmp, 0, ethertype(0x0806)), kernel_admission::urgent);
}

TEST(kernel_filter, switched_off_it_passes_everything_as_before) {
    kernel_filter k = filter_under_test();
    k.enabled = false;
    icmp_bucket icmp;
    EXPECT_EQ(admit(k, {}, icmp, 0, udp_from(stranger, 9999)), kernel_admission::pass);
    EXPECT_EQ(admit(k, {}, icmp, 0, ethertype(0x88cc)), kernel_admission::pass);
}

TEST(kernel_filter, icmp_is_held_to_its_rate_per_worker) {
    const kernel_filter k = filter_under_test(); // 3 per second
    const auto ping = l4(1, 0x0800, 0);
    icmp_bucket icmp;
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(admit(k, {}, icmp, 5000, ping), kernel_admission::pass) << i;
    }
    EXPECT_EQ(admit(k, {}, icmp, 5000, ping), kernel_admission::icmp_over_rate);
    EXPECT_EQ(admit(k, {}, icmp, 5200, ping), kernel_admission::icmp_over_rate);
    EXPECT_EQ(admit(k, {}, icmp, 5400, ping), kernel_admission::pass); // 400 ms: one token
    EXPECT_EQ(admit(k, {}, icmp, 5400, ping), kernel_admission::icmp_over_rate);
    // A long silence refills the bucket to one second's worth, no more.
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(admit(k, {}, icmp, 60000, ping), kernel_admission::pass) << i;
    }
    EXPECT_EQ(admit(k, {}, icmp, 60000, ping), kernel_admission::icmp_over_rate);
    // NDP is never held back by ICMP's rate.
    EXPECT_EQ(admit(k, {}, icmp, 60000, l4(58, 135 << 8, 0, true)), kernel_admission::urgent);
}

TEST(kernel_filter, a_port_may_serve_several_services_and_the_table_is_bounded) {
    kernel_filter k;
    EXPECT_TRUE(k.serve(5062, balance::cs_probe));
    EXPECT_TRUE(k.serve(5062, balance::cs_race));
    EXPECT_EQ(k.udp_count, 1);
    EXPECT_EQ(k.udp[0].services, balance::cs_probe | balance::cs_race);
    EXPECT_TRUE(k.serve(1, 1));
    EXPECT_TRUE(k.serve(2, 1));
    EXPECT_TRUE(k.serve(3, 1));
    EXPECT_FALSE(k.serve(4, 1));
}

TEST(kernel_filter, built_from_the_configuration) {
    // The fleet's key, owner-only, as a key file must be.
    const auto key_file = std::filesystem::temp_directory_path()
                          / ("sipredir-filter-key-" + std::to_string(::getpid()));
    {
        std::ofstream out(key_file);
        out << std::string(64, 'a') << "\n";
    }
    std::filesystem::permissions(
            key_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write
    );
    const auto loaded = control::parse_config(
            "[listen]\n"
            "addresses = [\"198.18.0.1\"]\n"
            "[probe]\n"
            "[fleet]\n"
            "name = \"a\"\n"
            "key_file = \""
                    + key_file.string()
                    + "\"\n"
                      "peers = [\"b@198.18.0.9:5070\"]\n"
                      "[management]\n"
                      "metrics = \"198.18.0.1:9090\"\n"
                      "[exception]\n"
                      "tap = \"sr0\"\n"
                      "icmp_per_second = 7\n"
                      "[[backend]]\n"
                      "name = \"b1\"\n"
                      "address = \"198.18.1.1:5060\"\n"
                      "[[backend]]\n"
                      "name = \"b2\"\n"
                      "address = \"198.18.1.1:5080\"\n"
                      "[[pool]]\n"
                      "name = \"p\"\n"
                      "backends = [\"b1\", \"b2\"]\n",
            "test.toml"
    );
    std::filesystem::remove(key_file);
    ASSERT_TRUE(loaded.config.has_value()) << loaded.error.message;
    const kernel_filter k = control::make_kernel_filter(*loaded.config);
    EXPECT_TRUE(k.enabled);
    EXPECT_EQ(k.icmp_per_second, 7u);
    EXPECT_EQ(k.tcp_port, 9090);
    ASSERT_EQ(k.udp_count, 2); // no race pool, no [reports]: their ports stay closed
    EXPECT_EQ(k.udp[0].port, 5062);
    EXPECT_EQ(k.udp[0].services, balance::cs_probe);
    EXPECT_EQ(k.udp[1].port, 5070);
    EXPECT_EQ(k.udp[1].services, balance::cs_fleet);

    const auto peers = control::control_peers_of(*loaded.config);
    ASSERT_EQ(peers.size(), 2u); // two backends on one address make one entry
    EXPECT_EQ(
            services_of(peers, backend), balance::cs_probe | balance::cs_race | balance::cs_reports
    );
    EXPECT_EQ(services_of(peers, fleet_peer), balance::cs_fleet);
    EXPECT_EQ(services_of(peers, stranger), 0);
}

} // namespace
} // namespace sipredir::pipeline

namespace sipredir::pipeline {
namespace {

TEST(kernel_filter, a_report_source_may_reach_the_reports_port_only) {
    control::appliance_config c;
    control::static_backend b;
    b.config.address = {backend, 5060};
    b.report_source = net::ip_address::v4(198, 18, 2, 2); // the backend's agent, elsewhere
    c.backends.push_back(b);
    const auto peers = control::control_peers_of(c);
    ASSERT_EQ(peers.size(), 2u);
    EXPECT_EQ(services_of(peers, *b.report_source), balance::cs_reports);
    EXPECT_EQ(
            services_of(peers, backend), balance::cs_probe | balance::cs_race | balance::cs_reports
    );
}

} // namespace
} // namespace sipredir::pipeline
