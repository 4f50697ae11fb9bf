// SPDX-License-Identifier: BSD-3-Clause
// The fleet's messages as UDP datagrams between every pair of appliances (the full mesh): one
// socket on listen.addresses[0]:port, each message sent to every configured peer, a sender
// vouched for by its source address. No broker to lose; N² datagrams (docs/fleet.md).
#pragma once

#include "../sockets.hpp"
#include "fleet_transport.hpp"

#include <net/ip_address.hpp>
#include <vector>

namespace sipredir::control::fleet {

class mesh_transport final : public fleet_transport {
public:
    mesh_transport(net::ip_endpoint local, std::vector<net::ip_endpoint> peers);

    void open() override;
    void watch(std::vector<pollfd>& fds) const override;
    void receive(std::span<const pollfd> mine, const take_fn& take) override;
    void publish(std::string_view message) override;
    std::string describe() const override;
    transport_counters counters() const override { return _counters; }
    // The peers reload: a peer added is sent to from the next message, one removed no more.
    void reconfigure(const fleet_config& config) override { _peers = config.peers; }

private:
    net::ip_endpoint _local;
    std::vector<net::ip_endpoint> _peers;
    socket_fd _socket;
    transport_counters _counters;
};

} // namespace sipredir::control::fleet
