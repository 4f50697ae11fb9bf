// SPDX-License-Identifier: BSD-3-Clause
// [fleet] of the configuration (docs/fleet.md): what the redirect exchange is given.
#pragma once

#include "../report/load_report.hpp"

#include <cstdint>
#include <net/ip_address.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sipredir::control {

// The fleet (docs/fleet.md): this appliance shares its redirect counts with the other
// appliances. Off unless [fleet]. enabled, name and port only change with a restart.
struct fleet_config {
    bool enabled = false;
    std::string name;                      // this appliance, unique in the fleet
    std::uint16_t port = 5070;             // UDP, on listen.addresses[0]
    std::optional<report_key> key;         // the fleet's shared key
    std::vector<net::ip_endpoint> peers;   // the other appliances' [fleet] address and port
    std::vector<std::string> peer_names;   // their [fleet] names, in the order of peers
    std::uint32_t interval_ms = 50;        // changed totals at most this often
    std::uint32_t full_interval_ms = 1000; // every total this often (repairs loss)
    std::uint32_t peer_timeout_ms = 3000;  // a silent peer's counts are forgotten
    std::uint32_t window_ms = 5000;        // |sender's clock - ours| accepted
    double send_fraction = 0.05; // unsent redirects past this share of a backend's spare: now
    // Probing shared out: each backend probed by this many members; 0: by every appliance.
    std::uint32_t probers = 2;
};

} // namespace sipredir::control
