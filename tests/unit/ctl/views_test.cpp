// SPDX-License-Identifier: BSD-3-Clause
// sipredirctl's human views and its live view, from answers shaped as the appliance gives them
// (src/control/management/views.cpp): tables, rates over an interval, and events.
#include <gtest/gtest.h>

#include <ctl/tables.hpp>
#include <ctl/top.hpp>
#include <string>

using namespace sipredir::ctl;
using nlohmann::json;

namespace {

json backends(std::string_view b2_state, std::uint64_t b1, std::uint64_t b2, bool drained = false) {
    return {
            {"ok", true},
            {"backends",
             json::array({
                     {{"name", "b1"},
                      {"address", "198.18.1.1:5060"},
                      {"state", "up"},
                      {"drained", drained},
                      {"probe", "up"},
                      {"load", 0.25},
                      {"load_source", "report"},
                      {"load_age_ms", 120.0},
                      {"rtt_ms", 0.5},
                      {"jitter_ms", 0.1},
                      {"capacity", 1000},
                      {"redirects", b1}},
                     {{"name", "b2"},
                      {"address", "198.18.1.2:5060"},
                      {"state", b2_state},
                      {"drained", false},
                      {"probe", "up"},
                      {"load", 0.5},
                      {"load_source", "probe"},
                      {"load_age_ms", -1.0},
                      {"rtt_ms", -1.0},
                      {"jitter_ms", -1.0},
                      {"capacity", 1000},
                      {"redirects", b2}},
             })},
    };
}

json stats(std::uint64_t rx, std::uint64_t replies, double busy, std::uint64_t refused = 0) {
    json latency = json::array();
    for (int i = 0; i < 32; ++i) {
        latency.push_back(i == 12 ? replies : 0); // all under 8.192 us
    }
    return {
            {"ok", true},
            {"appliance",
             {{"seconds", 10.0},
              {"workers", 2},
              {"received_frames", rx},
              {"replies", replies},
              {"replies_by_code", {{"302", replies}, {"503", 0}}},
              {"absorbed", 0},
              {"exception_frames", 4},
              {"race_handoffs", 0},
              {"dropped", rx - replies},
              {"dropped_by_cause", {{"not_sip", rx - replies}, {"tx_full", 0}}},
              {"busy_seconds", busy},
              {"latency_ns", {{"p50", 8192}, {"p99", 8192}, {"histogram_log2", latency}}},
              {"redirects_by_backend", {{"b1", 5}, {"b2", 7}}},
              {"port", {{"imissed", 3}, {"ierrors", 0}, {"rx_nombuf", 0}}},
              {"per_worker",
               json::array(
                       {{{"received_frames", rx / 2},
                         {"replies", replies / 2},
                         {"dropped", 0},
                         {"busy_seconds", busy}},
                        {{"received_frames", rx - rx / 2},
                         {"replies", replies - replies / 2},
                         {"dropped", rx - replies},
                         {"busy_seconds", 0.0}}}
               )}}},
            {"reloads", {{"applied", 1}, {"refused", refused}}},
            {"table_generation", 42},
    };
}

top_sample sample(double at_s, json stats_answer = nullptr, json backends_answer = nullptr) {
    top_sample s;
    s.at_s = at_s;
    s.stats = std::move(stats_answer);
    s.backends = std::move(backends_answer);
    return s;
}

// Runs of spaces as one, so that a row reads without its padding.
std::string squeezed(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (c != ' ' || out.empty() || out.back() != ' ') {
            out += c;
        }
    }
    return out;
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

TEST(ctl_views, numbers_are_grouped_and_unknowns_are_dashes) {
    EXPECT_EQ(grouped(0), "0");
    EXPECT_EQ(grouped(999), "999");
    EXPECT_EQ(grouped(1000), "1,000");
    EXPECT_EQ(grouped(12345678), "12,345,678");
    EXPECT_EQ(count_text(json(-1)), "-");
    EXPECT_EQ(count_text(json("x")), "-");
    EXPECT_EQ(fixed_text(json(-1.0), 2), "-");
    EXPECT_EQ(fixed_text(json(0.5), 2), "0.50");
}

TEST(ctl_views, a_table_aligns_its_columns_and_right_aligns_numbers) {
    text_table t({"NAME", "COUNT"});
    t.add({"a", "5"});
    t.add({"longer", "1,000"});
    EXPECT_EQ(t.render(), "NAME    COUNT\na           5\nlonger  1,000\n");
}

TEST(ctl_views, backends_are_one_row_each_with_load_in_percent) {
    const std::string text = human_view("backends", backends("down", 5, 7, true));
    EXPECT_TRUE(contains(text, "BACKEND")) << text;
    EXPECT_TRUE(contains(text, "up (drained)")) << text;
    EXPECT_TRUE(contains(text, "25.0")) << text;
    EXPECT_TRUE(contains(text, "198.18.1.2:5060")) << text;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
}

TEST(ctl_views, stats_name_replies_by_code_and_drops_by_cause) {
    const std::string text = human_view("stats", stats(1500, 1000, 1.0));
    EXPECT_TRUE(contains(text, "received  1,500")) << text;
    EXPECT_TRUE(contains(text, "(302: 1,000)")) << text;
    EXPECT_TRUE(contains(text, "not_sip: 500")) << text;
    EXPECT_FALSE(contains(text, "tx_full")) << text; // zero: left out
    EXPECT_TRUE(contains(text, "imissed 3")) << text;
}

TEST(ctl_views, a_backend_change_says_what_changed) {
    const json answer = {
            {"ok", true}, {"changed", "set b1 weight=3"}, {"backends", 3}, {"generation", 12}};
    EXPECT_EQ(
            human_view("backend", answer),
            "changed: set b1 weight=3; 3 backends; table generation 12\n"
    );
}

TEST(ctl_views, fleet_names_its_transport_and_one_row_per_peer) {
    const json answer = {
            {"ok", true},
            {"name", "sr-a"},
            {"transport", "nats sipredir.lab.counts.sr-a, connected to tls://198.19.9.2:4222"},
            {"configured_peers", 2},
            {"peers",
             json::array(
                     {{{"name", "sr-b"},
                       {"heard_ms_ago", 12},
                       {"messages", 1200},
                       {"redirects", 40},
                       {"last_seq", 1200}}}
             )},
            {"transport_counters",
             {{"connected", true},
              {"published", 900},
              {"publish_failed", 0},
              {"received", 1250},
              {"dropped", 0},
              {"disconnects", 1},
              {"reconnects", 1}}}};
    const std::string text = human_view("fleet", answer);
    EXPECT_TRUE(contains(text, "transport nats sipredir.lab.counts.sr-a, connected to")) << text;
    EXPECT_TRUE(contains(text, "received 1,250")) << text;
    EXPECT_TRUE(contains(text, "reconnects 1")) << text;
    EXPECT_TRUE(contains(text, "sr-b")) << text;
}

TEST(ctl_views, an_unknown_verb_shows_its_json) {
    const json answer = {{"ok", true}, {"something", 1}};
    EXPECT_TRUE(contains(human_view("frobnicate", answer), "\"something\": 1"));
}

TEST(ctl_top, rates_and_shares_come_from_the_interval) {
    const top_sample before = sample(100, stats(1000, 800, 1.0), backends("up", 100, 300));
    const top_sample now = sample(102, stats(5000, 4800, 2.0), backends("up", 1100, 3300));
    const std::string page = render_top(&before, now, {}, "/run/x.sock");
    EXPECT_TRUE(contains(page, "rx/s 2000")) << page;
    EXPECT_TRUE(contains(page, "replies/s 2000")) << page;
    EXPECT_TRUE(contains(page, "busy 25.0 %")) << page; // 1 s of 2 workers x 2 s
    EXPECT_TRUE(contains(page, "302 2000/s")) << page;
    EXPECT_TRUE(contains(page, "p50 <= 8.2 us")) << page;
    // b1 took 1,000 of the 4,000 redirects in the interval, b2 3,000.
    EXPECT_TRUE(contains(squeezed(page), "b1 up 25.0 0.50 500 25.0 1,100\n")) << page;
    EXPECT_TRUE(contains(squeezed(page), "b2 up 50.0 - 1500 75.0 3,300\n")) << page;
    EXPECT_TRUE(contains(page, "none yet")) << page;
    // Each worker took half the frames; worker 0 did all the busy time (1 s of 2), worker 1 none.
    EXPECT_TRUE(contains(squeezed(page), " 0 1000 1000 0 50.0\n")) << page;
    EXPECT_TRUE(contains(squeezed(page), " 1 1000 1000 0 0.0\n")) << page;
}

TEST(ctl_top, the_first_screen_has_no_rates) {
    const top_sample now = sample(1, stats(10, 10, 0), backends("up", 1, 1));
    const std::string page = render_top(nullptr, now, {}, "s");
    EXPECT_TRUE(contains(page, "rx/s -")) << page;
    EXPECT_TRUE(contains(page, "since start")) << page;
}

TEST(ctl_top, a_silent_appliance_is_said_so) {
    const top_sample now = sample(1);
    EXPECT_TRUE(contains(render_top(nullptr, now, {}, "/run/x.sock"), "does not answer"));
}

TEST(ctl_top, events_name_state_changes_reloads_and_peers) {
    top_sample before = sample(0, stats(1, 1, 0), backends("up", 1, 1));
    top_sample now = sample(0, stats(1, 1, 0, 1), backends("down", 1, 1));
    before.fleet = {{"ok", true}, {"peers", json::array({{{"name", "sr-b"}}})}};
    now.fleet = {{"ok", true}, {"peers", json::array()}};
    const std::vector<std::string> e = events_between(before, now);
    const std::vector<std::string> expected = {
            "backend b2 up -> down",
            "a reload was refused (the running configuration stays)",
            "fleet peer sr-b lost",
    };
    EXPECT_EQ(e, expected);
    EXPECT_TRUE(events_between(now, now).empty());
}

} // namespace

TEST(ctl_views, fleet_shows_who_probes_each_backend) {
    const json answer = {
            {"ok", true},
            {"name", "sr-a"},
            {"configured_peers", 2},
            {"peers", json::array()},
            {"probing",
             json::array(
                     {{{"backend", "b1"},
                       {"role", "self"},
                       {"probers", "sr-a,sr-c"},
                       {"shared_from", ""},
                       {"shared_age_ms", -1.0},
                       {"shared_state", ""}},
                      {{"backend", "b2"},
                       {"role", "shared"},
                       {"probers", "sr-b,sr-c"},
                       {"shared_from", "sr-b"},
                       {"shared_age_ms", 420.4},
                       {"shared_state", "down"}}}
             )}};
    const std::string out = human_view("fleet", answer);
    EXPECT_NE(out.find("PROBED BY"), std::string::npos) << out;
    EXPECT_NE(out.find("sr-a,sr-c"), std::string::npos) << out;
    const std::size_t b2 = out.find("b2 ");
    ASSERT_NE(b2, std::string::npos) << out;
    const std::string line = out.substr(b2, out.find('\n', b2) - b2);
    EXPECT_NE(line.find("shared"), std::string::npos) << line;
    EXPECT_NE(line.find("sr-b "), std::string::npos) << line;
    EXPECT_NE(line.find("down"), std::string::npos) << line;
    EXPECT_NE(line.find("420"), std::string::npos) << line;
    // Without probing shared out, no such table.
    json plain = answer;
    plain["probing"] = json::array();
    EXPECT_EQ(human_view("fleet", plain).find("PROBED BY"), std::string::npos);
}
