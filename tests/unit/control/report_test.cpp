// SPDX-License-Identifier: BSD-3-Clause
// Pushed load reports: the format, the MAC, the key file's checks, and the gate's verdicts
// (wrong source, forged, replayed, stale, rate-limited, unknown, malformed), each counted.
#include "../test_support.hpp"

#include <gtest/gtest.h>

#include <control/report/report_gate.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace sipredir;
using namespace sipredir::control;

namespace {

constexpr std::int64_t now_ms = 1'732'300'000'000;
constexpr std::int64_t ms = 1'000'000;
const net::ip_address proxy_a = net::ip_address::v4(198, 18, 1, 1);
const net::ip_address proxy_b = net::ip_address::v4(198, 18, 1, 2);
const net::ip_address agent_host = net::ip_address::v4(198, 18, 0, 9);

report_key key_of(std::uint8_t fill) {
    report_key k{};
    k.fill(fill);
    return k;
}

report_fields fields(std::uint64_t seq, std::int64_t ts = now_ms) {
    report_fields f;
    f.backend = "proxy-a";
    f.seq = seq;
    f.ts_ms = static_cast<std::uint64_t>(ts);
    f.calls = 40;
    f.capacity = 200;
    return f;
}

class gate_fixture : public ::testing::Test {
protected:
    gate_fixture() {
        const report_source sources[] = {
                {3, "proxy-a", key_of(1), proxy_a}, {5, "proxy-b", key_of(2), proxy_b}};
        gate.configure({.window_ms = 5000, .rate = 10, .burst = 3}, sources);
    }
    // From proxy-a's address unless said otherwise.
    report_verdict
    admit(const std::string& d,
          std::int64_t wall = now_ms,
          std::int64_t mono = 0,
          const net::ip_address& from = proxy_a) {
        return gate.admit(d, from, wall, mono, taken);
    }
    report_gate gate;
    taken_report taken;
};

} // namespace

TEST(load_report, written_report_parses_back_and_authenticates) {
    const std::string d = write_report(fields(7), key_of(1));
    EXPECT_EQ(d.substr(0, 7), "SRLR/1 ");
    load_report r;
    ASSERT_TRUE(parse_report(d, r)) << d;
    EXPECT_EQ(r.backend, "proxy-a");
    EXPECT_EQ(r.seq, 7u);
    EXPECT_EQ(r.ts_ms, static_cast<std::uint64_t>(now_ms));
    EXPECT_DOUBLE_EQ(*r.utilisation(), 0.2);
    EXPECT_TRUE(report_authentic(r, key_of(1)));
    EXPECT_FALSE(report_authentic(r, key_of(2)));
    ASSERT_TRUE(parse_report(d + "\n", r)) << "a trailing newline is tolerated";

    report_fields percent;
    percent.backend = "b";
    percent.load_percent = 62.5;
    const std::string p = write_report(percent, key_of(1));
    ASSERT_TRUE(parse_report(p, r)) << p;
    EXPECT_DOUBLE_EQ(*r.utilisation(), 0.625);
}

TEST(load_report, malformed_reports_are_refused_without_reading_past_them) {
    const std::string good = write_report(fields(7), key_of(1));
    const std::string mac = good.substr(good.find(" mac="));
    for (const std::string& bad : {
                 std::string(""),
                 std::string("SRLR/2 backend=a seq=1 ts=1 load=1") + mac,
                 std::string("SRLR/1 backend=a seq=1 ts=1") + mac,              // no load
                 std::string("SRLR/1 backend=a ts=1 load=1") + mac,             // no seq
                 std::string("SRLR/1 backend=a seq=1 seq=2 ts=1 load=1") + mac, // repeated
                 std::string("SRLR/1 backend=a seq=1 ts=1 load=-1") + mac,
                 std::string("SRLR/1 backend=a seq=1 ts=1 load=1 extra=2") + mac,
                 std::string("SRLR/1 backend=a/b seq=1 ts=1 load=1") + mac,
                 std::string("SRLR/1 backend=a seq=99999999999999999999999 ts=1 load=1") + mac,
                 std::string("SRLR/1 backend=a seq=1 ts=1 load=1 mac=12"),
                 std::string("SRLR/1 backend=a seq=1 ts=1 load=1"),
                 good.substr(0, good.size() - 1),
                 std::string(600, 'x'),
                 // Found by report_fuzz: the mac key overlapping the magic's space.
                 std::string("SRLR/1 mac=") + std::string(64, '0'),
                 std::string("SRLR/1 mac=") + std::string(64, '0') + "\n",
         }) {
        const test::guarded_copy copy(bad);
        load_report r;
        EXPECT_FALSE(parse_report(copy.view(), r)) << bad;
    }
    // Every prefix of a good report, each against a guard page.
    for (std::size_t n = 0; n < good.size(); ++n) {
        const test::guarded_copy copy(std::string_view(good).substr(0, n));
        load_report r;
        EXPECT_FALSE(parse_report(copy.view(), r)) << n;
    }
}

TEST_F(gate_fixture, accepts_a_good_report_once) {
    const std::string d = write_report(fields(7), key_of(1));
    EXPECT_EQ(admit(d), report_verdict::accepted);
    EXPECT_EQ(taken.slot, 3);
    EXPECT_DOUBLE_EQ(taken.utilisation, 0.2);
    EXPECT_EQ(admit(d), report_verdict::replayed);
    EXPECT_EQ(admit(write_report(fields(6), key_of(1))), report_verdict::replayed) << "older seq";
    EXPECT_EQ(admit(write_report(fields(8), key_of(1))), report_verdict::accepted);
    EXPECT_EQ(gate.count(report_verdict::accepted), 2u);
    EXPECT_EQ(gate.count(report_verdict::replayed), 2u);
}

TEST_F(gate_fixture, refuses_forged_stale_unknown_and_malformed) {
    EXPECT_EQ(admit(write_report(fields(1), key_of(2))), report_verdict::forged)
            << "proxy-b's key on proxy-a's report";
    std::string tampered = write_report(fields(2), key_of(1));
    tampered.replace(tampered.find("calls=40"), 8, "calls=10");
    EXPECT_EQ(admit(tampered), report_verdict::forged);
    EXPECT_EQ(admit(write_report(fields(3, now_ms - 5001), key_of(1))), report_verdict::stale);
    EXPECT_EQ(admit(write_report(fields(4, now_ms + 5001), key_of(1))), report_verdict::stale);
    report_fields other = fields(5);
    other.backend = "proxy-z";
    EXPECT_EQ(admit(write_report(other, key_of(1))), report_verdict::unknown_backend);
    EXPECT_EQ(admit("hello"), report_verdict::malformed);
    for (const report_verdict v :
         {report_verdict::forged,
          report_verdict::stale,
          report_verdict::unknown_backend,
          report_verdict::malformed}) {
        EXPECT_GT(gate.count(v), 0u) << name_of(v);
    }
    EXPECT_EQ(gate.count(report_verdict::accepted), 0u);
    // Refused reports leave no trace: a genuine one with a lower seq than theirs is taken.
    EXPECT_EQ(admit(write_report(fields(6), key_of(1))), report_verdict::accepted);
}

TEST_F(gate_fixture, rate_limits_each_backend_to_its_budget) {
    std::uint64_t seq = 1;
    int accepted = 0;
    for (int i = 0; i < 10; ++i) {
        accepted += admit(write_report(fields(seq++), key_of(1)), now_ms, 0)
                    == report_verdict::accepted;
    }
    EXPECT_EQ(accepted, 3) << "the burst";
    EXPECT_EQ(
            admit(write_report(fields(seq++), key_of(1)), now_ms, 99 * ms),
            report_verdict::rate_limited
    );
    EXPECT_EQ(
            admit(write_report(fields(seq++), key_of(1)), now_ms, 101 * ms),
            report_verdict::accepted
    ) << "10/s: one more after 100 ms";
    report_fields b = fields(1);
    b.backend = "proxy-b";
    EXPECT_EQ(
            admit(write_report(b, key_of(2)), now_ms, 101 * ms, proxy_b), report_verdict::accepted
    ) << "each backend has its own budget";
}

TEST_F(gate_fixture, reconfiguring_keeps_the_sequence_of_backends_that_stay) {
    EXPECT_EQ(admit(write_report(fields(50), key_of(1))), report_verdict::accepted);
    const report_source sources[] = {{7, "proxy-a", key_of(1), proxy_a}};
    gate.configure({}, sources);
    EXPECT_EQ(admit(write_report(fields(50), key_of(1))), report_verdict::replayed);
    EXPECT_EQ(admit(write_report(fields(51), key_of(1))), report_verdict::accepted);
    EXPECT_EQ(taken.slot, 7);
}

TEST(key_file, reads_64_hex_digits) {
    EXPECT_TRUE(parse_key_hex(std::string(64, 'a') + "\n"));
    EXPECT_FALSE(parse_key_hex(std::string(63, 'a')));
    EXPECT_FALSE(parse_key_hex(std::string(64, 'g')));
    EXPECT_FALSE(read_key_file("/nonexistent/key").key);
}

TEST_F(gate_fixture, a_report_from_another_address_is_refused_as_wrong_source) {
    // proxy-b (or a host holding proxy-a's key) reports proxy-a full from its own address.
    report_fields full = fields(1);
    full.calls = 200;
    EXPECT_EQ(
            admit(write_report(full, key_of(1)), now_ms, 0, proxy_b), report_verdict::wrong_source
    );
    EXPECT_EQ(
            admit(write_report(full, key_of(1)), now_ms, 0, agent_host),
            report_verdict::wrong_source
    );
    EXPECT_EQ(gate.count(report_verdict::wrong_source), 2u);
    EXPECT_EQ(gate.count(report_verdict::accepted), 0u);
    EXPECT_EQ(admit(write_report(fields(1), key_of(1))), report_verdict::accepted)
            << "from proxy-a's own address";

    // An agent elsewhere: its address replaces the backend's, which then may not report.
    const report_source sources[] = {{3, "proxy-a", key_of(1), agent_host}};
    gate.configure({.window_ms = 5000, .rate = 10, .burst = 3}, sources);
    EXPECT_EQ(
            admit(write_report(fields(2), key_of(1)), now_ms, 0, agent_host),
            report_verdict::accepted
    );
    EXPECT_EQ(admit(write_report(fields(3), key_of(1))), report_verdict::wrong_source);
    const net::ip_address v6 = {.family = net::ip_family::v6, .bytes = {0x20, 0x01, 0x0d, 0xb8}};
    EXPECT_EQ(
            admit(write_report(fields(4), key_of(1)), now_ms, 0, v6), report_verdict::wrong_source
    );
}

TEST_F(gate_fixture, one_huge_seq_cannot_lock_a_backend_out) {
    // Taken: its ts is now. Then the agent's next report (one ms later, a normal seq) must be
    // taken too; ordering by seq alone refused every report after it as replayed, forever.
    EXPECT_EQ(admit(write_report(fields(UINT64_MAX), key_of(1))), report_verdict::accepted);
    EXPECT_EQ(admit(write_report(fields(UINT64_MAX), key_of(1))), report_verdict::replayed);
    EXPECT_EQ(admit(write_report(fields(2, now_ms - 1), key_of(1))), report_verdict::replayed)
            << "an older ts stays a replay";
    EXPECT_EQ(
            admit(write_report(fields(2, now_ms + 1), key_of(1)), now_ms + 1, 200 * ms),
            report_verdict::accepted
    );
    // The furthest a report can push the order is the window's edge: a ts past it is stale.
    EXPECT_EQ(
            admit(write_report(fields(3, now_ms + 5000), key_of(1)), now_ms, 400 * ms),
            report_verdict::accepted
    );
    EXPECT_EQ(
            admit(write_report(fields(4, now_ms + 5001), key_of(1)), now_ms + 5001, 600 * ms),
            report_verdict::accepted
    ) << "5 s later the backend reports again";
}

TEST_F(gate_fixture, timestamps_at_the_ends_of_the_range_are_stale_not_wrapped) {
    for (const std::uint64_t ts :
         {std::uint64_t{0},
          std::uint64_t{INT64_MAX},
          std::uint64_t{INT64_MAX} + 1,
          UINT64_MAX - 4999,
          UINT64_MAX}) {
        report_fields f = fields(1);
        f.ts_ms = ts;
        EXPECT_EQ(admit(write_report(f, key_of(1))), report_verdict::stale) << ts;
    }
    report_fields f = fields(1);
    f.ts_ms = 0;
    EXPECT_EQ(admit(write_report(f, key_of(1)), 1000), report_verdict::accepted)
            << "a wall clock near 0 with the window reaching below it";
    EXPECT_EQ(gate.count(report_verdict::stale), 5u);
}

namespace {

// A key file of `mode` in a fresh directory; returns its path.
std::string key_file_with_mode(const std::string& name, mode_t mode) {
    const auto dir = std::filesystem::temp_directory_path()
                     / ("sipredir-report-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = dir / name;
    std::filesystem::remove(path);
    std::ofstream(path) << std::string(64, 'a') << "\n";
    ::chmod(path.c_str(), mode);
    return path.string();
}

} // namespace

TEST(key_file, open_to_group_or_others_is_refused) {
    struct row {
        mode_t mode;
        bool taken;
    };
    for (const row r :
         {row{0600, true},
          row{0400, true},
          row{0640, false},
          row{0604, false},
          row{0620, false},
          row{0644, false}}) {
        const std::string path = key_file_with_mode("k", r.mode);
        const key_file_result k = read_key_file(path);
        EXPECT_EQ(k.key.has_value(), r.taken) << std::oct << r.mode << ": " << k.error;
        if (!r.taken) {
            EXPECT_NE(k.error.find("open to group or others"), std::string::npos) << k.error;
            EXPECT_NE(k.error.find("chmod 600"), std::string::npos) << k.error;
        }
    }
}

TEST(key_file, a_symbolic_link_is_refused_not_followed) {
    const std::string target = key_file_with_mode("target", 0600);
    const std::string link = target + ".link";
    std::filesystem::remove(link);
    std::filesystem::create_symlink(target, link);
    const key_file_result k = read_key_file(link);
    EXPECT_FALSE(k.key);
    EXPECT_NE(k.error.find("symbolic link"), std::string::npos) << k.error;
    EXPECT_FALSE(read_key_file(std::filesystem::path(target).parent_path().string()).key)
            << "a directory";
}
