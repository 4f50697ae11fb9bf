// SPDX-License-Identifier: BSD-3-Clause
// The counter catalogue: every counter of the workers' totals has one row, and the outputs that
// walk it (Prometheus text, the stats JSON) show the same counters with the same values.
#include <gtest/gtest.h>

#include <control/counter_catalogue.hpp>
#include <control/exit_stats.hpp>
#include <control/metrics.hpp>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>

using namespace sipredir;
using namespace sipredir::control;

namespace {

// Each row's field set to a value of its own (a duration to a whole number of half seconds).
pipeline::stats_totals numbered_totals() {
    pipeline::stats_totals t;
    for (std::size_t i = 0; i < counter_table.size(); ++i) {
        t.*counter_table[i].field = counter_table[i].unit == counter_unit::nanoseconds
                                            ? (i + 1) * 500'000'000
                                            : 1000 + i;
    }
    return t;
}

// Top-level numeric members of the JSON object `json` (two-space indented, one per line).
std::map<std::string, double> top_level_numbers(const std::string& json) {
    std::map<std::string, double> out;
    std::istringstream in(json);
    for (std::string line; std::getline(in, line);) {
        if (!line.starts_with("  \"") || line.starts_with("   ")) {
            continue;
        }
        const std::size_t end = line.find("\": ");
        const std::string key = line.substr(3, end - 3);
        const std::string value = line.substr(end + 3);
        char* rest = nullptr;
        const double v = std::strtod(value.c_str(), &rest);
        if (rest != value.c_str()) {
            out[key] = v;
        }
    }
    return out;
}

// Families Prometheus types as counters, with their unlabelled sample where there is one.
std::map<std::string, double> prometheus_counters(const std::string& text) {
    std::map<std::string, double> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("# TYPE ") && line.ends_with(" counter")) {
            out[line.substr(7, line.size() - 7 - 8)] = -1;
        } else if (!line.starts_with("#") && line.find('{') == std::string::npos) {
            const std::size_t space = line.find(' ');
            const std::string name = line.substr(0, space);
            if (out.contains(name)) {
                out[name] = std::strtod(line.c_str() + space + 1, nullptr);
            }
        }
    }
    return out;
}

TEST(counter_catalogue, every_field_of_the_totals_has_exactly_one_row) {
    // The size check (a static_assert in the header) says there are as many rows as fields;
    // distinct values read back through each row say no two rows share a field.
    const pipeline::stats_totals t = numbered_totals();
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < counter_table.size(); ++i) {
        const counter_info& c = counter_table[i];
        const std::uint64_t expected =
                c.unit == counter_unit::nanoseconds ? (i + 1) * 500'000'000 : 1000 + i;
        EXPECT_EQ(t.*c.field, expected) << c.name << " shares its field with a later row";
        EXPECT_TRUE(names.insert(c.name).second) << c.name << " is named twice";
        EXPECT_FALSE(c.help.empty()) << c.name;
    }
}

TEST(counter_catalogue, prometheus_and_the_stats_json_show_the_same_counters) {
    const pipeline::stats_totals t = numbered_totals();
    metrics_input in;
    in.totals = &t;
    const std::map<std::string, double> prometheus = prometheus_counters(prometheus_text(in));
    const std::map<std::string, double> json = top_level_numbers(stats_json(t, run_summary{}));

    // With no backends, pools, probes, reports, races, fleet or data plane, the counter families
    // that are not the workers' are these five.
    std::set<std::string> from_prometheus;
    for (const auto& [name, value] : prometheus) {
        if (name != "sipredir_redirects_total" && name != "sipredir_pool_redirects_total"
            && name != "sipredir_reloads_total" && name != "sipredir_management_closed_total"
            && name != "sipredir_backend_changes_total") {
            from_prometheus.insert(name);
        }
    }
    // The JSON's other numbers are the run's length and rates derived from the counters.
    const std::set<std::string> not_counters = {
            "seconds", "workers", "rx_per_second", "replies_per_second", "replies_per_busy_second"};
    std::set<std::string> from_json;
    for (const auto& [name, value] : json) {
        if (!not_counters.contains(name)) {
            from_json.insert("sipredir_" + name + "_total");
        }
    }
    EXPECT_EQ(from_prometheus, from_json);
    EXPECT_EQ(from_json.size(), counter_table.size());

    for (const counter_info& c : counter_table) {
        const std::string name = shown_name(c);
        ASSERT_TRUE(json.contains(name)) << name;
        EXPECT_DOUBLE_EQ(json.at(name), shown_value(c, t)) << name;
        if (c.breakdown == counter_breakdown::none) {
            EXPECT_DOUBLE_EQ(prometheus.at("sipredir_" + name + "_total"), shown_value(c, t))
                    << name;
        }
    }
}

} // namespace
