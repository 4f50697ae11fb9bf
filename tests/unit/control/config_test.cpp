// SPDX-License-Identifier: BSD-3-Clause
#include "../test_support.hpp"

#include <gtest/gtest.h>

#include <control/config.hpp>
#include <fstream>
#include <sip/parser.hpp>
#include <string>

using namespace sipredir;
using namespace sipredir::control;

namespace {

const std::string minimal = R"(
[listen]
addresses = ["198.18.0.1"]

[[backend]]
name = "b1"
address = "198.18.1.1:5060"

[[pool]]
name = "default"
backends = ["b1"]
)";

std::string error_of(const std::string& text) {
    const config_result r = parse_config(text, "t.toml");
    EXPECT_FALSE(r.config.has_value());
    return r.error.message;
}

} // namespace

TEST(config, minimal_file_takes_the_defaults) {
    const config_result r = parse_config(minimal, "t.toml");
    ASSERT_TRUE(r.config.has_value()) << r.error.message;
    const appliance_config& c = *r.config;
    ASSERT_EQ(c.listen.addresses.size(), 1u);
    EXPECT_EQ(c.listen.addresses[0], net::ip_address::v4(198, 18, 0, 1));
    EXPECT_EQ(c.listen.ports, std::vector<std::uint16_t>{5060});
    EXPECT_EQ(c.listen.vlans, std::vector<std::uint16_t>{0});
    EXPECT_FALSE(c.listen.promiscuous);
    EXPECT_EQ(c.dataplane.idle, idle_mode::poll);
    EXPECT_EQ(c.dataplane.fragment_timeout_ms, 500u);
    EXPECT_EQ(c.dataplane.fragment_mbufs, 0u) << "0: a quarter of the pool";
    EXPECT_EQ(c.dataplane.mbufs, 0u) << "0: sized at start for the workers";
    EXPECT_EQ(
            error_of(minimal + "[dataplane]\nmbufs = 1000\n"),
            "t.toml:13: mbufs must be 0 (sized at start) or between 1023 and 16777216, not 1000"
    );
    EXPECT_EQ(c.sip.redirect_methods, sip::bit(sip::method::invite));
    EXPECT_EQ(c.sip.pool, "default");
    EXPECT_FALSE(c.sip.to_tag_key.has_value());
    ASSERT_EQ(c.backends.size(), 1u);
    EXPECT_EQ(c.backends[0].config.address.port, 5060);
    EXPECT_EQ(c.backends[0].state, balance::backend_state::up);
    ASSERT_EQ(c.pools.size(), 1u);
    EXPECT_EQ(c.pools[0].policy, balance::policy_kind::proportional);
    EXPECT_EQ(c.pools[0].backends, std::vector<std::uint16_t>{0});
}

TEST(config, shipped_configurations_are_accepted) {
    for (const char* name : {"bench.toml", "example.toml", "lab.toml"}) {
        const auto path = test::data_dir().parent_path().parent_path() / "config" / name;
        const config_result r = load_config(path.string());
        EXPECT_TRUE(r.config.has_value()) << name << ": " << r.error.message;
    }
}

TEST(config, bench_toml_is_the_fixed_test_configuration) {
    const auto path = test::data_dir().parent_path().parent_path() / "config" / "bench.toml";
    const config_result r = load_config(path.string());
    ASSERT_TRUE(r.config.has_value()) << r.error.message;
    const appliance_config& c = *r.config;
    EXPECT_EQ(c.listen.addresses, std::vector{net::ip_address::v4(198, 18, 0, 1)});
    EXPECT_EQ(c.listen.ports, std::vector<std::uint16_t>{5060});
    EXPECT_TRUE(c.listen.promiscuous);
    ASSERT_EQ(c.backends.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(
                c.backends[i].config.address.address,
                net::ip_address::v4(198, 18, 1, static_cast<std::uint8_t>(i + 1))
        );
        EXPECT_EQ(c.backends[i].config.address.port, 5060);
        EXPECT_EQ(c.backends[i].config.weight, c.backends[0].config.weight);
        EXPECT_EQ(c.backends[i].state, balance::backend_state::up);
    }
    ASSERT_EQ(c.pools.size(), 1u);
    EXPECT_EQ(c.pools[0].policy, balance::policy_kind::wrr);
}

TEST(config, every_option_is_read) {
    const config_result r = parse_config(
            R"(
[listen]
addresses = ["198.18.0.1", "2001:db8::1"]
ports = [5060, 5080]
vlans = [0, 100]
promiscuous = true
mtu = 9000
[dataplane]
burst = 64
rx_descriptors = 2048
tx_descriptors = 512
mbufs = 16383
mbuf_data_room = 10240
idle = "sleep"
idle_sleep_max_us = 50
udp_checksum = "software"
fragment_flows = 1024
fragment_timeout_ms = 250
fragment_mbufs = 3000
[exception]
tap = "sr0"
ring_size = 4096
[sip]
redirect_methods = ["INVITE", "MESSAGE"]
supported_option_tags = ["timer"]
server = "edge-7"
to_tag_key = "000102030405060708090a0b0c0d0e0f"
request_hash_key = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
pool = "b"
[[backend]]
name = "x"
address = "[2001:db8::5]:5062"
transport = "tcp"
weight = 3
capacity = 500
threshold = 0.75
state = "draining"
[[pool]]
name = "a"
backends = ["x"]
[[pool]]
name = "b"
policy = "hash"
hash_key = "from-user"
backends = ["x"]
contacts = 3
retry_after = 0
[[pool]]
name = "c"
policy = "least-latency"
latency_band_ms = 2.5
backends = ["x"]
)",
            "t.toml"
    );
    ASSERT_TRUE(r.config.has_value()) << r.error.message;
    const appliance_config& c = *r.config;
    EXPECT_EQ(c.listen.addresses.size(), 2u);
    EXPECT_EQ(c.listen.vlans, (std::vector<std::uint16_t>{0, 100}));
    EXPECT_EQ(c.listen.mtu, 9000u);
    EXPECT_EQ(c.dataplane.burst, 64u);
    EXPECT_EQ(c.dataplane.idle, idle_mode::sleep);
    EXPECT_EQ(c.dataplane.udp_checksum, checksum_mode::software);
    EXPECT_EQ(c.dataplane.fragment_timeout_ms, 250u);
    EXPECT_EQ(c.dataplane.fragment_mbufs, 3000u);
    EXPECT_EQ(c.exception.tap, "sr0");
    EXPECT_EQ(c.exception.ring_size, 4096u);
    EXPECT_EQ(
            c.sip.redirect_methods, sip::bit(sip::method::invite) | sip::bit(sip::method::message)
    );
    EXPECT_EQ(c.sip.server, "edge-7");
    ASSERT_TRUE(c.sip.to_tag_key.has_value());
    EXPECT_EQ((*c.sip.to_tag_key)[15], 0x0f);
    EXPECT_EQ((*c.sip.request_hash_key)[0], 0xff);
    EXPECT_EQ(c.pool_index, 1u);
    EXPECT_EQ(c.backends[0].config.address.port, 5062);
    EXPECT_EQ(c.backends[0].config.proto, balance::transport::tcp);
    EXPECT_EQ(c.backends[0].config.weight, 3u);
    EXPECT_DOUBLE_EQ(c.backends[0].config.threshold, 0.75);
    EXPECT_EQ(c.backends[0].state, balance::backend_state::draining);
    EXPECT_EQ(c.pools[1].policy, balance::policy_kind::hash);
    EXPECT_EQ(c.pools[1].key, balance::hash_key::from_user);
    EXPECT_EQ(c.pools[1].contacts, 3);
    EXPECT_EQ(c.pools[1].retry_after, 0u);
    EXPECT_DOUBLE_EQ(c.pools[1].latency_band_ms, 5.0);
    EXPECT_EQ(c.pools[2].policy, balance::policy_kind::least_latency);
    EXPECT_DOUBLE_EQ(c.pools[2].latency_band_ms, 2.5);
}

struct bad_case {
    const char* text;
    const char* expected; // the whole "file:line: message" prefix that must appear
};

void PrintTo(const bad_case& c, std::ostream* os) {
    *os << c.expected;
}

class config_errors : public ::testing::TestWithParam<bad_case> {};

TEST_P(config_errors, name_file_line_and_what) {
    const std::string message = error_of(GetParam().text);
    EXPECT_EQ(message.rfind(GetParam().expected, 0), 0u) << message;
}

INSTANTIATE_TEST_SUITE_P(
        config,
        config_errors,
        ::testing::Values(
                bad_case{
                        "[listen]\naddresses = [\"198.18.0.1\"\n",
                        "t.toml:2: Error while parsing array"},
                bad_case{"[[pool]]\nname='p'\nbackends=[]\n", "t.toml:1: [listen] is missing"},
                bad_case{
                        "[listen]\naddresses = [\"198.18.0.300\"]\n",
                        "t.toml:2: addresses: '198.18.0.300' is not an IPv4 or IPv6 address"},
                bad_case{
                        "[listen]\naddresses = [\"198.18.0.1\"]\nport = [5060]\n",
                        "t.toml:3: unknown key 'port' in [listen]"},
                bad_case{
                        "[listen]\naddresses = [\"198.18.0.1\"]\nports = [0]\n",
                        "t.toml:3: ports must be between 1 and 65535, not 0"},
                bad_case{
                        "[listen]\naddresses = [\"198.18.0.1\"]\n[dataplane]\nidle = \"nap\"\n",
                        "t.toml:4: idle must be one of poll, sleep, not 'nap'"},
                bad_case{"[listen]\naddresses = [\"198.18.0.1\"]\n", "t.toml:1: no [[pool]]"},
                bad_case{
                        "[listen]\naddresses = [\"198.18.0.1\"]\n[[pool]]\nname = \"p\"\n"
                        "backends = [\"ghost\"]\n",
                        "t.toml:5: pool 'p' names backend 'ghost', which no [[backend]] defines"},
                bad_case{
                        "[listen]\naddresses = [\"198.18.0.1\"]\n[[backend]]\nname = \"b\"\n"
                        "address = \"198.18.1.1:99999\"\n",
                        "t.toml:5: address: '198.18.1.1:99999' has no valid port"},
                bad_case{
                        "[listen]\naddresses = [\"198.18.0.1\"]\n[[backend]]\nname = \"b\"\n"
                        "address = \"198.18.1.1\"\nthreshold = 1.5\n",
                        "t.toml:6: threshold must be above 0 and at most 1, not 1.5"},
                bad_case{
                        "[listen]\naddresses = [\"198.18.0.1\"]\n[sip]\nto_tag_key = \"abc\"\n",
                        "t.toml:4: to_tag_key must be 32 hexadecimal digits"},
                bad_case{
                        "[listen]\naddresses = [\"198.18.0.1\"]\n[sip]\n"
                        "redirect_methods = [\"ACK\"]\n",
                        "t.toml:4: redirect_methods: 'ACK' cannot be redirected"},
                bad_case{
                        "[listen]\naddresses = [\"198.18.0.1\"]\n[sip]\npool = \"nope\"\n"
                        "[[backend]]\nname = \"b\"\naddress = \"198.18.1.1\"\n"
                        "[[pool]]\nname = \"p\"\nbackends = [\"b\"]\n",
                        "t.toml:4: sip.pool names 'nope', which no [[pool]] defines"},
                bad_case{
                        "[listen]\naddresses = [\"198.18.0.1\"]\n[exception]\nring_size = 1000\n",
                        "t.toml:4: ring_size must be a power of two"},
                bad_case{// no slash: once an out-of-range pointer (UBSan, config_fuzz)
                         "[listen]\naddresses = [\"198.18.0.1\"]\n[exception]\n"
                         "addresses = [\"198.18.0.1\"]\n",
                         "t.toml:4: addresses: '198.18.0.1' is not address/prefix (198.18.0.1/15)"},
                bad_case{
                        "[listen]\naddresses = [\"198.18.0.1\"]\n[[backend]]\nname = \"b\"\n"
                        "address = \"198.18.1.1\"\n[[pool]]\nname = \"p\"\nbackends = [\"b\"]\n"
                        "latency_band_ms = -1\n",
                        "t.toml:9: latency_band_ms must be above 0 and at most 10000, not -1"}
        )
);

TEST(config, every_hash_key_is_read) {
    using balance::hash_key;
    const std::pair<const char*, hash_key> cases[] = {
            {"call-id", hash_key::call_id},
            {"from-user", hash_key::from_user},
            {"to-user", hash_key::to_user},
            {"request-uri-user", hash_key::request_uri_user},
            {"source-ip", hash_key::source_ip},
    };
    for (const auto& [text, expected] : cases) {
        const config_result r = parse_config(
                minimal + "policy = \"hash\"\nhash_key = \"" + text + "\"\n", "t.toml"
        );
        ASSERT_TRUE(r.config.has_value()) << text << ": " << r.error.message;
        EXPECT_EQ(r.config->pools[0].key, expected) << text;
    }
    EXPECT_EQ(
            error_of(minimal + "hash_key = \"via\"\n"),
            "t.toml:12: hash_key must be one of call-id, from-user, to-user, request-uri-user, "
            "source-ip, not 'via'"
    );
}

TEST(config, priorities_and_tiers_are_read) {
    const config_result r = parse_config(
            R"(
[listen]
addresses = ["198.18.0.1"]
[[backend]]
name = "near"
address = "198.18.1.1"
[[backend]]
name = "far"
address = "198.18.2.1"
priority = 65535
[[pool]]
name = "tiered"
backends = ["near", "far"]
policy = "hash"
tiers = true
[[pool]]
name = "flat"
backends = ["near", "far"]
)",
            "t.toml"
    );
    ASSERT_TRUE(r.config.has_value()) << r.error.message;
    const appliance_config& c = *r.config;
    EXPECT_EQ(c.backends[0].config.priority, 0u) << "the default";
    EXPECT_EQ(c.backends[1].config.priority, 65535u);
    EXPECT_TRUE(c.pools[0].tiers);
    EXPECT_FALSE(c.pools[1].tiers) << "off by default";
}

TEST(config, priority_and_tier_mistakes_are_refused_with_their_line) {
    const std::string backend = "[listen]\naddresses = [\"198.18.0.1\"]\n[[backend]]\nname = "
                                "\"b\"\naddress = \"198.18.1.1\"\n";
    const std::string pool = "[[pool]]\nname = \"p\"\nbackends = [\"b\"]\n";
    const bad_case cases[] = {
            {"priority = -1\n", "t.toml:6: priority must be between 0 and 65535, not -1"},
            {"priority = 65536\n", "t.toml:6: priority must be between 0 and 65535, not 65536"},
            {"priority = \"high\"\n", "t.toml:6: priority must be an integer"},
            {"priority = 1.5\n", "t.toml:6: priority must be an integer"},
    };
    for (const bad_case& c : cases) {
        EXPECT_EQ(error_of(backend + c.text + pool), c.expected) << c.text;
    }
    const bad_case pool_cases[] = {
            {"tiers = \"yes\"\n", "t.toml:11: tiers must be true or false"},
            {"tiers = 1\n", "t.toml:11: tiers must be true or false"},
            {"policy = \"race\"\ntiers = true\n",
             "t.toml:12: pool 'p': tiers do not apply to policy race"},
    };
    for (const bad_case& c : pool_cases) {
        const std::string message =
                error_of(backend + "[exception]\ntap = \"sr0\"\n" + pool + c.text);
        EXPECT_EQ(message.rfind(c.expected, 0), 0u) << message;
    }
}

TEST(config, unreadable_file_is_an_error_not_a_crash) {
    const config_result r = load_config("/nonexistent/sipredir.toml");
    EXPECT_FALSE(r.config.has_value());
    EXPECT_EQ(r.error.message, "/nonexistent/sipredir.toml:0: cannot be read");
}

namespace {

// A key file beside the configuration, as an operator would keep it.
std::string write_key_file(const std::string& name, char digit) {
    const auto path = std::filesystem::temp_directory_path() / name;
    std::ofstream(path) << std::string(64, digit) << "\n";
    std::filesystem::permissions(
            path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write
    );
    return path.string();
}

const std::string with_tap = R"(
[listen]
addresses = ["198.18.0.1"]
[exception]
tap = "sipredir0"
[[backend]]
name = "b1"
address = "198.18.1.1:5060"
[[pool]]
name = "default"
backends = ["b1"]
)";

} // namespace

TEST(config, probe_section_enables_probing_with_defaults) {
    const config_result off = parse_config(with_tap, "t.toml");
    ASSERT_TRUE(off.config) << off.error.message;
    EXPECT_FALSE(off.config->probe.enabled);
    const config_result r = parse_config(with_tap + "[probe]\n", "t.toml");
    ASSERT_TRUE(r.config) << r.error.message;
    const probe_config& p = r.config->probe;
    EXPECT_TRUE(p.enabled);
    EXPECT_EQ(p.settings.interval_ns, 1'000'000'000);
    EXPECT_EQ(p.settings.timeout_ns, 400'000'000);
    EXPECT_EQ(p.settings.policy.down_after, 2u);
    EXPECT_EQ(p.settings.policy.up_after, 2u);
    EXPECT_EQ(p.settings.alive_codes, (std::vector<code_range>{{200, 299}}));
    EXPECT_EQ(p.source_port, 5062);
    EXPECT_EQ(r.config->load.max_age_ms, 5000u);
}

TEST(config, probe_reports_load_and_management_are_read) {
    const std::string key = write_key_file("sipredir_config_test.key", 'a');
    const std::string own = write_key_file("sipredir_config_test_b1.key", 'b');
    const std::string text = R"(
[listen]
addresses = ["198.18.0.1"]
[exception]
tap = "sipredir0"
[probe]
interval_ms = 200
down_after = 3
up_after = 1
alive_codes = ["200-299", 404]
source_port = 5080
load_header = "X-Load"
load_format = "calls-capacity"
[reports]
port = 5081
key_file = ")" + key + R"("
window_ms = 2000
rate = 5
burst = 10
[load]
max_age_ms = 1500
[management]
socket = "/tmp/sr.sock"
metrics = "127.0.0.1:9100"
[[backend]]
name = "b1"
address = "198.18.1.1:5060"
report_key_file = ")" + own + R"("
[[pool]]
name = "default"
backends = ["b1"]
)";
    const config_result r = parse_config(text, "t.toml");
    ASSERT_TRUE(r.config) << r.error.message;
    const appliance_config& c = *r.config;
    EXPECT_EQ(c.probe.settings.interval_ns, 200'000'000);
    EXPECT_EQ(c.probe.settings.timeout_ns, 80'000'000) << "default: 2/5 of a short interval";
    EXPECT_EQ(c.probe.settings.policy.down_after, 3u);
    EXPECT_EQ(c.probe.settings.alive_codes, (std::vector<code_range>{{200, 299}, {404, 404}}));
    EXPECT_EQ(c.probe.source_port, 5080);
    EXPECT_EQ(c.probe.settings.load_header, "X-Load");
    EXPECT_EQ(c.probe.settings.format, load_format::calls_capacity);
    EXPECT_EQ(c.reports.port, 5081);
    ASSERT_TRUE(c.reports.key);
    EXPECT_EQ((*c.reports.key)[0], 0xaa);
    ASSERT_TRUE(c.backends[0].own_key);
    EXPECT_EQ((*c.backends[0].own_key)[0], 0xbb);
    EXPECT_EQ(c.reports.settings.window_ms, 2000);
    EXPECT_DOUBLE_EQ(c.reports.settings.rate, 5);
    EXPECT_EQ(c.load.max_age_ms, 1500u);
    EXPECT_EQ(c.management.socket, "/tmp/sr.sock");
    ASSERT_TRUE(c.management.metrics);
    EXPECT_EQ(c.management.metrics->port, 9100);
}

TEST(config, control_plane_mistakes_are_refused_with_their_line) {
    const std::string no_tap = minimal + "[probe]\ninterval_ms = 500\n";
    EXPECT_EQ(error_of(no_tap).substr(0, 8), "t.toml:1");
    EXPECT_NE(error_of(no_tap).find("needs the exception path"), std::string::npos);
    EXPECT_NE(
            error_of(with_tap + "[probe]\nsource_port = 5060\n").find("source_port must not be"),
            std::string::npos
    );
    EXPECT_NE(
            error_of(with_tap + "[probe]\ninterval_ms = 100\ntimeout_ms = 200\n")
                    .find("timeout_ms must not exceed"),
            std::string::npos
    );
    EXPECT_NE(
            error_of(with_tap + "[probe]\nalive_codes = [\"299-200\"]\n").find("alive_codes"),
            std::string::npos
    );
    EXPECT_NE(
            error_of(with_tap + "[probe]\nload_header = \"X Load\"\n").find("load_header"),
            std::string::npos
    );
    EXPECT_NE(
            error_of(with_tap + "[reports]\nport = 5081\n").find("has no key"), std::string::npos
    );
    const std::string e =
            error_of(with_tap + "[reports]\nport = 5081\nkey_file = \"/nonexistent\"\n");
    EXPECT_EQ(e.substr(0, 10), "t.toml:14:") << e;
    EXPECT_NE(e.find("the key file '/nonexistent' cannot be read"), std::string::npos) << e;
    EXPECT_NE(
            error_of(with_tap + "[probe]\nbogus = 1\n").find("unknown key 'bogus'"),
            std::string::npos
    );
}

TEST(config, backends_sharing_a_report_key_are_refused_unless_allowed) {
    const std::string key = write_key_file("sipredir_config_test.key", 'a');
    const std::string own = write_key_file("sipredir_config_test_b1.key", 'b');
    const std::string other = write_key_file("sipredir_config_test_b2.key", 'c');
    const auto with_keys =
            [&](const std::string& reports, const std::string& b1, const std::string& b2) {
                return "[listen]\naddresses = [\"198.18.0.1\"]\n[exception]\ntap = \"sipredir0\"\n"
                       "[reports]\nport = 5081\n"
                       + reports + "[[backend]]\nname = \"b1\"\naddress = \"198.18.1.1\"\n" + b1
                       + "[[backend]]\nname = \"b2\"\naddress = \"198.18.1.2\"\n" + b2
                       + "[[pool]]\nname = \"p\"\nbackends = [\"b1\", \"b2\"]\n";
            };
    const std::string shared = "key_file = \"" + key + "\"\n";
    const auto own_key = [](const std::string& path) {
        return "report_key_file = \"" + path + "\"\n";
    };
    struct row {
        const char* name;
        std::string text;
        std::string error; // "" when taken
    };
    const row rows[] = {
            {"one key_file for both",
             with_keys(shared, "", ""),
             "t.toml:7: backends 'b1' and 'b2' share a report key: any of them could sign as the "
             "others; give each [[backend]] its own report_key_file, or set "
             "allow_shared_report_key = true"},
            {"one backend on the shared key, one its own", with_keys(shared, own_key(own), ""), ""},
            {"the same key in two files",
             with_keys("", own_key(own), own_key(own)),
             "t.toml:5: backends 'b1' and 'b2' share a report key"},
            {"each its own", with_keys("", own_key(own), own_key(other)), ""},
            {"shared, allowed", with_keys(shared + "allow_shared_report_key = true\n", "", ""), ""},
    };
    for (const row& r : rows) {
        const config_result c = parse_config(r.text, "t.toml");
        if (r.error.empty()) {
            EXPECT_TRUE(c.config) << r.name << ": " << c.error.message;
        } else {
            EXPECT_FALSE(c.config) << r.name;
            EXPECT_EQ(c.error.message.substr(0, r.error.size()), r.error) << r.name;
        }
    }
    const config_result allowed = parse_config(rows[4].text, "t.toml");
    ASSERT_TRUE(allowed.config);
    EXPECT_TRUE(allowed.config->reports.allow_shared_key);
}

TEST(config, a_key_file_open_to_others_is_refused_with_its_line) {
    const std::string key = write_key_file("sipredir_config_test_open.key", 'a');
    std::filesystem::permissions(
            key, std::filesystem::perms::group_read, std::filesystem::perm_options::add
    );
    const std::string e =
            error_of(with_tap + "[reports]\nport = 5081\nkey_file = \"" + key + "\"\n");
    EXPECT_EQ(e.substr(0, 10), "t.toml:14:") << e;
    EXPECT_NE(e.find("is open to group or others (mode 0640): chmod 600 it"), std::string::npos)
            << e;
}

TEST(config, report_source_is_read) {
    const std::string own = write_key_file("sipredir_config_test_b1.key", 'b');
    const config_result r = parse_config(
            "[listen]\naddresses = [\"198.18.0.1\"]\n[exception]\ntap = \"sipredir0\"\n"
            "[reports]\nport = 5081\n[[backend]]\nname = \"b1\"\naddress = \"198.18.1.1\"\n"
            "report_key_file = \""
                    + own
                    + "\"\nreport_source = \"198.18.0.9\"\n"
                      "[[pool]]\nname = \"p\"\nbackends = [\"b1\"]\n",
            "t.toml"
    );
    ASSERT_TRUE(r.config) << r.error.message;
    EXPECT_EQ(r.config->backends[0].report_source, net::ip_address::v4(198, 18, 0, 9));
    EXPECT_FALSE(parse_config(with_tap, "t.toml").config->backends[0].report_source);
    EXPECT_NE(
            error_of(
                    with_tap
                    + "[[backend]]\nname = \"b2\"\naddress = \"198.18.1.2\"\nreport_source = "
                      "\"nowhere\"\n"
            )
                    .find("report_source"),
            std::string::npos
    );
}

TEST(config, fleet_is_read) {
    const std::string key = write_key_file("sipredir_config_test_fleet.key", 'c');
    const config_result r = parse_config(
            with_tap + "[fleet]\nname = \"sr-a\"\nport = 5071\nkey_file = \"" + key
                    + "\"\npeers = [\"sr-b@198.18.0.12:5070\", \"sr-c@198.18.0.13\"]\n"
                      "interval_ms = 20\nfull_interval_ms = 500\npeer_timeout_ms = 1500\n"
                      "window_ms = 3000\nsend_fraction = 0.1\nprobers = 0\n",
            "t.toml"
    );
    ASSERT_TRUE(r.config) << r.error.message;
    const fleet_config& f = r.config->fleet;
    EXPECT_TRUE(f.enabled);
    EXPECT_EQ(f.name, "sr-a");
    EXPECT_EQ(f.port, 5071);
    ASSERT_TRUE(f.key);
    EXPECT_EQ((*f.key)[0], 0xcc);
    ASSERT_EQ(f.peers.size(), 2U);
    EXPECT_EQ(f.peers[1].address, net::ip_address::v4(198, 18, 0, 13));
    EXPECT_EQ(f.peers[0].port, 5070);
    EXPECT_EQ(f.peers[1].port, 5071) << "no port: this appliance's own";
    EXPECT_EQ(f.peer_names, (std::vector<std::string>{"sr-b", "sr-c"}));
    EXPECT_EQ(f.interval_ms, 20U);
    EXPECT_EQ(f.full_interval_ms, 500U);
    EXPECT_EQ(f.peer_timeout_ms, 1500U);
    EXPECT_EQ(f.window_ms, 3000U);
    EXPECT_DOUBLE_EQ(f.send_fraction, 0.1);
    EXPECT_EQ(f.probers, 0U);
    EXPECT_FALSE(parse_config(with_tap, "t.toml").config->fleet.enabled);
}

TEST(config, config_revision_is_kept_as_written) {
    EXPECT_EQ(
            parse_config("config_revision = 1234\n" + minimal, "t.toml").config->revision, "1234"
    );
    EXPECT_EQ(
            parse_config("config_revision = \"r-7\"\n" + minimal, "t.toml").config->revision, "r-7"
    );
    EXPECT_EQ(parse_config(minimal, "t.toml").config->revision, "");
    const std::string e = error_of("config_revision = \"a b\"\n" + minimal);
    EXPECT_EQ(e.substr(0, 9), "t.toml:1:") << e;
    EXPECT_NE(e.find("config_revision must be"), std::string::npos) << e;
}

TEST(config, fleet_mistakes_are_refused_with_their_line) {
    const std::string key = write_key_file("sipredir_config_test_fleet.key", 'c');
    const std::string fleet = "[fleet]\nname = \"sr-a\"\nkey_file = \"" + key + "\"\n";
    const auto refused = [&](const std::string& text, std::string_view what) {
        const std::string e = error_of(text);
        EXPECT_EQ(e.substr(0, 7), "t.toml:") << e;
        EXPECT_NE(e.find(what), std::string::npos) << e;
    };
    refused(minimal + fleet, "[fleet] needs the exception path");
    refused(with_tap + "[fleet]\nkey_file = \"" + key + "\"\n", "[fleet] needs name");
    refused(with_tap + "[fleet]\nname = \"sr-a\"\n", "[fleet] needs key_file");
    refused(with_tap + "[fleet]\nname = \"sr a\"\nkey_file = \"" + key + "\"\n", "name must be");
    refused(with_tap + fleet + "port = 5060\n", "fleet port must differ");
    refused(with_tap + fleet + "peers = [\"sr-b:5070\"]\n", "peers");
    // Each peer's name binds its messages to its address.
    refused(with_tap + fleet + "peers = [\"198.18.0.12:5070\"]\n",
            "t.toml:15: peers: '198.18.0.12:5070' must be \"name@address[:port]\"");
    refused(with_tap + fleet + "peers = [\"sr-a@198.18.0.12\"]\n", "not this appliance's");
    refused(with_tap + fleet + "peers = [\"sr-b@198.18.0.12\", \"sr-b@198.18.0.13\"]\n",
            "each name once");
    refused(with_tap + fleet + "peers = [\"sr-b@nowhere\"]\n", "'nowhere' is not address[:port]");
    refused(with_tap + fleet + "full_interval_ms = 1000\npeer_timeout_ms = 1000\n",
            "peer_timeout_ms must exceed full_interval_ms");
    refused(with_tap + fleet + "interval_ms = 500\nfull_interval_ms = 200\n",
            "full_interval_ms must be at least interval_ms");
    refused(with_tap + fleet + "send_fraction = 2\n", "send_fraction");
    refused(with_tap + fleet + "probers = 257\n", "t.toml:15: probers must be between 0 and 256");
    refused(with_tap + fleet + "probers = -1\n", "t.toml:15: probers must be between 0 and 256");
    refused(with_tap + fleet + "bogus = 1\n", "unknown key 'bogus'");
}

TEST(config, a_backend_at_our_own_or_a_fleet_peers_address_is_refused) {
    const auto with_backend = [](std::string_view listen, std::string_view address) {
        return "[listen]\naddresses = [" + std::string(listen)
               + "]\n[exception]\ntap = \"sipredir0\"\n"
                 "[[backend]]\nname = \"b1\"\naddress = \"198.18.1.1\"\n"
                 "[[backend]]\nname = \"b2\"\naddress = \""
               + std::string(address) + "\"\n[[pool]]\nname = \"p\"\nbackends = [\"b1\", \"b2\"]\n";
    };
    // Line 10 is b2's address.
    EXPECT_EQ(
            error_of(with_backend("\"198.18.0.1\"", "198.18.0.1:5060")),
            "t.toml:10: backend 'b2' (198.18.0.1) is one of listen.addresses: callers redirected "
            "to it would come back to this appliance"
    );
    EXPECT_EQ(
            error_of(with_backend("\"198.18.0.1\", \"2001:db8::1\"", "[2001:db8::1]:5080"))
                    .substr(0, 44),
            "t.toml:10: backend 'b2' (2001:db8::1) is one"
    );
    EXPECT_TRUE(parse_config(with_backend("\"198.18.0.1\"", "198.18.0.2:5060"), "t.toml").config);

    const std::string key = write_key_file("sipredir_config_test_fleet.key", 'c');
    const std::string fleet = "[fleet]\nname = \"sr-a\"\nkey_file = \"" + key
                              + "\"\npeers = [\"sr-b@198.18.0.12:5070\", \"sr-c@198.18.0.13\"]\n";
    EXPECT_EQ(
            error_of(with_backend("\"198.18.0.1\"", "198.18.0.13:5060") + fleet),
            "t.toml:10: backend 'b2' (198.18.0.13) is fleet peer 198.18.0.13:5070: callers "
            "redirected to it would reach another redirect server, not a proxy"
    );
    EXPECT_TRUE(parse_config(with_backend("\"198.18.0.1\"", "198.18.0.14:5060") + fleet, "t.toml")
                        .config);
}

TEST(config, rules_inline_and_from_a_rules_file_in_that_order) {
    const auto dir = std::filesystem::temp_directory_path() / "sipredir-config-rules";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "rules.toml") << R"([[rule]]
name = "scanners"
field = "header:User-Agent"
regex = "friendly-scanner|sipvicious"
caseless = true
action = "drop"
)";
    const std::string text = minimal + R"(
[[pool]]
name = "mobile"
backends = ["b1"]

[rules]
file = "rules.toml"

[[rule]]
name = "mobile numbers"
field = "request-uri-user"
prefix = "+4917"
action = "route"
pool = "mobile"

[[rule]]
field = "request-uri-host"
exact = "bad.example"
action = "reject"
)";
    const config_result r = parse_config(text, (dir / "sr.toml").string());
    ASSERT_TRUE(r.config) << r.error.message;
    const auto& rules = r.config->rules->rules();
    ASSERT_EQ(rules.size(), 3u);
    EXPECT_EQ(rules[0].name, "mobile numbers");
    EXPECT_EQ(rules[0].pool, 1u);
    EXPECT_EQ(rules[0].then, rules::action::route);
    EXPECT_EQ(rules[1].name, "line 27") << "unnamed: named by its line";
    EXPECT_TRUE(rules[1].caseless) << "domains match caselessly by default";
    EXPECT_EQ(rules[2].name, "scanners");
    EXPECT_EQ(rules[2].where, rules::field::header);
    EXPECT_EQ(rules[2].header, "User-Agent");
    EXPECT_EQ(rules[2].line, 1u);
    EXPECT_EQ(rules[2].source, (dir / "rules.toml").string());

    std::ofstream(dir / "rules.toml") << "[[rule]]\nname = \"x\"\nfield = \"from-user\"\n"
                                         "regex = \"(oops\"\naction = \"drop\"\n";
    const config_result bad = parse_config(text, (dir / "sr.toml").string());
    ASSERT_FALSE(bad.config);
    EXPECT_EQ(bad.error.message.rfind((dir / "rules.toml").string() + ":1: rule 'x': ", 0), 0u)
            << bad.error.message;
    std::ofstream(dir / "rules.toml") << "[[rule]]\nname = \"x\"\nfield = \"from-user\"\n"
                                         "exact = \"a\"\naction = \"explode\"\n";
    EXPECT_EQ(
            parse_config(text, (dir / "sr.toml").string()).error.message,
            (dir / "rules.toml").string()
                    + ":5: action must be one of route, drop, reject, not 'explode'"
    );
    std::filesystem::remove_all(dir);
}

TEST(config, rule_mistakes_are_refused_with_their_line) {
    const auto refused = [](const std::string& rule) { return error_of(minimal + rule); };
    EXPECT_EQ(
            refused("[[rule]]\nfield = \"request-uri-user\"\nprefix = \"1\"\naction = \"route\"\n"
                    "pool = \"nope\"\n"),
            "t.toml:16: rule 'line 12' routes to pool 'nope', which no [[pool]] defines"
    );
    EXPECT_EQ(
            refused("[[rule]]\nfield = \"request-uri-user\"\nprefix = \"1\"\naction = \"route\"\n"),
            "t.toml:15: a route rule needs a pool"
    );
    EXPECT_EQ(
            refused("[[rule]]\nfield = \"request-uri-user\"\nprefix = \"1\"\nregex = \"2\"\n"
                    "action = \"drop\"\n"),
            "t.toml:12: rule 'line 12' needs exactly one of prefix, exact, contains, regex"
    );
    EXPECT_EQ(
            refused("[[rule]]\nfield = \"header:User Agent\"\nprefix = \"1\"\naction = \"drop\"\n"),
            "t.toml:13: field must be request-uri-user, request-uri-host, from-user or "
            "header:NAME, not 'header:User Agent'"
    );
    EXPECT_EQ(
            refused("[[rule]]\nname = \"e\"\nfield = \"from-user\"\nexact = \"\"\naction = "
                    "\"drop\"\n"),
            "t.toml:12: rule 'e': the pattern is empty"
    );
    EXPECT_EQ(
            refused("[rules]\nfile = \"/nonexistent/rules.toml\"\n"),
            "t.toml:13: rules file '/nonexistent/rules.toml' cannot be read"
    );
}

TEST(config, limits_are_read_and_checked) {
    const config_result r = parse_config(
            minimal
                    + "[limits]\nrate = 20\nipv4_prefix = 24\naction = \"503\"\n"
                      "allow = [\"198.18.7.0/24\", \"2001:db8::/32\"]\n",
            "t.toml"
    );
    ASSERT_TRUE(r.config) << r.error.message;
    const pipeline::source_limit_settings& l = r.config->limits;
    EXPECT_DOUBLE_EQ(l.rate, 20);
    EXPECT_DOUBLE_EQ(l.burst, 40) << "twice the rate by default";
    EXPECT_EQ(l.ipv4_prefix, 24);
    EXPECT_EQ(l.ipv6_prefix, 64);
    EXPECT_TRUE(l.reply_503);
    ASSERT_EQ(l.allow.size(), 2u);
    EXPECT_EQ(l.allow[1].length, 32);
    EXPECT_FALSE(parse_config(minimal, "t.toml").config->limits.enabled()) << "off by default";
    EXPECT_EQ(
            error_of(minimal + "[limits]\nrate = 20\nallow = [\"198.18.7.0\"]\n"),
            "t.toml:14: allow: '198.18.7.0' is not address/prefix (198.18.0.1/15)"
    );
    EXPECT_EQ(
            error_of(minimal + "[limits]\nrate = 20\nsources = 1000\n"),
            "t.toml:14: sources must be a power of two"
    );
    EXPECT_EQ(
            error_of(minimal + "[limits]\nburst = 3\n"),
            "t.toml:12: [limits] needs rate (requests per second per source)"
    );
}

TEST(config, max_reply_growth_is_read_and_checked) {
    EXPECT_EQ(parse_config(minimal, "t.toml").config->sip.max_reply_growth, 256u);
    const config_result r = parse_config(minimal + "[sip]\nmax_reply_growth = 100\n", "t.toml");
    ASSERT_TRUE(r.config) << r.error.message;
    EXPECT_EQ(r.config->sip.max_reply_growth, 100u);
    EXPECT_EQ(
            error_of(minimal + "[sip]\nmax_reply_growth = -1\n"),
            "t.toml:13: max_reply_growth must be between 0 and 65535, not -1"
    );
    // The workers' identity holds it: a reload cannot change it.
    appliance_config other = *r.config;
    other.sip.max_reply_growth = 101;
    EXPECT_FALSE(same_identity_policy(r.config->sip, other.sip));
}

TEST(config, overload_is_read_and_checked) {
    const overload_settings defaults = parse_config(minimal, "t.toml").config->overload;
    EXPECT_TRUE(defaults.enabled) << "on by default: only clients that offer oc are told";
    EXPECT_DOUBLE_EQ(defaults.busy_share, 0.9);
    EXPECT_DOUBLE_EQ(defaults.imissed_per_second, 1000);
    EXPECT_EQ(defaults.reduction, 20);
    EXPECT_EQ(defaults.validity_ms, 500u);
    const config_result r = parse_config(
            minimal
                    + "[overload]\nenabled = false\nbusy_share = 0.75\nimissed_per_second = 0\n"
                      "reduction = 35\nvalidity_ms = 2000\n",
            "t.toml"
    );
    ASSERT_TRUE(r.config) << r.error.message;
    const overload_settings& o = r.config->overload;
    EXPECT_FALSE(o.enabled);
    EXPECT_DOUBLE_EQ(o.busy_share, 0.75);
    EXPECT_DOUBLE_EQ(o.imissed_per_second, 0) << "0: not a trigger";
    EXPECT_EQ(o.reduction, 35);
    EXPECT_EQ(o.validity_ms, 2000u);
    const struct {
        const char* text;
        const char* expected;
    } bad[] = {
            {"reduction = 0", "t.toml:13: reduction must be between 1 and 100, not 0"},
            {"reduction = 101", "t.toml:13: reduction must be between 1 and 100, not 101"},
            {"validity_ms = 0", "t.toml:13: validity_ms must be between 1 and 86400000, not 0"},
            {"busy_share = 1.5", "t.toml:13: busy_share must be above 0 and at most 1, not 1.5"},
            {"busy_share = 0", "t.toml:13: busy_share must be above 0 and at most 1, not 0"},
            {"imissed_per_second = -3",
             "t.toml:13: imissed_per_second must be above 0 and at most 1e+09, not -3"},
            {"enabled = 1", "t.toml:13: enabled must be true or false"},
            {"oc = 20", "t.toml:13: unknown key 'oc' in [overload]"},
    };
    for (const auto& c : bad) {
        const std::string message = error_of(minimal + "[overload]\n" + c.text + "\n");
        EXPECT_EQ(message.rfind(c.expected, 0), 0u) << message;
    }
}

TEST(config, the_shipped_scanner_rules_drop_scanners_and_nothing_else) {
    const auto path = test::data_dir().parent_path().parent_path() / "config" / "example.toml";
    const config_result r = load_config(path.string());
    ASSERT_TRUE(r.config) << r.error.message;
    rules::ruleset& set = *r.config->rules;
    ASSERT_TRUE(set.allocate_scratch(1));
    const auto with_agent = [&](const std::string& agent) {
        const std::string request =
                "OPTIONS sip:100@198.18.0.1 SIP/2.0\r\n"
                "Via: SIP/2.0/UDP 198.18.0.9;branch=z9hG4bKs\r\n"
                "From: <sip:100@198.18.0.9>;tag=1\r\nTo: <sip:100@198.18.0.1>\r\n"
                "Call-ID: s@198.18.0.9\r\nCSeq: 1 OPTIONS\r\nUser-Agent: "
                + agent + "\r\nContent-Length: 0\r\n\r\n";
        sip::message_view m;
        sip::parse(request, m);
        const rules::rule* rule = set.match(m, 0).matched;
        return rule != nullptr && rule->then == rules::action::drop;
    };
    for (const char* scanner :
         {"friendly-scanner",
          "sipvicious",
          "SIPVicious 0.3.4",
          "sipcli/v1.8",
          "VaxSIPUserAgent/3.1"}) {
        EXPECT_TRUE(with_agent(scanner)) << scanner;
    }
    for (const char* phone :
         {"Grandstream GXP2170 1.0.11.3",
          "Yealink SIP-T46S 66.86.0.15",
          "Asterisk PBX 20.5.0",
          "FreeSWITCH-mod_sofia/1.10.11",
          "Cisco-SIPGateway/IOS-15.x",
          "kamailio (5.6.4 (x86_64/linux))"}) {
        EXPECT_FALSE(with_agent(phone)) << phone;
    }
}

TEST(config, a_path_to_a_device_or_a_huge_file_is_an_error_not_a_hang) {
    EXPECT_EQ(load_config("/dev/zero").error.message, "/dev/zero:0: is not a regular file");
    EXPECT_EQ(
            error_of(minimal + "[rules]\nfile = \"/dev/zero\"\n"),
            "t.toml:13: rules file '/dev/zero' is not a regular file"
    );
    const auto big = std::filesystem::temp_directory_path() / "sipredir-big.toml";
    {
        std::ofstream out(big);
        out << minimal;
        out << std::string((16 << 20) + 1, '#');
    }
    EXPECT_EQ(
            load_config(big.string()).error.message,
            big.string() + ":0: is larger than 16777216 bytes"
    );
    std::filesystem::remove(big);
}

namespace {

const std::string race_base = R"(
[listen]
addresses = ["198.18.0.1"]

[exception]
tap = "sr0"
addresses = ["198.18.0.1/24"]

[[backend]]
name = "b1"
address = "198.18.1.1:5060"

[[backend]]
name = "b2"
address = "198.18.1.2:5060"
)";

} // namespace

TEST(config, race_pools_are_read_with_their_defaults) {
    const config_result r = parse_config(
            race_base
                    + "[race]\ntable_size = 64\nsource_port = 5070\nleg_linger_ms = 2000\n"
                      "when_full = \"fallback\"\n"
                      "[[pool]]\nname = \"r\"\nbackends = [\"b1\", \"b2\"]\npolicy = \"race\"\n"
                      "race_method = \"invite\"\nrace_fallback = \"503\"\nrace_timeout_ms = 150\n"
                      "race_coalesce_ms = 20\nrace_max_legs_per_second = 500\n"
                      "race_leg = \"header\"\nrace_leg_header = \"X-Race: 1\"\n"
                      "[[pool]]\nname = \"d\"\nbackends = [\"b1\"]\npolicy = \"race\"\n",
            "t.toml"
    );
    ASSERT_TRUE(r.config.has_value()) << r.error.message;
    const appliance_config& c = *r.config;
    EXPECT_EQ(c.race.table_size, 64u);
    EXPECT_EQ(c.race.source_port, 5070);
    EXPECT_EQ(c.race.leg_linger_ms, 2000u);
    EXPECT_TRUE(c.race.full_reply_fallback);
    const balance::race_config& x = c.pools[0].race;
    EXPECT_EQ(c.pools[0].policy, balance::policy_kind::race);
    EXPECT_EQ(x.method, balance::race_method::invite);
    EXPECT_TRUE(x.refuse_fallback);
    EXPECT_EQ(x.timeout_ms, 150u);
    EXPECT_EQ(x.coalesce_ms, 20u);
    EXPECT_EQ(x.max_legs_per_second, 500u);
    EXPECT_EQ(x.leg, balance::race_leg::header);
    EXPECT_EQ(x.leg_header, "X-Race: 1");
    const balance::race_config& d = c.pools[1].race;
    EXPECT_EQ(d.method, balance::race_method::options);
    EXPECT_EQ(d.fallback, balance::policy_kind::least_load);
    EXPECT_FALSE(d.refuse_fallback);
    EXPECT_EQ(d.timeout_ms, 200u);
    EXPECT_EQ(d.leg, balance::race_leg::max_forwards_0);
}

TEST(config, race_mistakes_are_refused_with_their_line) {
    const std::string pool = "[[pool]]\nname = \"r\"\nbackends = [\"b1\"]\npolicy = \"race\"\n";
    // 0 once meant "no cap": a flood at the appliance became a flood at every backend.
    EXPECT_EQ(
            error_of(race_base + pool + "race_max_legs_per_second = 0\n"),
            "t.toml:20: race_max_legs_per_second must be between 1 and 1000000, not 0"
    );
    EXPECT_EQ(
            error_of(race_base + pool + "race_max_legs = 0\n"),
            "t.toml:20: race_max_legs must be between 1 and 256, not 0"
    );
    EXPECT_EQ(
            error_of(race_base + pool + "race_max_body = 70000\n"),
            "t.toml:20: race_max_body must be between 0 and 65535, not 70000"
    );
    EXPECT_NE(
            error_of(minimal + "race_timeout_ms = 100\n").find("for pools with policy"),
            std::string::npos
    );
    EXPECT_NE(
            error_of(race_base + pool + "race_leg = \"forward\"\n")
                    .find("t.toml:20: race_leg \"forward\" lets a race leg ring a phone"),
            std::string::npos
    ) << error_of(race_base + pool + "race_leg = \"forward\"\n");
    EXPECT_TRUE(parse_config(
                        race_base + "[race]\nallow_forwarding_legs = true\n" + pool
                                + "race_leg = \"forward\"\n",
                        "t.toml"
    )
                        .config.has_value());
    EXPECT_NE(
            error_of(race_base + pool + "race_leg = \"header\"\n").find("needs race_leg_header"),
            std::string::npos
    );
    EXPECT_NE(
            error_of(race_base + pool + "race_leg_header = \"X-Race\\r\\nEvil: 1\"\n")
                    .find("one header line"),
            std::string::npos
    );
    EXPECT_NE(
            error_of(race_base + pool + "race_fallback = \"race\"\n").find("must be one of"),
            std::string::npos
    );
    EXPECT_NE(
            error_of(race_base + "[race]\nsource_port = 5060\n" + pool).find("race source_port"),
            std::string::npos
    );
    const std::string no_tap = minimal.substr(0, minimal.find("[[pool]]")) + pool;
    EXPECT_NE(
            error_of(no_tap).find("races its backends, which needs the exception path"),
            std::string::npos
    );
}

TEST(config, pool_contact_user_and_params_are_read) {
    const config_result defaults = parse_config(minimal, "t.toml");
    ASSERT_TRUE(defaults.config.has_value()) << defaults.error.message;
    EXPECT_EQ(defaults.config->pools[0].contact_from, balance::contact_user::request_uri);
    EXPECT_EQ(defaults.config->pools[0].contact_params, "");
    const struct {
        std::string keys;
        balance::contact_user from;
        std::string params;
    } cases[] = {
            {"contact_user = \"request-uri\"\n", balance::contact_user::request_uri, ""},
            {"contact_user = \"to\"\ncontact_params = \";user=phone;x-pool=a%20b;lr\"\n",
             balance::contact_user::to,
             ";user=phone;x-pool=a%20b;lr"},
            {"contact_user = \"none\"\ncontact_params = \"\"\n", balance::contact_user::none, ""},
            {"contact_params = \";maddr=[2001:db8::1]\"\n",
             balance::contact_user::request_uri,
             ";maddr=[2001:db8::1]"},
    };
    for (const auto& c : cases) {
        const config_result r = parse_config(minimal + c.keys, "t.toml");
        ASSERT_TRUE(r.config.has_value()) << c.keys << r.error.message;
        EXPECT_EQ(r.config->pools[0].contact_from, c.from) << c.keys;
        EXPECT_EQ(r.config->pools[0].contact_params, c.params) << c.keys;
    }
}

TEST(config, pool_contact_mistakes_are_refused_with_their_line) {
    const struct {
        std::string keys; // appended to the pool of `minimal`, at line 12
        std::string error;
    } cases[] = {
            {"contact_user = \"from\"\n",
             "t.toml:12: contact_user must be one of request-uri, to, none, not 'from'"},
            {"contact_user = true\n", "t.toml:12: contact_user must be a string"},
            {"contact_params = 1\n", "t.toml:12: contact_params must be a string"},
            {"contact_params = \"user=phone\"\n",
             "t.toml:12: contact_params must be URI parameters"},
            {"contact_params = \";\"\n", "t.toml:12: contact_params must be URI parameters"},
            {"contact_params = \";a b\"\n", "t.toml:12: contact_params must be URI parameters"},
            {"contact_params = \";a>\"\n", "t.toml:12: contact_params must be URI parameters"},
            {"contact_params = \";a=%zz\"\n", "t.toml:12: contact_params must be URI parameters"},
            {"contact_params = \";a=\"\n", "t.toml:12: contact_params must be URI parameters"},
            {"contact_params = \";a\\r\\nX: 1\"\n",
             "t.toml:12: contact_params must be URI parameters"},
            {"contact_params = \";" + std::string(300, 'a') + "\"\n",
             "t.toml:12: contact_params must be URI parameters"},
            {"contact_params = \";Transport=tcp\"\n",
             "t.toml:12: contact_params: transport comes from each backend's transport key"},
            {"contact_params = \";lr;x=1;LR\"\n",
             "t.toml:12: contact_params: parameter 'lr' is given twice"},
    };
    for (const auto& c : cases) {
        const std::string error = error_of(minimal + c.keys);
        EXPECT_EQ(error.rfind(c.error, 0), 0u) << c.keys << " gave: " << error;
    }
}
