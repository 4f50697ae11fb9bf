// SPDX-License-Identifier: BSD-3-Clause
#include "identity.hpp"

#include <algorithm>

namespace sipredir::pipeline {

bool identity::owns(const net::ip_address& ip) const noexcept {
    return std::find(addresses.begin(), addresses.begin() + address_count, ip)
           != addresses.begin() + address_count;
}

bool identity::listens_on(std::uint16_t port) const noexcept {
    return std::find(ports.begin(), ports.begin() + port_count, port) != ports.begin() + port_count;
}

bool identity::accepts_vlan(std::uint16_t vlan) const noexcept {
    return std::find(vlans.begin(), vlans.begin() + vlan_count, vlan) != vlans.begin() + vlan_count;
}

} // namespace sipredir::pipeline
