// SPDX-License-Identifier: BSD-3-Clause
// The load monitor's rules: which state wins (configuration, drain, probing), load figures and
// their staleness, and slots kept across reloads by identity.
#include <gtest/gtest.h>

#include <control/load_monitor.hpp>
#include <control/snapshot_builder.hpp>
#include <filesystem>
#include <fstream>

using namespace sipredir;
using namespace sipredir::control;

namespace {

constexpr std::int64_t ms = 1'000'000;

appliance_config parse(const std::string& backends, const std::string& pool) {
    const std::string text = "[listen]\naddresses = [\"198.18.0.1\"]\n[load]\nmax_age_ms = 1000\n"
                             + backends + "[[pool]]\nname = \"p\"\nbackends = [" + pool + "]\n";
    config_result r = parse_config(text, "t.toml");
    EXPECT_TRUE(r.config) << r.error.message;
    return std::move(*r.config);
}

std::string backend(const std::string& name, int last_octet, const std::string& extra = "") {
    return "[[backend]]\nname = \"" + name + "\"\naddress = \"198.18.1."
           + std::to_string(last_octet) + ":5060\"\ncapacity = 100\n" + extra;
}

} // namespace

TEST(load_monitor, configuration_then_drain_decide_the_state) {
    const appliance_config c =
            parse(backend("a", 1) + backend("b", 2, "state = \"down\"\n")
                          + backend("c", 3, "state = \"draining\"\n"),
                  "\"a\", \"b\", \"c\"");
    load_monitor m;
    m.apply(c, 1);
    auto f = m.update(1, {});
    EXPECT_EQ(f[0].state, balance::backend_state::up) << "no probing: as configured";
    EXPECT_EQ(f[1].state, balance::backend_state::down);
    EXPECT_EQ(f[2].state, balance::backend_state::draining);
    EXPECT_LT(f[0].rtt_ms, 0) << "not probed: no round trip, rather than the fastest one";
    EXPECT_TRUE(m.set_drained("a", true));
    EXPECT_FALSE(m.set_drained("zz", true));
    EXPECT_EQ(m.update(2, {})[0].state, balance::backend_state::draining);
    m.set_drained("a", false);
    EXPECT_EQ(m.update(3, {})[0].state, balance::backend_state::up);
}

TEST(load_monitor, a_report_sets_the_load_until_it_is_stale) {
    const appliance_config c = parse(backend("a", 1), "\"a\"");
    load_monitor m;
    m.apply(c, 1);
    std::vector<std::uint64_t> redirects(balance::max_backends, 0);
    taken_report half;
    half.utilisation = 0.5;
    m.take(half, 10 * ms);
    auto f = m.update(10 * ms, redirects);
    EXPECT_DOUBLE_EQ(f[0].reported_calls, 50);
    redirects[0] = 7;
    f = m.update(20 * ms, redirects);
    EXPECT_EQ(f[0].redirects_since_report, 7u) << "redirects count on top of the figure";
    EXPECT_EQ(m.status(20 * ms)[0].source, load_source::report);
    redirects[0] = 0;
    f = m.update(1011 * ms, redirects);
    EXPECT_DOUBLE_EQ(f[0].reported_calls, 0) << "older than max_age_ms: unknown";
    EXPECT_EQ(f[0].redirects_since_report, 0u) << "the estimate starts a new window";
    EXPECT_EQ(m.status(1011 * ms)[0].source, load_source::none);
}

TEST(assign_slots, same_name_and_address_keep_their_slot_others_take_new_ones) {
    appliance_config running =
            parse(backend("a", 1) + backend("b", 2) + backend("c", 3), "\"a\", \"b\", \"c\"");
    std::vector<bool> used(balance::max_backends, false);
    for (const static_backend& b : running.backends) {
        used[b.slot] = true;
    }
    // b leaves, c moves address (a new backend), d arrives; the pool lists them in a new order.
    appliance_config next =
            parse(backend("d", 4) + backend("c", 9) + backend("a", 1), "\"c\", \"a\", \"d\"");
    assign_slots(running, next, used);
    const auto slot_of = [&](const std::string& name) {
        for (const static_backend& b : next.backends) {
            if (b.config.name == name) {
                return b.slot;
            }
        }
        return std::uint16_t{999};
    };
    EXPECT_EQ(slot_of("a"), 0);
    EXPECT_EQ(slot_of("d"), 3) << "a slot never used in this run";
    EXPECT_EQ(slot_of("c"), 4) << "another address: another backend";
    EXPECT_EQ(next.pools[0].backends, (std::vector<std::uint16_t>{4, 0, 3}));
    EXPECT_TRUE(used[3] && used[4]);
}

namespace {

std::string private_key_file(const std::string& name, char digit) {
    const auto path = std::filesystem::temp_directory_path() / name;
    std::ofstream(path) << std::string(64, digit) << "\n";
    std::filesystem::permissions(
            path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write
    );
    return path.string();
}

appliance_config with_reports(const std::string& reports, const std::string& backends) {
    const std::string text = "[listen]\naddresses = [\"198.18.0.1\"]\n[exception]\ntap = \"t0\"\n"
                             "[reports]\nport = 5081\n"
                             + reports + backends
                             + "[[pool]]\nname = \"p\"\nbackends = [\"a\", \"b\"]\n";
    config_result r = parse_config(text, "t.toml");
    EXPECT_TRUE(r.config) << r.error.message;
    return std::move(*r.config);
}

} // namespace

TEST(load_monitor, reports_come_from_the_backend_or_its_report_source) {
    const std::string ka = private_key_file("sipredir_monitor_test_a.key", 'a');
    const std::string kb = private_key_file("sipredir_monitor_test_b.key", 'b');
    const appliance_config c = with_reports(
            "",
            backend("a", 1, "report_key_file = \"" + ka + "\"\n")
                    + backend(
                            "b",
                            2,
                            "report_key_file = \"" + kb + "\"\nreport_source = \"198.18.0.9\"\n"
                    )
    );
    load_monitor m;
    m.apply(c, 1);
    report_fields f;
    f.backend = "a";
    f.seq = 1;
    f.ts_ms = 1'000'000;
    f.load_percent = 50;
    taken_report t;
    const report_key a_key = *c.backends[0].own_key;
    const report_key b_key = *c.backends[1].own_key;
    EXPECT_EQ(
            m.reports().admit(
                    write_report(f, a_key), net::ip_address::v4(198, 18, 1, 2), 1'000'000, 0, t
            ),
            report_verdict::wrong_source
    ) << "b's address";
    EXPECT_EQ(
            m.reports().admit(
                    write_report(f, a_key), net::ip_address::v4(198, 18, 1, 1), 1'000'000, 0, t
            ),
            report_verdict::accepted
    );
    f.backend = "b";
    EXPECT_EQ(
            m.reports().admit(
                    write_report(f, b_key), net::ip_address::v4(198, 18, 1, 2), 1'000'000, 0, t
            ),
            report_verdict::wrong_source
    ) << "b's reports come from its agent's host";
    EXPECT_EQ(
            m.reports().admit(
                    write_report(f, b_key), net::ip_address::v4(198, 18, 0, 9), 1'000'000, 0, t
            ),
            report_verdict::accepted
    );
}

TEST(load_monitor, an_allowed_shared_report_key_is_warned_about_at_each_load) {
    const std::string k = private_key_file("sipredir_monitor_test_shared.key", 'c');
    const std::string two = backend("a", 1) + backend("b", 2);
    load_monitor m;
    ::testing::internal::CaptureStderr();
    m.apply(with_reports("key_file = \"" + k + "\"\nallow_shared_report_key = true\n", two), 1);
    const std::string warned = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(warned.find("level=warning event=shared_report_key backends=2"), std::string::npos)
            << warned;
}
