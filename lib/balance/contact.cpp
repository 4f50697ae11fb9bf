// SPDX-License-Identifier: BSD-3-Clause
// The Contact value a 302 carries for a backend, rendered once per snapshot.
#include "pool_config.hpp"

namespace sipredir::balance {

std::string
render_contact(const net::ip_endpoint& address, transport proto, std::string_view params) {
    char ip[net::max_ip_text];
    const std::size_t n = net::format_ip(address.address, ip);
    std::string host(ip, n);
    if (address.address.family == net::ip_family::v6) {
        host = "[" + host + "]";
    }
    // TLS is a sips: URI over TCP (RFC 3261 §26.2.2).
    const bool tls = proto == transport::tls;
    return std::string(tls ? "<sips:" : "<sip:") + host + ":" + std::to_string(address.port)
           + ";transport=" + (proto == transport::udp ? "udp" : "tcp") + std::string(params) + ">";
}

} // namespace sipredir::balance
