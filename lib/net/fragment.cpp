// SPDX-License-Identifier: BSD-3-Clause
#include "fragment.hpp"

#include "bytes.hpp"
#include "checksum.hpp"

#include <algorithm>
#include <cstring>

namespace sipredir::net {

namespace {

constexpr std::size_t fragment_header_size = 8;
constexpr std::uint8_t ipv6_fragment_next_header = 44;

} // namespace

fragment_plan plan_fragments(
        const reply_layout& layout, std::size_t frame_size, std::size_t mtu, bool ipv6
) noexcept {
    const std::size_t ip_header = layout.l4_offset - layout.l3_offset;
    const std::size_t overhead = ip_header + (ipv6 ? fragment_header_size : 0);
    if (mtu <= overhead + 8 || frame_size <= layout.l4_offset) {
        return {};
    }
    const std::size_t chunk = (mtu - overhead) / 8 * 8;
    const std::size_t datagram = frame_size - layout.l4_offset;
    const std::size_t count = (datagram + chunk - 1) / chunk;
    // IPv4 offsets are 13 bits of 8 octets.
    if (!ipv6 && (count - 1) * chunk / 8 > 0x1fff) {
        return {};
    }
    return {.count = count, .chunk = chunk};
}

std::size_t write_fragment(
        std::span<const std::uint8_t> frame,
        const reply_layout& layout,
        bool ipv6,
        const fragment_plan& plan,
        std::size_t index,
        std::uint32_t id,
        std::span<std::uint8_t> out
) noexcept {
    const std::size_t datagram = frame.size() - layout.l4_offset;
    const std::size_t offset = index * plan.chunk;
    if (index >= plan.count || offset >= datagram) {
        return 0;
    }
    const std::size_t length = std::min(plan.chunk, datagram - offset);
    const bool more = offset + length < datagram;
    const std::size_t ip_header = layout.l4_offset - layout.l3_offset;
    const std::size_t extra = ipv6 ? fragment_header_size : 0;
    const std::size_t size = layout.l4_offset + extra + length;
    if (out.size() < size) {
        return 0;
    }
    std::uint8_t* o = out.data();
    std::memcpy(o, frame.data(), layout.l4_offset); // Ethernet, tags, IP header
    std::uint8_t* ip = o + layout.l3_offset;
    if (ipv6) {
        put_be16(ip + 4, static_cast<std::uint16_t>(fragment_header_size + length));
        const std::uint8_t next = ip[6];
        ip[6] = ipv6_fragment_next_header;
        std::uint8_t* f = ip + ip_header;
        f[0] = next;
        f[1] = 0;
        put_be16(f + 2, static_cast<std::uint16_t>((offset / 8) << 3 | (more ? 1 : 0)));
        put_be16(f + 4, static_cast<std::uint16_t>(id >> 16));
        put_be16(f + 6, static_cast<std::uint16_t>(id));
    } else {
        put_be16(ip + 2, static_cast<std::uint16_t>(ip_header + length));
        put_be16(ip + 4, static_cast<std::uint16_t>(id));
        put_be16(ip + 6, static_cast<std::uint16_t>((more ? 0x2000 : 0) | offset / 8));
        put_be16(ip + 10, 0);
        put_be16(ip + 10, ipv4_header_checksum({ip, ip_header}));
    }
    std::memcpy(o + layout.l4_offset + extra, frame.data() + layout.l4_offset + offset, length);
    return size;
}

} // namespace sipredir::net
