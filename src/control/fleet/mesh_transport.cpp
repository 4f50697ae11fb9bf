// SPDX-License-Identifier: BSD-3-Clause
#include "mesh_transport.hpp"

#include "../service.hpp"

namespace sipredir::control::fleet {

mesh_transport::mesh_transport(net::ip_endpoint local, std::vector<net::ip_endpoint> peers)
    : _local(local), _peers(std::move(peers)) {}

void mesh_transport::open() {
    _socket = open_udp(_local, true);
}

void mesh_transport::watch(std::vector<pollfd>& fds) const {
    fds.push_back({_socket.get(), POLLIN, 0});
}

void mesh_transport::receive(std::span<const pollfd> mine, const take_fn& take) {
    if (!any_ready(mine)) {
        return;
    }
    read_datagrams(_socket, [&](std::string_view d, const net::ip_endpoint& from) {
        ++_counters.received;
        take(d, message_origin(from.address));
    });
}

void mesh_transport::publish(std::string_view message) {
    ++_counters.published;
    for (const net::ip_endpoint& peer : _peers) {
        if (!send_datagram(_socket, peer, message)) {
            ++_counters.publish_failed;
        }
    }
}

std::string mesh_transport::describe() const {
    return "mesh on " + std::to_string(_local.port) + ", " + std::to_string(_peers.size())
           + " peers";
}

} // namespace sipredir::control::fleet
