// SPDX-License-Identifier: BSD-3-Clause
#include "fleet_config_reader.hpp"

#include "../file_text.hpp"
#include "../report/signed_text.hpp"

#include <algorithm>
#include <sys/stat.h>
#include <tuple>

namespace sipredir::control {

using namespace toml_read;

namespace {

bool subject_token(std::string_view s);

// "name@address[:port]": a peer's messages are believed only from its address. A peer without a
// port listens on the same port as this appliance. Its name goes to f.peer_names.
net::ip_endpoint peer_value(const toml::node& item, std::string_view k, fleet_config& f) {
    const std::string whole = string_value(item, k);
    if (f.transport == fleet_transport_kind::nats) {
        // Over NATS a name is bound by its subject, not by an address.
        if (!subject_token(whole) || whole == f.name
            || std::find(f.peer_names.begin(), f.peer_names.end(), whole) != f.peer_names.end()) {
            refuse(item,
                   std::string(k) + ": '" + whole
                           + "' must be a peer's [fleet] name (with transport = \"nats\", no "
                             "address), not this appliance's, each name once");
        }
        f.peer_names.push_back(whole);
        return {};
    }
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

// A subject token: letters, digits, '_' and '-' (no '.', '*' or '>', which NATS gives meaning).
bool subject_token(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
    });
}

// A file the client reads (now, or at each connection): checked here, so that a wrong path is
// `file:line` at start or reload rather than a connection refused later. A secret (password,
// seed, credentials, private key) must not be open to group or others, as key_file.
std::string
nats_file_value(const toml::node& n, std::string_view k, const std::string& source, bool secret) {
    const std::string path = path_value(n, k, source);
    const file_text f = read_file_text(path, 1 << 20);
    if (!f.text) {
        refuse(n, std::string(k) + ": " + path + " " + f.error);
    }
    struct stat st {};
    if (secret && ::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        refuse(n,
               std::string(k) + ": " + path
                       + " is open to group or others (it holds a secret: chmod 600)");
    }
    return path;
}

// The first line of a secret's file (a password), bounded and not empty.
std::string secret_file_value(const toml::node& n, std::string_view k, const std::string& source) {
    const std::string path = nats_file_value(n, k, source, true);
    const file_text f = read_file_text(path, 4096);
    if (!f.text) {
        refuse(n, std::string(k) + ": " + path + " " + f.error);
    }
    std::string line = f.text->substr(0, f.text->find('\n'));
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.pop_back();
    }
    if (line.empty()) {
        refuse(n, std::string(k) + ": " + path + " is empty");
    }
    return line;
}

// The nats_* keys; the servers are required with transport = "nats", the rest refused without.
void read_nats(const toml::table& t, fleet_config& f, const std::string& source) {
    nats_config& n = f.nats;
    static constexpr std::string_view nats_keys[] = {
            "nats_servers",
            "nats_fleet",
            "nats_user",
            "nats_password_file",
            "nats_nkey",
            "nats_seed_file",
            "nats_credentials_file",
            "nats_ca_file",
            "nats_cert_file",
            "nats_key_file",
            "nats_reconnect_wait_ms",
            "nats_connect_timeout_ms"};
    if (f.transport != fleet_transport_kind::nats) {
        for (std::string_view k : nats_keys) {
            if (const toml::node* x = t.get(k)) {
                refuse(*x, std::string(k) + " needs transport = \"nats\"");
            }
        }
        return;
    }
    if (const toml::node* port = t.get("port")) {
        refuse(*port, "port is the mesh's: with transport = \"nats\" the counts go to the servers");
    }
    const toml::node* servers = t.get("nats_servers");
    if (servers == nullptr) {
        refuse(t, "transport = \"nats\" needs nats_servers: the NATS cluster's URLs");
    }
    n.servers =
            list_value<std::string>(*servers, "nats_servers", [](const toml::node& item, auto k) {
                std::string url = string_value(item, k);
                if (url.rfind("nats://", 0) != 0 && url.rfind("tls://", 0) != 0) {
                    refuse(item,
                           std::string(k) + ": '" + url
                                   + "' must be nats://host:port or tls://host:port");
                }
                return url;
            });
    if (n.servers.empty()) {
        refuse(*servers, "nats_servers: at least one server");
    }
    if (const toml::node* x = t.get("nats_fleet")) {
        n.fleet = string_value(*x, "nats_fleet");
        if (!subject_token(n.fleet)) {
            refuse(*x, "nats_fleet must be 1-64 of letters, digits, '_' and '-'");
        }
    }
    if (!subject_token(f.name)) {
        refuse(*t.get("name"),
               "with transport = \"nats\", name is a subject token: letters, digits, '_' and '-' "
               "only");
    }
    read_key(t, "nats_user", n.user, string_value);
    if (const toml::node* x = t.get("nats_password_file")) {
        n.password = secret_file_value(*x, "nats_password_file", source);
    }
    read_key(t, "nats_nkey", n.nkey, string_value);
    if (const toml::node* x = t.get("nats_seed_file")) {
        n.seed_file = nats_file_value(*x, "nats_seed_file", source, true);
    }
    if (const toml::node* x = t.get("nats_credentials_file")) {
        n.credentials_file = nats_file_value(*x, "nats_credentials_file", source, true);
    }
    const int ways = int{!n.user.empty()} + int{!n.nkey.empty()} + int{!n.credentials_file.empty()};
    if (ways > 1) {
        refuse(t, "nats_user, nats_nkey and nats_credentials_file: at most one way to log in");
    }
    if (n.user.empty() != n.password.empty()) {
        refuse(t, "nats_user and nats_password_file go together");
    }
    if (n.nkey.empty() != n.seed_file.empty()) {
        refuse(t, "nats_nkey and nats_seed_file go together");
    }
    for (auto [key, out] :
         {std::pair{"nats_ca_file", &n.ca_file},
          std::pair{"nats_cert_file", &n.cert_file},
          std::pair{"nats_key_file", &n.key_file}}) {
        if (const toml::node* x = t.get(key)) {
            *out = path_value(*x, key, source);
        }
    }
    if (n.cert_file.empty() != n.key_file.empty()) {
        refuse(t, "nats_cert_file and nats_key_file go together");
    }
    read_key(t, "nats_reconnect_wait_ms", n.reconnect_wait_ms, ranged<std::uint32_t>(10, 60000));
    read_key(t, "nats_connect_timeout_ms", n.connect_timeout_ms, ranged<std::uint32_t>(100, 60000));
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
             "transport",
             "nats_servers",
             "nats_fleet",
             "nats_user",
             "nats_password_file",
             "nats_nkey",
             "nats_seed_file",
             "nats_credentials_file",
             "nats_ca_file",
             "nats_cert_file",
             "nats_key_file",
             "nats_reconnect_wait_ms",
             "nats_connect_timeout_ms",
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
    read_key(*t, "transport", f.transport, [](const toml::node& n, std::string_view k) {
        return one_of<fleet_transport_kind>(n, k, fleet_transport_table);
    });
    read_nats(*t, f, source);
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
    if (!c.fleet.enabled || c.fleet.transport == fleet_transport_kind::nats) {
        return; // NATS: a TCP client of the kernel's, with no port of its own
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
