// SPDX-License-Identifier: BSD-3-Clause
// RFC 7339 as a server: the appliance's own overload trigger on one interval's readings, the
// readings from counter samples, and the indication published (its oc-seq) over time.
#include <gtest/gtest.h>

#include <chrono>
#include <control/overload/server_overload.hpp>
#include <control/plane.hpp>
#include <string>
#include <vector>

using namespace sipredir;
using namespace sipredir::control;

namespace {

struct trigger_case {
    const char* name;
    overload_settings settings;
    overload_readings readings;
    bool overloaded;
};

overload_settings with(double busy_share, double imissed_per_second, bool enabled = true) {
    overload_settings s;
    s.enabled = enabled;
    s.busy_share = busy_share;
    s.imissed_per_second = imissed_per_second;
    return s;
}

class trigger_table : public ::testing::TestWithParam<trigger_case> {};

TEST_P(trigger_table, decides) {
    const trigger_case& c = GetParam();
    EXPECT_EQ(appliance_overloaded(c.settings, c.readings), c.overloaded);
}

INSTANTIATE_TEST_SUITE_P(
        overload,
        trigger_table,
        ::testing::Values(
                trigger_case{"idle", with(0.9, 1000), {0.1, 0}, false},
                trigger_case{"busy_under_threshold", with(0.9, 1000), {0.899, 999}, false},
                trigger_case{"busy_at_threshold", with(0.9, 1000), {0.9, 0}, true},
                trigger_case{"busy_over_threshold", with(0.9, 1000), {0.97, 0}, true},
                trigger_case{"nic_missing_at_threshold", with(0.9, 1000), {0.2, 1000}, true},
                trigger_case{"nic_missing_over_threshold", with(0.9, 1000), {0.2, 5e5}, true},
                trigger_case{"nic_trigger_off", with(0.9, 0), {0.2, 5e5}, false},
                trigger_case{"disabled", with(0.9, 1000, false), {1.0, 5e5}, false}
        ),
        [](const ::testing::TestParamInfo<trigger_case>& i) { return std::string(i.param.name); }
);

struct readings_case {
    const char* name;
    std::vector<std::uint64_t> busy_before;
    std::vector<std::uint64_t> busy_now;
    std::uint64_t imissed_before;
    std::uint64_t imissed_now;
    std::int64_t elapsed_ns;
    double busiest_share;
    double imissed_per_second;
};

class readings_table : public ::testing::TestWithParam<readings_case> {};

TEST_P(readings_table, from_two_samples) {
    const readings_case& c = GetParam();
    const overload_readings r = readings_between(
            c.busy_before, c.busy_now, c.imissed_before, c.imissed_now, c.elapsed_ns
    );
    EXPECT_DOUBLE_EQ(r.busiest_share, c.busiest_share);
    EXPECT_DOUBLE_EQ(r.imissed_per_second, c.imissed_per_second);
}

INSTANTIATE_TEST_SUITE_P(
        overload,
        readings_table,
        ::testing::Values(
                readings_case{
                        "the_busiest_worker_counts",
                        {0, 0},
                        {20'000'000, 95'000'000},
                        0,
                        0,
                        100'000'000,
                        0.95,
                        0},
                readings_case{"imissed_per_second", {0}, {0}, 100, 350, 250'000'000, 0, 1000},
                readings_case{"counters_going_back_read_zero", {50}, {10}, 9, 3, 100'000'000, 0, 0},
                readings_case{"no_time_no_reading", {0}, {100}, 0, 100, 0, 0, 0},
                readings_case{
                        "a_new_worker_reads_zero", {0}, {0, 90'000'000}, 0, 0, 100'000'000, 0, 0}
        ),
        [](const ::testing::TestParamInfo<readings_case>& i) { return std::string(i.param.name); }
);

constexpr std::int64_t ms = 1'000'000;

// Samples busy time as `share` of each 100 ms interval on one worker, from t = 0.
struct driver {
    server_overload o;
    overload_settings s;
    std::int64_t now = 0;
    std::uint64_t busy = 0;

    balance::overload_signal step(double share, std::uint64_t wall_ms, bool saturated = false) {
        now += 100 * ms;
        busy += static_cast<std::uint64_t>(share * 100 * ms);
        const std::vector<std::uint64_t> b{busy};
        return o.update(s, now, wall_ms, b, 0, saturated);
    }
};

} // namespace

TEST(server_overload, nothing_until_a_trigger_holds) {
    driver d;
    const std::vector<std::uint64_t> b{0};
    EXPECT_EQ(d.o.update(d.s, 0, 1000, b, 0, false).reduction, 0) << "the first sample";
    EXPECT_EQ(d.step(0.5, 1100).reduction, 0);
    const balance::overload_signal on = d.step(0.95, 1200);
    EXPECT_EQ(on.reduction, 20);
    EXPECT_TRUE(on.everywhere);
    EXPECT_EQ(on.validity_ms, 500u);
    EXPECT_EQ(on.seq_ms, 1200u);
}

TEST(server_overload, oc_seq_grows_when_the_indication_changes_and_only_then) {
    driver d;
    d.step(0, 1000);
    const std::uint64_t first = d.step(0.95, 2000).seq_ms;
    EXPECT_EQ(d.step(0.95, 2100).seq_ms, first) << "unchanged: the same sequence number";
    EXPECT_EQ(d.step(0.1, 2200).reduction, 0) << "over: no indication";
    const balance::overload_signal again = d.step(0.95, 1500); // the wall clock went back
    EXPECT_EQ(again.reduction, 20);
    EXPECT_EQ(again.seq_ms, first + 1) << "a new episode: newer even when the clock is not";
    d.s.reduction = 40; // a reload
    const balance::overload_signal more = d.step(0.95, 9000);
    EXPECT_EQ(more.reduction, 40);
    EXPECT_EQ(more.seq_ms, 9000u);
    d.s.validity_ms = 1000;
    EXPECT_EQ(d.step(0.95, 9100).seq_ms, 9100u);
}

TEST(server_overload, a_saturated_pool_alone_is_not_everywhere) {
    driver d;
    d.step(0, 1000);
    const balance::overload_signal pool = d.step(0.1, 1100, true);
    EXPECT_EQ(pool.reduction, 20);
    EXPECT_FALSE(pool.everywhere);
    const balance::overload_signal both = d.step(0.95, 1200, true);
    EXPECT_TRUE(both.everywhere);
    EXPECT_EQ(both.seq_ms, pool.seq_ms) << "the same value to clients: the same sequence";
}

TEST(server_overload, disabled_indicates_nothing) {
    driver d;
    d.s.enabled = false;
    d.step(0, 1000);
    EXPECT_EQ(d.step(1.0, 1100, true).reduction, 0);
}

TEST(server_overload, readings_wait_for_a_whole_interval) {
    driver d;
    d.step(0, 1000);
    // Half an interval later, fully busy: not yet a reading.
    const std::vector<std::uint64_t> b{d.busy + 50 * ms};
    EXPECT_EQ(d.o.update(d.s, d.now + 50 * ms, 1050, b, 0, false).reduction, 0);
    EXPECT_DOUBLE_EQ(d.o.readings().busiest_share, 0);
    const std::vector<std::uint64_t> c{d.busy + 100 * ms};
    EXPECT_EQ(d.o.update(d.s, d.now + 100 * ms, 1100, c, 0, false).reduction, 20);
    EXPECT_DOUBLE_EQ(d.o.readings().busiest_share, 1.0);
}

// The control plane reads the workers' busy time through its hook and publishes the indication
// with the table: a worker busy all the time overloads the appliance.
TEST(server_overload, the_plane_publishes_what_the_workers_counters_say) {
    config_result r = parse_config(
            R"(
[listen]
addresses = ["198.18.0.1"]
[[backend]]
name = "b1"
address = "198.18.1.1:5060"
[[pool]]
name = "default"
backends = ["b1"]
[overload]
reduction = 25
)",
            "t.toml"
    );
    ASSERT_TRUE(r.config) << r.error.message;
    const auto start = std::chrono::steady_clock::now();
    balance::overload_signal seen;
    plane_hooks hooks;
    hooks.busy_ns = [&] {
        const auto busy = std::chrono::steady_clock::now() - start; // busy all along
        return std::vector<std::uint64_t>{static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(busy).count()
        )};
    };
    hooks.publish = [&](const appliance_config&,
                        std::span<const balance::backend_facts>,
                        const balance::overload_signal& o) {
        seen = o;
        return true;
    };
    plane p("t.toml", std::move(*r.config), hooks);
    const auto deadline = start + std::chrono::seconds(5);
    while (seen.reduction == 0 && std::chrono::steady_clock::now() < deadline) {
        p.run_once(std::chrono::microseconds(1000));
    }
    EXPECT_EQ(seen.reduction, 25);
    EXPECT_TRUE(seen.everywhere);
    EXPECT_EQ(seen.validity_ms, 500u);
    EXPECT_GT(seen.seq_ms, 0u);
    EXPECT_EQ(p.overload().seq_ms, seen.seq_ms);
    const std::string metrics = p.command("metrics");
    EXPECT_NE(metrics.find("\nsipredir_overload_reduction_percent 25\n"), std::string::npos)
            << metrics;
    const std::string ratio = "\nsipredir_overload_busiest_worker_ratio ";
    const std::size_t at = metrics.find(ratio);
    ASSERT_NE(at, std::string::npos) << metrics;
    EXPECT_GT(std::stod(metrics.substr(at + ratio.size())), 0.9) << metrics;
}
