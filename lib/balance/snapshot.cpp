// SPDX-License-Identifier: BSD-3-Clause
#include "snapshot.hpp"

#include <algorithm>
#include <cassert>

namespace sipredir::balance {

namespace {

// Same available backends, in the same order, with the same weights.
bool same_membership(const pool_snapshot& a, const pool_snapshot& b) {
    if (a.available.size() != b.available.size() || !a.maglev || !a.wrr_cycle) {
        return false;
    }
    for (std::size_t k = 0; k < a.available.size(); ++k) {
        const backend_view& x = a.backends[a.available[k]];
        const backend_view& y = b.backends[b.available[k]];
        if (a.available[k] != b.available[k] || x.slot != y.slot || x.weight != y.weight) {
            return false;
        }
    }
    return true;
}

bool has_rtt(const backend_view& b) noexcept {
    return b.rtt_ms >= 0;
}

// least-latency: zeroes the spare weight of every eligible backend more than `band_ms` slower
// than the fastest (or without a round trip while some have one), and ranks by round trip.
void keep_latency_band(pool_snapshot& s, double band_ms, std::vector<double>& spare) {
    double fastest = -1;
    for (std::uint16_t i : s.eligible) {
        const backend_view& b = s.backends[i];
        if (has_rtt(b) && (fastest < 0 || b.rtt_ms < fastest)) {
            fastest = b.rtt_ms;
        }
    }
    if (fastest < 0) {
        return; // nobody timed yet: proportional over all eligible
    }
    for (std::uint16_t i : s.eligible) {
        const backend_view& b = s.backends[i];
        if (!has_rtt(b) || b.rtt_ms > fastest + band_ms) {
            spare[i] = 0;
        }
    }
    std::stable_sort(s.ranked.begin(), s.ranked.end(), [&](std::uint16_t x, std::uint16_t y) {
        const backend_view& a = s.backends[x];
        const backend_view& b = s.backends[y];
        if (has_rtt(a) != has_rtt(b)) {
            return has_rtt(a);
        }
        return a.rtt_ms < b.rtt_ms;
    });
}

} // namespace

double estimated_load(const backend_config& config, const backend_facts& facts) noexcept {
    if (config.capacity == 0) {
        return 1e9; // no capacity: never the least loaded
    }
    return (facts.reported_calls + static_cast<double>(facts.redirects_since_report))
           / config.capacity;
}

std::uint32_t divert_share(double oc_reduction) noexcept {
    if (!(oc_reduction > 0)) {
        return 0;
    }
    if (oc_reduction >= 100) {
        return 65536;
    }
    return static_cast<std::uint32_t>(oc_reduction / 100.0 * 65536.0 + 0.5);
}

bool pool_saturated(
        const pool_config& pool,
        std::span<const backend_config> configs,
        std::span<const backend_facts> facts
) noexcept {
    bool any = false;
    for (std::uint16_t slot : pool.backends) {
        const backend_facts& f = facts[slot];
        if (f.state == backend_state::down || f.state == backend_state::draining) {
            continue;
        }
        if (estimated_load(configs[slot], f) < configs[slot].threshold) {
            return false;
        }
        any = true;
    }
    return any;
}

pool_snapshot build_pool_snapshot(
        const pool_config& pool,
        std::span<const backend_config> configs,
        std::span<const backend_facts> facts,
        const pool_snapshot* previous
) {
    assert(pool.contacts >= 1 && pool.contacts <= max_contacts);
    pool_snapshot s;
    s.name = pool.name;
    s.policy = pool.policy;
    s.chooser = pool.policy == policy_kind::race ? pool.race.fallback : pool.policy;
    s.refuses = pool.policy == policy_kind::race && pool.race.refuse_fallback;
    s.key = pool.key;
    s.retry_after = pool.retry_after;
    s.contacts = pool.contacts;
    s.saturated = pool_saturated(pool, configs, facts);
    for (std::uint16_t slot : pool.backends) {
        const backend_config& c = configs[slot];
        const backend_facts& f = facts[slot];
        backend_view b;
        b.slot = slot;
        b.state = f.state;
        b.capacity = c.capacity;
        b.weight = c.weight;
        b.threshold = c.threshold;
        b.load = estimated_load(c, f);
        b.divert = divert_share(f.oc_reduction);
        b.rtt_ms = f.rtt_ms;
        b.contact = render_contact(c.address, c.proto);
        s.backends.push_back(std::move(b));
    }
    std::vector<double> spare(s.backends.size(), 0.0);
    std::vector<std::uint32_t> weights(s.backends.size(), 0);
    for (std::uint16_t i = 0; i < s.backends.size(); ++i) {
        const backend_view& b = s.backends[i];
        if (b.state == backend_state::down || b.state == backend_state::draining) {
            continue;
        }
        s.available.push_back(i);
        weights[i] = b.weight;
        if (b.load < b.threshold) {
            s.eligible.push_back(i);
            // Spare capacity in calls: how many more it takes before its threshold.
            spare[i] = (b.threshold - b.load) * b.capacity;
        }
    }
    s.ranked = s.eligible;
    std::stable_sort(s.ranked.begin(), s.ranked.end(), [&](std::uint16_t a, std::uint16_t b) {
        return s.backends[a].load < s.backends[b].load;
    });
    while (s.least_ties < s.ranked.size()
           && s.backends[s.ranked[s.least_ties]].load == s.backends[s.ranked[0]].load) {
        ++s.least_ties;
    }
    if (s.chooser == policy_kind::least_latency) {
        keep_latency_band(s, pool.latency_band_ms, spare);
    }
    s.spare = build_alias_table(spare);

    if (previous != nullptr && same_membership(*previous, s)) {
        s.wrr_cycle = previous->wrr_cycle;
        s.maglev = previous->maglev;
        return s;
    }
    std::vector<std::uint32_t> available_weights;
    std::vector<std::uint64_t> ids;
    for (std::uint16_t i : s.available) {
        available_weights.push_back(weights[i]);
        // Maglev over the backends' slots, a stable identity: the table then moves only the
        // share of a backend that leaves.
        ids.push_back(s.backends[i].slot);
    }
    auto cycle = std::make_shared<std::vector<std::uint16_t>>();
    for (std::uint16_t c : build_swrr_cycle(available_weights)) {
        cycle->push_back(s.available[c]);
    }
    s.wrr_cycle = std::move(cycle);
    s.maglev =
            std::make_shared<const std::vector<std::uint16_t>>(build_maglev_table(ids, maglev_size)
            );
    return s;
}

} // namespace sipredir::balance
