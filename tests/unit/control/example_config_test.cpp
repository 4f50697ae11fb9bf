// SPDX-License-Identifier: BSD-3-Clause
// config/example.toml promises every option with its default. Every key the reader accepts must
// appear in it (commented out where the feature is optional), and the values it shows must be
// the defaults, except those it shows as examples of what to write. The keys come from the
// reader itself: a key it does not know is refused with the list of those it does.
#include "../test_support.hpp"

#include <gtest/gtest.h>

#include <control/config.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

using namespace sipredir;
using namespace sipredir::control;

namespace {

const std::filesystem::path example_path =
        test::data_dir().parent_path().parent_path() / "config" / "example.toml";

// What a section of a minimal file holds: {listen}, {backend} and {pool} take more lines.
std::string
minimal(const std::string& listen = "",
        const std::string& backend = "",
        const std::string& pool = "",
        const std::string& more = "") {
    return "[listen]\naddresses = [\"198.18.0.1\"]\n" + listen
           + "[[backend]]\nname = \"b1\"\naddress = \"198.18.1.1:5060\"\n" + backend
           + "[[pool]]\nname = \"p\"\nbackends = [\"b1\"]\n" + pool + more;
}

constexpr const char* stray = "zz_not_a_key = 1\n";

// The keys the reader lists when it refuses a stray key in `text` (which holds one).
std::vector<std::string> listed_keys(const std::string& text) {
    const config_result r = parse_config(text, "t.toml");
    const std::string& m = r.error.message;
    const std::size_t open = m.find("(known: ");
    EXPECT_NE(open, std::string::npos) << "no list of keys in: '" << m << "' for\n" << text;
    if (open == std::string::npos) {
        return {};
    }
    std::vector<std::string> keys;
    std::string list = m.substr(open + 8, m.rfind(')') - open - 8);
    for (std::size_t at = 0; at <= list.size();) {
        const std::size_t comma = std::min(list.find(", ", at), list.size());
        keys.push_back(list.substr(at, comma - at));
        at = comma + 2;
    }
    return keys;
}

// Each section the reader knows ("" for the file's top level), with the keys it accepts.
std::map<std::string, std::vector<std::string>> reader_keys() {
    std::map<std::string, std::vector<std::string>> out;
    out[""] = listed_keys(stray + minimal());
    for (const std::string& section : out[""]) {
        if (section == "config_revision") {
            continue; // a key of the top level, not a section
        }
        std::string text;
        if (section == "listen") {
            text = minimal(stray);
        } else if (section == "backend") {
            text = minimal("", stray);
        } else if (section == "pool") {
            text = minimal("", "", stray);
        } else if (section == "rule") {
            text = minimal("", "", "", "[[rule]]\n" + std::string(stray));
        } else {
            text = minimal("", "", "", "[" + section + "]\n" + stray);
        }
        out[section] = listed_keys(text);
    }
    // Tables inside a section: exception.routes' items.
    out["exception.routes"] = listed_keys(
            minimal("",
                    "",
                    "",
                    "[exception]\ntap = \"t0\"\naddresses = [\"198.18.0.1/24\"]\nroutes = [{to = "
                    "\"0.0.0.0/0\", via = \"198.18.0.9\", zz_not_a_key = 1}]\n")
    );
    return out;
}

struct example_line {
    std::string section; // "" before the first header
    bool commented;
    std::string text; // the line without its leading "# "
};

// The example's lines that name a key (`key = ...`), commented or not, by section.
std::vector<example_line> example_keys(const std::string& text) {
    static const std::regex header(R"(^\[\[?([a-z_]+)\]\]?\s*(#.*)?$)");
    static const std::regex key(R"(^[a-z_0-9]+\s*=)");
    std::vector<example_line> out;
    std::string section;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        bool commented = false;
        std::size_t at = line.find_first_not_of(' ');
        if (at != std::string::npos && line[at] == '#') {
            commented = true;
            at = line.find_first_not_of(' ', at + 1);
        }
        const std::string rest = at == std::string::npos ? "" : line.substr(at);
        std::smatch m;
        if (std::regex_search(rest, m, header)) {
            section = m[1];
        } else if (std::regex_search(rest, key)) {
            out.push_back({section, commented, rest});
        }
    }
    return out;
}

std::string key_of(const std::string& line) {
    return line.substr(0, line.find_first_of(" ="));
}

// The lines of the example's commented [section] (or, with `prefix`, its commented keys of
// that prefix), uncommented.
std::string uncommented(const std::string& section, const std::string& prefix = "") {
    std::string out;
    for (const example_line& l : example_keys(test::read_file(example_path))) {
        if (l.section == section && l.commented && l.text.rfind(prefix, 0) == 0) {
            out += l.text + "\n";
        }
    }
    return out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

appliance_config parsed(const std::string& text, const std::string& source = "t.toml") {
    const config_result r = parse_config(text, source);
    EXPECT_TRUE(r.config) << r.error.message << "\nin:\n" << text;
    return r.config ? *r.config : appliance_config{};
}

} // namespace

TEST(example_config, shows_every_key_the_reader_accepts) {
    const std::vector<example_line> shown = example_keys(test::read_file(example_path));
    const auto reader = reader_keys();
    ASSERT_GE(reader.size(), 17u) << "the reader's sections were not all found";
    for (const auto& [section, keys] : reader) {
        ASSERT_FALSE(keys.empty()) << section;
        for (const std::string& k : keys) {
            bool found = false;
            if (section == "") {
                // A section is shown by its header, config_revision by its line.
                const std::set<std::string> headers = [&] {
                    std::set<std::string> s;
                    for (const example_line& l : shown) {
                        s.insert(l.section);
                        if (l.section.empty()) {
                            s.insert(key_of(l.text));
                        }
                    }
                    return s;
                }();
                found = headers.count(k) != 0;
            } else if (section == "exception.routes") {
                for (const example_line& l : shown) {
                    found = found
                            || (l.section == "exception" && key_of(l.text) == "routes"
                                && l.text.find(k + " = ") != std::string::npos);
                }
            } else {
                for (const example_line& l : shown) {
                    found = found || (l.section == section && key_of(l.text) == k);
                }
            }
            EXPECT_TRUE(found) << "config/example.toml does not show "
                               << (section.empty() ? "" : "[" + section + "] ") << k;
        }
    }
}

TEST(example_config, shows_no_key_the_reader_refuses) {
    const auto reader = reader_keys();
    for (const example_line& l : example_keys(test::read_file(example_path))) {
        if (l.section.empty()) {
            continue;
        }
        const std::vector<std::string>& keys = reader.at(l.section);
        EXPECT_NE(std::find(keys.begin(), keys.end(), key_of(l.text)), keys.end())
                << "[" << l.section << "] " << l.text;
    }
}

// The values the example shows are the defaults, but for those it shows as examples: the
// required keys, names and addresses, and the optional features it turns on.
TEST(example_config, shows_the_defaults_of_the_sections_it_turns_on) {
    const config_result r = load_config(example_path.string());
    ASSERT_TRUE(r.config) << r.error.message;
    const appliance_config& c = *r.config;

    EXPECT_EQ(c.dataplane, dataplane_config{});

    listen_config listen = c.listen;
    listen.addresses.clear(); // required: an example
    EXPECT_EQ(listen, listen_config{});

    exception_config exception = c.exception;
    exception.tap.clear(); // examples of an exception path
    exception.addresses.clear();
    exception.routes.clear();
    EXPECT_EQ(exception, exception_config{});

    const sip_config sip;
    EXPECT_TRUE(same_identity_policy(c.sip, sip)) << "[sip]";

    const probe_config probe;
    EXPECT_TRUE(c.probe.enabled) << "the example shows [probe] on";
    EXPECT_EQ(c.probe.source_port, probe.source_port);
    EXPECT_EQ(c.probe.settings.interval_ns, probe.settings.interval_ns);
    EXPECT_EQ(c.probe.settings.timeout_ns, probe.settings.timeout_ns);
    EXPECT_EQ(c.probe.settings.policy.down_after, probe.settings.policy.down_after);
    EXPECT_EQ(c.probe.settings.policy.up_after, probe.settings.policy.up_after);
    EXPECT_EQ(c.probe.settings.alive_codes, probe.settings.alive_codes);

    EXPECT_EQ(c.load.max_age_ms, load_age_config{}.max_age_ms);
    EXPECT_EQ(c.overload, overload_settings{});
    EXPECT_EQ(c.management, management_config{});

    ASSERT_FALSE(c.backends.empty());
    const static_backend backend;
    const balance::backend_config& b = c.backends.front().config;
    EXPECT_EQ(b.proto, backend.config.proto);
    EXPECT_EQ(b.weight, backend.config.weight);
    EXPECT_EQ(b.capacity, backend.config.capacity);
    EXPECT_EQ(b.threshold, backend.config.threshold);
    EXPECT_EQ(b.priority, backend.config.priority);
    EXPECT_EQ(c.backends.front().state, backend.state);

    ASSERT_FALSE(c.pools.empty());
    const balance::pool_config pool;
    const balance::pool_config& p = c.pools.front();
    EXPECT_EQ(p.policy, pool.policy);
    EXPECT_EQ(p.key, pool.key);
    EXPECT_EQ(p.retry_after, pool.retry_after);
    EXPECT_EQ(p.contacts, pool.contacts);
    EXPECT_EQ(p.latency_band_ms, pool.latency_band_ms);
    EXPECT_EQ(p.contact_from, pool.contact_from);
    EXPECT_EQ(p.contact_params, pool.contact_params);
    EXPECT_EQ(p.tiers, pool.tiers);

    // [limits] is on in the example (rate, burst and allow are examples); the rest defaults.
    pipeline::source_limit_settings limits = c.limits;
    limits.rate = limits.burst = 0;
    limits.allow.clear();
    EXPECT_EQ(limits, pipeline::source_limit_settings{});
}

TEST(example_config, shows_the_defaults_of_the_sections_it_leaves_off) {
    // [race] and the race pools' race_* keys.
    const std::string race = uncommented("race");
    ASSERT_FALSE(race.empty());
    EXPECT_EQ(parsed(minimal("", "", "", "[race]\n" + race)).race, race_engine_config{});
    const std::string race_pool = uncommented("pool", "race_");
    ASSERT_FALSE(race_pool.empty());
    const appliance_config raced =
            parsed(minimal("", "", "policy = \"race\"\n" + race_pool, "[exception]\ntap = \"t0\"\n")
            );
    ASSERT_FALSE(raced.pools.empty());
    balance::race_config race_keys = raced.pools.front().race;
    EXPECT_FALSE(race_keys.leg_header.empty()) << "race_leg_header: an example, no default";
    race_keys.leg_header.clear();
    EXPECT_EQ(race_keys, balance::race_config{});

    // [reports] and [fleet] read key files, relative to the configuration.
    const std::filesystem::path dir = std::filesystem::temp_directory_path()
                                      / ("example_config_test." + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const std::string source = (dir / "t.toml").string();
    const std::string key(64, 'a');
    for (const char* name :
         {"report.key", "fleet.key", "proxy-a.key", "nats.pass", "nats-ca.pem"}) {
        std::ofstream(dir / name) << key << "\n";
        std::filesystem::permissions(
                dir / name, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write
        );
    }
    const std::string reports = uncommented("reports");
    ASSERT_FALSE(reports.empty());
    const appliance_config reported =
            parsed(minimal("", "", "", "[exception]\ntap = \"t0\"\n[reports]\n" + reports), source);
    const reports_config defaults;
    EXPECT_EQ(reported.reports.allow_shared_key, defaults.allow_shared_key);
    EXPECT_EQ(reported.reports.settings.window_ms, defaults.settings.window_ms);
    EXPECT_EQ(reported.reports.settings.rate, defaults.settings.rate);
    EXPECT_EQ(reported.reports.settings.burst, defaults.settings.burst);

    // The mesh's keys; the nats_* keys below, each way of logging in on its own.
    std::string fleet;
    std::string nats_keys;
    for (const std::string& line : lines_of(uncommented("fleet"))) {
        (line.rfind("nats_", 0) == 0 ? nats_keys : fleet) += line + "\n";
    }
    ASSERT_FALSE(fleet.empty());
    const appliance_config fleeted =
            parsed(minimal("", "", "", "[exception]\ntap = \"t0\"\n[fleet]\n" + fleet), source);
    const fleet_config f;
    EXPECT_EQ(fleeted.fleet.port, f.port);
    EXPECT_EQ(fleeted.fleet.interval_ms, f.interval_ms);
    EXPECT_EQ(fleeted.fleet.full_interval_ms, f.full_interval_ms);
    EXPECT_EQ(fleeted.fleet.peer_timeout_ms, f.peer_timeout_ms);
    EXPECT_EQ(fleeted.fleet.window_ms, f.window_ms);
    EXPECT_EQ(fleeted.fleet.send_fraction, f.send_fraction);
    EXPECT_EQ(fleeted.fleet.probers, f.probers);
    EXPECT_EQ(fleeted.fleet.transport, f.transport);

    std::string over_nats = "[fleet]\n";
    for (const std::string& line : lines_of(fleet)) {
        if (line.rfind("transport", 0) != 0 && line.rfind("peers", 0) != 0
            && line.rfind("port", 0) != 0) {
            over_nats += line + "\n";
        }
    }
    over_nats += "transport = \"nats\"\npeers = [\"sipredir-2\"]\n";
    for (const std::string& line : lines_of(nats_keys)) {
        // One way to log in (user and password); TLS by CA only (no client certificate files).
        const std::string k = key_of(line);
        if (k != "nats_nkey" && k != "nats_seed_file" && k != "nats_credentials_file"
            && k != "nats_cert_file" && k != "nats_key_file") {
            over_nats += line + "\n";
        }
    }
    const appliance_config natsed = parsed(minimal("", "", "", over_nats), source);
    const nats_config n;
    EXPECT_EQ(natsed.fleet.transport, fleet_transport_kind::nats);
    EXPECT_EQ(natsed.fleet.nats.fleet, n.fleet);
    EXPECT_EQ(natsed.fleet.nats.reconnect_wait_ms, n.reconnect_wait_ms);
    EXPECT_EQ(natsed.fleet.nats.connect_timeout_ms, n.connect_timeout_ms);
    EXPECT_EQ(natsed.fleet.nats.password, std::string(64, 'a'));
    std::filesystem::remove_all(dir);
}

// The fuzzers' seed corpus holds a copy (tests/data/config): it must be the file shipped.
TEST(example_config, the_test_data_copy_is_the_shipped_file) {
    const bool same = test::read_file(test::data_dir() / "config" / "example.toml")
                      == test::read_file(example_path);
    EXPECT_TRUE(same) << "copy config/example.toml to tests/data/config/example.toml";
}
