// SPDX-License-Identifier: BSD-3-Clause
// [overload] of the configuration (docs/configuration.md): when the appliance asks its clients
// to send less (RFC 7339).
#pragma once

#include <cstdint>

namespace sipredir::control {

// [overload] (docs/configuration.md). A reload applies it.
struct overload_settings {
    bool enabled = true;
    double busy_share = 0.9;          // a worker busy this share of the time or more: overloaded
    double imissed_per_second = 1000; // frames the NIC missed per second; 0: not a trigger
    std::uint8_t reduction = 20;      // oc: percent of requests clients are asked to shed
    std::uint32_t validity_ms = 500;  // oc-validity
    friend bool operator==(const overload_settings&, const overload_settings&) = default;
};

} // namespace sipredir::control
