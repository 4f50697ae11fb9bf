// SPDX-License-Identifier: BSD-3-Clause
#include "kernel_filter.hpp"

#include <algorithm>

namespace sipredir::pipeline {

namespace {

// RFC 4861 §4: Router Solicitation (133) to Redirect (137).
bool is_ndp(std::uint8_t icmpv6_type) noexcept {
    return icmpv6_type >= 133 && icmpv6_type <= 137;
}

bool take_icmp_token(const kernel_filter& filter, icmp_bucket& b, std::uint64_t now_ms) noexcept {
    const std::uint32_t capacity = filter.icmp_per_second;
    if (!b.primed) {
        b = {capacity, now_ms, true};
    } else if (now_ms > b.refilled_ms) {
        const std::uint64_t earned = (now_ms - b.refilled_ms) * capacity / 1000;
        if (earned != 0) {
            b.tokens =
                    static_cast<std::uint32_t>(std::min<std::uint64_t>(capacity, b.tokens + earned)
                    );
            b.refilled_ms = now_ms;
        }
    }
    if (b.tokens == 0) {
        return false;
    }
    --b.tokens;
    return true;
}

kernel_admission icmp(const kernel_filter& filter, icmp_bucket& b, std::uint64_t now_ms) noexcept {
    return take_icmp_token(filter, b, now_ms) ? kernel_admission::pass
                                              : kernel_admission::icmp_over_rate;
}

} // namespace

bool kernel_filter::serve(std::uint16_t port, std::uint8_t services) noexcept {
    for (std::uint8_t i = 0; i < udp_count; ++i) {
        if (udp[i].port == port) {
            udp[i].services |= services;
            return true;
        }
    }
    if (udp_count == udp.size()) {
        return false;
    }
    udp[udp_count++] = {port, services};
    return true;
}

std::uint8_t
services_of(std::span<const balance::control_peer> peers, const net::ip_address& address) noexcept {
    const auto it = std::lower_bound(
            peers.begin(),
            peers.end(),
            address,
            [](const balance::control_peer& p, const net::ip_address& a) {
                return balance::peer_before(p.address, a);
            }
    );
    return it != peers.end() && it->address == address ? it->services : 0;
}

kernel_admission admit_to_kernel(
        const kernel_filter& filter,
        std::span<const balance::control_peer> peers,
        icmp_bucket& icmp_allowance,
        std::uint64_t now_ms,
        net::frame_class kind,
        const net::frame_view& f,
        std::span<const std::uint8_t> frame
) noexcept {
    if (!filter.enabled) {
        return kernel_admission::pass;
    }
    switch (kind) {
    case net::frame_class::not_ip:
        return f.ethertype == net::ethertype_arp ? kernel_admission::urgent
                                                 : kernel_admission::filtered;
    case net::frame_class::not_udp:
        switch (f.l4_protocol) {
        case net::ip_proto_icmp:
            return icmp(filter, icmp_allowance, now_ms);
        case net::ip_proto_icmpv6:
            if (f.l4_offset < frame.size() && is_ndp(frame[f.l4_offset])) {
                return kernel_admission::urgent;
            }
            return icmp(filter, icmp_allowance, now_ms);
        case net::ip_proto_tcp: {
            // parse_frame reads ports of UDP only: the TCP destination port is octets 2-3.
            if (filter.tcp_port == 0 || f.l4_offset + 4U > frame.size()) {
                return kernel_admission::filtered;
            }
            const auto port = static_cast<std::uint16_t>(
                    frame[f.l4_offset + 2U] << 8 | frame[f.l4_offset + 3U]
            );
            return port == filter.tcp_port ? kernel_admission::pass : kernel_admission::filtered;
        }
        default:
            return kernel_admission::filtered;
        }
    case net::frame_class::udp:
        for (std::uint8_t i = 0; i < filter.udp_count; ++i) {
            if (filter.udp[i].port == f.dst_port) {
                return (services_of(peers, f.src_ip) & filter.udp[i].services) != 0
                               ? kernel_admission::pass
                               : kernel_admission::filtered;
            }
        }
        return kernel_admission::filtered;
    case net::frame_class::ip_fragment:
    case net::frame_class::malformed:
        break;
    }
    return kernel_admission::filtered;
}

} // namespace sipredir::pipeline
