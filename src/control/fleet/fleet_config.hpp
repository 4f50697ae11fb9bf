// SPDX-License-Identifier: BSD-3-Clause
// [fleet] of the configuration (docs/fleet.md): what the redirect exchange is given.
#pragma once

#include "../enum_names.hpp"
#include "../report/load_report.hpp"

#include <cstdint>
#include <net/ip_address.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sipredir::control {

// How the counts travel (docs/fleet.md, "Which transport"): a UDP full mesh between the
// appliances, or a subject on a NATS cluster.
enum class fleet_transport_kind : std::uint8_t { mesh, nats };

inline constexpr auto fleet_transport_table = std::to_array<enum_name<fleet_transport_kind>>({
        {fleet_transport_kind::mesh, "mesh"},
        {fleet_transport_kind::nats, "nats"},
});
static_assert(covers_in_order(fleet_transport_table, fleet_transport_kind::nats));

constexpr std::string_view name_of(fleet_transport_kind k) noexcept {
    return name_in(fleet_transport_table, k);
}

// The NATS side of [fleet] (its nats_* keys): the servers, the subjects, and how this appliance
// proves who it is. Subjects: each appliance publishes on sipredir.<fleet>.counts.<name> and
// subscribes to sipredir.<fleet>.counts.*; the servers' permissions bind <name> to a user.
struct nats_config {
    std::vector<std::string> servers; // nats://host:port or tls://host:port, any of a cluster
    std::string fleet = "default";    // the <fleet> token of the subjects
    std::string user;                 // with password (from password_file) ...
    std::string password;
    std::string nkey;             // ... or an NKey user: its public key, with seed_file ...
    std::string seed_file;        // (read by the client at each connect)
    std::string credentials_file; // ... or a JWT .creds file
    std::string ca_file;          // TLS: the servers' CA (set: TLS required)
    std::string cert_file;        // TLS client certificate and key, for servers that verify clients
    std::string key_file;
    std::uint32_t reconnect_wait_ms = 250; // between two rounds over the servers
    std::uint32_t connect_timeout_ms = 2000;
    friend bool operator==(const nats_config&, const nats_config&) = default;
};

// The fleet (docs/fleet.md): this appliance shares its redirect counts with the other
// appliances. Off unless [fleet]. enabled, name, port, transport and
// the nats_* keys only change with a restart.
struct fleet_config {
    bool enabled = false;
    std::string name; // this appliance, unique in the fleet
    fleet_transport_kind transport = fleet_transport_kind::mesh;
    nats_config nats;                      // transport = "nats"
    std::uint16_t port = 5070;             // UDP, on listen.addresses[0] (the mesh)
    std::optional<report_key> key;         // the fleet's shared key
    std::vector<net::ip_endpoint> peers;   // the other appliances' [fleet] address and port
    std::vector<std::string> peer_names;   // their [fleet] names, in the order of peers
                                           // (NATS: names only; none listed: any name)
    std::uint32_t interval_ms = 50;        // changed totals at most this often
    std::uint32_t full_interval_ms = 1000; // every total this often (repairs loss)
    std::uint32_t peer_timeout_ms = 3000;  // a silent peer's counts are forgotten
    std::uint32_t window_ms = 5000;        // |sender's clock - ours| accepted
    double send_fraction = 0.05; // unsent redirects past this share of a backend's spare: now
    // Probing shared out: each backend probed by this many members; 0: by every appliance.
    std::uint32_t probers = 2;
};

} // namespace sipredir::control
