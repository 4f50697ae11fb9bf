// SPDX-License-Identifier: BSD-3-Clause
#include "../test_support.hpp"
#include "minimal_config.hpp"

#include <gtest/gtest.h>

#include <control/config.hpp>
#include <control/mbuf_budget.hpp>
#include <string>

using namespace sipredir;
using namespace sipredir::control;

namespace {

const std::string& minimal = sipredir::test::minimal_config;

appliance_config parsed(const std::string& text) {
    config_result r = parse_config(text, "t.toml");
    EXPECT_TRUE(r.config.has_value()) << r.error.message;
    return r.config ? std::move(*r.config) : appliance_config{};
}

struct pool_case {
    const char* name;
    std::string text;
    std::uint32_t workers;
    const char* expected; // the whole refusal; "" when the pool suffices
};

// Hand-checked: per worker rx + tx + ring slots (ring_size - 1 each) + its share of the
// fragment cap (a quarter of the pool unless fragment_mbufs), plus (workers + 1) lcores × 1.5
// × min(256, mbufs / 8) cache.
const std::string minimal_8191 = minimal + "[dataplane]\nmbufs = 8191\n";

const pool_case pool_cases[] = {
        {"one_worker_fits_8191", minimal_8191, 1, ""},
        // 2 × (1024 + 1024 + 1023) + 3 × 384 = 7294
        {"two_workers_without_exception_path_fit", minimal_8191, 2, ""},
        {"four_workers_need_a_larger_pool",
         minimal_8191,
         4,
         "t.toml:12: mbufs = 8191 is too small: 4 workers × (1024 rx + 1024 tx + 511 fragments) "
         "+ 5 lcores × 384 cache = 12156 needed; give mbufs = 16383 or more, or 0 to size it at "
         "start (docs/operations.md)"},
        {"the_exception_ring_counts_and_the_error_names_the_mbufs_line",
         minimal + "[exception]\ntap = \"sr0\"\n[dataplane]\nburst = 32\nmbufs = 8191\n",
         2,
         "t.toml:15: mbufs = 8191 is too small: 2 workers × (1024 rx + 1024 tx + 1278 ring + "
         "1023 fragments) + 3 lcores × 384 cache = 9850 needed; give mbufs = 16383 or more, or 0 "
         "to size it at start (docs/operations.md)"},
        {"deeper_rx_rings_need_a_larger_pool",
         minimal + "[exception]\ntap = \"sr0\"\n[dataplane]\nrx_descriptors = 4096\nmbufs = 8191\n",
         1,
         "t.toml:15: mbufs = 8191 is too small: 1 worker × (4096 rx + 1024 tx + 1278 ring + "
         "2047 fragments) + 2 lcores × 384 cache = 9213 needed; give mbufs = 16383 or more, or 0 "
         "to size it at start (docs/operations.md)"},
        {"fragment_mbufs_replaces_the_quarter",
         minimal + "[dataplane]\nfragment_mbufs = 6000\nmbufs = 8191\n",
         2,
         "t.toml:13: mbufs = 8191 is too small: 2 workers × (1024 rx + 1024 tx + 3000 fragments) "
         "+ 3 lcores × 384 cache = 11248 needed; give mbufs = 16383 or more, or 0 to size it at "
         "start (docs/operations.md)"},
        {"a_fragment_cap_past_any_pool_gets_no_suggestion",
         minimal + "[dataplane]\nmbufs = 1023\nfragment_mbufs = 16777216\n",
         1,
         "t.toml:12: mbufs = 1023 is too small: 1 worker × (1024 rx + 1024 tx + 16777216 "
         "fragments) + 2 lcores × 190 cache = 16779644 needed (docs/operations.md)"},
};

class pool_check : public testing::TestWithParam<pool_case> {};

TEST_P(pool_check, refuses_a_pool_smaller_than_its_demand_with_the_arithmetic) {
    const appliance_config c = parsed(GetParam().text);
    EXPECT_EQ(check_mbuf_pool(c, GetParam().workers), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
        mbuf_budget,
        pool_check,
        testing::ValuesIn(pool_cases),
        [](const auto& info) { return std::string(info.param.name); }
);

struct sized_case {
    const char* name;
    std::string text;
    std::uint32_t workers;
    std::uint32_t expected; // the pool sized_mbuf_pool gives
};

// Hand-checked like pool_cases; a pool is never sized below 8191.
const sized_case sized_cases[] = {
        {"one_worker_gets_8191", minimal, 1, 8191},
        {"two_workers_fit_8191", minimal, 2, 8191},
        // 16383: 4 × (1024 + 1024 + 1023) + 5 × 384 = 14204
        {"four_workers_get_16383", minimal, 4, 16383},
        // 16383: 2 × (1024 + 1024 + 1023 + 2047) + 3 × 384 = 11388
        {"two_workers_with_the_exception_path_get_16383",
         minimal + "[exception]\ntap = \"sr0\"\n",
         2,
         16383},
        // 32767 is short: 8 × (1024 + 1024 + 1023 + 1023) + 9 × 384 = 36208; 65535:
        // 8 × (1024 + 1024 + 1023 + 2047) + 9 × 384 = 44400
        {"eight_workers_with_the_exception_path_get_65535",
         minimal + "[exception]\ntap = \"sr0\"\n",
         8,
         65535},
        {"nothing_covers_a_fragment_cap_past_any_pool",
         minimal + "[dataplane]\nfragment_mbufs = 16777216\n",
         1,
         0},
};

class pool_sizing : public testing::TestWithParam<sized_case> {};

TEST_P(pool_sizing, gives_the_smallest_pool_that_covers_its_own_demand) {
    appliance_config c = parsed(GetParam().text);
    EXPECT_EQ(c.dataplane.mbufs, 0u) << "left to the appliance";
    const std::uint32_t n = sized_mbuf_pool(c, GetParam().workers);
    EXPECT_EQ(n, GetParam().expected);
    if (n != 0) {
        c.dataplane.mbufs = n;
        EXPECT_EQ(check_mbuf_pool(c, GetParam().workers), "");
        if (n > 8191) {
            c.dataplane.mbufs = n / 2; // the next smaller 2^k - 1
            EXPECT_NE(check_mbuf_pool(c, GetParam().workers), "") << "not the smallest";
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
        mbuf_budget,
        pool_sizing,
        testing::ValuesIn(sized_cases),
        [](const auto& info) { return std::string(info.param.name); }
);

TEST(mbuf_budget, race_pools_add_a_ring_per_worker_and_the_race_replies) {
    appliance_config c = parsed(minimal_8191);
    c.exception.tap = "sr0";
    c.pools[0].policy = balance::policy_kind::race;
    const mbuf_demand d = mbuf_demand_of(c, 1);
    // The exception path's urgent (255) and other (1023) rings, and the race ring (1023).
    EXPECT_EQ(d.rings, 255 + 2 * 1023u);
    EXPECT_EQ(d.shared, 1023u);
    EXPECT_EQ(d.total(), 1024 + 1024 + 2301 + 2047 + 2 * 384 + 1023u);
    EXPECT_EQ(
            d.arithmetic(),
            "1 worker × (1024 rx + 1024 tx + 2301 ring + 2047 fragments) + 2 lcores × 384 cache "
            "+ 1023 race replies = 8187"
    );
}

TEST(mbuf_budget, the_fragment_cap_is_shared_by_the_workers) {
    dataplane_config d;
    d.mbufs = 8191;
    EXPECT_EQ(fragment_mbuf_cap(d), 8191u / 4);
    EXPECT_EQ(fragment_mbufs_per_worker(d, 1), 2047u);
    EXPECT_EQ(fragment_mbufs_per_worker(d, 4), 511u);
    EXPECT_EQ(fragment_mbufs_per_worker(d, 0), 0u);
    d.fragment_mbufs = 100;
    EXPECT_EQ(fragment_mbufs_per_worker(d, 3), 33u);
}

TEST(mbuf_budget, the_cache_is_an_eighth_of_the_pool_up_to_256) {
    EXPECT_EQ(mempool_cache_size(1023), 127u);
    EXPECT_EQ(mempool_cache_size(8191), 256u);
    EXPECT_EQ(mempool_cache_size(1 << 20), 256u);
}

// The lab and the pcap tests run one worker, perf/bench_pcap.sh two on bench.toml.
TEST(mbuf_budget, shipped_configurations_fit_the_workers_they_run_with) {
    for (const auto& [name, workers] :
         {std::pair{"bench.toml", 2u}, {"example.toml", 1u}, {"lab.toml", 1u}}) {
        const auto path = test::data_dir().parent_path().parent_path() / "config" / name;
        config_result r = load_config(path.string());
        ASSERT_TRUE(r.config.has_value()) << r.error.message;
        if (r.config->dataplane.mbufs == 0) {
            r.config->dataplane.mbufs = sized_mbuf_pool(*r.config, workers);
        }
        EXPECT_EQ(check_mbuf_pool(*r.config, workers), "") << name;
    }
}

} // namespace
