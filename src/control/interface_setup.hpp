// SPDX-License-Identifier: BSD-3-Clause
// Gives a kernel interface (the exception path's TAP) the addresses and routes of [exception],
// over rtnetlink: the TAP is created afresh at every start, so nothing configured by hand
// survives a restart. Run by the control core at start, never by a worker.
#pragma once

#include "config.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sipredir::control {

// The rtnetlink requests, each asking for an acknowledgement under sequence number `seq`.
// Sets IFF_UP on interface `ifindex`.
std::vector<std::uint8_t> link_up_request(int ifindex, std::uint32_t seq);
// Adds (or replaces) address `a` on `ifindex`; an IPv6 one without duplicate address
// detection, so that the probes can leave from it at once.
std::vector<std::uint8_t>
address_request(int ifindex, const interface_address& a, std::uint32_t seq);
// Adds (or replaces) route `r` through `ifindex` in the main table.
std::vector<std::uint8_t> route_request(int ifindex, const interface_route& r, std::uint32_t seq);

// The kernel's answer to request `seq` in `reply`: 0 when acknowledged, the positive errno it
// refused with, or nothing when `reply` holds no answer to `seq`.
std::optional<int> ack_status(std::span<const std::uint8_t> reply, std::uint32_t seq);

// Brings interface `name` up, then adds e.addresses, then e.routes. Returns "" or what failed,
// naming the interface and the address or route: "interface sipredir0: cannot add address
// 198.18.0.1/24: Permission denied".
std::string configure_interface(const std::string& name, const exception_config& e);

} // namespace sipredir::control
