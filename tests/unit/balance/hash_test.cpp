// SPDX-License-Identifier: BSD-3-Clause
// The hash policy across appliances and reloads: keyed by backend name, weighted, and moving
// only a backend's own share when it arrives or leaves.
#include <gtest/gtest.h>

#include <balance/policy.hpp>
#include <map>
#include <string>
#include <vector>

namespace sipredir::balance {
namespace {

struct named {
    std::string name;
    std::uint32_t weight = 1;
    backend_state state = backend_state::up;
};

const siphash_key fleet_key{0x73, 0x69, 0x70, 0x72, 0x65, 0x64, 0x69, 0x72};

// One appliance's view of a hash pool: the backends in the given (file) order, each in slot
// `first_slot + position` (another appliance, or a reload, numbers them otherwise).
struct appliance {
    std::vector<backend_config> configs;
    pool_snapshot pool;

    appliance(
            const std::vector<named>& backends,
            std::uint16_t first_slot = 0,
            const siphash_key& key = fleet_key
    ) {
        configs.resize(first_slot + backends.size());
        std::vector<backend_facts> facts(configs.size());
        pool_config p;
        p.name = "p";
        p.policy = policy_kind::hash;
        for (std::size_t i = 0; i < backends.size(); ++i) {
            const auto slot = static_cast<std::uint16_t>(first_slot + i);
            configs[slot].name = backends[i].name;
            configs[slot].weight = backends[i].weight;
            configs[slot].address = {
                    net::ip_address::v4(198, 18, 1, static_cast<std::uint8_t>(slot + 1)), 5060};
            facts[slot].state = backends[i].state;
            p.backends.push_back(slot);
        }
        pool = build_pool_snapshot(p, configs, facts, nullptr, key);
    }

    // The name of the backend a key hash goes to ("" for a 503).
    std::string pick(std::uint64_t key_hash) const {
        const selection s = choose(pool, {.random = 0, .key_hash = key_hash, .sequence = 0});
        return s.count == 0 ? std::string() : configs[pool.backends[s.picks[0]].slot].name;
    }
};

std::vector<std::uint64_t> keys(std::size_t n) {
    std::vector<std::uint64_t> v(n);
    xorshift64 rng(42);
    for (auto& k : v) {
        k = rng.next();
    }
    return v;
}

struct order_case {
    const char* name;
    std::vector<named> first;
    std::vector<named> second; // the same backends, in another order
    std::uint16_t second_first_slot;
};

class hash_order : public ::testing::TestWithParam<order_case> {};

// Two appliances (or one before and after a reload) with the same backends listed in another
// order, in other slots, give every key the same backend.
TEST_P(hash_order, same_backends_in_any_order_give_the_same_choices) {
    const order_case& c = GetParam();
    const appliance a(c.first);
    const appliance b(c.second, c.second_first_slot);
    std::map<std::string, int> seen;
    for (const std::uint64_t k : keys(10'000)) {
        const std::string x = a.pick(k);
        ASSERT_EQ(x, b.pick(k)) << "key " << k;
        ++seen[x];
    }
    EXPECT_EQ(seen.size(), c.first.size()) << "every backend gets keys";
}

const order_case order_cases[] = {
        {"three_reversed", {{"a"}, {"b"}, {"c"}}, {{"c"}, {"b"}, {"a"}}, 0},
        {"three_rotated_other_slots", {{"a"}, {"b"}, {"c"}}, {{"b"}, {"c"}, {"a"}}, 7},
        {"weighted_shuffled",
         {{"core-1", 3}, {"core-2", 1}, {"edge-1", 2}, {"edge-2", 5}},
         {{"edge-2", 5}, {"core-2", 1}, {"core-1", 3}, {"edge-1", 2}},
         3},
        {"ten_reversed",
         {{"p0"}, {"p1"}, {"p2"}, {"p3"}, {"p4"}, {"p5"}, {"p6"}, {"p7"}, {"p8"}, {"p9"}},
         {{"p9"}, {"p8"}, {"p7"}, {"p6"}, {"p5"}, {"p4"}, {"p3"}, {"p2"}, {"p1"}, {"p0"}},
         20},
};

INSTANTIATE_TEST_SUITE_P(cases, hash_order, ::testing::ValuesIn(order_cases), [](const auto& info) {
    return std::string(info.param.name);
});

TEST(hash, another_key_gives_another_table) {
    const std::vector<named> backends = {{"a"}, {"b"}, {"c"}};
    const appliance a(backends);
    const appliance b(backends, 0, siphash_key{1});
    int differ = 0;
    for (const std::uint64_t k : keys(10'000)) {
        differ += a.pick(k) != b.pick(k);
    }
    EXPECT_GT(differ, 3000) << "the key, not the names alone, decides the table";
}

struct weight_case {
    const char* name;
    std::vector<named> backends;
};

class hash_weights : public ::testing::TestWithParam<weight_case> {};

// Each backend's share of keys is its weight over the total, within 1.5 percentage points
// (100,000 keys: the sampling error alone is about 0.15 points).
TEST_P(hash_weights, shares_follow_the_weights) {
    const weight_case& c = GetParam();
    const appliance a(c.backends);
    std::map<std::string, int> seen;
    constexpr int n = 100'000;
    for (const std::uint64_t k : keys(n)) {
        ++seen[a.pick(k)];
    }
    double total = 0;
    for (const named& b : c.backends) {
        total += b.weight;
    }
    for (const named& b : c.backends) {
        EXPECT_NEAR(static_cast<double>(seen[b.name]) / n, b.weight / total, 0.015) << b.name;
    }
}

const weight_case weight_cases[] = {
        {"two_of_four_gets_half", {{"a", 2}, {"b", 1}, {"c", 1}}},
        {"equal", {{"a"}, {"b"}, {"c"}, {"d"}}},
        {"one_to_ten", {{"small", 1}, {"large", 10}}},
        {"mixed", {{"a", 5}, {"b", 3}, {"c", 2}, {"d", 1}, {"e", 1}}},
        {"large_weights", {{"a", 1000}, {"b", 500}, {"c", 250}}},
};

INSTANTIATE_TEST_SUITE_P(
        cases,
        hash_weights,
        ::testing::ValuesIn(weight_cases),
        [](const auto& info) { return std::string(info.param.name); }
);

struct change_case {
    const char* name;
    std::vector<named> before;
    std::vector<named> after; // one backend more or fewer (or down)
    std::string changed;      // the one added or removed
};

class hash_changes : public ::testing::TestWithParam<change_case> {};

// Adding a backend moves about its share of keys, to it; removing one (or losing it to a
// failure) moves its keys and, of the others', at most 2 % of all keys.
TEST_P(hash_changes, only_the_changed_backends_share_moves) {
    const change_case& c = GetParam();
    const appliance before(c.before);
    const appliance after(c.after);
    double total = 0;
    const bool added = c.after.size() > c.before.size();
    for (const named& b : added ? c.after : c.before) {
        if (b.state == backend_state::up) {
            total += b.weight;
        }
    }
    double changed_weight = 0;
    for (const named& b : added ? c.after : c.before) {
        if (b.name == c.changed) {
            changed_weight = b.weight;
        }
    }
    const double share = changed_weight / total;
    constexpr int n = 100'000;
    int to_or_from_changed = 0;
    int among_others = 0;
    for (const std::uint64_t k : keys(n)) {
        const std::string x = before.pick(k);
        const std::string y = after.pick(k);
        if (x == y) {
            continue;
        }
        if ((added ? y : x) == c.changed) {
            ++to_or_from_changed;
        } else {
            ++among_others;
        }
    }
    EXPECT_NEAR(static_cast<double>(to_or_from_changed) / n, share, 0.015);
    EXPECT_LE(static_cast<double>(among_others) / n, 0.02);
}

const change_case change_cases[] = {
        {"add_fourth", {{"a"}, {"b"}, {"c"}}, {{"a"}, {"b"}, {"c"}, {"d"}}, "d"},
        {"add_heavy", {{"a"}, {"b"}, {"c"}}, {{"a"}, {"b"}, {"heavy", 3}, {"c"}}, "heavy"},
        {"add_to_ten",
         {{"p0"}, {"p1"}, {"p2"}, {"p3"}, {"p4"}, {"p5"}, {"p6"}, {"p7"}, {"p8"}},
         {{"p0"}, {"p1"}, {"p2"}, {"p3"}, {"p4"}, {"p5"}, {"p6"}, {"p7"}, {"p8"}, {"p9"}},
         "p9"},
        {"remove_middle", {{"a"}, {"b"}, {"c"}, {"d"}}, {{"a"}, {"b"}, {"d"}}, "c"},
        {"remove_weighted", {{"a", 2}, {"b", 1}, {"c", 1}}, {{"b", 1}, {"c", 1}}, "a"},
        {"remove_one_of_ten",
         {{"p0"}, {"p1"}, {"p2"}, {"p3"}, {"p4"}, {"p5"}, {"p6"}, {"p7"}, {"p8"}, {"p9"}},
         {{"p0"}, {"p1"}, {"p2"}, {"p3"}, {"p5"}, {"p6"}, {"p7"}, {"p8"}, {"p9"}},
         "p4"},
};

INSTANTIATE_TEST_SUITE_P(
        cases,
        hash_changes,
        ::testing::ValuesIn(change_cases),
        [](const auto& info) { return std::string(info.param.name); }
);

// A backend going down is a removal too: its keys move, the others' stay.
TEST(hash, a_backend_down_moves_only_its_keys) {
    const appliance before({{"a"}, {"b"}, {"c"}, {"d"}});
    const appliance after({{"a"}, {"b"}, {"c", 1, backend_state::down}, {"d"}});
    int moved_others = 0;
    for (const std::uint64_t k : keys(10'000)) {
        const std::string x = before.pick(k);
        const std::string y = after.pick(k);
        EXPECT_NE(y, "c");
        moved_others += x != "c" && x != y;
    }
    EXPECT_LE(moved_others, 200);
}

} // namespace
} // namespace sipredir::balance
