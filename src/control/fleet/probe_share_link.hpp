// SPDX-License-Identifier: BSD-3-Clause
// Probing shared out, between the fleet exchange and the rest of the control plane: our own
// probe results of the backends we probe handed to the exchange (which sends them), the
// prober told to leave alone the backends others probe for us, and the fresh results the
// others shared put in the load monitor in place of our own. Driven from the fleet service's
// tick; whatever carries the exchange's messages (the UDP mesh or another transport) is not
// its concern. Does nothing with [fleet] probers = 0 or without [probe].
#pragma once

#include "../service.hpp"
#include "redirect_exchange.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sipredir::control {

class probe_share_link {
public:
    // Every tick of the fleet service, after expiring silent peers and before asking the
    // exchange whether to send.
    void tick(fleet::redirect_exchange& x, control_context& c, std::int64_t now);
    // "probing" (per backend: role, probers, the shared result's sender and age) and the
    // counters, in `sipredirctl fleet`.
    void write_status(
            const fleet::redirect_exchange& x,
            const control_context& c,
            object_writer& o,
            std::string& out,
            std::int64_t now
    ) const;

    // Who probes each backend, by slot, as of the last tick (empty: probing not shared).
    std::span<const fleet::probe_role> roles() const noexcept { return _roles; }
    // The backends whose shared results are in use now: from whom, how old.
    std::span<const fleet::shared_probe_age>
    shared_ages(const fleet::redirect_exchange& x, const control_context& c, std::int64_t now);

private:
    struct slot_state {
        std::uint64_t results = 0;   // our probe's results for it, as last seen
        std::uint64_t sent = 0;      // our probes sent to it, as last seen
        std::int64_t load_at_ns = 0; // of the load figure last shared
        fleet::probe_role role = fleet::probe_role::self;
        bool await_own = false; // others probed it until now: theirs until ours answers
    };
    std::vector<slot_state> _slots;
    std::vector<fleet::probe_role> _roles;
    std::vector<fleet::shared_probe_age> _ages; // what the last shared_ages() gave
};

} // namespace sipredir::control
