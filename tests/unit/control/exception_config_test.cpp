// SPDX-License-Identifier: BSD-3-Clause
// [exception] addresses and routes, [dataplane] rx_checksum, and the warnings at start.
#include <gtest/gtest.h>

#include <control/config.hpp>
#include <control/snapshot_builder.hpp>
#include <control/start_warnings.hpp>
#include <string>

using namespace sipredir;
using namespace sipredir::control;

namespace {

// Line 9 is the first line after it.
const std::string minimal = R"([listen]
addresses = ["198.18.0.1"]
[[backend]]
name = "b1"
address = "198.18.1.1:5060"
[[pool]]
name = "default"
backends = ["b1"]
)";

config_result parse(const std::string& more) {
    return parse_config(minimal + more, "t.toml");
}

net::ip_address v6(std::string_view text) {
    net::ip_address a;
    EXPECT_TRUE(net::parse_ip(text, a)) << text;
    return a;
}

} // namespace

TEST(exception_config, addresses_and_routes_are_read_in_order) {
    const config_result r = parse(R"([exception]
tap = "sipredir0"
addresses = ["198.18.0.1/24", "2001:db8::1/64"]
routes = [
    {to = "198.18.4.0/24", via = "198.18.0.254"},
    {to = "0.0.0.0/0", via = "198.18.0.253"},
    {to = "2001:db8:5::/48", via = "2001:db8::fe"},
]
)");
    ASSERT_TRUE(r.config) << r.error.message;
    const exception_config& e = r.config->exception;
    ASSERT_EQ(e.addresses.size(), 2u);
    EXPECT_EQ(e.addresses[0].address, net::ip_address::v4(198, 18, 0, 1));
    EXPECT_EQ(e.addresses[0].prefix, 24);
    EXPECT_EQ(e.addresses[1].address, v6("2001:db8::1"));
    EXPECT_EQ(e.addresses[1].prefix, 64);
    ASSERT_EQ(e.routes.size(), 3u);
    EXPECT_EQ(e.routes[0].to.address, net::ip_address::v4(198, 18, 4, 0));
    EXPECT_EQ(e.routes[0].to.prefix, 24);
    EXPECT_EQ(e.routes[0].via, net::ip_address::v4(198, 18, 0, 254));
    EXPECT_EQ(e.routes[1].to.prefix, 0);
    EXPECT_EQ(e.routes[2].to.address, v6("2001:db8:5::"));
    EXPECT_EQ(e.routes[2].via, v6("2001:db8::fe"));
}

TEST(exception_config, bad_addresses_and_routes_are_refused_at_their_line) {
    struct bad_case {
        const char* name;
        std::string text;
        std::string expected;
    };
    const std::string head = "[exception]\ntap = \"sipredir0\"\naddresses = [\"198.18.0.1/24\"]\n";
    const bad_case cases[] = {
            {"no prefix",
             "[exception]\naddresses = [\"198.18.0.1\"]\n",
             "t.toml:10: addresses: '198.18.0.1' is not address/prefix (198.18.0.1/15)"},
            {"prefix too long",
             "[exception]\naddresses = [\"198.18.0.1/33\"]\n",
             "t.toml:10: addresses: '198.18.0.1/33' is not address/prefix (198.18.0.1/15)"},
            {"not an address",
             "[exception]\naddresses = [\"sipredir/24\"]\n",
             "t.toml:10: addresses: 'sipredir/24' is not address/prefix (198.18.0.1/15)"},
            {"route not a table",
             head + "routes = [\"198.18.4.0/24\"]\n",
             "t.toml:12: routes: each route is {to = \"address/prefix\", via = \"address\"}"},
            {"route without via",
             head + "routes = [{to = \"198.18.4.0/24\"}]\n",
             "t.toml:12: routes: each route needs to (a prefix) and via (a gateway address)"},
            {"route with an unknown key",
             head + "routes = [{to = \"198.18.4.0/24\", via = \"198.18.0.9\", dev = \"x\"}]\n",
             "t.toml:12: unknown key 'dev' in a route of exception.routes (known: to, via)"},
            {"destination with host bits",
             head + "routes = [{to = \"198.18.4.1/24\", via = \"198.18.0.9\"}]\n",
             "t.toml:12: to: '198.18.4.1/24' has bits set past its prefix length"},
            {"bad destination",
             head + "routes = [{to = \"198.18.4.0\", via = \"198.18.0.9\"}]\n",
             "t.toml:12: to: '198.18.4.0' is not address/prefix"},
            {"bad gateway",
             head + "routes = [{to = \"198.18.4.0/24\", via = \"gateway\"}]\n",
             "t.toml:12: via: 'gateway' is not an IPv4 or IPv6 address"},
            {"families differ",
             head + "routes = [{to = \"198.18.4.0/24\", via = \"2001:db8::1\"}]\n",
             "t.toml:12: via: the gateway and the destination must both be IPv4 or both IPv6"},
            {"gateway off every subnet",
             head + "routes = [{to = \"198.18.4.0/24\", via = \"198.18.1.9\"}]\n",
             "t.toml:12: via: '198.18.1.9' is on no subnet of exception.addresses"},
            {"routes without addresses",
             "[exception]\ntap = \"sipredir0\"\nroutes = [{to = \"0.0.0.0/0\", via = "
             "\"198.18.0.9\"}]\n",
             "t.toml:11: via: '198.18.0.9' is on no subnet of exception.addresses"},
            {"addresses without a TAP",
             "[exception]\naddresses = [\"198.18.0.1/24\"]\n",
             "t.toml:10: addresses are for the TAP, and tap names none"},
            {"routes without a TAP",
             "[exception]\naddresses = [\"198.18.0.1/24\"]\ntap = \"\"\nroutes = [{to = "
             "\"0.0.0.0/0\", via = \"198.18.0.9\"}]\n",
             "t.toml:10: addresses are for the TAP, and tap names none"},
            {"rx_checksum unknown",
             "[dataplane]\nrx_checksum = \"ignore\"\n",
             "t.toml:10: rx_checksum must be one of verify, trust, not 'ignore'"},
    };
    for (const bad_case& c : cases) {
        const config_result r = parse(c.text);
        EXPECT_FALSE(r.config) << c.name;
        EXPECT_EQ(r.error.message.rfind(c.expected, 0), 0u) << c.name << ": " << r.error.message;
    }
}

TEST(exception_config, rx_checksum_chooses_the_udp_check_once) {
    const config_result verify = parse("");
    const config_result trust = parse("[dataplane]\nrx_checksum = \"trust\"\n");
    ASSERT_TRUE(verify.config && trust.config);
    EXPECT_EQ(verify.config->dataplane.rx_checksum, rx_checksum_mode::verify);
    EXPECT_EQ(trust.config->dataplane.rx_checksum, rx_checksum_mode::trust);
    const std::array<std::uint8_t, 6> mac{2, 0, 0, 0, 0, 1};
    const pipeline::identity checked = make_identity(*verify.config, mac);
    const pipeline::identity trusted = make_identity(*trust.config, mac);
    EXPECT_TRUE(checked.checks.udp_checksum);
    EXPECT_FALSE(trusted.checks.udp_checksum);
    // The IPv4 header checksum is the sender kernel's work, never left out: still checked.
    EXPECT_TRUE(trusted.checks.ipv4_header_checksum);
}

TEST(start_warnings, name_what_will_fail) {
    struct warning_case {
        const char* name;
        std::string text;
        std::string_view driver;
        std::vector<std::string> events;
    };
    const std::string probe = "[probe]\n";
    const warning_case cases[] = {
            {"probing, TAP without address",
             "[exception]\ntap = \"sipredir0\"\n" + probe,
             "net_ixgbe",
             {"probe_tap_without_address"}},
            {"probing from an address the TAP lacks",
             "[exception]\ntap = \"sipredir0\"\naddresses = [\"198.18.0.2/24\"]\n" + probe,
             "net_ixgbe",
             {"probe_source_not_on_tap"}},
            {"probing from the TAP's address",
             "[exception]\ntap = \"sipredir0\"\naddresses = [\"198.18.0.1/24\"]\n" + probe,
             "net_ixgbe",
             {}},
            {"no probing, no address", "[exception]\ntap = \"sipredir0\"\n", "net_ixgbe", {}},
            {"af_packet verifying", "", "net_af_packet", {"af_packet_rx_checksum"}},
            {"af_packet trusting", "[dataplane]\nrx_checksum = \"trust\"\n", "net_af_packet", {}},
            {"both",
             "[dataplane]\n[exception]\ntap = \"sipredir0\"\n" + probe,
             "net_af_packet",
             {"probe_tap_without_address", "af_packet_rx_checksum"}},
    };
    for (const warning_case& c : cases) {
        const config_result r = parse(c.text);
        ASSERT_TRUE(r.config) << c.name << ": " << r.error.message;
        std::vector<std::string> events;
        for (const start_warning& w : start_warnings(*r.config, c.driver)) {
            events.push_back(w.event);
            EXPECT_FALSE(w.detail.empty()) << c.name;
        }
        EXPECT_EQ(events, c.events) << c.name;
    }
}

TEST(start_warnings, name_the_tap_and_the_fix) {
    const config_result r = parse("[exception]\ntap = \"sipredir0\"\n[probe]\n");
    ASSERT_TRUE(r.config) << r.error.message;
    const std::vector<start_warning> w = start_warnings(*r.config, "net_ixgbe");
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].detail.find("sipredir0"), std::string::npos) << w[0].detail;
    EXPECT_NE(w[0].detail.find("addresses = [\"198.18.0.1/24\"]"), std::string::npos)
            << w[0].detail;
}
