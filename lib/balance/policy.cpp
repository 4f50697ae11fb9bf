// SPDX-License-Identifier: BSD-3-Clause
#include "policy.hpp"

namespace sipredir::balance {
namespace {

// An index in [0, n) from 32 random bits, by multiply-shift (no division).
std::size_t below(std::uint64_t random32, std::size_t n) noexcept {
    return static_cast<std::size_t>(((random32 & 0xffffffffULL) * n) >> 32);
}

std::uint16_t first_pick(const pool_snapshot& p, const choice_inputs& in, bool& found) noexcept {
    found = true;
    switch (p.chooser) {
    case policy_kind::least_load:
        if (p.least_ties > 0) {
            return p.ranked[below(in.random, p.least_ties)];
        }
        break;
    case policy_kind::proportional:
    case policy_kind::least_latency: // its alias table holds only the backends in the band
        if (!p.spare.empty()) {
            return p.spare.draw(in.random);
        }
        break;
    case policy_kind::p2c: {
        const std::size_t n = p.eligible.size();
        if (n == 1) {
            return p.eligible[0];
        }
        if (n > 1) {
            const std::size_t a = below(in.random, n);
            std::size_t b = below(in.random >> 32, n - 1);
            b += b >= a; // a second, different one
            const std::uint16_t x = p.eligible[a];
            const std::uint16_t y = p.eligible[b];
            return p.backends[y].load < p.backends[x].load ? y : x;
        }
        break;
    }
    case policy_kind::sequence:
        if (!p.eligible.empty()) {
            return p.eligible[0]; // eligible keeps the configured order
        }
        break;
    case policy_kind::wrr:
        if (p.wrr_cycle && !p.wrr_cycle->empty()) {
            return (*p.wrr_cycle)[in.sequence % p.wrr_cycle->size()];
        }
        break;
    case policy_kind::hash:
        if (p.maglev && !p.maglev->empty()) {
            return p.available[(*p.maglev)[in.key_hash % p.maglev->size()]];
        }
        break;
    case policy_kind::random:
        if (!p.available.empty()) {
            return p.available[below(in.random, p.available.size())];
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
    return p.chooser == policy_kind::sequence ? p.eligible : p.ranked;
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
    std::uint16_t first = first_pick(p, in, found);
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
