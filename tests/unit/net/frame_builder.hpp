// SPDX-License-Identifier: BSD-3-Clause
// Builds test frames field by field (Katran's packet builder, in miniature).
#pragma once

#include <net/checksum.hpp>
#include <net/frame.hpp>
#include <string_view>
#include <vector>

namespace sipredir::net::test {

struct frame_spec {
    std::array<std::uint8_t, 6> dst_mac = {0x02, 0x70, 0x63, 0x61, 0x70, 0x00};
    std::array<std::uint8_t, 6> src_mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
    std::vector<std::uint16_t> vlans; // TCIs, outer first; outer TPID 88a8 when two
    ip_address src = ip_address::v4(198, 18, 0, 2);
    ip_address dst = ip_address::v4(198, 18, 0, 1);
    std::uint16_t src_port = 5061;
    std::uint16_t dst_port = 5060;
    std::uint8_t protocol = ip_proto_udp;
    std::vector<std::uint8_t> ipv4_options;
    std::vector<std::uint8_t> ipv6_extensions; // raw bytes; first_next_header names the first
    std::uint8_t ipv6_first_next_header = ip_proto_udp;
    std::uint16_t ipv4_fragment = 0; // flags + offset field
    bool udp_checksum = true;
};

inline void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
    v.push_back(static_cast<std::uint8_t>(x >> 8));
    v.push_back(static_cast<std::uint8_t>(x));
}

inline std::vector<std::uint8_t> build_frame(const frame_spec& s, std::string_view payload) {
    std::vector<std::uint8_t> f(s.dst_mac.begin(), s.dst_mac.end());
    f.insert(f.end(), s.src_mac.begin(), s.src_mac.end());
    for (std::size_t i = 0; i < s.vlans.size(); ++i) {
        put16(f, s.vlans.size() == 2 && i == 0 ? ethertype_qinq : ethertype_vlan);
        put16(f, s.vlans[i]);
    }
    const bool v4 = s.src.family == ip_family::v4;
    put16(f, v4 ? ethertype_ipv4 : ethertype_ipv6);
    std::vector<std::uint8_t> udp;
    put16(udp, s.src_port);
    put16(udp, s.dst_port);
    put16(udp, static_cast<std::uint16_t>(8 + payload.size()));
    put16(udp, 0);
    udp.insert(udp.end(), payload.begin(), payload.end());
    if (s.udp_checksum) {
        const std::uint16_t c = udp_checksum(s.src, s.dst, udp);
        udp[6] = static_cast<std::uint8_t>(c >> 8);
        udp[7] = static_cast<std::uint8_t>(c);
    }
    const std::size_t l3 = f.size();
    if (v4) {
        const std::size_t ihl = 20 + s.ipv4_options.size();
        f.push_back(static_cast<std::uint8_t>(0x40 | ihl / 4));
        f.push_back(0);
        put16(f, static_cast<std::uint16_t>(ihl + udp.size()));
        put16(f, 0x1234);
        put16(f, s.ipv4_fragment);
        f.push_back(64);
        f.push_back(s.protocol);
        put16(f, 0);
        f.insert(f.end(), s.src.bytes.begin(), s.src.bytes.begin() + 4);
        f.insert(f.end(), s.dst.bytes.begin(), s.dst.bytes.begin() + 4);
        f.insert(f.end(), s.ipv4_options.begin(), s.ipv4_options.end());
        const std::uint16_t c = ipv4_header_checksum({f.data() + l3, ihl});
        f[l3 + 10] = static_cast<std::uint8_t>(c >> 8);
        f[l3 + 11] = static_cast<std::uint8_t>(c);
    } else {
        put16(f, 0x6000);
        put16(f, 0);
        put16(f, static_cast<std::uint16_t>(s.ipv6_extensions.size() + udp.size()));
        f.push_back(s.ipv6_extensions.empty() ? s.protocol : s.ipv6_first_next_header);
        f.push_back(64);
        f.insert(f.end(), s.src.bytes.begin(), s.src.bytes.end());
        f.insert(f.end(), s.dst.bytes.begin(), s.dst.bytes.end());
        f.insert(f.end(), s.ipv6_extensions.begin(), s.ipv6_extensions.end());
    }
    f.insert(f.end(), udp.begin(), udp.end());
    return f;
}

} // namespace sipredir::net::test
