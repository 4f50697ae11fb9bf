// SPDX-License-Identifier: BSD-3-Clause
// Addresses as operators and SIP read them: "198.18.1.1", "[2001:db8::1]:5060".
#pragma once

#include <net/ip_address.hpp>
#include <string>

namespace sipredir::control {

std::string ip_text(const net::ip_address& ip);
// IPv6 in brackets, as a SIP host (RFC 3261 §25.1).
std::string host_text(const net::ip_address& ip);
std::string endpoint_text(const net::ip_endpoint& e);

} // namespace sipredir::control
