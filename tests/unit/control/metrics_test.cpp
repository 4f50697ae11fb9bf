// SPDX-License-Identifier: BSD-3-Clause
// The Prometheus text beyond the workers' counter catalogue (counter_catalogue_test): redirects
// per backend and per pool, the latency histogram's sum, the port's and the exception path's
// counters, and the build.
#include <gtest/gtest.h>

#include <control/metrics.hpp>
#include <control/pool_redirect_totals.hpp>
#include <cstdlib>
#include <string>
#include <version.hpp>

using namespace sipredir;
using namespace sipredir::control;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    return text.starts_with(line + "\n") || text.find("\n" + line + "\n") != std::string::npos;
}

// The value of the unlabelled sample `name`; -1 when there is none.
double value_of(const std::string& text, const std::string& name) {
    const std::size_t at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::strtod(text.c_str() + at + name.size() + 2, nullptr);
}

TEST(metrics, the_latency_sum_is_the_workers_exact_sum) {
    pipeline::stats_totals t;
    t.latency[pipeline::latency_bucket(3'000)] = 2;
    t.latency_ns_sum = 5'500; // 2'500 and 3'000: not what the buckets' midpoints would give
    metrics_input in;
    in.totals = &t;
    const std::string text = prometheus_text(in);
    EXPECT_DOUBLE_EQ(value_of(text, "sipredir_reply_latency_seconds_sum"), 5.5e-6) << text;
    EXPECT_TRUE(has_line(text, "sipredir_reply_latency_seconds_count 2")) << text;
}

TEST(metrics, redirects_are_counted_per_backend_and_per_pool) {
    std::vector<backend_status> backends(2);
    backends[0].name = "b1";
    backends[1].slot = 3;
    backends[1].name = "b2";
    const std::vector<std::uint64_t> by_slot = {7, 0, 0, 11};
    const std::vector<pool_redirects> pools = {{"east", 12}, {"west", 6}};
    metrics_input in;
    in.backends = backends;
    in.redirects = by_slot;
    in.pools = pools;
    const std::string text = prometheus_text(in);
    EXPECT_TRUE(has_line(text, "sipredir_redirects_total{backend=\"b1\"} 7")) << text;
    EXPECT_TRUE(has_line(text, "sipredir_redirects_total{backend=\"b2\"} 11")) << text;
    EXPECT_TRUE(has_line(text, "sipredir_pool_redirects_total{pool=\"east\"} 12")) << text;
    EXPECT_TRUE(has_line(text, "sipredir_pool_redirects_total{pool=\"west\"} 6")) << text;
    // A backend's count is not attributed to a pool it may not serve.
    EXPECT_EQ(text.find("sipredir_redirects_total{pool="), std::string::npos) << text;
}

// The workers count by place; a reload that reorders and removes pools keeps each name's total.
TEST(metrics, a_pool_keeps_its_redirects_when_a_reload_moves_it) {
    std::vector<std::uint64_t> by_place(balance::max_pools, 0);
    const pool_redirect_totals::place_count count = [&](std::size_t p) { return by_place[p]; };
    pool_redirect_totals totals;
    by_place[0] = 10; // east
    by_place[1] = 4;  // west
    EXPECT_EQ(totals.total(0, "east", count), 10u);
    EXPECT_EQ(totals.total(1, "west", count), 4u);
    totals.rebase({"east", "west"}, count); // the reload: now west, north
    EXPECT_EQ(totals.total(0, "west", count), 4u);
    EXPECT_EQ(totals.total(1, "north", count), 0u);
    by_place[0] += 3; // west
    by_place[1] += 5; // north
    EXPECT_EQ(totals.total(0, "west", count), 7u);
    EXPECT_EQ(totals.total(1, "north", count), 5u);
    totals.rebase({"west", "north"}, count); // and back: east, west
    EXPECT_EQ(totals.total(0, "east", count), 10u);
    EXPECT_EQ(totals.total(1, "west", count), 7u);
}

TEST(metrics, the_port_and_the_exception_path_are_exported_with_a_data_plane) {
    metrics_input in;
    EXPECT_EQ(prometheus_text(in).find("sipredir_port_frames_total"), std::string::npos);
    EXPECT_EQ(prometheus_text(in).find("sipredir_exception_path_"), std::string::npos);

    in.dataplane = dataplane_counters{
            .port =
                    port_counters{
                            .ipackets = 100,
                            .opackets = 90,
                            .imissed = 3,
                            .ierrors = 2,
                            .oerrors = 1,
                            .rx_nombuf = 4,
                    },
            .tap_written = 20,
            .tap_dropped = 5,
            .from_kernel_dropped = 6,
    };
    const std::string text = prometheus_text(in);
    for (const char* line : {
                 "sipredir_port_frames_total{stat=\"ipackets\"} 100",
                 "sipredir_port_frames_total{stat=\"imissed\"} 3",
                 "sipredir_port_frames_total{stat=\"ierrors\"} 2",
                 "sipredir_port_frames_total{stat=\"oerrors\"} 1",
                 "sipredir_port_frames_total{stat=\"rx_nombuf\"} 4",
                 "sipredir_exception_path_tap_written_total 20",
                 "sipredir_exception_path_dropped_total{where=\"tap\"} 5",
                 "sipredir_exception_path_dropped_total{where=\"from_kernel_ring\"} 6",
         }) {
        EXPECT_TRUE(has_line(text, line)) << line << "\n" << text;
    }

    in.dataplane->port.reset(); // the port's statistics unreadable: the rest still shown
    const std::string without_port = prometheus_text(in);
    EXPECT_EQ(without_port.find("sipredir_port_frames_total"), std::string::npos);
    EXPECT_TRUE(has_line(without_port, "sipredir_exception_path_tap_written_total 20"));
}

TEST(metrics, build_info_names_the_version_and_the_parser_kernel) {
    metrics_input in;
    in.stage1_kernel = "avx2";
    const std::string text = prometheus_text(in);
    EXPECT_TRUE(has_line(
            text,
            "sipredir_build_info{version=\"" + std::string(sipredir::version)
                    + "\",stage1=\"avx2\"} 1"
    )) << text;
    EXPECT_TRUE(has_line(text, "# TYPE sipredir_build_info gauge")) << text;
}

} // namespace
