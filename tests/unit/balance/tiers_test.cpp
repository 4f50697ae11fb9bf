// SPDX-License-Identifier: BSD-3-Clause
// Pools with tiers on: RFC 2782 priority over any policy, falling to the next tier only while a
// whole tier is busy or down.
#include <gtest/gtest.h>

#include <balance/policy.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace sipredir::balance {
namespace {

using enum backend_state;
using enum policy_kind;

struct spec {
    std::uint32_t priority = 0;
    double load = 0; // utilisation reported
    backend_state state = up;
    std::uint32_t weight = 1;
    double rtt_ms = -1;
    double oc_reduction = 0;
};

struct tiered_pool {
    std::vector<backend_config> configs;
    std::vector<backend_facts> facts;
    pool_config pool;
    pool_snapshot snapshot;

    tiered_pool(policy_kind policy, const std::vector<spec>& specs, std::uint8_t contacts = 1) {
        pool.name = "p";
        pool.policy = policy;
        pool.contacts = contacts;
        pool.tiers = true;
        for (std::size_t i = 0; i < specs.size(); ++i) {
            backend_config c;
            c.name = "b" + std::to_string(i);
            c.address = {net::ip_address::v4(198, 18, 1, static_cast<std::uint8_t>(i + 1)), 5060};
            c.priority = specs[i].priority;
            c.weight = specs[i].weight;
            configs.push_back(c);
            backend_facts f;
            f.state = specs[i].state;
            f.reported_calls = specs[i].load * c.capacity;
            f.rtt_ms = specs[i].rtt_ms;
            f.oc_reduction = specs[i].oc_reduction;
            facts.push_back(f);
            pool.backends.push_back(static_cast<std::uint16_t>(i));
        }
        snapshot = build_pool_snapshot(pool, configs, facts);
    }
};

// Every first pick over many inputs (-1: a 503).
std::set<int> first_picks(const pool_snapshot& p) {
    std::set<int> seen;
    xorshift64 rng(3);
    for (std::uint64_t n = 0; n < 2000; ++n) {
        const std::uint64_t r = rng.next();
        const selection s = choose(p, {.random = r, .key_hash = rng.next(), .sequence = n});
        seen.insert(s.count == 0 ? -1 : s.picks[0]);
    }
    return seen;
}

struct tier_case {
    const char* name;
    policy_kind policy;
    std::vector<spec> backends;
    std::set<int> expected; // every first pick seen, -1 for a 503
};

class tiers_table : public ::testing::TestWithParam<tier_case> {};

TEST_P(tiers_table, chooses_in_the_first_tier_that_can_serve) {
    const tier_case& c = GetParam();
    const tiered_pool p(c.policy, c.backends);
    EXPECT_EQ(first_picks(p.snapshot), c.expected);
}

// Every policy works inside a tier: the primary (priority 0) takes everything while it has an
// eligible backend, even when the overflow is emptier; with the primary full or down, the
// overflow tier's backends are chosen by the same policy.
const tier_case tier_cases[] = {
        {"least_load_primary_with_room", least_load, {{0, 0.8}, {0, 0.6}, {1, 0.1}}, {1}},
        {"least_load_primary_full_overflow", least_load, {{0, 0.95}, {0, 0.9}, {1, 0.5}}, {2}},
        {"least_load_primary_down_overflow",
         least_load,
         {{0, 0.1, down}, {0, 0.1, draining}, {1, 0.5}, {1, 0.4}},
         {3}},
        {"least_load_unknown_is_eligible", least_load, {{0, 0.0, unknown}, {1, 0.0}}, {0}},
        {"least_load_all_busy_503", least_load, {{0, 0.95}, {1, 0.9}}, {-1}},
        {"least_load_no_backends_up_503", least_load, {{0, 0.1, down}, {1, 0.1, down}}, {-1}},
        {"proportional_primary", proportional, {{0, 0.5}, {0, 0.2}, {1, 0.0}}, {0, 1}},
        {"proportional_overflow", proportional, {{0, 0.95}, {1, 0.5}, {1, 0.2}}, {1, 2}},
        {"p2c_primary", p2c, {{0, 0.5}, {0, 0.2}, {1, 0.0}}, {1}},
        {"p2c_overflow", p2c, {{0, 0.9}, {1, 0.5}, {1, 0.2}}, {2}},
        {"sequence_in_configured_order_within_the_tier",
         sequence,
         {{1, 0.1}, {0, 0.95}, {0, 0.5}, {0, 0.1}},
         {2}},
        {"sequence_overflow", sequence, {{1, 0.1}, {0, 0.95}, {1, 0.0}}, {0}},
        {"wrr_primary", wrr, {{0, 0.5}, {0, 0.5}, {1, 0.0}}, {0, 1}},
        {"wrr_overflow", wrr, {{0, 0.5, down}, {1, 0.5}, {1, 0.5}}, {1, 2}},
        {"wrr_primary_busy_overflow", wrr, {{0, 0.95}, {1, 0.5}, {1, 0.5}}, {1, 2}},
        {"hash_primary", hash, {{0, 0.5}, {0, 0.5}, {1, 0.0}}, {0, 1}},
        {"hash_primary_partly_busy_keeps_its_keys", hash, {{0, 0.95}, {0, 0.5}, {1, 0.5}}, {0, 1}},
        {"hash_primary_all_busy_overflow", hash, {{0, 0.95}, {0, 0.99}, {1, 0.5}}, {2}},
        {"hash_every_tier_busy_answers_from_the_first", hash, {{0, 0.95}, {1, 0.99}}, {0}},
        {"random_primary", random, {{1, 0.0}, {0, 0.5}, {0, 0.5}}, {1, 2}},
        {"random_overflow", random, {{1, 0.0}, {0, 0.5, down}, {2, 0.0}}, {0}},
        {"least_latency_primary",
         least_latency,
         {{0, 0.5, up, 1, 30}, {0, 0.5, up, 1, 2}, {1, 0.0, up, 1, 1}},
         {1}},
        {"least_latency_overflow_band_is_the_tiers",
         least_latency,
         {{0, 0.95, up, 1, 1}, {1, 0.5, up, 1, 30}, {1, 0.5, up, 1, 33}, {1, 0.5, up, 1, 50}},
         {1, 2}},
        {"three_tiers_second_serves", least_load, {{0, 0.95}, {1, 0.5}, {2, 0.1}, {1, 0.3}}, {3}},
        {"priorities_need_not_be_consecutive",
         least_load,
         {{10, 0.1}, {65535, 0.0}, {3, 0.95}},
         {0}},
};

INSTANTIATE_TEST_SUITE_P(cases, tiers_table, ::testing::ValuesIn(tier_cases), [](const auto& info) {
    return std::string(info.param.name);
});

TEST(tiers, off_means_priorities_are_ignored) {
    tiered_pool p(least_load, {{0, 0.8}, {1, 0.1}});
    EXPECT_EQ(first_picks(p.snapshot), std::set<int>{0});
    p.pool.tiers = false;
    EXPECT_EQ(first_picks(build_pool_snapshot(p.pool, p.configs, p.facts)), std::set<int>{1});
}

TEST(tiers, tiers_are_ordered_by_priority_whatever_the_configured_order) {
    const tiered_pool p(least_load, {{7, 0.1}, {2, 0.3}, {7, 0.2}, {2, 0.95}, {0, 0.99}});
    ASSERT_EQ(p.snapshot.tiers.size(), 3u);
    EXPECT_EQ(p.snapshot.tiers[0].priority, 0u);
    EXPECT_EQ(p.snapshot.tiers[1].priority, 2u);
    EXPECT_EQ(p.snapshot.tiers[2].priority, 7u);
    EXPECT_EQ(p.snapshot.serving_tier, 1);
    EXPECT_EQ(p.snapshot.available.size(), 5u) << "the pool's own set spans every tier";
}

struct contacts_case {
    const char* name;
    policy_kind policy;
    std::vector<spec> backends;
    std::uint8_t contacts;
    std::vector<std::uint16_t> expected; // the picks, in order
};

class tiers_contacts : public ::testing::TestWithParam<contacts_case> {};

// Multi-Contact: the serving tier's failover order first, then each following tier's; busy or
// down backends and the tiers before the serving one give none.
TEST_P(tiers_contacts, fill_from_the_serving_tier_then_the_next) {
    const contacts_case& c = GetParam();
    const tiered_pool p(c.policy, c.backends, c.contacts);
    const selection s = choose(p.snapshot, {});
    ASSERT_EQ(s.count, c.expected.size());
    for (std::size_t i = 0; i < c.expected.size(); ++i) {
        EXPECT_EQ(s.picks[i], c.expected[i]) << "Contact " << i;
    }
}

const contacts_case contacts_cases[] = {
        {"by_load_within_each_tier",
         least_load,
         {{1, 0.3}, {0, 0.5}, {1, 0.1}, {0, 0.2}},
         4,
         {3, 1, 2, 0}},
        {"primary_full_starts_at_the_overflow",
         least_load,
         {{0, 0.95}, {1, 0.5}, {2, 0.1}, {1, 0.3}},
         4,
         {3, 1, 2}},
        {"sequence_keeps_configured_order_in_each_tier",
         sequence,
         {{1, 0.1}, {0, 0.6}, {1, 0.0}, {0, 0.3}},
         4,
         {1, 3, 0, 2}},
        {"fewer_contacts_than_backends", least_load, {{0, 0.5}, {1, 0.1}, {1, 0.2}}, 2, {0, 1}},
        {"down_ones_are_skipped",
         least_load,
         {{0, 0.5}, {0, 0.1, down}, {1, 0.2, draining}, {1, 0.3}},
         4,
         {0, 3}},
};

INSTANTIATE_TEST_SUITE_P(
        cases,
        tiers_contacts,
        ::testing::ValuesIn(contacts_cases),
        [](const auto& info) { return std::string(info.param.name); }
);

TEST(tiers, contacts_carry_descending_q_across_tiers) {
    const tiered_pool p(least_load, {{0, 0.5}, {0, 0.2}, {1, 0.1}, {1, 0.3}}, 4);
    const selection s = choose(p.snapshot, {});
    ASSERT_EQ(s.count, 4);
    const std::uint16_t q[] = {1000, 750, 500, 250};
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(p.configs[p.snapshot.backends[s.picks[i]].slot].priority, i < 2 ? 0u : 1u);
        EXPECT_EQ(contact_q(i, s.count), q[i]);
    }
}

// A hash pool's keys stay in the primary while it serves; each tier has its own table, and a
// tier whose membership did not change keeps it across snapshots.
TEST(tiers, hash_tables_are_per_tier_and_shared_while_unchanged) {
    tiered_pool p(hash, {{0, 0.1}, {0, 0.1}, {1, 0.1}, {1, 0.1}});
    const pool_snapshot first = p.snapshot;
    ASSERT_EQ(first.tiers.size(), 2u);
    ASSERT_TRUE(first.tiers[0].maglev && first.tiers[1].maglev);
    EXPECT_FALSE(first.maglev) << "the pool's own table is not built with tiers on";
    p.facts[3].state = down;
    const pool_snapshot second = build_pool_snapshot(p.pool, p.configs, p.facts, &first);
    EXPECT_EQ(second.tiers[0].maglev.get(), first.tiers[0].maglev.get());
    EXPECT_NE(second.tiers[1].maglev.get(), first.tiers[1].maglev.get());
    xorshift64 rng(9);
    for (int n = 0; n < 1000; ++n) {
        const std::uint64_t key = rng.next();
        const selection a = choose(first, {.random = 0, .key_hash = key});
        const selection b = choose(second, {.random = 0, .key_hash = key});
        ASSERT_EQ(a.count, 1);
        EXPECT_LT(a.picks[0], 2);
        EXPECT_EQ(a.picks[0], b.picks[0]) << "the overflow's change moves no primary key";
    }
}

// wrr inside a tier follows the tier's weights.
TEST(tiers, wrr_weights_within_the_serving_tier) {
    const tiered_pool p(wrr, {{0, 0.1, up, 3}, {1, 0.1, up, 5}, {0, 0.1, up, 1}});
    std::map<int, int> seen;
    for (std::uint64_t n = 0; n < 4000; ++n) {
        ++seen[choose(p.snapshot, {.sequence = n}).picks[0]];
    }
    EXPECT_EQ(seen[0], 3000);
    EXPECT_EQ(seen[2], 1000);
    EXPECT_EQ(seen.count(1), 0u);
}

// RFC 7339: a primary backend asking for all its requests to go elsewhere diverts them along
// failover order, here into the overflow tier.
TEST(tiers, overload_control_diverts_into_the_next_tier) {
    const tiered_pool p(least_load, {{0, 0.1, up, 1, -1, 100}, {1, 0.5}});
    EXPECT_EQ(first_picks(p.snapshot), std::set<int>{1});
}

} // namespace
} // namespace sipredir::balance
