// SPDX-License-Identifier: BSD-3-Clause
// Each policy on small, hand-checkable pools: inputs -> chosen backend or 503.
#include <gtest/gtest.h>

#include <balance/policy.hpp>
#include <balance/redirect_counters.hpp>
#include <cmath>
#include <map>
#include <string>

namespace sipredir::balance {
namespace {

struct backend_spec {
    double load = 0; // utilisation reported
    backend_state state = backend_state::up;
    double threshold = 0.9;
    std::uint32_t weight = 1;
    std::uint32_t capacity = 100;
    double oc_reduction = 0; // RFC 7339 percent
    double rtt_ms = -1;      // smoothed probe round trip; < 0: none yet
};

pool_snapshot make_pool(
        policy_kind policy,
        const std::vector<backend_spec>& specs,
        std::uint8_t contacts = 1,
        race_config race = {}
) {
    std::vector<backend_config> configs;
    std::vector<backend_facts> facts;
    pool_config pool;
    pool.name = "p";
    pool.policy = policy;
    pool.race = std::move(race);
    pool.contacts = contacts;
    for (std::size_t i = 0; i < specs.size(); ++i) {
        backend_config c;
        c.name = "b";
        c.name += std::to_string(i);
        c.address = {net::ip_address::v4(198, 18, 1, static_cast<std::uint8_t>(i + 1)), 5060};
        c.capacity = specs[i].capacity;
        c.threshold = specs[i].threshold;
        c.weight = specs[i].weight;
        configs.push_back(c);
        backend_facts f;
        f.state = specs[i].state;
        f.reported_calls = specs[i].load * specs[i].capacity;
        f.oc_reduction = specs[i].oc_reduction;
        f.rtt_ms = specs[i].rtt_ms;
        facts.push_back(f);
        pool.backends.push_back(static_cast<std::uint16_t>(i));
    }
    return build_pool_snapshot(pool, configs, facts);
}

int pick(
        const pool_snapshot& p,
        std::uint64_t random = 0,
        std::uint64_t key = 0,
        std::uint64_t seq = 0
) {
    const selection s = choose(p, {random, key, seq});
    return s.count == 0 ? -1 : s.picks[0]; // -1: 503
}

using enum backend_state;

struct policy_case {
    const char* name;
    policy_kind policy;
    std::vector<backend_spec> backends;
    int expected; // index, or -1 for 503
};

class policy_table : public ::testing::TestWithParam<policy_case> {};

TEST_P(policy_table, chooses) {
    const policy_case& c = GetParam();
    const pool_snapshot p = make_pool(c.policy, c.backends);
    // Any random bits give the same answer in these cases.
    for (std::uint64_t r : {0ULL, 1ULL, 0x123456789abcdefULL, ~0ULL}) {
        EXPECT_EQ(pick(p, r, r, r), c.expected) << "random " << r;
    }
}

using enum policy_kind;
const policy_case cases[] = {
        {"least_load_lowest", least_load, {{0.5}, {0.2}, {0.7}}, 1},
        {"least_load_one_backend", least_load, {{0.3}}, 0},
        {"least_load_skips_down", least_load, {{0.5}, {0.1, down}, {0.7}}, 0},
        {"least_load_skips_draining", least_load, {{0.5}, {0.1, draining}}, 0},
        {"least_load_unknown_is_usable", least_load, {{0.5}, {0.0, unknown}}, 1},
        {"least_load_all_down", least_load, {{0.1, down}, {0.2, draining}}, -1},
        {"least_load_at_threshold_is_busy", least_load, {{0.9}, {0.95}}, -1},
        {"least_load_just_under_threshold", least_load, {{0.9}, {0.899}}, 1},
        {"least_load_relative_to_capacity",
         least_load,
         {{0.5, up, 0.9, 1, 1000}, {0.4, up, 0.9, 1, 10}},
         1},
        {"sequence_first_under_threshold", sequence, {{0.95}, {0.5}, {0.1}}, 1},
        {"sequence_first_when_all_fine", sequence, {{0.5}, {0.1}}, 0},
        {"sequence_all_busy_503", sequence, {{0.95}, {0.9}, {1.5}}, -1},
        {"sequence_skips_down", sequence, {{0.1, down}, {0.8}}, 1},
        {"sequence_per_backend_threshold", sequence, {{0.6, up, 0.5}, {0.7, up, 0.8}}, 1},
        {"proportional_only_one_has_spare", proportional, {{0.95}, {0.5}, {0.9}}, 1},
        {"proportional_all_busy", proportional, {{0.95}, {0.9}}, -1},
        {"p2c_one_eligible", p2c, {{0.95}, {0.3}}, 1},
        {"p2c_two_takes_lower", p2c, {{0.6}, {0.3}}, 1},
        {"p2c_none", p2c, {{0.1, down}}, -1},
        {"wrr_skips_zero_weight", wrr, {{0.1, up, 0.9, 0}, {0.1, up, 0.9, 3}}, 1},
        {"wrr_ignores_load", wrr, {{5.0, up, 0.9, 1}}, 0},
        {"wrr_all_down", wrr, {{0.1, down}}, -1},
        {"random_single_available", random, {{0.1, down}, {0.99}}, 1},
        {"hash_single_available", hash, {{0.1, draining}, {0.2}}, 1},
        {"hash_none", hash, {}, -1},
        // least-latency, default band 5 ms: load, state, threshold, weight, capacity, oc, rtt.
        {"least_latency_fastest_alone_in_band",
         least_latency,
         {{0.5, up, 0.9, 1, 100, 0, 30},
          {0.5, up, 0.9, 1, 100, 0, 2},
          {0.5, up, 0.9, 1, 100, 0, 8}},
         1},
        {"least_latency_skips_a_fast_backend_over_threshold",
         least_latency,
         {{0.95, up, 0.9, 1, 100, 0, 1}, {0.5, up, 0.9, 1, 100, 0, 40}},
         1},
        {"least_latency_skips_a_fast_backend_that_is_down",
         least_latency,
         {{0.1, down, 0.9, 1, 100, 0, 1}, {0.5, up, 0.9, 1, 100, 0, 40}},
         1},
        {"least_latency_untimed_is_outside_the_band",
         least_latency,
         {{0.1, unknown, 0.9, 1, 100, 0, -1}, {0.5, up, 0.9, 1, 100, 0, 40}},
         1},
        {"least_latency_all_busy_503",
         least_latency,
         {{0.95, up, 0.9, 1, 100, 0, 1}, {0.9, up, 0.9, 1, 100, 0, 2}},
         -1},
};

INSTANTIATE_TEST_SUITE_P(cases, policy_table, ::testing::ValuesIn(cases), [](const auto& info) {
    return std::string(info.param.name);
});

// In the workers' stead, a race pool chooses by its fallback, or refuses with a 503.
TEST(policy, a_race_pool_chooses_by_its_fallback) {
    race_config sequential;
    sequential.fallback = policy_kind::sequence;
    EXPECT_EQ(pick(make_pool(race, {{0.5}, {0.2}, {0.7}}, 1, sequential)), 0);
    EXPECT_EQ(pick(make_pool(race, {{0.5}, {0.2}, {0.7}})), 1); // least-load by default
    race_config refusing;
    refusing.refuse_fallback = true;
    EXPECT_EQ(pick(make_pool(race, {{0.5}, {0.2}, {0.7}}, 1, refusing)), -1);
}

TEST(policy, least_load_breaks_ties_at_random) {
    const pool_snapshot p = make_pool(least_load, {{0.5}, {0.2}, {0.7}, {0.2}});
    std::map<int, int> seen;
    xorshift64 rng(7);
    for (int i = 0; i < 10'000; ++i) {
        ++seen[pick(p, rng.next())];
    }
    EXPECT_EQ(seen.size(), 2u);
    EXPECT_NEAR(seen[1], 5000, 300);
    EXPECT_NEAR(seen[3], 5000, 300);
}

TEST(policy, redirects_since_report_raise_the_estimate) {
    std::vector<backend_config> configs(2);
    configs[0].capacity = configs[1].capacity = 100;
    std::vector<backend_facts> facts(2);
    facts[0].state = facts[1].state = up;
    take_report(facts[0], 20, 0); // 0.20
    take_report(facts[1], 30, 0); // 0.30
    pool_config pool;
    pool.policy = least_load;
    pool.backends = {0, 1};
    EXPECT_EQ(pick(build_pool_snapshot(pool, configs, facts)), 0);
    const std::vector<std::uint64_t> delta = {15, 0}; // backend 0 got 15 redirects: 0.35
    fold_redirects(facts, delta);
    EXPECT_EQ(pick(build_pool_snapshot(pool, configs, facts)), 1);
    take_report(facts[0], 25, 1); // the report now includes them
    EXPECT_EQ(facts[0].redirects_since_report, 0u);
    EXPECT_EQ(pick(build_pool_snapshot(pool, configs, facts)), 0);
}

TEST(policy, multi_contact_fills_by_load_with_distinct_backends) {
    const pool_snapshot p = make_pool(least_load, {{0.5}, {0.2}, {0.7}, {0.95}}, 3);
    const selection s = choose(p, {});
    ASSERT_EQ(s.count, 3);
    EXPECT_EQ(s.picks[0], 1);
    EXPECT_EQ(s.picks[1], 0);
    EXPECT_EQ(s.picks[2], 2); // 3 is over its threshold
    const pool_snapshot two = make_pool(least_load, {{0.5}, {0.2}}, 4);
    EXPECT_EQ(choose(two, {}).count, 2) << "no more Contacts than eligible backends";
}

TEST(policy, multi_contact_sequence_keeps_configured_order) {
    const pool_snapshot p = make_pool(sequence, {{0.95}, {0.6}, {0.1}, {0.3}}, 3);
    const selection s = choose(p, {});
    ASSERT_EQ(s.count, 3);
    EXPECT_EQ(s.picks[0], 1);
    EXPECT_EQ(s.picks[1], 2);
    EXPECT_EQ(s.picks[2], 3);
}

TEST(policy, contact_q_values_descend) {
    EXPECT_EQ(contact_q(0, 1), 1000);
    EXPECT_EQ(contact_q(0, 3), 1000);
    EXPECT_EQ(contact_q(1, 3), 666);
    EXPECT_EQ(contact_q(2, 3), 333);
    EXPECT_GT(contact_q(7, 8), 0);
}

double chi_square(const std::map<int, int>& seen, const std::vector<double>& p, double n) {
    double x = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        const double e = p[i] * n;
        const auto it = seen.find(static_cast<int>(i));
        const double o = it == seen.end() ? 0 : it->second;
        x += (o - e) * (o - e) / e;
    }
    return x;
}

TEST(policy, wrr_distribution_is_exact_over_cycles) {
    const pool_snapshot p = make_pool(wrr, {{0, up, 0.9, 5}, {0, up, 0.9, 3}, {0, up, 0.9, 2}});
    std::map<int, int> seen;
    constexpr int draws = 1'000'000;
    for (std::uint64_t i = 0; i < draws; ++i) {
        ++seen[pick(p, 0, 0, i)];
    }
    // 10-entry cycle, 10^6 draws: exactly 50 %, 30 %, 20 %; chi-square 0.
    EXPECT_EQ(seen[0], 500'000);
    EXPECT_EQ(seen[1], 300'000);
    EXPECT_EQ(seen[2], 200'000);
}

TEST(policy, proportional_follows_spare_capacity) {
    // Spare to threshold 0.9: 0.8, 0.4, 0.2 of 100 calls -> 4 : 2 : 1.
    const pool_snapshot p = make_pool(proportional, {{0.1}, {0.5}, {0.7}});
    std::map<int, int> seen;
    xorshift64 rng(11);
    constexpr int draws = 1'000'000;
    for (int i = 0; i < draws; ++i) {
        ++seen[pick(p, rng.next())];
    }
    EXPECT_LT(chi_square(seen, {4.0 / 7, 2.0 / 7, 1.0 / 7}, draws), 13.82); // 2 dof, 0.1 %
}

TEST(policy, least_latency_shares_its_band_by_spare_capacity) {
    // In the 5 ms band of the fastest (10 ms): b0 and b1, spare 0.8 : 0.4; b2 is 5.5 ms too slow.
    const pool_snapshot p = make_pool(
            least_latency,
            {{0.1, up, 0.9, 1, 100, 0, 10},
             {0.5, up, 0.9, 1, 100, 0, 15},
             {0.0, up, 0.9, 1, 100, 0, 20.5}}
    );
    std::map<int, int> seen;
    xorshift64 rng(13);
    constexpr int draws = 1'000'000;
    for (int i = 0; i < draws; ++i) {
        ++seen[pick(p, rng.next())];
    }
    EXPECT_EQ(seen.count(2), 0u);
    EXPECT_LT(chi_square(seen, {2.0 / 3, 1.0 / 3}, draws), 10.83); // 1 dof, 0.1 %
}

TEST(policy, least_latency_without_round_trips_is_proportional) {
    const pool_snapshot p = make_pool(least_latency, {{0.1}, {0.5}, {0.7}});
    std::map<int, int> seen;
    xorshift64 rng(17);
    constexpr int draws = 1'000'000;
    for (int i = 0; i < draws; ++i) {
        ++seen[pick(p, rng.next())];
    }
    EXPECT_LT(chi_square(seen, {4.0 / 7, 2.0 / 7, 1.0 / 7}, draws), 13.82); // 2 dof, 0.1 %
}

TEST(policy, least_latency_band_is_the_pools) {
    std::vector<backend_config> configs(2);
    std::vector<backend_facts> facts(2);
    pool_config pool;
    pool.policy = least_latency;
    pool.backends = {0, 1};
    facts[0].state = facts[1].state = up;
    facts[0].rtt_ms = 2;
    facts[1].rtt_ms = 12;
    pool.latency_band_ms = 5;
    const pool_snapshot narrow = build_pool_snapshot(pool, configs, facts);
    pool.latency_band_ms = 10;
    const pool_snapshot wide = build_pool_snapshot(pool, configs, facts);
    std::map<int, int> narrow_seen;
    std::map<int, int> wide_seen;
    for (std::uint64_t r = 0; r < 4096; ++r) {
        const std::uint64_t bits = r * 0x9e3779b97f4a7c15ULL;
        ++narrow_seen[pick(narrow, bits)];
        ++wide_seen[pick(wide, bits)];
    }
    EXPECT_EQ(narrow_seen.count(1), 0u);
    EXPECT_GT(wide_seen[1], 1000); // 12 ms is within 2 + 10
}

TEST(policy, least_latency_fails_over_by_round_trip) {
    const pool_snapshot p = make_pool(
            least_latency,
            {{0.1, up, 0.9, 1, 100, 0, 30},
             {0.5, up, 0.9, 1, 100, 0, -1},
             {0.7, up, 0.9, 1, 100, 0, 3}},
            3
    );
    const selection s = choose(p, {0, 0, 0});
    ASSERT_EQ(s.count, 3);
    EXPECT_EQ(s.picks[0], 2); // the fastest
    EXPECT_EQ(s.picks[1], 0); // then 30 ms
    EXPECT_EQ(s.picks[2], 1); // untimed last
}

TEST(policy, hash_is_deterministic_and_moves_only_the_removed_share) {
    constexpr int n = 10;
    std::vector<backend_spec> all(n);
    const pool_snapshot before = make_pool(hash, all);
    std::vector<backend_spec> one_down = all;
    one_down[4].state = down;
    const pool_snapshot after = make_pool(hash, one_down);
    xorshift64 rng(5);
    int moved = 0;
    constexpr int keys = 100'000;
    for (int i = 0; i < keys; ++i) {
        const std::uint64_t key = rng.next();
        const int a = pick(before, 0, key);
        EXPECT_EQ(pick(before, 12345, key), a) << "same key, same backend";
        const int b = pick(after, 0, key);
        EXPECT_NE(b, 4);
        moved += a != b;
    }
    EXPECT_LE(static_cast<double>(moved) / keys, 1.0 / n + 0.01);
}

TEST(policy, tables_are_shared_when_membership_is_unchanged) {
    std::vector<backend_config> configs(3);
    std::vector<backend_facts> facts(3);
    for (auto& f : facts) {
        f.state = up;
    }
    pool_config pool;
    pool.policy = hash;
    pool.backends = {0, 1, 2};
    const pool_snapshot first = build_pool_snapshot(pool, configs, facts);
    facts[1].reported_calls = 50; // load changed: tables stay
    const pool_snapshot second = build_pool_snapshot(pool, configs, facts, &first);
    EXPECT_EQ(second.maglev.get(), first.maglev.get());
    facts[2].state = down; // membership changed: rebuilt
    const pool_snapshot third = build_pool_snapshot(pool, configs, facts, &second);
    EXPECT_NE(third.maglev.get(), second.maglev.get());
    EXPECT_EQ(third.available.size(), 2u);
}

// RFC 7339 loss: a backend asking for a 30 % reduction gets 70 % of what it would have got, the
// rest going to the next in failover order; 100 % with nobody else to take it is a 503.
TEST(policy, overload_control_diverts_the_requested_share) {
    for (const policy_kind k : {wrr, random, least_load, sequence, hash}) {
        const pool_snapshot p = make_pool(k, {{.load = 0.1, .oc_reduction = 30}, {.load = 0.5}});
        const pool_snapshot alone = make_pool(k, {{.load = 0.1, .oc_reduction = 30}});
        const pool_snapshot plain = make_pool(k, {{.load = 0.1}, {.load = 0.5}});
        xorshift64 rng(7);
        int considered = 0;
        int diverted = 0;
        int refused = 0;
        for (int n = 0; n < 200000; ++n) {
            const std::uint64_t r = rng.next();
            // Only requests that would have gone to backend 0 count (wrr, hash: the sequence
            // and key pick it; the random bits then decide the diversion).
            const selection before = choose(plain, {r, 0, 0});
            if (before.count == 0 || before.picks[0] != 0) {
                continue;
            }
            ++considered;
            const selection s = choose(p, {r, 0, 0});
            ASSERT_EQ(s.count, 1);
            diverted += s.picks[0] == 1;
            refused += choose(alone, {r, 0, 0}).count == 0;
        }
        ASSERT_GT(considered, 50000) << static_cast<int>(k);
        EXPECT_NEAR(static_cast<double>(diverted) / considered, 0.30, 0.01) << static_cast<int>(k);
        EXPECT_NEAR(static_cast<double>(refused) / considered, 0.30, 0.01) << static_cast<int>(k);
    }
    const pool_snapshot shut = make_pool(least_load, {{.load = 0.1, .oc_reduction = 100}});
    EXPECT_EQ(pick(shut, 0), -1);
    EXPECT_EQ(pick(shut, ~0ULL), -1);
    const pool_snapshot other =
            make_pool(least_load, {{.load = 0.1, .oc_reduction = 100}, {.load = 0.8}});
    EXPECT_EQ(pick(other, 0), 1);
    EXPECT_EQ(pick(other, ~0ULL), 1);
    EXPECT_EQ(divert_share(0), 0u);
    EXPECT_EQ(divert_share(-5), 0u);
    EXPECT_EQ(divert_share(50), 32768u);
    EXPECT_EQ(divert_share(100), 65536u);
    EXPECT_EQ(divert_share(250), 65536u);
}

// An empty selection says why: every backend down or busy (the pool's Retry-After), or shed by
// RFC 7339 overload control with nobody to take it (a 503 without Retry-After, §5.10).
struct refusal_case {
    const char* name;
    policy_kind policy;
    std::vector<backend_spec> backends;
    std::uint8_t count;
    refusal why;
};

class refusal_table : public ::testing::TestWithParam<refusal_case> {};

TEST_P(refusal_table, says_why) {
    const refusal_case& c = GetParam();
    const selection s = choose(make_pool(c.policy, c.backends), {0, 0, 0});
    EXPECT_EQ(s.count, c.count);
    EXPECT_EQ(s.why, c.why);
}

INSTANTIATE_TEST_SUITE_P(
        policy,
        refusal_table,
        ::testing::Values(
                refusal_case{"chosen", least_load, {{.load = 0.1}}, 1, refusal::none},
                refusal_case{
                        "diverted_to_the_next",
                        least_load,
                        {{.load = 0.1, .oc_reduction = 100}, {.load = 0.5}},
                        1,
                        refusal::none},
                refusal_case{"all_busy", least_load, {{.load = 0.95}}, 0, refusal::unavailable},
                refusal_case{"all_down", wrr, {{.state = down}}, 0, refusal::unavailable},
                refusal_case{"no_backends", least_load, {}, 0, refusal::unavailable},
                refusal_case{
                        "shed_alone",
                        least_load,
                        {{.load = 0.1, .oc_reduction = 100}},
                        0,
                        refusal::shed},
                refusal_case{
                        "shed_and_the_next_sheds_all",
                        sequence,
                        {{.load = 0.1, .oc_reduction = 100}, {.load = 0.2, .oc_reduction = 100}},
                        0,
                        refusal::shed},
                refusal_case{
                        "shed_and_the_next_busy",
                        wrr,
                        {{.load = 0.1, .oc_reduction = 100}, {.load = 0.95}},
                        0,
                        refusal::shed}
        ),
        [](const ::testing::TestParamInfo<refusal_case>& i) { return std::string(i.param.name); }
);

TEST(contact, rendered_for_ipv4_ipv6_and_tls) {
    EXPECT_EQ(
            render_contact({net::ip_address::v4(198, 18, 1, 1), 5060}, transport::udp),
            "<sip:198.18.1.1:5060;transport=udp>"
    );
    net::ip_endpoint v6;
    net::parse_ip("2001:db8::1:3", v6.address);
    v6.port = 5062;
    EXPECT_EQ(render_contact(v6, transport::tcp), "<sip:[2001:db8::1:3]:5062;transport=tcp>");
    EXPECT_EQ(
            render_contact({net::ip_address::v4(198, 18, 1, 2), 5061}, transport::tls),
            "<sips:198.18.1.2:5061;transport=tcp>"
    );
    EXPECT_EQ(
            render_contact(v6, transport::udp, ";x-pool=a;lr"),
            "<sip:[2001:db8::1:3]:5062;transport=udp;x-pool=a;lr>"
    );
}

TEST(contact, the_snapshot_carries_the_pools_contact_settings) {
    pool_config pool;
    pool.name = "p";
    pool.backends = {0};
    pool.contact_from = contact_user::to;
    pool.contact_params = ";user=phone";
    backend_config b;
    b.address = {net::ip_address::v4(198, 18, 1, 1), 5060};
    const backend_facts f;
    const pool_snapshot s = build_pool_snapshot(pool, std::span(&b, 1), std::span(&f, 1));
    EXPECT_EQ(s.contact_from, contact_user::to);
    ASSERT_EQ(s.backends.size(), 1u);
    EXPECT_EQ(s.backends[0].contact, "<sip:198.18.1.1:5060;transport=udp;user=phone>");
}

} // namespace
} // namespace sipredir::balance
