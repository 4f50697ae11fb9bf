// SPDX-License-Identifier: BSD-3-Clause
// Frame header parsing and reply header construction.
#include "frame.hpp"

#include "bytes.hpp"
#include "checksum.hpp"

#include <algorithm>
#include <cstring>

namespace sipredir::net {
namespace {

frame_result malformed(frame_defect d) noexcept {
    return {frame_class::malformed, d};
}

// IPv6 extension headers a datagram may carry before UDP (RFC 8200 §4). More than this many is
// treated as an attack on the parser.
constexpr int max_extension_headers = 8;

struct l3_info {
    std::size_t l4 = 0;
    std::size_t end = 0; // one past the IP packet
    bool fragment = false;
    frame_result error{frame_class::udp, frame_defect::none};
};

l3_info failed(frame_defect d) noexcept {
    l3_info r;
    r.error = malformed(d);
    return r;
}

l3_info parse_ipv4(
        std::span<const std::uint8_t> f, std::size_t off, frame_checks checks, frame_view& out
) noexcept {
    l3_info r;
    const std::uint8_t* h = f.data() + off;
    if (off + ipv4_header_size > f.size()) {
        return failed(frame_defect::too_short);
    }
    if ((h[0] >> 4) != 4) {
        return failed(frame_defect::ipv4_bad_version);
    }
    const std::size_t ihl = std::size_t{h[0] & 0x0fu} * 4;
    if (ihl < ipv4_header_size) {
        return failed(frame_defect::ipv4_bad_header_length);
    }
    if (off + ihl > f.size()) {
        return failed(frame_defect::too_short);
    }
    const std::size_t total = be16(h + 2);
    if (total < ihl || off + total > f.size()) {
        return failed(frame_defect::ipv4_bad_total_length);
    }
    if (checks.ipv4_header_checksum && ipv4_header_checksum({h, ihl}) != 0) {
        return failed(frame_defect::ipv4_bad_checksum);
    }
    out.ttl = h[8];
    out.l4_protocol = h[9];
    out.src_ip = ip_address::v4(h[12], h[13], h[14], h[15]);
    out.dst_ip = ip_address::v4(h[16], h[17], h[18], h[19]);
    const std::uint16_t frag = be16(h + 6);
    out.more_fragments = (frag & 0x2000) != 0;
    r.fragment = (frag & 0x3fff) != 0; // MF set or a non-zero offset
    r.l4 = off + ihl;
    r.end = off + total;
    return r;
}

l3_info parse_ipv6(std::span<const std::uint8_t> f, std::size_t off, frame_view& out) noexcept {
    l3_info r;
    const std::uint8_t* h = f.data() + off;
    if (off + ipv6_header_size > f.size()) {
        return failed(frame_defect::too_short);
    }
    if ((h[0] >> 4) != 6) {
        return failed(frame_defect::ipv6_bad_version);
    }
    r.end = off + ipv6_header_size + be16(h + 4);
    if (r.end > f.size()) {
        return failed(frame_defect::ipv6_bad_payload_length);
    }
    out.ttl = h[7];
    out.src_ip.family = ip_family::v6;
    out.dst_ip.family = ip_family::v6;
    std::memcpy(out.src_ip.bytes.data(), h + 8, 16);
    std::memcpy(out.dst_ip.bytes.data(), h + 24, 16);
    std::uint8_t next = h[6];
    std::size_t p = off + ipv6_header_size;
    for (int n = 0;; ++n) {
        std::size_t len = 0;
        switch (next) {
        case 0:  // hop-by-hop options
        case 43: // routing
        case 60: // destination options
            if (p + 2 > r.end) {
                return failed(frame_defect::ipv6_bad_extension_header);
            }
            len = (std::size_t{f[p + 1]} + 1) * 8;
            break;
        case 51: // authentication header: length in 4-octet units, minus 2
            if (p + 2 > r.end) {
                return failed(frame_defect::ipv6_bad_extension_header);
            }
            len = (std::size_t{f[p + 1]} + 2) * 4;
            break;
        case 44: { // fragment
            if (p + 8 > r.end) {
                return failed(frame_defect::ipv6_bad_extension_header);
            }
            const std::uint16_t offset_flags = be16(f.data() + p + 2);
            out.more_fragments = (offset_flags & 1) != 0;
            // RFC 6946: offset 0 without M is an atomic fragment, a whole datagram.
            r.fragment = r.fragment || (offset_flags & 0xfff9) != 0;
            len = 8;
            break;
        }
        default:
            out.l4_protocol = next;
            r.l4 = p;
            return r;
        }
        if (n == max_extension_headers || p + len > r.end) {
            return failed(frame_defect::ipv6_bad_extension_header);
        }
        next = f[p];
        p += len;
    }
}

} // namespace

namespace {

// The Ethernet header and up to max_vlan_tags 802.1Q/802.1ad tags. Returns the offset of the L3
// header, or 0 with `error` set.
std::size_t
parse_link(std::span<const std::uint8_t> f, frame_view& out, frame_result& error) noexcept {
    if (f.size() < ethernet_header_size) {
        error = malformed(frame_defect::too_short);
        return 0;
    }
    std::copy_n(f.data(), 6, out.dst_mac.begin());
    std::copy_n(f.data() + 6, 6, out.src_mac.begin());
    std::uint16_t type = be16(f.data() + 12);
    std::size_t off = ethernet_header_size;
    while (type == ethertype_vlan || type == ethertype_qinq) {
        if (out.vlan_count == max_vlan_tags) {
            error = malformed(frame_defect::too_many_vlan_tags);
            return 0;
        }
        if (off + vlan_tag_size > f.size()) {
            error = malformed(frame_defect::too_short);
            return 0;
        }
        out.vlan_tpid[out.vlan_count] = type;
        out.vlan_tci[out.vlan_count] = be16(f.data() + off);
        ++out.vlan_count;
        type = be16(f.data() + off + 2);
        off += vlan_tag_size;
    }
    out.ethertype = type;
    out.l3_offset = static_cast<std::uint16_t>(off);
    return off;
}

// The UDP header of a whole datagram at l3.l4, its length within the IP payload and, when
// asked, its checksum.
frame_result parse_udp(
        std::span<const std::uint8_t> f, const l3_info& l3, frame_checks checks, frame_view& out
) noexcept {
    if (l3.l4 + udp_header_size > l3.end) {
        return malformed(frame_defect::udp_bad_length);
    }
    const std::uint8_t* u = f.data() + l3.l4;
    const std::size_t udp_length = be16(u + 4);
    if (udp_length < udp_header_size || l3.l4 + udp_length > l3.end) {
        return malformed(frame_defect::udp_bad_length);
    }
    out.src_port = be16(u);
    out.dst_port = be16(u + 2);
    out.payload_offset = static_cast<std::uint16_t>(l3.l4 + udp_header_size);
    out.payload_size = static_cast<std::uint16_t>(udp_length - udp_header_size);
    const std::uint16_t sent = be16(u + 6);
    const bool v6 = out.ethertype == ethertype_ipv6;
    // RFC 768: zero means "no checksum" over IPv4; RFC 8200 §8.1: never allowed over IPv6.
    if (checks.udp_checksum && (sent != 0 || v6)) {
        const std::uint32_t sum = ones_sum(
                {u, udp_length},
                udp_pseudo_header_sum(
                        out.src_ip, out.dst_ip, static_cast<std::uint16_t>(udp_length)
                )
        );
        if (sent == 0 || fold(sum) != 0xffff) {
            return malformed(frame_defect::udp_bad_checksum);
        }
    }
    return {frame_class::udp, frame_defect::none};
}

} // namespace

frame_result
parse_frame(std::span<const std::uint8_t> f, frame_view& out, frame_checks checks) noexcept {
    out = frame_view{};
    frame_result link_error{};
    const std::size_t off = parse_link(f, out, link_error);
    if (off == 0) {
        return link_error;
    }
    l3_info l3;
    if (out.ethertype == ethertype_ipv4) {
        l3 = parse_ipv4(f, off, checks, out);
    } else if (out.ethertype == ethertype_ipv6) {
        l3 = parse_ipv6(f, off, out);
    } else {
        return {frame_class::not_ip, frame_defect::none};
    }
    if (l3.error.kind == frame_class::malformed) {
        return l3.error;
    }
    out.l4_offset = static_cast<std::uint16_t>(l3.l4);
    if (l3.fragment) {
        return {frame_class::ip_fragment, frame_defect::none};
    }
    if (out.l4_protocol != ip_proto_udp) {
        return {frame_class::not_udp, frame_defect::none};
    }
    return parse_udp(f, l3, checks, out);
}

namespace {

void put_ipv4_header(
        const frame_view& req, std::size_t ip_payload, std::uint16_t ipv4_id, std::uint8_t* ip
) noexcept {
    ip[0] = 0x45;
    ip[1] = 0;
    put_be16(ip + 2, static_cast<std::uint16_t>(ipv4_header_size + ip_payload));
    put_be16(ip + 4, ipv4_id);
    put_be16(ip + 6, 0); // no DF: a reply larger than the path MTU may be fragmented
    ip[8] = 64;
    ip[9] = ip_proto_udp;
    std::copy_n(req.dst_ip.bytes.data(), 4, ip + 12);
    std::copy_n(req.src_ip.bytes.data(), 4, ip + 16);
    // RFC 1071: from the fields just set, without reading the header back; the addresses' sum
    // is the request's (the same two, swapped).
    put_be16(
            ip + 10,
            ipv4_reply_header_checksum(
                    address_sum(req.src_ip, req.dst_ip),
                    static_cast<std::uint16_t>(ipv4_header_size + ip_payload),
                    ipv4_id
            )
    );
}

void put_ipv6_header(const frame_view& req, std::size_t ip_payload, std::uint8_t* ip) noexcept {
    ip[0] = 0x60;
    ip[1] = 0;
    ip[2] = 0;
    ip[3] = 0;
    put_be16(ip + 4, static_cast<std::uint16_t>(ip_payload));
    ip[6] = ip_proto_udp;
    ip[7] = 64;
    std::copy_n(req.dst_ip.bytes.data(), 16, ip + 8);
    std::copy_n(req.src_ip.bytes.data(), 16, ip + 24);
}

} // namespace

reply_layout write_reply_headers(
        const frame_view& req,
        const std::array<std::uint8_t, 6>& own_mac,
        std::size_t payload_size,
        std::uint16_t ipv4_id,
        std::span<std::uint8_t> out
) noexcept {
    const bool v4 = req.src_ip.family == ip_family::v4;
    const std::size_t l3 = ethernet_header_size + vlan_tag_size * req.vlan_count;
    const std::size_t l4 = l3 + (v4 ? ipv4_header_size : ipv6_header_size);
    const std::size_t ip_payload = udp_header_size + payload_size;
    if (out.size() < l4 + udp_header_size || ip_payload + (v4 ? ipv4_header_size : 0) > 0xffff) {
        return {};
    }
    std::uint8_t* o = out.data();
    std::copy(req.src_mac.begin(), req.src_mac.end(), o);
    std::copy(own_mac.begin(), own_mac.end(), o + 6);
    std::size_t off = 12;
    for (std::uint8_t i = 0; i < req.vlan_count; ++i) {
        put_be16(o + off, req.vlan_tpid[i]);
        put_be16(o + off + 2, req.vlan_tci[i]);
        off += vlan_tag_size;
    }
    put_be16(o + off, v4 ? ethertype_ipv4 : ethertype_ipv6);
    if (v4) {
        put_ipv4_header(req, ip_payload, ipv4_id, o + l3);
    } else {
        put_ipv6_header(req, ip_payload, o + l3);
    }
    std::uint8_t* u = o + l4;
    put_be16(u, req.dst_port);
    put_be16(u + 2, req.src_port);
    put_be16(u + 4, static_cast<std::uint16_t>(ip_payload));
    put_be16(u + 6, 0);
    return {static_cast<std::uint16_t>(l3),
            static_cast<std::uint16_t>(l4),
            static_cast<std::uint16_t>(l4 + udp_header_size)};
}

void fill_udp_checksum(
        std::span<std::uint8_t> frame,
        const reply_layout& layout,
        const frame_view& req,
        std::size_t payload_size
) noexcept {
    std::uint8_t* u = frame.data() + layout.l4_offset;
    put_be16(u + 6, 0);
    put_be16(u + 6, udp_checksum(req.dst_ip, req.src_ip, {u, udp_header_size + payload_size}));
}

} // namespace sipredir::net
