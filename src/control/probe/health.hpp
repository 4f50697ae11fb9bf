// SPDX-License-Identifier: BSD-3-Clause
// A backend's health as probing sees it: hysteresis on consecutive answers (N failures take it
// down, M successes bring it back) and the round-trip time (EWMA and jitter, RFC 6298 style).
#pragma once

#include "../enum_names.hpp"

#include <cstdint>

namespace sipredir::control {

enum class health : std::uint8_t {
    unknown, // not probed yet: usable, as configured
    up,
    down,
};

inline constexpr auto health_table = std::to_array<enum_name<health>>({
        {health::unknown, "unknown"},
        {health::up, "up"},
        {health::down, "down"},
});
static_assert(covers_in_order(health_table, health::down));

struct health_policy {
    std::uint32_t down_after = 2; // consecutive failures (timeouts, codes not alive)
    std::uint32_t up_after = 2;   // consecutive successes, from down
};

struct health_record {
    health state = health::unknown;
    std::uint32_t successes = 0; // consecutive
    std::uint32_t failures = 0;  // consecutive
    double rtt_ms = 0;           // smoothed round trip (any reply counts)
    double jitter_ms = 0;        // smoothed deviation from rtt_ms
    bool has_rtt = false;
    std::uint16_t last_code = 0;     // of the last reply; 0: the last probe timed out
    std::int64_t changed_at_ns = 0;  // of the last change of state
    std::uint64_t alive_replies = 0; // totals
    std::uint64_t other_replies = 0;
    std::uint64_t timeouts = 0;
};

// One reply arrived after `rtt_ms`; `alive` says whether its code counts as alive. Returns
// true when the state changed.
bool record_reply(
        health_record& h,
        const health_policy& p,
        bool alive,
        std::uint16_t code,
        double rtt_ms,
        std::int64_t now_ns
) noexcept;

// The probe went unanswered. Returns true when the state changed.
bool record_timeout(health_record& h, const health_policy& p, std::int64_t now_ns) noexcept;

constexpr std::string_view name_of(health h) noexcept {
    return name_in(health_table, h);
}

} // namespace sipredir::control
