// SPDX-License-Identifier: BSD-3-Clause
// What the workers need to know about the appliance itself: its addresses, ports and VLANs, the
// SIP policy and the fixed parts of every reply. Built by the control thread before the workers
// start and never changed while they run: a reload changes pools and backends (the table
// snapshot, with the default pool), never the identity, so [listen], [dataplane], [exception] and
// [sip] other than sip.pool take a restart.
#pragma once

#include <array>
#include <balance/policy.hpp>
#include <base/siphash.hpp>
#include <cstdint>
#include <net/frame.hpp>
#include <net/ip_address.hpp>
#include <pipeline/kernel_filter.hpp>
#include <pipeline/source_limiter.hpp>
#include <sip/verdict.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sipredir::pipeline {

inline constexpr std::size_t max_listen_addresses = 16;
inline constexpr std::size_t max_listen_ports = 16;
inline constexpr std::size_t max_listen_vlans = 16;

struct identity {
    std::array<net::ip_address, max_listen_addresses> addresses{};
    std::uint8_t address_count = 0;
    std::array<std::uint16_t, max_listen_ports> ports{};
    std::uint8_t port_count = 0;
    // VLAN ids accepted (the innermost tag); 0 stands for untagged frames.
    std::array<std::uint16_t, max_listen_vlans> vlans{};
    std::uint8_t vlan_count = 0;

    std::array<std::uint8_t, 6> own_mac{}; // the port's: source of every reply

    std::vector<std::string> option_tags; // storage behind option_tag_views
    std::vector<std::string_view> option_tag_views;
    sip::method_set redirect_methods = sip::bit(sip::method::invite);
    std::string allow;  // Allow on 405 and on the 200 to OPTIONS
    std::string server; // Server header; empty: none
    siphash_key to_tag_key{};
    siphash_key request_hash_key{}; // hash pools' key (Call-ID, From user, R-URI user)

    net::frame_checks checks;             // what the NIC has not verified already
    bool udp_checksum_in_software = true; // false: the caller sets TX offload flags
    std::uint32_t max_reply_frame = 1514; // MTU plus Ethernet header (tags added on top)
    // Octets a reply's SIP payload may exceed its request's by, Contact lines aside; a larger
    // reply is dropped (reply_amplification).
    std::uint32_t max_reply_growth = 256;

    kernel_filter kernel;         // what the exception path passes to the kernel
    source_limit_settings limits; // each worker builds its own source_limiter from these
    siphash_key limit_key{};      // the limiters' table hash key (random at start)

    sip::verdict_policy verdict() const noexcept {
        return {.redirect_methods = redirect_methods, .supported_option_tags = option_tag_views};
    }
    bool owns(const net::ip_address& ip) const noexcept;
    bool listens_on(std::uint16_t port) const noexcept;
    bool accepts_vlan(std::uint16_t vlan) const noexcept;
};

} // namespace sipredir::pipeline
