// SPDX-License-Identifier: BSD-3-Clause
#include <gtest/gtest.h>

#include <loadgen/histogram.hpp>
#include <random>

namespace sipredir::loadgen {
namespace {

using small = log_linear_histogram<3, 16>; // 8 exact values, then 8 buckets per power of two

TEST(histogram, buckets_tile_the_range_without_gaps) {
    for (std::size_t i = 0; i + 1 < small::bucket_count; ++i) {
        EXPECT_LE(small::lowest_of(i), small::highest_of(i)) << i;
        EXPECT_EQ(small::highest_of(i) + 1, small::lowest_of(i + 1)) << i;
    }
    EXPECT_EQ(small::lowest_of(0), 0u);
    EXPECT_EQ(small::highest_of(small::bucket_count - 1), small::max_trackable);
}

TEST(histogram, every_value_lands_in_the_bucket_that_holds_it) {
    for (std::uint64_t v = 0; v <= small::max_trackable; ++v) {
        const std::size_t i = small::index_of(v);
        ASSERT_LT(i, small::bucket_count) << v;
        ASSERT_LE(small::lowest_of(i), v) << v;
        ASSERT_GE(small::highest_of(i), v) << v;
    }
}

TEST(histogram, small_values_are_exact_and_large_ones_within_the_stated_share) {
    for (std::uint64_t v = 0; v < latency_histogram::sub_count * 2; ++v) {
        const std::size_t i = latency_histogram::index_of(v);
        EXPECT_EQ(latency_histogram::lowest_of(i), v);
        EXPECT_EQ(latency_histogram::highest_of(i), v);
    }
    std::mt19937_64 rng(7);
    for (int k = 0; k < 100000; ++k) {
        const std::uint64_t v = rng() >> (rng() % 64) & latency_histogram::max_trackable;
        const std::size_t i = latency_histogram::index_of(v);
        const double width = latency_histogram::highest_of(i) - latency_histogram::lowest_of(i);
        EXPECT_LE(width, static_cast<double>(v) / 128.0) << v;
    }
}

TEST(histogram, empty_reports_zero) {
    const latency_histogram h;
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.value_at(0.5), 0u);
    EXPECT_EQ(h.value_at(1.0), 0u);
    EXPECT_EQ(h.max(), 0u);
    EXPECT_EQ(h.mean(), 0.0);
}

TEST(histogram, one_value_is_every_quantile) {
    latency_histogram h;
    h.record(12345);
    for (const double q : {0.0, 0.5, 0.99, 0.999, 1.0}) {
        EXPECT_EQ(h.value_at(q), 12345u) << q; // capped at the exact maximum
    }
    EXPECT_EQ(h.min(), 12345u);
    EXPECT_EQ(h.max(), 12345u);
}

struct quantile_case {
    const char* name;
    double q;
    std::uint64_t expected; // of the values 1..1000, exact below 128
};

TEST(histogram, quantiles_of_one_to_a_thousand) {
    latency_histogram h;
    for (std::uint64_t v = 1000; v >= 1; --v) {
        h.record(v);
    }
    const quantile_case cases[] = {
            {"smallest", 0.0, 1},
            {"p10 exact", 0.1, 100},
            {"p50", 0.5, 500},
            {"p99", 0.99, 990},
            {"p99.9", 0.999, 999},
            {"max", 1.0, 1000},
    };
    for (const auto& c : cases) {
        const std::uint64_t got = h.value_at(c.q);
        // The bucket's highest value: never below the true quantile, at most 1/128 above it.
        EXPECT_GE(got, c.expected) << c.name;
        EXPECT_LE(static_cast<double>(got), c.expected * (1 + 1.0 / 128)) << c.name;
    }
    EXPECT_EQ(h.value_at(0.1), 100u);
    EXPECT_EQ(h.count(), 1000u);
    EXPECT_DOUBLE_EQ(h.mean(), 500.5);
}

TEST(histogram, a_tail_shows_at_its_quantile) {
    // 990 fast answers and 10 slow ones: p99 is fast, p99.9 is slow.
    latency_histogram h;
    for (int i = 0; i < 990; ++i) {
        h.record(2000);
    }
    for (int i = 0; i < 10; ++i) {
        h.record(80000);
    }
    EXPECT_LE(h.value_at(0.99), 2000u * 129 / 128);
    EXPECT_GE(h.value_at(0.991), 80000u);
    EXPECT_GE(h.value_at(0.999), 80000u);
}

TEST(histogram, values_past_the_range_are_clamped_and_counted) {
    small h;
    h.record(5);
    h.record(small::max_trackable + 1000);
    EXPECT_EQ(h.overflow(), 1u);
    EXPECT_EQ(h.count(), 2u);
    EXPECT_EQ(h.max(), small::max_trackable);
    EXPECT_EQ(h.value_at(1.0), small::max_trackable);
    h.reset();
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.overflow(), 0u);
}

} // namespace
} // namespace sipredir::loadgen
