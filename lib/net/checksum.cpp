// SPDX-License-Identifier: BSD-3-Clause
// Internet checksum arithmetic.
#include "checksum.hpp"

namespace sipredir::net {

std::uint32_t ones_sum(std::span<const std::uint8_t> b, std::uint32_t initial) noexcept {
    // 64-bit accumulator: no fold is needed inside the loop for any datagram size.
    std::uint64_t sum = initial;
    std::size_t i = 0;
    for (; i + 1 < b.size(); i += 2) {
        sum += static_cast<std::uint32_t>(b[i] << 8 | b[i + 1]);
    }
    if (i < b.size()) {
        sum += static_cast<std::uint32_t>(b[i] << 8);
    }
    while (sum >> 32) {
        sum = (sum & 0xffffffffULL) + (sum >> 32);
    }
    return static_cast<std::uint32_t>(sum);
}

std::uint16_t fold(std::uint32_t sum) noexcept {
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(sum);
}

std::uint16_t ipv4_header_checksum(std::span<const std::uint8_t> header) noexcept {
    return static_cast<std::uint16_t>(~fold(ones_sum(header)));
}

std::uint16_t udp_pseudo_header_sum(
        const ip_address& src, const ip_address& dst, std::uint16_t udp_length
) noexcept {
    std::uint32_t sum = ones_sum({src.bytes.data(), src.size()});
    sum = ones_sum({dst.bytes.data(), dst.size()}, sum);
    sum += 17; // next header / protocol: UDP
    sum += udp_length;
    return fold(sum);
}

std::uint16_t udp_checksum(
        const ip_address& src, const ip_address& dst, std::span<const std::uint8_t> udp
) noexcept {
    const std::uint32_t sum =
            ones_sum(udp, udp_pseudo_header_sum(src, dst, static_cast<std::uint16_t>(udp.size())));
    const auto c = static_cast<std::uint16_t>(~fold(sum));
    return c == 0 ? 0xffff : c;
}

std::uint16_t
checksum_update(std::uint16_t checksum, std::uint16_t old_word, std::uint16_t new_word) noexcept {
    const std::uint32_t sum = static_cast<std::uint16_t>(~checksum)
                              + static_cast<std::uint16_t>(~old_word) + std::uint32_t{new_word};
    return static_cast<std::uint16_t>(~fold(sum));
}

} // namespace sipredir::net
