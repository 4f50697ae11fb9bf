// SPDX-License-Identifier: BSD-3-Clause
// The fleet's redirect exchange: the SRFX/1 message (round trip, refusals, splitting) and the
// exchange between appliances on a fake clock (deltas from totals, loss repaired by the next
// message, replays, forgeries, senders bound to their addresses, the capacity cap on a raise,
// restarts, silent peers and their replays, the spare-capacity trigger).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <control/fleet/redirect_exchange.hpp>
#include <control/plane.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace sipredir;
using namespace sipredir::control;
using namespace sipredir::control::fleet;

namespace {

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t wall0 = 1'732'300'000'000;

signing_key key_of(std::uint8_t b) {
    signing_key k{};
    k.fill(b);
    return k;
}

std::vector<backend_total> totals_of(std::string_view text) {
    std::vector<backend_total> out;
    for_each_total(text, [&](std::string_view n, std::uint64_t t) { out.emplace_back(n, t); });
    return out;
}

TEST(exchange_message, round_trip) {
    const auto out = write_exchange(
            {.from = "sr-a", .epoch_ms = 17, .first_seq = 42, .ts_ms = 99, .full = true},
            {{"p1", 1200}, {"p2", 77}},
            key_of(1)
    );
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(
            out[0].substr(0, out[0].find(" mac=")),
            "SRFX/1 from=sr-a epoch=17 seq=42 ts=99 full=1 totals=p1:1200,p2:77"
    );
    exchange_message m;
    ASSERT_TRUE(parse_exchange(out[0], m));
    EXPECT_EQ(m.from, "sr-a");
    EXPECT_EQ(m.epoch_ms, 17U);
    EXPECT_EQ(m.seq, 42U);
    EXPECT_EQ(m.ts_ms, 99U);
    EXPECT_TRUE(m.full);
    EXPECT_EQ(totals_of(m.totals), (std::vector<backend_total>{{"p1", 1200}, {"p2", 77}}));
    EXPECT_TRUE(signature_valid(m.line, key_of(1)));
    EXPECT_FALSE(signature_valid(m.line, key_of(2)));
}

TEST(exchange_message, empty_totals_still_say_alive) {
    const auto out = write_exchange({.from = "sr-a", .full = true}, {}, key_of(1));
    ASSERT_EQ(out.size(), 1U);
    exchange_message m;
    ASSERT_TRUE(parse_exchange(out[0], m));
    EXPECT_TRUE(m.totals.empty());
}

TEST(exchange_message, refuses_what_is_not_version_1) {
    const std::string good =
            write_exchange(
                    {.from = "a", .epoch_ms = 1, .first_seq = 1, .ts_ms = 1}, {{"p", 1}}, key_of(1)
            )
                    .front();
    exchange_message m;
    ASSERT_TRUE(parse_exchange(good, m));
    const auto with = [&](std::string_view from, std::string_view to) {
        std::string s = good;
        s.replace(s.find(from), from.size(), to);
        return s;
    };
    for (const std::string& bad : {
                 with("totals=p:1", "totals=p:1,"),               // trailing comma
                 with("totals=p:1", "totals=p:x"),                // not a number
                 with("totals=p:1", "totals=p"),                  // no total
                 with("totals=p:1", "totals=p:1,:2"),             // no name
                 with("totals=p:1", "totals=p:-1"),               // a sign
                 with(" full=0", ""),                             // a field missing
                 with(" full=0", " full=2"),                      // not 0 or 1
                 with(" full=0", " full=0 full=0"),               // repeated
                 with(" full=0", " full=0 extra=1"),              // unknown
                 with("from=a", "from=a b"),                      // a name with a space
                 with("SRFX/1", "SRFX/2"),                        // another version
                 good.substr(0, good.size() - 1),                 // MAC one digit short
                 std::string("SRFX/1 ") + std::string(1400, 'x'), // too large
         }) {
        EXPECT_FALSE(parse_exchange(bad, m)) << bad;
    }
}

TEST(exchange_message, many_backends_split_into_datagrams_under_the_limit) {
    std::vector<std::string> names;
    for (int i = 0; i < 200; ++i) {
        names.push_back("backend-with-a-long-name-" + std::to_string(i));
    }
    std::vector<backend_total> totals;
    for (int i = 0; i < 200; ++i) {
        totals.emplace_back(names[static_cast<std::size_t>(i)], 1'000'000'000ULL + i);
    }
    const auto out = write_exchange(
            {.from = "sr-a", .epoch_ms = 5, .first_seq = 10, .ts_ms = 7, .full = true},
            totals,
            key_of(3)
    );
    ASSERT_GT(out.size(), 1U);
    std::vector<backend_total> back;
    for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_LE(out[i].size(), max_exchange_size);
        exchange_message m;
        ASSERT_TRUE(parse_exchange(out[i], m)) << i;
        EXPECT_EQ(m.seq, 10 + i);
        EXPECT_TRUE(signature_valid(m.line, key_of(3)));
        for (const auto& t : totals_of(m.totals)) {
            back.push_back(t);
        }
    }
    EXPECT_EQ(back, totals);
}

// Every appliance the tests name, each with its address: 198.18.0.<10 + its place here>.
const std::vector<std::string> fleet_names = {
        "sr-a", "sr-b", "sr-c", "sr-d", "peer-0", "peer-1", "peer-2"};

net::ip_address address_of(std::string_view name) {
    const auto at = std::find(fleet_names.begin(), fleet_names.end(), name);
    return net::ip_address::v4(
            198, 18, 0, static_cast<std::uint8_t>(10 + (at - fleet_names.begin()))
    );
}

std::vector<fleet_peer> fleet_peers() {
    std::vector<fleet_peer> out;
    for (const std::string& n : fleet_names) {
        out.push_back({n, address_of(n)});
    }
    return out;
}

// Where a datagram comes from when a test does not say: its sender's own address.
net::ip_address sender_of(const std::string& d) {
    exchange_message m;
    return parse_exchange(d, m) ? address_of(m.from) : address_of("sr-d");
}

// Two or three appliances exchanging through vectors, on one fake clock.
struct appliance {
    redirect_exchange x;
    std::vector<std::uint64_t> delta;
    std::vector<double> spare;

    appliance(std::string name, std::vector<std::string> backends, std::uint64_t epoch = 1000) {
        exchange_settings s;
        s.self = std::move(name);
        s.key = key_of(7);
        s.peers = fleet_peers();
        x.configure(s, backends, epoch);
        delta.assign(backends.size(), 0);
        spare.assign(backends.size(), 1e9);
    }
    std::vector<std::string> send(std::int64_t now) {
        return x.due(now, spare) ? x.take_messages(now, wall0 + now / ms)
                                 : std::vector<std::string>{};
    }
    exchange_verdict receive(const std::string& d, std::int64_t now) {
        return x.admit(d, sender_of(d), wall0 + now / ms, now, delta);
    }
    exchange_verdict receive(const std::string& d, std::int64_t now, const net::ip_address& from) {
        return x.admit(d, from, wall0 + now / ms, now, delta);
    }
    void receive_all(const std::vector<std::string>& ds, std::int64_t now) {
        for (const auto& d : ds) {
            EXPECT_EQ(receive(d, now), exchange_verdict::accepted);
        }
    }
};

TEST(redirect_exchange, peers_fold_the_redirects_issued_since_their_last_message) {
    appliance a("sr-a", {"p1", "p2"});
    appliance b("sr-b", {"p1", "p2"});
    std::int64_t now = 1 * ms;
    a.x.add_own(std::vector<std::uint64_t>{100, 0}); // before b ever heard of a
    b.receive_all(a.send(now), now);
    // First sight: a's totals are a baseline, not 100 new redirects.
    EXPECT_EQ(b.delta, (std::vector<std::uint64_t>{0, 0}));
    a.x.add_own(std::vector<std::uint64_t>{5, 2});
    EXPECT_TRUE(a.send(now + 10 * ms).empty()); // within the interval: wait
    now += 50 * ms;
    const auto m = a.send(now);
    ASSERT_EQ(m.size(), 1U);
    EXPECT_NE(m[0].find("full=0 totals=p1:105,p2:2 "), std::string::npos) << m[0];
    b.receive_all(m, now);
    EXPECT_EQ(b.delta, (std::vector<std::uint64_t>{5, 2}));
    ASSERT_EQ(b.x.peers().size(), 1U);
    EXPECT_EQ(b.x.peers()[0].name, "sr-a");
    EXPECT_EQ(b.x.peers()[0].redirects, 7U);
    EXPECT_TRUE(a.send(now + 60 * ms).empty()); // nothing changed, no full due yet
}

TEST(redirect_exchange, a_lost_message_is_repaired_by_the_next) {
    appliance a("sr-a", {"p1"});
    appliance b("sr-b", {"p1"});
    std::int64_t now = 1 * ms;
    b.receive_all(a.send(now), now);
    a.x.add_own(std::vector<std::uint64_t>{3});
    now += 50 * ms;
    ASSERT_EQ(a.send(now).size(), 1U); // lost on the way
    a.x.add_own(std::vector<std::uint64_t>{4});
    now += 50 * ms;
    b.receive_all(a.send(now), now);
    EXPECT_EQ(b.delta[0], 7U);
}

TEST(redirect_exchange, every_total_again_each_full_interval) {
    appliance a("sr-a", {"p1", "p2"});
    std::int64_t now = 1 * ms;
    ASSERT_EQ(a.send(now).size(), 1U);
    a.x.add_own(std::vector<std::uint64_t>{1, 0});
    const auto partial = a.send(now + 50 * ms);
    ASSERT_EQ(partial.size(), 1U);
    EXPECT_NE(partial[0].find("full=0 totals=p1:1 "), std::string::npos);
    const auto full = a.send(now + 1000 * ms);
    ASSERT_EQ(full.size(), 1U);
    EXPECT_NE(full[0].find("full=1 totals=p1:1,p2:0 "), std::string::npos);
}

TEST(redirect_exchange, names_not_slots_say_which_backend) {
    appliance a("sr-a", {"p1", "p2", "old"});
    appliance b("sr-b", {"p2", "", "p1"}); // another order, a free slot, no "old"
    std::int64_t now = 1 * ms;
    b.receive_all(a.send(now), now);
    a.x.add_own(std::vector<std::uint64_t>{10, 20, 30});
    now += 50 * ms;
    b.receive_all(a.send(now), now);
    EXPECT_EQ(b.delta, (std::vector<std::uint64_t>{20, 0, 10}));
    EXPECT_EQ(b.x.counters().unknown_backends, 2U); // "old", in both messages
}

TEST(redirect_exchange, replays_forgeries_stale_and_own_messages_are_refused) {
    appliance a("sr-a", {"p1"});
    appliance b("sr-b", {"p1"});
    std::int64_t now = 1 * ms;
    const auto first = a.send(now);
    b.receive_all(first, now);
    a.x.add_own(std::vector<std::uint64_t>{9});
    now += 50 * ms;
    const auto second = a.send(now);
    b.receive_all(second, now);
    EXPECT_EQ(b.receive(second[0], now), exchange_verdict::replayed);
    EXPECT_EQ(b.receive(first[0], now), exchange_verdict::replayed);
    EXPECT_EQ(b.delta[0], 9U);

    std::string forged = second[0];
    forged.replace(forged.find("p1:9"), 4, "p1:99");
    EXPECT_EQ(b.receive(forged, now), exchange_verdict::forged);
    appliance stranger("sr-c", {"p1"});
    stranger.x.configure(
            {.self = "sr-c", .key = key_of(8), .peers = fleet_peers()},
            std::vector<std::string>{"p1"},
            5
    );
    EXPECT_EQ(b.receive(stranger.send(now)[0], now), exchange_verdict::forged);

    appliance late("sr-d", {"p1"});
    const auto old = late.send(now);
    EXPECT_EQ(b.receive(old[0], now + 6000 * ms), exchange_verdict::stale);

    appliance twin("sr-b", {"p1"}); // our own name
    EXPECT_EQ(b.receive(twin.send(now)[0], now), exchange_verdict::own);
    EXPECT_EQ(b.receive("SRFX/1 nonsense", now), exchange_verdict::malformed);
    EXPECT_EQ(b.delta[0], 9U);
    EXPECT_EQ(b.x.counters().received[static_cast<std::size_t>(exchange_verdict::replayed)], 2U);
    EXPECT_EQ(b.x.counters().received[static_cast<std::size_t>(exchange_verdict::forged)], 2U);
}

TEST(redirect_exchange, a_restarted_peer_counts_from_zero_again) {
    appliance b("sr-b", {"p1"});
    std::int64_t now = 1 * ms;
    {
        appliance a("sr-a", {"p1"}, 1000);
        a.x.add_own(std::vector<std::uint64_t>{500});
        b.receive_all(a.send(now), now);
    }
    appliance again("sr-a", {"p1"}, 2000); // a newer epoch
    again.x.add_own(std::vector<std::uint64_t>{3});
    now += 10 * ms;
    b.receive_all(again.send(now), now);
    EXPECT_EQ(b.delta[0], 3U);
    EXPECT_EQ(b.x.counters().restarts_seen, 1U);
    // And the old life's messages are replays now.
    appliance ghost("sr-a", {"p1"}, 1000);
    EXPECT_EQ(b.receive(ghost.send(now)[0], now), exchange_verdict::replayed);
}

TEST(redirect_exchange, a_silent_peer_is_forgotten_and_starts_afresh) {
    appliance a("sr-a", {"p1"});
    appliance b("sr-b", {"p1"});
    std::int64_t now = 1 * ms;
    b.receive_all(a.send(now), now);
    b.x.expire(now + 3000 * ms);
    EXPECT_EQ(b.x.peers().size(), 1U); // exactly the timeout: still there
    a.x.add_own(std::vector<std::uint64_t>{40});
    now += 3002 * ms;
    b.x.expire(now);
    EXPECT_TRUE(b.x.peers().empty());
    EXPECT_EQ(b.x.counters().peers_expired, 1U);
    b.receive_all(a.send(now), now);
    EXPECT_EQ(b.delta[0], 0U); // a baseline again: what it did while away is not known
}

TEST(redirect_exchange, a_backend_near_full_is_shared_before_the_interval) {
    appliance a("sr-a", {"big", "small"});
    std::int64_t now = 1 * ms;
    ASSERT_FALSE(a.send(now).empty());
    a.spare = {1000, 40};
    a.x.add_own(std::vector<std::uint64_t>{1, 1});
    now += 6 * ms;                       // past the minimum gap, inside the interval
    EXPECT_FALSE(a.x.due(now, a.spare)); // 1 < 5 % of 40
    a.x.add_own(std::vector<std::uint64_t>{0, 1});
    EXPECT_TRUE(a.x.due(now, a.spare)); // 2 >= 5 % of 40
    const auto m = a.x.take_messages(now, wall0);
    ASSERT_EQ(m.size(), 1U);
    EXPECT_NE(m[0].find("totals=big:1,small:2 "), std::string::npos);
    EXPECT_EQ(a.x.counters().triggered_sends, 1U);
    a.x.add_own(std::vector<std::uint64_t>{0, 5});
    EXPECT_FALSE(a.x.due(now + 2 * ms, a.spare)); // the minimum gap holds even then
    EXPECT_TRUE(a.x.due(now + 5 * ms, a.spare));
}

TEST(redirect_exchange, reconfiguring_keeps_totals_by_name_and_the_epoch) {
    appliance a("sr-a", {"p1", "p2"});
    appliance b("sr-b", {"p1", "p2"});
    std::int64_t now = 1 * ms;
    a.x.add_own(std::vector<std::uint64_t>{7, 8});
    b.receive_all(a.send(now), now);
    exchange_settings s;
    s.self = "sr-a";
    s.key = key_of(7);
    a.x.configure(s, std::vector<std::string>{"p2", "p1", "p3"}, 99'999); // a reload
    EXPECT_EQ(a.x.own_total(0), 8U);
    EXPECT_EQ(a.x.own_total(1), 7U);
    EXPECT_EQ(a.x.own_total(2), 0U);
    a.x.add_own(std::vector<std::uint64_t>{1, 0, 0});
    now += 50 * ms;
    b.receive_all(a.send(now), now); // same epoch: no restart, a delta of 1
    EXPECT_EQ(b.delta, (std::vector<std::uint64_t>{0, 1}));
    EXPECT_EQ(b.x.counters().restarts_seen, 0U);
}

TEST(redirect_exchange, the_peer_table_is_bounded) {
    appliance b("sr-b", {"p1"});
    exchange_settings s;
    s.self = "sr-b";
    s.key = key_of(7);
    s.max_peers = 2;
    s.peers = fleet_peers();
    b.x.configure(s, std::vector<std::string>{"p1"}, 1000);
    const std::int64_t now = 1 * ms;
    for (int i = 0; i < 3; ++i) {
        appliance p("peer-" + std::to_string(i), {"p1"});
        EXPECT_EQ(
                b.receive(p.send(now)[0], now),
                i < 2 ? exchange_verdict::accepted : exchange_verdict::too_many_peers
        );
    }
    EXPECT_EQ(b.x.peers().size(), 2U);
}

TEST(redirect_exchange, a_name_is_believed_only_from_its_configured_address) {
    appliance a("sr-a", {"p1"});
    appliance b("sr-b", {"p1"});
    std::int64_t now = 1 * ms;
    b.receive_all(a.send(now), now);
    a.x.add_own(std::vector<std::uint64_t>{50});
    now += 50 * ms;
    const auto m = a.send(now);
    // sr-c (it holds the fleet's key) sends sr-a's name from its own address.
    EXPECT_EQ(b.receive(m[0], now, address_of("sr-c")), exchange_verdict::wrong_source);
    EXPECT_EQ(b.delta[0], 0U);
    appliance stranger("sr-z", {"p1"}); // signed, but no configured peer has this name
    EXPECT_EQ(
            b.receive(stranger.send(now)[0], now, address_of("sr-d")),
            exchange_verdict::unknown_peer
    );
    EXPECT_EQ(b.receive(m[0], now), exchange_verdict::accepted) << "from sr-a's address";
    EXPECT_EQ(b.delta[0], 50U);
    const auto& received = b.x.counters().received;
    EXPECT_EQ(received[static_cast<std::size_t>(exchange_verdict::wrong_source)], 1U);
    EXPECT_EQ(received[static_cast<std::size_t>(exchange_verdict::unknown_peer)], 1U);
    ASSERT_EQ(b.x.peers().size(), 1U);
}

TEST(redirect_exchange, one_message_raises_a_total_by_at_most_capacity_times_elapsed_time) {
    appliance a("sr-a", {"small", "big"});
    appliance b("sr-b", {"small", "big"});
    exchange_settings s;
    s.self = "sr-b";
    s.key = key_of(7);
    s.peers = fleet_peers();
    s.capacity = {20, 1000};
    b.x.configure(s, std::vector<std::string>{"small", "big"}, 1000);
    std::int64_t now = 1 * ms;
    b.receive_all(a.send(now), now);
    // A forged or broken total: a million redirects in 50 ms. At most a second's worth (the
    // allowance starts full) is folded; the rest is counted, and never folded later.
    a.x.add_own(std::vector<std::uint64_t>{1'000'000, 700});
    now += 50 * ms;
    b.receive_all(a.send(now), now);
    EXPECT_EQ(b.delta, (std::vector<std::uint64_t>{20, 700}));
    EXPECT_EQ(b.x.counters().capped_redirects, 999'980U);
    // 100 ms later: 2 more may be added to small (20 a second).
    a.x.add_own(std::vector<std::uint64_t>{30, 0});
    now += 100 * ms;
    b.receive_all(a.send(now), now);
    EXPECT_EQ(b.delta[0], 22U);
    EXPECT_EQ(b.x.counters().capped_redirects, 1'000'008U);
    // A second later the allowance is whole again, and a normal count folds in full.
    a.x.add_own(std::vector<std::uint64_t>{15, 0});
    now += 1000 * ms;
    b.receive_all(a.send(now), now);
    EXPECT_EQ(b.delta[0], 37U);
    EXPECT_EQ(b.x.counters().capped_redirects, 1'000'008U);
}

TEST(redirect_exchange, a_forgotten_peers_old_messages_are_still_replays) {
    // peer_timeout_ms (3 s) is shorter than window_ms (5 s): when a peer is forgotten, its
    // last messages are still inside the clock window. Replayed then, the first would be a new
    // baseline and the second would add its redirects again.
    appliance a("sr-a", {"p1"});
    appliance b("sr-b", {"p1"});
    std::int64_t now = 1 * ms;
    const auto first = a.send(now);
    b.receive_all(first, now);
    a.x.add_own(std::vector<std::uint64_t>{40});
    now += 50 * ms;
    const auto second = a.send(now);
    b.receive_all(second, now);
    EXPECT_EQ(b.delta[0], 40U);
    now += 3001 * ms;
    b.x.expire(now);
    ASSERT_TRUE(b.x.peers().empty());
    EXPECT_EQ(b.receive(first[0], now), exchange_verdict::replayed);
    EXPECT_EQ(b.receive(second[0], now), exchange_verdict::replayed);
    EXPECT_EQ(b.delta[0], 40U) << "nothing counted twice";
    EXPECT_TRUE(b.x.peers().empty());
    // Its next real message starts afresh, as before.
    a.x.add_own(std::vector<std::uint64_t>{5});
    b.receive_all(a.send(now), now);
    EXPECT_EQ(b.x.peers().size(), 1U);
    EXPECT_EQ(b.delta[0], 40U) << "a baseline";
}

// Two control planes on loopback, each with a [fleet] naming the other: the redirects one
// appliance's workers issue reach the other's load estimate, and each lists the other as a peer.
TEST(fleet_planes, redirects_issued_by_one_appliance_reach_the_others_estimate) {
    const auto dir =
            std::filesystem::temp_directory_path() / ("sipredir-fleet-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "fleet.key") << std::string(64, 'e') << "\n";
    std::filesystem::permissions(dir / "fleet.key", std::filesystem::perms::owner_read);
    // Ports from the pid, so that parallel runs of the suite do not collide.
    const int base = 40000 + (getpid() % 5000) * 2;
    const auto config_of = [&](const char* name, int port, const char* peer_name, int peer) {
        const std::string text = std::string(R"(
[listen]
addresses = ["127.0.0.1"]
[exception]
tap = "unused"
[management]
socket = ")") + (dir / name).string()
                                 + R"(.sock"
[fleet]
name = ")" + name + R"("
port = )" + std::to_string(port) + R"(
key_file = ")" + (dir / "fleet.key").string()
                                 + R"("
peers = [")" + peer_name
                                 + "@127.0.0.1:" + std::to_string(peer) + R"("]
interval_ms = 10
[[backend]]
name = "p1"
address = "198.18.1.1:5060"
capacity = 1000
[[backend]]
name = "p2"
address = "198.18.1.2:5060"
capacity = 1000
[[pool]]
name = "default"
backends = ["p1", "p2"]
)";
        config_result r = parse_config(text, name);
        EXPECT_TRUE(r.config) << r.error.message;
        return std::move(*r.config);
    };
    std::vector<std::uint64_t> a_new(balance::max_backends, 0);
    std::uint64_t b_sees_p2 = 0;
    plane_hooks a_hooks;
    a_hooks.take_redirects = [&] {
        std::vector<std::uint64_t> out = a_new;
        std::fill(a_new.begin(), a_new.end(), 0);
        return out;
    };
    plane_hooks b_hooks;
    b_hooks.publish = [&](const appliance_config&,
                          std::span<const balance::backend_facts> f,
                          const balance::overload_signal&) {
        b_sees_p2 = std::max<std::uint64_t>(b_sees_p2, f[1].redirects_since_report);
        return true;
    };
    plane a("a.toml", config_of("sr-a", base, "sr-b", base + 1), a_hooks);
    plane b("b.toml", config_of("sr-b", base + 1, "sr-a", base), b_hooks);
    a.open();
    b.open();
    const auto until = [&](auto done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            a.run_once(std::chrono::microseconds(1000));
            b.run_once(std::chrono::microseconds(1000));
        }
        return done();
    };
    // First contact: each hears the other's full round (a baseline, nothing folded).
    ASSERT_TRUE(until([&] {
        return a.fleet()->peers().size() == 1 && b.fleet()->peers().size() == 1;
    }));
    EXPECT_EQ(b_sees_p2, 0U);
    a_new[1] = 25; // a's workers redirect 25 calls to p2
    ASSERT_TRUE(until([&] { return b_sees_p2 >= 25; })) << b_sees_p2;
    EXPECT_EQ(b_sees_p2, 25U);
    EXPECT_EQ(b.fleet()->peers()[0].name, "sr-a");
    EXPECT_EQ(b.fleet()->peers()[0].redirects, 25U);
    const std::string status = b.command("fleet");
    EXPECT_NE(status.find("\"name\": \"sr-a\""), std::string::npos) << status;
    EXPECT_NE(
            b.command("metrics").find("sipredir_fleet_peer_redirects_total{peer=\"sr-a\"} 25"),
            std::string::npos
    );
    std::filesystem::remove_all(dir);
}

} // namespace
