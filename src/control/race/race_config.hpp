// SPDX-License-Identifier: BSD-3-Clause
// [race] of the configuration (docs/race.md): what the control core's race engine is given.
#pragma once

#include <cstdint>

namespace sipredir::control {

// The control core's race engine (pools with policy "race"; docs/race.md). Restart-only.
struct race_engine_config {
    std::uint32_t table_size = 4096;    // races at once, and requests waiting on them
    std::uint16_t source_port = 5064;   // legs leave from listen.addresses[0]:source_port
    std::uint32_t leg_linger_ms = 4000; // how long a race's INVITE legs are followed (CANCEL, ACK)
    bool full_reply_fallback = false;   // table full: the pool's fallback answers (else a 503)
    bool allow_forwarding_legs = false; // permits race_leg = "forward" (legs may ring phones)
    friend bool operator==(const race_engine_config&, const race_engine_config&) = default;
};

} // namespace sipredir::control
