// SPDX-License-Identifier: BSD-3-Clause
// Bringing up an ethdev port: queues, RSS, offloads, its mbuf pool on its NUMA node.
#pragma once

#include "app.hpp"

#include <string>

namespace sipredir::app {

// Configures and starts `port` with `rx_queues` RX and `tx_queues` TX queues. Throws
// std::runtime_error naming the port and what it lacks.
port_facts start_port(
        std::uint16_t port,
        std::uint16_t rx_queues,
        std::uint16_t tx_queues,
        const control::appliance_config& c,
        bool promiscuous,
        const std::string& pool_name
);

void stop_port(const port_facts& p);

} // namespace sipredir::app
