// SPDX-License-Identifier: BSD-3-Clause
// [management] of the configuration (docs/configuration.md): sipredirctl's UNIX socket and
// the metrics HTTP endpoint.
#pragma once

#include <net/ip_address.hpp>
#include <optional>
#include <string>

namespace sipredir::control {

struct management_config {
    std::string socket = "/run/sipredir/sipredir.sock"; // sipredirctl's UNIX socket
    std::optional<net::ip_endpoint> metrics;            // Prometheus HTTP; absent: off
    // Where backend changes made through the API are kept (runtime_changes.hpp); "": such
    // changes are refused, since a restart would lose them.
    std::string state_file;
    friend bool operator==(const management_config&, const management_config&) = default;
};

} // namespace sipredir::control
