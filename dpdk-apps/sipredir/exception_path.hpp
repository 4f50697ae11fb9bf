// SPDX-License-Identifier: BSD-3-Clause
// The exception path: a kernel TAP interface with the data port's MAC, so the kernel answers
// ARP, NDP and ping for the appliance's addresses, and control code can use ordinary sockets.
// Workers hand such frames to per-worker rings; the control lcore moves them to the TAP, and
// what the kernel sends back out through its own TX queue on the data port.
#pragma once

#include "app.hpp"

#include <array>

namespace sipredir::app {

// Creates and starts the TAP port (net_tap vdev) and gives its kernel interface the configured
// addresses. Throws std::runtime_error on failure.
port_facts start_tap(const control::appliance_config& c, const std::array<std::uint8_t, 6>& mac);

// Moves up to one burst each way; returns how many frames moved (0: idle).
unsigned pump_exception_path(appliance& app);

// Frees what is still queued towards the kernel (at exit, after the workers stopped).
void drain_exception_rings(appliance& app);

} // namespace sipredir::app
