// SPDX-License-Identifier: BSD-3-Clause
// Ethernet / 802.1Q / QinQ / IPv4 / IPv6 / UDP headers over a byte span, and the headers of a
// reply to a UDP datagram. Plain functions; no DPDK.
#pragma once

#include "ip_address.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace sipredir::net {

inline constexpr std::uint16_t ethertype_ipv4 = 0x0800;
inline constexpr std::uint16_t ethertype_ipv6 = 0x86dd;
inline constexpr std::uint16_t ethertype_arp = 0x0806;
inline constexpr std::uint16_t ethertype_vlan = 0x8100;
inline constexpr std::uint16_t ethertype_qinq = 0x88a8;
inline constexpr std::uint8_t ip_proto_icmp = 1;
inline constexpr std::uint8_t ip_proto_tcp = 6;
inline constexpr std::uint8_t ip_proto_udp = 17;
inline constexpr std::uint8_t ip_proto_icmpv6 = 58;

inline constexpr std::size_t ethernet_header_size = 14;
inline constexpr std::size_t vlan_tag_size = 4;
inline constexpr std::size_t ipv4_header_size = 20;
inline constexpr std::size_t ipv6_header_size = 40;
inline constexpr std::size_t udp_header_size = 8;
inline constexpr std::size_t max_vlan_tags = 2;

// What a frame is, for the classifier: answer it, hand it to the kernel, or drop it (counted).
enum class frame_class : std::uint8_t {
    udp,         // a whole UDP datagram: payload is valid
    not_ip,      // ARP, LLDP, ...: the exception path's
    not_udp,     // ICMP, TCP, ...: the exception path's
    ip_fragment, // an IPv4 or IPv6 fragment (reassembly or exception path decides)
    malformed,   // `reason` names the broken field
};

enum class frame_defect : std::uint8_t {
    none,
    too_short, // shorter than the headers it announces
    too_many_vlan_tags,
    ipv4_bad_version,
    ipv4_bad_header_length,
    ipv4_bad_total_length,
    ipv4_bad_checksum,
    ipv6_bad_version,
    ipv6_bad_payload_length,
    ipv6_bad_extension_header,
    udp_bad_length,
    udp_bad_checksum,
};

struct frame_defect_info {
    frame_defect id;
    std::string_view name; // counter name
};

inline constexpr auto frame_defect_table = std::to_array<frame_defect_info>({
        {frame_defect::none, "frame_ok"},
        {frame_defect::too_short, "frame_too_short"},
        {frame_defect::too_many_vlan_tags, "frame_too_many_vlan_tags"},
        {frame_defect::ipv4_bad_version, "frame_ipv4_bad_version"},
        {frame_defect::ipv4_bad_header_length, "frame_ipv4_bad_header_length"},
        {frame_defect::ipv4_bad_total_length, "frame_ipv4_bad_total_length"},
        {frame_defect::ipv4_bad_checksum, "frame_ipv4_bad_checksum"},
        {frame_defect::ipv6_bad_version, "frame_ipv6_bad_version"},
        {frame_defect::ipv6_bad_payload_length, "frame_ipv6_bad_payload_length"},
        {frame_defect::ipv6_bad_extension_header, "frame_ipv6_bad_extension_header"},
        {frame_defect::udp_bad_length, "frame_udp_bad_length"},
        {frame_defect::udp_bad_checksum, "frame_udp_bad_checksum"},
});

struct frame_view {
    std::array<std::uint8_t, 6> dst_mac{};
    std::array<std::uint8_t, 6> src_mac{};
    std::array<std::uint16_t, max_vlan_tags> vlan_tci{}; // outer first
    std::array<std::uint16_t, max_vlan_tags> vlan_tpid{};
    std::uint8_t vlan_count = 0;
    std::uint16_t ethertype = 0; // after the tags
    std::uint16_t l3_offset = 0;
    std::uint16_t l4_offset = 0;
    std::uint8_t l4_protocol = 0;
    ip_address src_ip;
    ip_address dst_ip;
    std::uint8_t ttl = 0;
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    std::uint16_t payload_offset = 0;
    std::uint16_t payload_size = 0;
    bool more_fragments = false; // ip_fragment: this is not the last one
};

struct frame_result {
    frame_class kind = frame_class::malformed;
    frame_defect reason = frame_defect::none;
};

// Options for the checks that cost a pass over the bytes (a NIC may have done them already).
struct frame_checks {
    bool ipv4_header_checksum = true;
    bool udp_checksum = true;
};

// Reads the headers of one Ethernet frame. Never reads outside `frame`. Trailing octets past
// the IP length (Ethernet padding) are ignored.
frame_result parse_frame(
        std::span<const std::uint8_t> frame, frame_view& out, frame_checks checks = {}
) noexcept;

struct reply_layout {
    std::uint16_t l3_offset = 0;
    std::uint16_t l4_offset = 0;
    std::uint16_t payload_offset = 0;
};

// Writes the Ethernet (same VLAN tags), IP and UDP headers of a reply to the datagram `request`
// describes into the front of `out`: to the request's source MAC from `own_mac` (the request's
// destination MAC may be broadcast or another host's in promiscuous mode), addresses and ports
// swapped, TTL / hop limit 64, no
// IP options or extension headers, lengths for `payload_size` octets, IPv4 header checksum set,
// UDP checksum zero (see fill_udp_checksum). Returns the layout, or all zeros when `out`
// cannot hold the headers or the payload is too large for one IP packet.
reply_layout write_reply_headers(
        const frame_view& request,
        const std::array<std::uint8_t, 6>& own_mac,
        std::size_t payload_size,
        std::uint16_t ipv4_id,
        std::span<std::uint8_t> out
) noexcept;

// Computes the UDP checksum of a reply whose headers and payload are in `frame`.
void fill_udp_checksum(
        std::span<std::uint8_t> frame,
        const reply_layout& layout,
        const frame_view& request,
        std::size_t payload_size
) noexcept;

} // namespace sipredir::net
