// SPDX-License-Identifier: BSD-3-Clause
#include "policy.hpp"

namespace sipredir::balance {
namespace {

// An index in [0, n) from 32 random bits, by multiply-shift (no division).
std::size_t below(std::uint64_t random32, std::size_t n) noexcept {
    return static_cast<std::size_t>(((random32 & 0xffffffffULL) * n) >> 32);
}

// The policy's pick from `c` (the pool's own set, or its serving tier); `p` for loads.
std::uint16_t first_pick(
        const pool_snapshot& p, const choice_set& c, const choice_inputs& in, bool& found
) noexcept {
    found = true;
    switch (p.chooser) {
    case policy_kind::least_load:
        if (c.least_ties > 0) {
            return c.ranked[below(in.random, c.least_ties)];
        }
        break;
    case policy_kind::proportional:
    case policy_kind::least_latency: // its alias table holds only the backends in the band
        if (!c.spare.empty()) {
            return c.spare.draw(in.random);
        }
        break;
    case policy_kind::p2c: {
        const std::size_t n = c.eligible.size();
        if (n == 1) {
            return c.eligible[0];
        }
        if (n > 1) {
            const std::size_t a = below(in.random, n);
            std::size_t b = below(in.random >> 32, n - 1);
            b += b >= a; // a second, different one
            const std::uint16_t x = c.eligible[a];
            const std::uint16_t y = c.eligible[b];
            return p.backends[y].load < p.backends[x].load ? y : x;
        }
        break;
    }
    case policy_kind::sequence:
        if (!c.eligible.empty()) {
            return c.eligible[0]; // eligible keeps the configured order
        }
        break;
    case policy_kind::wrr:
        if (c.wrr_cycle && !c.wrr_cycle->empty()) {
            return (*c.wrr_cycle)[in.sequence % c.wrr_cycle->size()];
        }
        break;
    case policy_kind::hash:
        if (c.maglev && !c.maglev->empty()) {
            return c.available[(*c.maglev)[in.key_hash % c.maglev->size()]];
        }
        break;
    case policy_kind::random:
        if (!c.available.empty()) {
            return c.available[below(in.random, c.available.size())];
        }
        break;
    case policy_kind::race: // never a chooser: build_pool_snapshot puts the fallback there
        break;
    }
    found = false;
    return 0;
}

bool contains(const selection& s, std::uint16_t i) noexcept {
    for (std::uint8_t k = 0; k < s.count; ++k) {
        if (s.picks[k] == i) {
            return true;
        }
    }
    return false;
}

// 16 random bits for the RFC 7339 draw, mixed so they do not repeat the policy's own draw.
std::uint32_t divert_draw(std::uint64_t random) noexcept {
    return static_cast<std::uint32_t>((random * 0x9e3779b97f4a7c15ULL) >> 48);
}

const std::vector<std::uint16_t>& failover_order(const pool_snapshot& p) noexcept {
    if (!p.tiers.empty()) {
        return p.failover; // the serving tier's order, then the following tiers'
    }
    return p.chooser == policy_kind::sequence ? p.eligible : p.ranked;
}

// What the policy chooses from: the pool, or with tiers on the serving tier.
const choice_set& serving_set(const pool_snapshot& p) noexcept {
    if (p.tiers.empty()) {
        return p;
    }
    return p.tiers[p.serving_tier];
}

// RFC 7339 loss: the first in failover order that is not `diverted` and does not itself ask
// for everything to go elsewhere; found = false when there is none (the request is refused).
std::uint16_t divert_from(const pool_snapshot& p, std::uint16_t diverted, bool& found) noexcept {
    for (std::uint16_t i : failover_order(p)) {
        if (i != diverted && p.backends[i].divert < 65536) {
            found = true;
            return i;
        }
    }
    found = false;
    return 0;
}

} // namespace

selection choose(const pool_snapshot& p, const choice_inputs& in) noexcept {
    selection s;
    s.why = refusal::unavailable;
    if (p.refuses) {
        return s;
    }
    bool found = false;
    std::uint16_t first = first_pick(p, serving_set(p), in, found);
    if (!found) {
        return s;
    }
    if (const std::uint32_t divert = p.backends[first].divert;
        divert != 0 && divert_draw(in.random) < divert) {
        first = divert_from(p, first, found);
        if (!found) {
            s.why = refusal::shed;
            return s;
        }
    }
    s.why = refusal::none;
    s.picks[s.count++] = first;
    if (p.contacts <= 1) {
        return s;
    }
    for (std::uint16_t i : failover_order(p)) {
        if (s.count == p.contacts) {
            break;
        }
        if (!contains(s, i)) {
            s.picks[s.count++] = i;
        }
    }
    return s;
}

} // namespace sipredir::balance
