// SPDX-License-Identifier: BSD-3-Clause
#include "address_text.hpp"

namespace sipredir::control {

std::string ip_text(const net::ip_address& ip) {
    char text[net::max_ip_text];
    return {text, net::format_ip(ip, text)};
}

std::string host_text(const net::ip_address& ip) {
    if (ip.family != net::ip_family::v6) {
        return ip_text(ip);
    }
    std::string host(1, '[');
    host += ip_text(ip);
    host += ']';
    return host;
}

std::string endpoint_text(const net::ip_endpoint& e) {
    return host_text(e.address) + ":" + std::to_string(e.port);
}

} // namespace sipredir::control
