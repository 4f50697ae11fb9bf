// SPDX-License-Identifier: BSD-3-Clause
// Probing shared out across a fleet: who probes which backend (rendezvous hashing: stable,
// spread, all when k covers everyone), the probe results in the SRFX/1 message, and the
// exchange between appliances on a fake clock (a shared down taken at once, the fallback when
// shared results stop, forged and replayed results refused, k = 0 as without sharing).
#include <gtest/gtest.h>

#include <algorithm>
#include <control/fleet/probe_share.hpp>
#include <control/fleet/redirect_exchange.hpp>
#include <control/load_monitor.hpp>
#include <control/metrics.hpp>
#include <map>
#include <string>
#include <vector>

using namespace sipredir;
using namespace sipredir::control;
using namespace sipredir::control::fleet;

namespace {

std::vector<std::string> numbered(std::string_view prefix, int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(std::string(prefix) + std::to_string(i));
    }
    return out;
}

std::vector<std::string_view> views(const std::vector<std::string>& s) {
    return {s.begin(), s.end()};
}

TEST(probe_share, the_weight_is_fixed_for_every_appliance) {
    // The ranking must not depend on the build: a fixed function of the names. These values
    // pin it (SipHash-2-4 under "sipredir-probers", checked against an independent
    // implementation); a change here splits a mixed fleet.
    EXPECT_EQ(probe_weight("p1", "sr-a"), 0x5d9da9c406d71b21U);
    EXPECT_NE(probe_weight("p1", "sr-a"), probe_weight("p1", "sr-b"));
    EXPECT_NE(probe_weight("p1", "sr-a"), probe_weight("sr-a", "p1"));
    // The separator: ("ab", "c") is not ("a", "bc").
    EXPECT_NE(probe_weight("ab", "c"), probe_weight("a", "bc"));
}

TEST(probe_share, k_at_or_above_the_members_means_everyone_probes) {
    const auto members = numbered("sr-", 3);
    const auto m = views(members);
    for (const std::size_t k : {0UL, 3UL, 4UL, 200UL}) {
        for (const std::string& self : members) {
            EXPECT_TRUE(probes("p1", self, m, k)) << k;
        }
        EXPECT_EQ(probers_of("p1", m, k).size(), 3U) << k;
    }
    EXPECT_EQ(probers_of("p1", m, 2).size(), 2U);
    EXPECT_EQ(probers_of("p1", m, 1).size(), 1U);
    // Alone: this appliance probes everything whatever k says.
    const std::vector<std::string_view> alone{"sr-a"};
    EXPECT_TRUE(probes("p1", "sr-a", alone, 2));
}

TEST(probe_share, members_in_any_order_agree) {
    const auto members = numbered("sr-", 7);
    auto reversed = views(members);
    std::reverse(reversed.begin(), reversed.end());
    for (const std::string& b : numbered("backend-", 50)) {
        EXPECT_EQ(probers_of(b, views(members), 2), probers_of(b, reversed, 2)) << b;
    }
}

TEST(probe_share, removing_a_member_moves_only_the_backends_it_probed) {
    const auto members = numbered("sr-", 10);
    const auto backends = numbered("p", 500);
    for (const std::size_t k : {1UL, 2UL, 3UL}) {
        for (std::size_t gone = 0; gone < members.size(); ++gone) {
            std::vector<std::string_view> fewer = views(members);
            fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(gone));
            for (const std::string& b : backends) {
                const auto before = probers_of(b, views(members), k);
                const auto after = probers_of(b, fewer, k);
                const bool probed_by_gone =
                        std::find(before.begin(), before.end(), members[gone]) != before.end();
                if (!probed_by_gone) {
                    EXPECT_EQ(before, after) << b << " moved when " << members[gone] << " left";
                } else {
                    // The others keep it; one new member takes the place of the one gone.
                    for (std::string_view p : before) {
                        if (p != members[gone]) {
                            EXPECT_NE(std::find(after.begin(), after.end(), p), after.end()) << b;
                        }
                    }
                    EXPECT_EQ(after.size(), k);
                }
            }
        }
    }
}

TEST(probe_share, backends_spread_roughly_evenly) {
    const auto members = numbered("sr-", 10);
    const auto backends = numbered("proxy-", 2000);
    std::map<std::string_view, int> load;
    for (const std::string& b : backends) {
        for (std::string_view p : probers_of(b, views(members), 2)) {
            ++load[p];
        }
    }
    // 4,000 assignments over 10 members: 400 each on average.
    ASSERT_EQ(load.size(), 10U);
    for (const auto& [member, n] : load) {
        EXPECT_GT(n, 320) << member;
        EXPECT_LT(n, 480) << member;
    }
}

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t wall0 = 1'732'300'000'000;

signing_key key_of(std::uint8_t b) {
    signing_key k{};
    k.fill(b);
    return k;
}

std::vector<std::string> healths_of(std::string_view text) {
    std::vector<std::string> out;
    for_each_health(text, [&](const health_entry& e) {
        std::string s;
        append_health(s, e);
        out.push_back(s);
    });
    return out;
}

TEST(exchange_message, round_trip_with_probe_results) {
    const auto out = write_exchange(
            {.from = "sr-a", .epoch_ms = 17, .first_seq = 42, .ts_ms = 99},
            {{"p1", 1200}},
            key_of(1),
            {{.name = "p1", .state = health::up, .rtt_us = 1520, .load_permille = 430},
             {.name = "p2", .state = health::down, .oc_percent = 20}}
    );
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(
            out[0].substr(0, out[0].find(" mac=")),
            "SRFX/1 from=sr-a epoch=17 seq=42 ts=99 full=0 totals=p1:1200 "
            "health=p1:up:1520:430:0,p2:down:-:-:20"
    );
    exchange_message m;
    ASSERT_TRUE(parse_exchange(out[0], m));
    EXPECT_TRUE(signature_valid(m.line, key_of(1)));
    std::vector<health_entry> back;
    ASSERT_TRUE(for_each_health(m.health, [&](const health_entry& e) { back.push_back(e); }));
    ASSERT_EQ(back.size(), 2U);
    EXPECT_EQ(back[0].name, "p1");
    EXPECT_EQ(back[0].state, health::up);
    EXPECT_EQ(back[0].rtt_us, 1520);
    EXPECT_EQ(back[0].load_permille, 430);
    EXPECT_EQ(back[0].oc_percent, 0U);
    EXPECT_EQ(back[1].name, "p2");
    EXPECT_EQ(back[1].state, health::down);
    EXPECT_EQ(back[1].rtt_us, -1);
    EXPECT_EQ(back[1].load_permille, -1);
    EXPECT_EQ(back[1].oc_percent, 20U);

    // Without results the message is as before: no health= at all.
    const auto plain = write_exchange({.from = "sr-a"}, {{"p1", 1}}, key_of(1));
    EXPECT_EQ(plain[0].find("health="), std::string::npos);
    ASSERT_TRUE(parse_exchange(plain[0], m));
    EXPECT_TRUE(m.health.empty());
}

TEST(exchange_message, malformed_probe_results_refuse_the_message) {
    const std::string good = write_exchange(
                                     {.from = "a", .epoch_ms = 1, .first_seq = 1, .ts_ms = 1},
                                     {{"p", 1}},
                                     key_of(1),
                                     {{.name = "p", .state = health::up, .rtt_us = 5}}
    ).front();
    exchange_message m;
    ASSERT_TRUE(parse_exchange(good, m));
    const auto with = [&](std::string_view to) {
        std::string s = good;
        const std::string_view from = "health=p:up:5:-:0";
        s.replace(s.find(from), from.size(), to);
        return s;
    };
    for (const std::string& bad : {
                 with("health="),                             // empty
                 with("health=p:up:5:-:0,"),                  // trailing comma
                 with("health=p:sideways:5:-:0"),             // no such state
                 with("health=p:up:5:-"),                     // a part missing
                 with("health=p:up:5:-:0:1"),                 // a part too many
                 with("health=p:up:5:-:101"),                 // oc past 100 %
                 with("health=p:up:-5:-:0"),                  // a sign
                 with("health=p:up:60000001:-:0"),            // a round trip of over a minute
                 with("health=p:up:5:1000001:0"),             // load past the bound
                 with("health=p:up:5:x:0"),                   // not a number
                 with("health=:up:5:-:0"),                    // no name
                 with("health=p:up:5:-:0 health=p:up:5:-:0"), // repeated
         }) {
        EXPECT_FALSE(parse_exchange(bad, m)) << bad;
    }
}

TEST(exchange_message, many_probe_results_split_into_datagrams_under_the_limit) {
    const auto names = numbered("backend-with-a-long-name-", 200);
    std::vector<backend_total> totals;
    std::vector<health_entry> health;
    for (const std::string& n : names) {
        totals.emplace_back(n, 1'000'000'000ULL);
        health.push_back(
                {.name = n, .state = health::up, .rtt_us = 59'999'999, .load_permille = 999'999}
        );
    }
    const auto out = write_exchange(
            {.from = "sr-a", .epoch_ms = 1, .first_seq = 10, .ts_ms = 1, .full = true},
            totals,
            key_of(1),
            health
    );
    ASSERT_GT(out.size(), 3U);
    std::vector<std::string> back;
    std::uint64_t seq = 10;
    for (const std::string& d : out) {
        EXPECT_LE(d.size(), max_exchange_size);
        exchange_message m;
        ASSERT_TRUE(parse_exchange(d, m)) << d;
        EXPECT_EQ(m.seq, seq++);
        EXPECT_TRUE(signature_valid(m.line, key_of(1)));
        for (const std::string& h : healths_of(m.health)) {
            back.push_back(h);
        }
    }
    ASSERT_EQ(back.size(), 200U);
    EXPECT_EQ(back[199], "backend-with-a-long-name-199:up:59999999:999999:0");
}

// Every appliance the tests name, each with its own address.
const std::vector<std::string> fleet_names = {"sr-a", "sr-b", "sr-c"};

net::ip_address address_of(std::string_view name) {
    const auto at = std::find(fleet_names.begin(), fleet_names.end(), name);
    return net::ip_address::v4(
            198, 18, 0, static_cast<std::uint8_t>(10 + (at - fleet_names.begin()))
    );
}

// An appliance of a fleet sharing its probing, exchanging through vectors on a fake clock.
struct member {
    redirect_exchange x;
    std::vector<std::uint64_t> delta;
    std::vector<double> spare;

    member(std::string name, std::vector<std::string> backends, std::size_t k) {
        exchange_settings s;
        s.self = std::move(name);
        s.key = key_of(7);
        for (const std::string& n : fleet_names) {
            s.peers.push_back({n, address_of(n)});
        }
        s.probers = k;
        s.probe_interval_ns = 1000 * ms;
        x.configure(s, backends, 1000);
        delta.assign(backends.size(), 0);
        spare.assign(backends.size(), 1e9);
    }
    std::vector<std::string> send(std::int64_t now) {
        return x.due(now, spare) ? x.take_messages(now, wall0 + now / ms)
                                 : std::vector<std::string>{};
    }
    exchange_verdict receive(const std::string& d, std::int64_t now) {
        exchange_message m;
        const net::ip_address from = parse_exchange(d, m) ? address_of(m.from) : address_of("");
        return x.admit(d, from, wall0 + now / ms, now, delta);
    }
};

// Everyone's messages to everyone else, then the roles brought up to date.
void exchange_all(std::vector<member*> fleet, std::int64_t now) {
    std::vector<std::vector<std::string>> sent;
    for (member* m : fleet) {
        sent.push_back(m->send(now));
    }
    for (std::size_t i = 0; i < fleet.size(); ++i) {
        for (std::size_t j = 0; j < fleet.size(); ++j) {
            for (const std::string& d : i == j ? std::vector<std::string>{} : sent[i]) {
                EXPECT_EQ(fleet[j]->receive(d, now), exchange_verdict::accepted);
            }
        }
    }
    for (member* m : fleet) {
        m->x.update_probe_roles(now);
    }
}

const health_entry up_result{.name = "", .state = health::up, .rtt_us = 2000, .load_permille = 500};
const health_entry down_result{.name = "", .state = health::down, .rtt_us = 2000};

// Three appliances, k = 1: the one that probes p1, and the two that take its results.
struct three {
    member a{"sr-a", {"p1"}, 1};
    member b{"sr-b", {"p1"}, 1};
    member c{"sr-c", {"p1"}, 1};
    member* prober = nullptr;
    std::vector<member*> others;

    explicit three(std::int64_t now) {
        exchange_all({&a, &b, &c}, now);
        for (member* m : {&a, &b, &c}) {
            (m->x.role_of(0) == probe_role::self ? prober : others.emplace_back(m)) = m;
        }
    }
    std::vector<member*> all() { return {&a, &b, &c}; }
};

TEST(probe_sharing, each_backend_has_its_probers_and_the_others_take_their_results) {
    std::int64_t now = 1 * ms;
    three f(now);
    ASSERT_NE(f.prober, nullptr);
    ASSERT_EQ(f.others.size(), 2U);
    for (member* m : f.all()) {
        EXPECT_EQ(m->x.probers_of(0), std::vector<std::string_view>{f.prober->x.settings().self});
    }
    // Before any shared result: the others wait (they do not probe), within two intervals.
    EXPECT_EQ(f.others[0]->x.role_of(0), probe_role::shared);
    EXPECT_FALSE(f.others[0]->x.shared_probe(0, now));

    f.prober->x.own_probe_result(0, up_result);
    now += 50 * ms;
    exchange_all(f.all(), now);
    for (member* o : f.others) {
        const auto v = o->x.shared_probe(0, now);
        ASSERT_TRUE(v);
        EXPECT_EQ(v->state, health::up);
        EXPECT_EQ(v->rtt_us, 2000);
        EXPECT_EQ(v->load_permille, 500);
        EXPECT_EQ(v->from, f.prober->x.settings().self);
        EXPECT_EQ(o->x.counters().health_received, 1U);
    }
    EXPECT_EQ(f.prober->x.counters().health_sent, 1U);
    // The prober does not take results for what it probes itself.
    EXPECT_FALSE(f.prober->x.shared_probe(0, now));
}

TEST(probe_sharing, a_probers_down_reaches_the_others_within_one_interval) {
    std::int64_t now = 1 * ms;
    three f(now);
    f.prober->x.own_probe_result(0, up_result);
    now += 50 * ms;
    exchange_all(f.all(), now);
    // A result that says the same goes with the next interval's message, not at once.
    f.prober->x.own_probe_result(0, up_result);
    EXPECT_TRUE(f.prober->send(now + 10 * ms).empty());
    // One that turns the backend down goes at once (past the 5 ms between two sends).
    now += 10 * ms;
    f.prober->x.own_probe_result(0, down_result);
    const auto m = f.prober->send(now);
    ASSERT_EQ(m.size(), 1U);
    EXPECT_NE(m[0].find(" health=p1:down:2000:-:0 "), std::string::npos) << m[0];
    for (member* o : f.others) {
        EXPECT_EQ(o->receive(m[0], now), exchange_verdict::accepted);
        EXPECT_EQ(o->x.shared_probe(0, now)->state, health::down);
        EXPECT_EQ(o->x.role_of(0), probe_role::shared);
    }
}

TEST(probe_sharing, without_fresh_results_for_two_intervals_a_member_probes_itself) {
    std::int64_t now = 1 * ms;
    three f(now);
    f.prober->x.own_probe_result(0, up_result);
    now += 50 * ms;
    exchange_all(f.all(), now);
    const std::int64_t last_result = now;
    // The prober stays alive (its counts every second) but its results stop.
    while (now < last_result + 2000 * ms) {
        now += 250 * ms;
        exchange_all(f.all(), now);
        for (member* o : f.others) {
            EXPECT_EQ(o->x.role_of(0), probe_role::shared) << (now - last_result) / ms;
        }
    }
    now += 1 * ms;
    exchange_all(f.all(), now);
    for (member* o : f.others) {
        EXPECT_EQ(o->x.role_of(0), probe_role::fallback);
        EXPECT_FALSE(o->x.shared_probe(0, now));
        EXPECT_EQ(o->x.counters().fallbacks, 1U);
    }
    // A fresh result again: back to taking it.
    f.prober->x.own_probe_result(0, up_result);
    now += 50 * ms;
    exchange_all(f.all(), now);
    for (member* o : f.others) {
        EXPECT_EQ(o->x.role_of(0), probe_role::shared);
    }
}

TEST(probe_sharing, a_backend_never_reported_falls_back_after_two_intervals) {
    std::int64_t now = 1 * ms;
    three f(now);
    now += 2000 * ms;
    exchange_all(f.all(), now); // counts only (a full round): no results
    EXPECT_EQ(f.others[0]->x.role_of(0), probe_role::shared);
    now += 2 * ms;
    f.others[0]->x.update_probe_roles(now);
    EXPECT_EQ(f.others[0]->x.role_of(0), probe_role::fallback);
}

TEST(probe_sharing, a_prober_gone_silent_hands_its_backends_to_the_live_members) {
    std::int64_t now = 1 * ms;
    three f(now);
    // Only the other two go on: past the peer timeout the prober is forgotten, and one of them
    // is p1's prober now.
    now += 3500 * ms;
    for (member* o : f.others) {
        o->x.expire(now);
    }
    exchange_all(f.others, now);
    const int self = static_cast<int>(f.others[0]->x.role_of(0) == probe_role::self)
                     + static_cast<int>(f.others[1]->x.role_of(0) == probe_role::self);
    EXPECT_EQ(self, 1);
}

TEST(probe_sharing, forged_and_replayed_results_are_refused) {
    std::int64_t now = 1 * ms;
    three f(now);
    f.prober->x.own_probe_result(0, up_result);
    now += 50 * ms;
    const auto m = f.prober->send(now);
    ASSERT_EQ(m.size(), 1U);
    member& o = *f.others[0];
    EXPECT_EQ(o.receive(m[0], now), exchange_verdict::accepted);

    std::string forged = m[0];
    forged.replace(forged.find("p1:up"), 5, "p1:down");
    EXPECT_EQ(o.receive(forged, now), exchange_verdict::forged);
    EXPECT_EQ(o.receive(m[0], now), exchange_verdict::replayed);
    EXPECT_EQ(o.x.shared_probe(0, now)->state, health::up);
    EXPECT_EQ(o.x.counters().health_received, 1U);
    EXPECT_EQ(o.x.counters().health_refused, 2U);

    // A result in our own name, or from another address than its sender's, is not taken either.
    member twin{o.x.settings().self, {"p1"}, 1};
    twin.x.own_probe_result(0, down_result);
    const auto own = twin.send(now);
    EXPECT_EQ(o.receive(own[0], now), exchange_verdict::own);
    f.prober->x.own_probe_result(0, down_result);
    const auto next = f.prober->send(now + 10 * ms);
    ASSERT_EQ(next.size(), 1U);
    // From the third appliance's address.
    const auto third = std::find_if(fleet_names.begin(), fleet_names.end(), [&](const auto& n) {
        return n != o.x.settings().self && n != f.prober->x.settings().self;
    });
    EXPECT_EQ(
            o.x.admit(next[0], address_of(*third), wall0 + now / ms, now, o.delta),
            exchange_verdict::wrong_source
    );
    EXPECT_EQ(o.x.shared_probe(0, now)->state, health::up);
    EXPECT_EQ(o.x.counters().health_refused, 4U);
}

TEST(probe_sharing, results_for_a_backend_not_configured_here_are_counted_and_skipped) {
    // Two appliances, two probers: each probes everything and believes the other's results.
    member a{"sr-a", {"p1", "p2"}, 2};
    member b{"sr-b", {"p1"}, 2};
    exchange_all({&a, &b}, 1 * ms);
    a.x.own_probe_result(0, up_result);
    a.x.own_probe_result(1, up_result);
    for (const std::string& d : a.send(2000 * ms)) {
        EXPECT_EQ(b.receive(d, 2000 * ms), exchange_verdict::accepted);
    }
    EXPECT_EQ(b.x.counters().health_received, 1U);
    EXPECT_EQ(b.x.counters().health_unknown_backends, 1U);
}

// A peer that is not among a backend's probers (as we rank them) is not believed about it: a
// holder of the fleet's key cannot hold every backend up, or down, for everyone.
TEST(probe_sharing, results_from_a_peer_not_among_the_probers_are_refused) {
    member a{"sr-a", {"p1"}, 1};
    member b{"sr-b", {"p1"}, 1};
    exchange_all({&a, &b}, 1 * ms);
    member& prober = a.x.role_of(0) == probe_role::self ? a : b;
    member& other = &prober == &a ? b : a;
    ASSERT_NE(other.x.role_of(0), probe_role::self) << "k = 1: one of the two probes p1";
    // The other one speaks about p1 anyway (as a forger holding the key would).
    other.x.own_probe_result(0, down_result);
    const std::uint64_t refused = prober.x.counters().health_refused;
    for (const std::string& d : other.send(2000 * ms)) {
        EXPECT_EQ(prober.receive(d, 2000 * ms), exchange_verdict::accepted);
    }
    EXPECT_EQ(prober.x.counters().health_refused, refused + 1);
    EXPECT_FALSE(prober.x.shared_probe(0, 2000 * ms));
}

TEST(probe_sharing, k_zero_shares_nothing_and_everyone_probes) {
    member a{"sr-a", {"p1", "p2"}, 0};
    member b{"sr-b", {"p1", "p2"}, 0};
    std::int64_t now = 1 * ms;
    exchange_all({&a, &b}, now);
    a.x.own_probe_result(0, down_result);
    for (std::int64_t t = now; t < now + 5000 * ms; t += 50 * ms) {
        for (const std::string& d : a.send(t)) {
            EXPECT_EQ(d.find("health="), std::string::npos) << d;
            EXPECT_EQ(b.receive(d, t), exchange_verdict::accepted);
        }
        for (const std::string& d : b.send(t)) {
            EXPECT_EQ(a.receive(d, t), exchange_verdict::accepted);
        }
        EXPECT_FALSE(a.x.update_probe_roles(t));
        EXPECT_FALSE(b.x.update_probe_roles(t));
        for (std::uint16_t slot : {0, 1}) {
            EXPECT_EQ(a.x.role_of(slot), probe_role::self);
            EXPECT_EQ(b.x.role_of(slot), probe_role::self);
            EXPECT_FALSE(b.x.shared_probe(slot, t));
        }
    }
    EXPECT_EQ(a.x.counters().health_sent, 0U);
    EXPECT_EQ(a.x.probers_of(0).size(), 2U);
}

// The prober leaves a backend others probe for us alone, and takes it back at once.
TEST(probe_sharing, a_paused_backend_gets_no_options_until_resumed) {
    prober p(probe_settings{});
    const std::vector<probe_target> targets{
            {0, {net::ip_address::v4(198, 18, 1, 1), 5060}},
            {1, {net::ip_address::v4(198, 18, 1, 2), 5060}}};
    p.set_targets(targets, 0);
    p.set_paused(1, true);
    const probe_origin origin{.local = {net::ip_address::v4(198, 18, 0, 1), 5062}};
    std::vector<std::uint16_t> sent;
    const auto send = [&](std::uint16_t slot, const net::ip_endpoint&, std::string_view) {
        sent.push_back(slot);
        return true;
    };
    for (std::int64_t now = 0; now < 5000 * ms; now += 100 * ms) {
        p.expire(now, [](std::uint16_t) {});
        p.send_due(origin, now, send);
    }
    EXPECT_GT(std::count(sent.begin(), sent.end(), 0), 3);
    EXPECT_EQ(std::count(sent.begin(), sent.end(), 1), 0);
    p.set_paused(1, false);
    sent.clear();
    p.send_due(origin, 5000 * ms, send);
    EXPECT_EQ(std::count(sent.begin(), sent.end(), 1), 1) << "due long ago: probed at once";
}

// A backend probed elsewhere takes the shared verdict, round trip, load and reduction.
TEST(probe_sharing, the_load_monitor_takes_a_shared_result_in_place_of_its_own) {
    config_result r = parse_config(
            "[listen]\naddresses = [\"198.18.0.1\"]\n[exception]\ntap = "
            "\"t0\"\n[probe]\n[[backend]]\nname = \"a\"\n"
            "address = \"198.18.1.1:5060\"\ncapacity = 100\n[[pool]]\nname = \"p\"\n"
            "backends = [\"a\"]\n",
            "t.toml"
    );
    ASSERT_TRUE(r.config) << r.error.message;
    load_monitor m;
    m.apply(*r.config, 1);
    EXPECT_EQ(m.update(1, {})[0].state, balance::backend_state::unknown) << "not probed yet";
    m.set_shared_probe(
            0,
            shared_probe{
                    .state = health::down,
                    .rtt_ms = 2.5,
                    .utilisation = 0.4,
                    .oc_reduction = 20,
                    .at_ns = 5 * ms}
    );
    const auto f = m.update(6 * ms, {});
    EXPECT_EQ(f[0].state, balance::backend_state::down);
    EXPECT_DOUBLE_EQ(f[0].rtt_ms, 2.5);
    EXPECT_DOUBLE_EQ(f[0].oc_reduction, 20);
    EXPECT_DOUBLE_EQ(f[0].reported_calls, 40);
    EXPECT_EQ(m.status(6 * ms)[0].probed, health::down);
    EXPECT_DOUBLE_EQ(m.status(6 * ms)[0].probe_changed_ms_ago, 1.0) << "down since it arrived";
    // The same state again: still down since the first; another state: since that one came.
    m.set_shared_probe(0, shared_probe{.state = health::down, .at_ns = 8 * ms});
    EXPECT_DOUBLE_EQ(m.status(9 * ms)[0].probe_changed_ms_ago, 4.0);
    m.set_shared_probe(0, shared_probe{.state = health::up, .at_ns = 10 * ms});
    EXPECT_DOUBLE_EQ(m.status(12 * ms)[0].probe_changed_ms_ago, 2.0);
    m.set_shared_probe(0, std::nullopt);
    EXPECT_EQ(m.update(7 * ms, {})[0].state, balance::backend_state::unknown) << "our own again";
}

TEST(probe_sharing, the_metrics_show_results_fallbacks_and_who_probes_each_backend) {
    exchange_counters c;
    c.health_sent = 3;
    c.health_received = 4;
    c.health_refused = 5;
    c.health_unknown_backends = 6;
    c.fallback_probes = 7;
    std::vector<backend_status> backends(2);
    backends[0].slot = 0;
    backends[0].name = "b1";
    backends[1].slot = 1;
    backends[1].name = "b2";
    const std::vector<probe_role> roles{probe_role::self, probe_role::fallback};
    const std::vector<shared_probe_age> ages{{1, "sr-b", 0.25}};
    metrics_input in;
    in.fleet = &c;
    in.backends = backends;
    in.probe_roles = roles;
    in.shared_probes = ages;
    const std::string text = prometheus_text(in);
    for (const char* line : {
                 "sipredir_fleet_probe_results_total{result=\"sent\"} 3\n",
                 "sipredir_fleet_probe_results_total{result=\"received\"} 4\n",
                 "sipredir_fleet_probe_results_total{result=\"refused\"} 5\n",
                 "sipredir_fleet_probe_results_total{result=\"unknown_backends\"} 6\n",
                 "sipredir_fleet_fallback_probes_total 7\n",
                 "sipredir_fleet_probe_role{backend=\"b1\",role=\"self\"} 1\n",
                 "sipredir_fleet_probe_role{backend=\"b2\",role=\"fallback\"} 1\n",
                 "sipredir_fleet_shared_probe_age_seconds{backend=\"b2\",peer=\"sr-b\"} 0.25\n",
         }) {
        EXPECT_NE(text.find(line), std::string::npos) << line;
    }
    in.probe_roles = {};
    EXPECT_EQ(prometheus_text(in).find("sipredir_fleet_probe_role"), std::string::npos);
}

} // namespace
