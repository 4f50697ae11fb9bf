// SPDX-License-Identifier: BSD-3-Clause
#include "snapshot.hpp"

#include <algorithm>
#include <cassert>
#include <numeric>

namespace sipredir::balance {

namespace {

// Same available backends, in the same order, with the same names and weights.
bool same_membership(
        const pool_snapshot& a, const choice_set& as, const pool_snapshot& b, const choice_set& bs
) {
    if (as.available.size() != bs.available.size()) {
        return false;
    }
    for (std::size_t k = 0; k < as.available.size(); ++k) {
        const backend_view& x = a.backends[as.available[k]];
        const backend_view& y = b.backends[bs.available[k]];
        if (as.available[k] != bs.available[k] || x.slot != y.slot || x.weight != y.weight
            || x.name_hash != y.name_hash) {
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
void keep_latency_band(
        const pool_snapshot& s, choice_set& c, double band_ms, std::vector<double>& spare
) {
    double fastest = -1;
    for (std::uint16_t i : c.eligible) {
        const backend_view& b = s.backends[i];
        if (has_rtt(b) && (fastest < 0 || b.rtt_ms < fastest)) {
            fastest = b.rtt_ms;
        }
    }
    if (fastest < 0) {
        return; // nobody timed yet: proportional over all eligible
    }
    for (std::uint16_t i : c.eligible) {
        const backend_view& b = s.backends[i];
        if (!has_rtt(b) || b.rtt_ms > fastest + band_ms) {
            spare[i] = 0;
        }
    }
    std::stable_sort(c.ranked.begin(), c.ranked.end(), [&](std::uint16_t x, std::uint16_t y) {
        const backend_view& a = s.backends[x];
        const backend_view& b = s.backends[y];
        if (has_rtt(a) != has_rtt(b)) {
            return has_rtt(a);
        }
        return a.rtt_ms < b.rtt_ms;
    });
}

// Fills `c` with those of `members` (indices into s.backends, configured order) that can be
// chosen, ranked, and the proportional / least-latency alias table over them.
void fill_set(
        const pool_snapshot& s,
        std::span<const std::uint16_t> members,
        double band_ms,
        choice_set& c
) {
    std::vector<double> spare(s.backends.size(), 0.0);
    for (const std::uint16_t i : members) {
        const backend_view& b = s.backends[i];
        if (b.state == backend_state::down || b.state == backend_state::draining) {
            continue;
        }
        c.available.push_back(i);
        if (b.load < b.threshold) {
            c.eligible.push_back(i);
            // Spare capacity in calls: how many more it takes before its threshold.
            spare[i] = (b.threshold - b.load) * b.capacity;
        }
    }
    c.ranked = c.eligible;
    std::stable_sort(c.ranked.begin(), c.ranked.end(), [&](std::uint16_t a, std::uint16_t b) {
        return s.backends[a].load < s.backends[b].load;
    });
    while (c.least_ties < c.ranked.size()
           && s.backends[c.ranked[c.least_ties]].load == s.backends[c.ranked[0]].load) {
        ++c.least_ties;
    }
    if (s.chooser == policy_kind::least_latency) {
        keep_latency_band(s, c, band_ms, spare);
    }
    c.spare = build_alias_table(spare);
}

// The wrr cycle and Maglev table the chooser reads, lent by `before` (the same set in the
// previous snapshot `previous`) when its membership is unchanged, else built.
void build_tables(
        const pool_snapshot& s,
        choice_set& c,
        const pool_snapshot* previous,
        const choice_set* before
) {
    if (before != nullptr && same_membership(*previous, *before, s, c)) {
        c.wrr_cycle = before->wrr_cycle;
        c.maglev = before->maglev;
    }
    std::vector<std::uint32_t> weights;
    std::vector<std::uint64_t> ids;
    for (const std::uint16_t i : c.available) {
        weights.push_back(s.backends[i].weight);
        // Maglev over the backends' names, an identity shared by every appliance and kept by a
        // reload that reorders the file: the table then moves only the share of a backend that
        // leaves or arrives.
        ids.push_back(s.backends[i].name_hash);
    }
    if (s.chooser == policy_kind::wrr && !c.wrr_cycle) {
        auto cycle = std::make_shared<std::vector<std::uint16_t>>();
        for (const std::uint16_t k : build_swrr_cycle(weights)) {
            cycle->push_back(c.available[k]);
        }
        c.wrr_cycle = std::move(cycle);
    }
    if (s.chooser == policy_kind::hash && !c.maglev) {
        c.maglev = std::make_shared<const std::vector<std::uint16_t>>(
                build_maglev_table(ids, weights, maglev_size)
        );
    }
}

// The tier whose policy chooses: the first with an eligible backend, else for the policies that
// ignore thresholds the first with an available one (as they answer without tiers).
std::uint16_t serving_tier(const pool_snapshot& s) {
    for (std::size_t k = 0; k < s.tiers.size(); ++k) {
        if (!s.tiers[k].eligible.empty()) {
            return static_cast<std::uint16_t>(k);
        }
    }
    const bool load_agnostic = s.chooser == policy_kind::wrr || s.chooser == policy_kind::hash
                               || s.chooser == policy_kind::random;
    for (std::size_t k = 0; load_agnostic && k < s.tiers.size(); ++k) {
        if (!s.tiers[k].available.empty()) {
            return static_cast<std::uint16_t>(k);
        }
    }
    return 0;
}

// RFC 2782, the Priority field: a client tries the lowest-numbered priority it can reach first,
// and Weight shares among targets of one priority. Here "can reach" is "has an eligible
// backend", and the pool's policy does the sharing.
void build_tiers(
        pool_snapshot& s,
        const pool_config& pool,
        std::span<const backend_config> configs,
        const pool_snapshot* previous
) {
    std::vector<std::uint32_t> priorities;
    for (const std::uint16_t slot : pool.backends) {
        priorities.push_back(configs[slot].priority);
    }
    std::sort(priorities.begin(), priorities.end());
    priorities.erase(std::unique(priorities.begin(), priorities.end()), priorities.end());
    for (const std::uint32_t priority : priorities) {
        std::vector<std::uint16_t> members;
        for (std::uint16_t i = 0; i < pool.backends.size(); ++i) {
            if (configs[pool.backends[i]].priority == priority) {
                members.push_back(i);
            }
        }
        pool_tier& t = s.tiers.emplace_back();
        t.priority = priority;
        fill_set(s, members, pool.latency_band_ms, t);
        const pool_tier* before = nullptr;
        for (std::size_t k = 0; previous != nullptr && k < previous->tiers.size(); ++k) {
            if (previous->tiers[k].priority == priority) {
                before = &previous->tiers[k];
            }
        }
        build_tables(s, t, previous, before);
    }
    s.serving_tier = serving_tier(s);
    for (std::size_t k = s.serving_tier; k < s.tiers.size(); ++k) {
        const pool_tier& t = s.tiers[k];
        const auto& order = s.chooser == policy_kind::sequence ? t.eligible : t.ranked;
        s.failover.insert(s.failover.end(), order.begin(), order.end());
    }
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
        const pool_snapshot* previous,
        const siphash_key& name_key
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
    s.contact_from = pool.contact_from;
    s.saturated = pool_saturated(pool, configs, facts);
    for (std::uint16_t slot : pool.backends) {
        const backend_config& c = configs[slot];
        const backend_facts& f = facts[slot];
        backend_view b;
        b.slot = slot;
        b.state = f.state;
        b.capacity = c.capacity;
        b.weight = c.weight;
        siphash24 h(name_key);
        h.update(c.name);
        b.name_hash = h.finish();
        b.threshold = c.threshold;
        b.load = estimated_load(c, f);
        b.divert = divert_share(f.oc_reduction);
        b.rtt_ms = f.rtt_ms;
        b.contact = render_contact(c.address, c.proto, pool.contact_params);
        s.backends.push_back(std::move(b));
    }
    std::vector<std::uint16_t> all(s.backends.size());
    std::iota(all.begin(), all.end(), std::uint16_t{0});
    fill_set(s, all, pool.latency_band_ms, s);
    if (pool.tiers) {
        // The pool's own set stays whole (what the operator's tools count); the tiers choose.
        s.spare = {};
        build_tiers(s, pool, configs, previous);
    } else {
        build_tables(s, s, previous, previous);
    }
    return s;
}

} // namespace sipredir::balance
