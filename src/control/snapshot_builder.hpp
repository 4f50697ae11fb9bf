// SPDX-License-Identifier: BSD-3-Clause
// From an accepted configuration to what the workers read: the appliance's identity and the first
// table snapshot.
#pragma once

#include "config.hpp"

#include <array>
#include <balance/snapshot.hpp>
#include <memory>
#include <pipeline/identity.hpp>
#include <vector>

namespace sipredir::control {

// Keys the configuration leaves out are drawn at random (libsodium): a restart then gives a
// retransmission a new To-tag, which the caller tolerates (it matches on the transaction).
pipeline::identity
make_identity(const appliance_config& c, const std::array<std::uint8_t, 6>& own_mac);

// The exception path's filter: the control services' ports (probe, race, reports, fleet) as
// configured, the in-band metrics port, the ICMP rate. Restart-only, like the identity.
pipeline::kernel_filter make_kernel_filter(const appliance_config& c);

// Who may reach which control service: backends (probe and race answers, reports) and fleet
// peers, one entry per address, sorted for the workers' binary search. Rebuilt at each reload.
std::vector<balance::control_peer> control_peers_of(const appliance_config& c);

// The facts the control plane starts from, by slot (max_backends of them): each backend in its
// configured state.
std::vector<balance::backend_facts> initial_facts(const appliance_config& c);

// Gives `next` (fresh from parse_config: slot = index in the file) the slots of `running`: a
// backend with the same name and address keeps its slot, and with it its counters and live
// facts; a new one takes a slot `used` says was never used in this run, else a free one. Pools
// are renumbered to match. `used` (max_backends flags) is updated.
void assign_slots(const appliance_config& running, appliance_config& next, std::vector<bool>& used);

// Every pool, built from the backends' configuration and facts (indexed by slot), with the
// control plane's RFC 7339 indication.
std::unique_ptr<const balance::table_snapshot> build_tables(
        const appliance_config& c,
        std::span<const balance::backend_facts> facts,
        std::uint64_t generation,
        const balance::table_snapshot* previous,
        const balance::overload_signal& overload = {}
);

// Some pool has every available backend at or over its threshold (balance::pool_saturated).
bool any_pool_saturated(const appliance_config& c, std::span<const balance::backend_facts> facts);

} // namespace sipredir::control
