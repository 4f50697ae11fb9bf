// SPDX-License-Identifier: BSD-3-Clause
// What the workers hand to the kernel through the exception path. Only what the appliance
// itself needs passes: ARP and NDP (marked urgent: they get their own ring, drained first),
// ICMP at a bounded rate per worker, UDP to our control services from the peers configured for
// each (probe and race answers from backends, pushed reports, fleet peers), and TCP to the
// in-band management port when there is one. Everything else a worker drops and counts, so a
// flood to a closed port costs one lookup per frame and never reaches the kernel's ring, where
// it would crowd out the probe answers and ARP that keep the backends in service.
#pragma once

#include <array>
#include <balance/snapshot.hpp>
#include <cstdint>
#include <net/frame.hpp>
#include <span>

namespace sipredir::pipeline {

struct kernel_filter {
    bool enabled = true; // false: every frame for the kernel passes (the former behaviour)
    struct udp_service {
        std::uint16_t port = 0;
        std::uint8_t services = 0; // balance::control_service bits served on this port
    };
    std::array<udp_service, 4> udp{};
    std::uint8_t udp_count = 0;
    std::uint16_t tcp_port = 0;          // in-band management (metrics) on our address; 0: none
    std::uint32_t icmp_per_second = 100; // per worker; the bucket holds one second's worth

    // Adds `services` to `port`'s (a port may serve several); false when the table is full.
    bool serve(std::uint16_t port, std::uint8_t services) noexcept;
};

// One worker's ICMP allowance: a token bucket refilled with time.
struct icmp_bucket {
    std::uint32_t tokens = 0;
    std::uint64_t refilled_ms = 0;
    bool primed = false;
};

enum class kernel_admission : std::uint8_t {
    pass,           // to the kernel's ring
    urgent,         // ARP or NDP: to the kernel's urgent ring, drained first
    filtered,       // no rule admits it: dropped (exception_filtered)
    icmp_over_rate, // ICMP beyond the worker's rate: dropped (exception_icmp_rate)
};

// The fate of a frame where_to sent toward the kernel. `frame` holds it whole; `f` as
// parse_frame filled it; `peers` is the published snapshot's (empty before the first one).
kernel_admission admit_to_kernel(
        const kernel_filter& filter,
        std::span<const balance::control_peer> peers,
        icmp_bucket& icmp,
        std::uint64_t now_ms,
        net::frame_class kind,
        const net::frame_view& f,
        std::span<const std::uint8_t> frame
) noexcept;

// The services `address` may reach (0: none).
std::uint8_t
services_of(std::span<const balance::control_peer> peers, const net::ip_address& address) noexcept;

} // namespace sipredir::pipeline
