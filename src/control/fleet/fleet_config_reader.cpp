// SPDX-License-Identifier: BSD-3-Clause
#include "fleet_config_reader.hpp"

#include "../report/signed_text.hpp"

#include <algorithm>

namespace sipredir::control {

using namespace toml_read;

namespace {

// "name@address[:port]": a peer's messages are believed only from its address. A peer without a
// port listens on the same port as this appliance. Its name goes to f.peer_names.
net::ip_endpoint peer_value(const toml::node& item, std::string_view k, fleet_config& f) {
    const std::string whole = string_value(item, k);
    const std::size_t at = whole.find('@');
    const std::string peer = at == std::string::npos ? "" : whole.substr(0, at);
    if (!valid_name(peer) || peer == f.name
        || std::find(f.peer_names.begin(), f.peer_names.end(), peer) != f.peer_names.end()) {
        refuse(item,
               std::string(k) + ": '" + whole
                       + "' must be \"name@address[:port]\", with the peer's [fleet] "
                         "name, not this appliance's, each name once");
    }
    f.peer_names.push_back(peer);
    const std::string text = whole.substr(at + 1);
    net::ip_endpoint e = endpoint_of(item, k, text);
    const bool has_port = text.front() == '[' ? text.find("]:") != std::string::npos
                                              : std::count(text.begin(), text.end(), ':') == 1;
    if (!has_port) {
        e.port = f.port;
    }
    return e;
}

} // namespace

void read_fleet(const toml::table& root, fleet_config& f, const std::string& source) {
    const toml::table* t = section_at(
            root,
            "fleet",
            {"name",
             "port",
             "key_file",
             "peers",
             "interval_ms",
             "full_interval_ms",
             "peer_timeout_ms",
             "window_ms",
             "send_fraction",
             "probers"}
    );
    if (t == nullptr) {
        return;
    }
    f.enabled = true;
    const toml::node* name = t->get("name");
    if (name == nullptr) {
        refuse(*t, "[fleet] needs name: this appliance's name, unique in the fleet");
    }
    f.name = string_value(*name, "name");
    if (!valid_name(f.name)) {
        refuse(*name, "name must be 1-64 of letters, digits, '.', '_' and '-'");
    }
    read_key(*t, "port", f.port, ranged<std::uint16_t>(1, 65535));
    const toml::node* key = t->get("key_file");
    if (key == nullptr) {
        refuse(*t, "[fleet] needs key_file: the fleet's shared key (64 hex digits)");
    }
    f.key = key_file_value(*key, "key_file", source);
    if (const toml::node* n = t->get("peers")) {
        f.peers = list_value<net::ip_endpoint>(*n, "peers", [&](const toml::node& item, auto k) {
            return peer_value(item, k, f);
        });
        if (f.peers.size() > 255) {
            refuse(*n, "peers: at most 255 (docs/fleet.md: past ~64, use NATS)");
        }
    }
    read_key(*t, "interval_ms", f.interval_ms, ranged<std::uint32_t>(5, 10000));
    read_key(*t, "full_interval_ms", f.full_interval_ms, ranged<std::uint32_t>(100, 60000));
    read_key(*t, "peer_timeout_ms", f.peer_timeout_ms, ranged<std::uint32_t>(100, 600000));
    read_key(*t, "window_ms", f.window_ms, ranged<std::uint32_t>(100, 3'600'000));
    read_key(*t, "send_fraction", f.send_fraction, [](const toml::node& n, std::string_view k) {
        return number_value(n, k, 0.0, 1.0);
    });
    // The most members a fleet has: this appliance and 255 peers.
    read_key(*t, "probers", f.probers, ranged<std::uint32_t>(0, 256));
    if (f.full_interval_ms < f.interval_ms) {
        refuse(*t, "full_interval_ms must be at least interval_ms");
    }
    if (f.peer_timeout_ms <= f.full_interval_ms) {
        refuse(*t, "peer_timeout_ms must exceed full_interval_ms (a live peer sends that often)");
    }
}

void check_fleet_socket(const toml::table& root, const appliance_config& c, bool races) {
    if (!c.fleet.enabled) {
        return;
    }
    need_exception_path(root, c, "fleet", "port", "peers' counts arrive on a kernel socket");
    if (listened(c, c.fleet.port) || (c.probe.enabled && c.fleet.port == c.probe.source_port)
        || c.fleet.port == c.reports.port || (races && c.fleet.port == c.race.source_port)) {
        throw refusal{
                line_at(root, "fleet", "port"),
                "fleet port must differ from listen.ports, probe.source_port, reports.port "
                "and race.source_port"};
    }
}

} // namespace sipredir::control
