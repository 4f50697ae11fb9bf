// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target: any frame through parse_frame, and, for UDP, the reply headers built from it
// parse back as the mirror image.
#include "require.hpp"

#include <algorithm>
#include <net/frame.hpp>
#include <vector>

using namespace sipredir::net;

namespace {
using sipredir::fuzz::require;
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::uint8_t> frame(data, data + size);
    frame_view v;
    const frame_result r =
            parse_frame(frame, v, {.ipv4_header_checksum = false, .udp_checksum = false});
    if (r.kind != frame_class::udp) {
        return 0;
    }
    require(std::size_t{v.payload_offset} + v.payload_size <= size);
    std::vector<std::uint8_t> out(std::size_t{v.payload_offset} + 64 + v.payload_size);
    const reply_layout l = write_reply_headers(v, v.dst_mac, v.payload_size, 1, out);
    require(l.payload_offset != 0);
    std::copy_n(frame.data() + v.payload_offset, v.payload_size, out.data() + l.payload_offset);
    fill_udp_checksum(out, l, v, v.payload_size);
    out.resize(std::size_t{l.payload_offset} + v.payload_size);
    frame_view back;
    require(parse_frame(out, back).kind == frame_class::udp);
    require(back.src_ip == v.dst_ip && back.dst_ip == v.src_ip);
    require(back.src_port == v.dst_port && back.dst_port == v.src_port);
    require(back.payload_size == v.payload_size);
    return 0;
}
