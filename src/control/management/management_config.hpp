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
    friend bool operator==(const management_config&, const management_config&) = default;
};

} // namespace sipredir::control
