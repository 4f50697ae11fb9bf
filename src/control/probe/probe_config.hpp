// SPDX-License-Identifier: BSD-3-Clause
// [probe] of the configuration (docs/configuration.md): what probing is given.
#pragma once

#include "prober.hpp"

#include <cstdint>

namespace sipredir::control {

// Probing the backends with SIP OPTIONS from the appliance's own address, through the
// exception path (a kernel socket on the TAP). Off unless [probe] is present.
struct probe_config {
    bool enabled = false;
    probe_settings settings;          // interval, timeout, hysteresis, alive codes, load header
    std::uint16_t source_port = 5062; // probes leave from listen.addresses[0]:source_port
};

} // namespace sipredir::control
