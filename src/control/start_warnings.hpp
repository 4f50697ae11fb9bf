// SPDX-License-Identifier: BSD-3-Clause
// What a configuration that starts may still get wrong on the machine it starts on: a probe
// source the TAP does not hold, checksums a veth never fills. Each is one log line at start.
#pragma once

#include "config.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sipredir::control {

struct start_warning {
    std::string event;  // the log line's event name
    std::string detail; // what goes wrong, and the fix
};

// The warnings for `c` running on a data port whose DPDK driver is `driver` ("net_af_packet").
std::vector<start_warning> start_warnings(const appliance_config& c, std::string_view driver);

} // namespace sipredir::control
