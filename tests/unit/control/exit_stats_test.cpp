// SPDX-License-Identifier: BSD-3-Clause
// The statistics printed at exit are one line (one journal entry) with the same JSON.
#include <gtest/gtest.h>

#include <algorithm>
#include <control/exit_stats.hpp>
#include <string>

namespace sipredir::control {
namespace {

std::string without_spaces(std::string s) {
    s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\n'; }),
            s.end());
    return s;
}

TEST(exit_stats, printed_on_one_line) {
    pipeline::stats_totals t{};
    t.rx = 7;
    run_summary run;
    run.seconds = 2;
    run.workers = 2;
    run.backend_names = {"b1", "line\nbreak"};
    run.redirects = {3, 4};
    const std::string json = stats_json(t, run);
    ASSERT_GT(std::count(json.begin(), json.end(), '\n'), 10); // laid out for people

    const std::string line = one_line(json);
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(without_spaces(line), without_spaces(json));
    EXPECT_NE(line.find("\"workers\": 2, \"received_frames\": 7"), std::string::npos) << line;
    EXPECT_NE(line.find("\"line\\u000abreak\": 4"), std::string::npos) << line;
}

} // namespace
} // namespace sipredir::control
