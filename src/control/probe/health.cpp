// SPDX-License-Identifier: BSD-3-Clause
#include "health.hpp"

#include <cmath>

namespace sipredir::control {

namespace {

// RFC 6298's gains: the smoothed RTT follows 1/8 of each sample, the deviation 1/4.
constexpr double rtt_gain = 0.125;
constexpr double jitter_gain = 0.25;

void take_rtt(health_record& h, double sample_ms) noexcept {
    if (!h.has_rtt) {
        h.rtt_ms = sample_ms;
        h.jitter_ms = sample_ms / 2;
        h.has_rtt = true;
        return;
    }
    h.jitter_ms += jitter_gain * (std::fabs(sample_ms - h.rtt_ms) - h.jitter_ms);
    h.rtt_ms += rtt_gain * (sample_ms - h.rtt_ms);
}

bool become(health_record& h, health next, std::int64_t now_ns) noexcept {
    if (h.state == next) {
        return false;
    }
    h.state = next;
    h.changed_at_ns = now_ns;
    return true;
}

bool fail(health_record& h, const health_policy& p, std::int64_t now_ns) noexcept {
    h.successes = 0;
    ++h.failures;
    return h.failures >= p.down_after && become(h, health::down, now_ns);
}

} // namespace

bool record_reply(
        health_record& h,
        const health_policy& p,
        bool alive,
        std::uint16_t code,
        double rtt_ms,
        std::int64_t now_ns
) noexcept {
    take_rtt(h, rtt_ms);
    h.last_code = code;
    if (!alive) {
        ++h.other_replies;
        return fail(h, p, now_ns);
    }
    ++h.alive_replies;
    h.failures = 0;
    ++h.successes;
    // From unknown one answer is enough: there is no earlier verdict to be sure against.
    const bool enough = h.state == health::unknown || h.successes >= p.up_after;
    return enough && become(h, health::up, now_ns);
}

bool record_timeout(health_record& h, const health_policy& p, std::int64_t now_ns) noexcept {
    h.last_code = 0;
    ++h.timeouts;
    return fail(h, p, now_ns);
}

} // namespace sipredir::control
