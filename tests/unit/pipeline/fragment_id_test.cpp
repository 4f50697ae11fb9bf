// SPDX-License-Identifier: BSD-3-Clause
// The fragment identification each worker starts from: random, not a shared, predictable 0.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <pipeline/fragment_id.hpp>
#include <set>

using namespace sipredir;

TEST(fragment_id, each_worker_starts_somewhere_else_and_not_at_zero) {
    // Eight workers' starts. Counting from 0 in each, two workers' first fragmented replies to
    // one caller would carry the same ID, and anyone could predict the next. Two equal random
    // 32-bit starts among eight: a chance of 28 in 2^32.
    std::array<std::uint32_t, 8> starts{};
    for (std::uint32_t& s : starts) {
        s = pipeline::random_fragment_id_start();
    }
    EXPECT_EQ(std::set<std::uint32_t>(starts.begin(), starts.end()).size(), starts.size());
    // IPv4 carries the low 16 bits: those vary too (all eight equal: a chance of 2^-112).
    EXPECT_FALSE(std::all_of(starts.begin(), starts.end(), [&](std::uint32_t s) {
        return static_cast<std::uint16_t>(s) == static_cast<std::uint16_t>(starts[0]);
    }));
}
