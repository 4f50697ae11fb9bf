// SPDX-License-Identifier: BSD-3-Clause
// The race engine on a fake clock: legs out, responses in, the caller answered as the race
// decided, and every INVITE leg finished as RFC 3261 asks (CANCEL, ACK, ACK + BYE).
#include "../net/frame_builder.hpp"

#include <gtest/gtest.h>

#include <control/race/race_engine.hpp>
#include <cstring>
#include <set>
#include <sip/parser.hpp>
#include <string>
#include <vector>

using namespace sipredir;
using namespace sipredir::control::race;
using net::test::build_frame;
using net::test::frame_spec;

namespace {

constexpr std::int64_t ms = 1'000'000;

std::string request(std::string_view method, std::string_view call, std::string_view body = "") {
    std::string m;
    m += method;
    m += " sip:alice@198.18.0.1 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bK";
    m += call;
    m += "\r\nMax-Forwards: 70\r\n"
         "From: \"Bob\" <sip:bob@198.18.0.2>;tag=f1\r\n"
         "To: <sip:alice@198.18.0.1>\r\n"
         "Call-ID: ";
    m += call;
    m += "@198.18.0.2\r\nCSeq: 7 ";
    m += method;
    m += "\r\n";
    if (!body.empty()) {
        m += "Content-Type: application/sdp\r\n";
    }
    m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    m += body;
    return m;
}

struct sent {
    net::ip_endpoint to;
    std::string text;
    std::string method() const { return text.substr(0, text.find(' ')); }
    std::string header(std::string_view name) const {
        const std::string key = "\r\n" + std::string(name) + ": ";
        const std::size_t at = text.find(key);
        if (at == std::string::npos) {
            return {};
        }
        const std::size_t end = text.find("\r\n", at + key.size());
        return text.substr(at + key.size(), end - at - key.size());
    }
};

struct answer_made {
    std::vector<std::uint8_t> frame;
    pipeline::race_decision decision;
};

balance::race_config invite_pool() {
    balance::race_config c;
    c.method = balance::race_method::invite;
    return c;
}

balance::race_config coalescing_pool(std::uint32_t window_ms) {
    balance::race_config c;
    c.coalesce_ms = window_ms;
    return c;
}

balance::race_config capped_pool(std::uint32_t legs_per_second) {
    balance::race_config c;
    c.max_legs_per_second = legs_per_second;
    return c;
}

net::ip_endpoint backend(int i) {
    return {net::ip_address::v4(198, 18, 1, static_cast<std::uint8_t>(i)), 5060};
}

class race_test : public ::testing::Test {
protected:
    void make(engine_settings s = {.table_size = 8}, balance::race_config c = {}) {
        e = std::make_unique<engine>(
                s,
                leg_origin{
                        .local = {net::ip_address::v4(198, 18, 0, 1), 5064},
                        .nonce = 0xfeedc0de12345678ULL,
                        .user_agent = "sipredir-test",
                }
        );
        pool_view p;
        p.races = true;
        p.config = c;
        for (int i = 1; i <= 3; ++i) {
            p.live.push_back({.slot = static_cast<std::uint16_t>(10 + i), .address = backend(i)});
        }
        std::vector<pool_view> pools;
        pools.push_back(p);
        e->set_pools(std::move(pools));
    }

    engine_outputs outputs() {
        return {
                .send =
                        [this](const net::ip_endpoint& to, std::string_view text) {
                            sends.push_back({to, std::string(text)});
                            return true;
                        },
                .answer =
                        [this](pipeline::held_request& r, const pipeline::race_decision& d) {
                            answers.push_back({{r.frame().begin(), r.frame().end()}, d});
                            return true;
                        },
        };
    }

    std::vector<std::uint8_t> frame(std::string_view sip) { return build_frame(frame_spec{}, sip); }

    void submit(std::string_view sip, std::int64_t at) { e->submit(frame(sip), 0, at, outputs()); }

    // The response a backend gives to one of our requests: its Via, From, Call-ID and CSeq
    // copied, the To given a tag.
    void respond(const sent& to, int code, std::int64_t at, std::string_view extra = "") {
        std::string r = "SIP/2.0 " + std::to_string(code) + " Whatever\r\n";
        r += "Via: " + to.header("Via") + "\r\n";
        r += "From: " + to.header("From") + "\r\n";
        r += "To: " + to.header("To") + ";tag=be" + std::to_string(code) + "\r\n";
        r += "Call-ID: " + to.header("Call-ID") + "\r\n";
        r += "CSeq: " + to.header("CSeq") + "\r\n";
        r += extra;
        r += "Content-Length: 0\r\n\r\n";
        e->on_datagram(r, to.to, at, outputs());
    }

    std::vector<sent> sent_to(int i, std::string_view method) const {
        std::vector<sent> out;
        for (const sent& s : sends) {
            if (s.to == backend(i) && s.method() == method) {
                out.push_back(s);
            }
        }
        return out;
    }

    std::unique_ptr<engine> e;
    std::vector<sent> sends;
    std::vector<answer_made> answers;
};

} // namespace

TEST_F(race_test, options_race_the_first_answer_wins_and_late_ones_are_absorbed) {
    make();
    const std::string invite = request("INVITE", "c1");
    submit(invite, 0);
    ASSERT_EQ(sends.size(), 3u);
    std::set<std::string> branches;
    for (int i = 1; i <= 3; ++i) {
        const auto legs = sent_to(i, "OPTIONS");
        ASSERT_EQ(legs.size(), 1u);
        EXPECT_EQ(legs[0].header("Max-Forwards"), "0"); // answered by the proxy itself
        branches.insert(legs[0].header("Via"));
    }
    EXPECT_EQ(branches.size(), 3u);
    EXPECT_TRUE(answers.empty());
    respond(sent_to(2, "OPTIONS")[0], 200, 3 * ms);
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_TRUE(answers[0].decision.has_winner);
    EXPECT_EQ(answers[0].decision.winner_slot, 12);
    EXPECT_EQ(answers[0].frame, frame(invite)); // the caller's own frame, to be answered
    respond(sent_to(1, "OPTIONS")[0], 200, 5 * ms);
    respond(sent_to(3, "OPTIONS")[0], 200, 6 * ms);
    EXPECT_EQ(answers.size(), 1u);
    EXPECT_EQ(e->counters().late_answers, 2u);
    EXPECT_EQ(e->counters().won_by_slot[12], 1u);
    EXPECT_EQ(e->active_races(), 0u); // every leg done: the entry is free again
    EXPECT_EQ(e->waiting(), 0u);
}

TEST_F(race_test, nobody_in_time_means_the_fallback) {
    make();
    submit(request("INVITE", "c2"), 0);
    EXPECT_EQ(e->next_event_ns(), 200 * ms);
    e->expire(200 * ms - 1, outputs());
    EXPECT_TRUE(answers.empty());
    e->expire(200 * ms, outputs());
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_FALSE(answers[0].decision.has_winner);
    EXPECT_FALSE(answers[0].decision.refuse);
    EXPECT_EQ(e->counters().timed_out, 1u);
    // The legs are followed a while for late answers, then forgotten.
    respond(sent_to(1, "OPTIONS")[0], 200, 300 * ms);
    EXPECT_EQ(e->counters().late_answers, 1u);
    e->expire(1000 * ms, outputs());
    EXPECT_EQ(e->active_races(), 0u);
    EXPECT_EQ(e->counters().legs_abandoned, 2u);
}

TEST_F(race_test, a_refusal_does_not_win_and_all_refusing_ends_the_race_at_once) {
    make();
    submit(request("INVITE", "c3"), 0);
    respond(sent_to(1, "OPTIONS")[0], 503, 1 * ms);
    EXPECT_TRUE(answers.empty());
    respond(sent_to(3, "OPTIONS")[0], 200, 2 * ms);
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].decision.winner_slot, 13);

    sends.clear();
    submit(request("INVITE", "c4"), 10 * ms);
    for (int i = 1; i <= 3; ++i) {
        respond(sent_to(i, "OPTIONS")[0], 500 + i, 11 * ms);
    }
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_FALSE(answers[1].decision.has_winner);
    EXPECT_EQ(e->counters().all_refused, 1u);
    EXPECT_EQ(e->counters().refused_answers, 4u);
}

TEST_F(race_test, invite_legs_are_new_transactions_that_cannot_ring) {
    make({.table_size = 8}, invite_pool());
    const std::string sdp = "v=0\r\no=- 1 1 IN IP4 198.18.0.2\r\ns=-\r\n";
    submit(request("INVITE", "c5", sdp), 0);
    ASSERT_EQ(sends.size(), 3u);
    std::set<std::string> call_ids;
    for (int i = 1; i <= 3; ++i) {
        const sent leg = sent_to(i, "INVITE").at(0);
        EXPECT_EQ(leg.text.rfind("INVITE sip:alice@198.18.0.1 SIP/2.0\r\n", 0), 0u);
        EXPECT_EQ(leg.header("Max-Forwards"), "0");
        EXPECT_EQ(leg.header("CSeq"), "1 INVITE");
        EXPECT_NE(leg.header("Via").find("198.18.0.1:5064;branch=z9hG4bK"), std::string::npos);
        EXPECT_EQ(leg.text.find("198.18.0.2:5061"), std::string::npos); // the caller's Via stays
        EXPECT_EQ(leg.header("To"), "<sip:alice@198.18.0.1>");
        EXPECT_NE(leg.header("From"), "\"Bob\" <sip:bob@198.18.0.2>;tag=f1"); // our own tag
        EXPECT_EQ(leg.header("Content-Type"), "application/sdp");
        EXPECT_TRUE(leg.text.ends_with(sdp));
        sip::message_view m;
        EXPECT_EQ(sip::parse(leg.text, m).status, sip::parse_status::ok) << leg.text;
        call_ids.insert(leg.header("Call-ID"));
    }
    EXPECT_EQ(call_ids.size(), 3u);
}

TEST_F(race_test, a_race_sends_at_most_race_max_legs) {
    balance::race_config c;
    c.max_legs = 2;
    make({.table_size = 8}, c);
    submit(request("OPTIONS", "m1"), 0);
    EXPECT_EQ(sends.size(), 2u);
    EXPECT_EQ(sent_to(1, "OPTIONS").size(), 1u);
    EXPECT_EQ(sent_to(2, "OPTIONS").size(), 1u);
    EXPECT_TRUE(sent_to(3, "OPTIONS").empty());
    EXPECT_EQ(e->counters().legs_over_max, 1u);
}

TEST_F(race_test, invite_legs_carry_only_a_small_sdp_body) {
    struct body_case {
        const char* name;
        std::string type; // empty: application/sdp, as request() writes it
        std::string body;
        bool relayed;
    };
    const std::string sdp = "v=0\r\no=- 1 1 IN IP4 198.18.0.2\r\ns=-\r\n";
    const body_case cases[] = {
            {"small sdp", "", sdp, true},
            {"sdp with a parameter", "application/SDP; charset=utf-8", sdp, true},
            {"sdp over max_body", "", sdp + std::string(200, 'a'), false},
            {"another type", "text/plain", "hello", false},
    };
    for (const body_case& k : cases) {
        balance::race_config c = invite_pool();
        c.max_body = 100;
        make({.table_size = 8}, c);
        sends.clear();
        std::string invite = request("INVITE", "b1", k.body);
        if (!k.type.empty()) {
            const std::size_t at = invite.find("application/sdp");
            invite.replace(at, std::strlen("application/sdp"), k.type);
        }
        submit(invite, 0);
        const sent leg = sent_to(1, "INVITE").at(0);
        EXPECT_EQ(leg.header("Content-Type").empty(), !k.relayed) << k.name;
        EXPECT_EQ(leg.header("Content-Length"), k.relayed ? std::to_string(k.body.size()) : "0")
                << k.name;
        EXPECT_EQ(leg.text.ends_with(k.body), k.relayed) << k.name;
    }
}

TEST_F(race_test, invite_race_cancels_every_leg_and_finishes_each_transaction) {
    make({.table_size = 8}, invite_pool());
    submit(request("INVITE", "c6"), 0);
    const sent leg1 = sent_to(1, "INVITE").at(0);
    const sent leg2 = sent_to(2, "INVITE").at(0);
    const sent leg3 = sent_to(3, "INVITE").at(0);

    respond(leg1, 180, 2 * ms); // first: wins, and is cancelled (the caller goes there itself)
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].decision.winner_slot, 11);
    const auto cancel1 = sent_to(1, "CANCEL");
    ASSERT_EQ(cancel1.size(), 1u);
    // §9.1: the CANCEL repeats the INVITE's Request-URI, Via, From, To, Call-ID, CSeq number.
    EXPECT_EQ(cancel1[0].header("Via"), leg1.header("Via"));
    EXPECT_EQ(cancel1[0].header("From"), leg1.header("From"));
    EXPECT_EQ(cancel1[0].header("To"), leg1.header("To"));
    EXPECT_EQ(cancel1[0].header("Call-ID"), leg1.header("Call-ID"));
    EXPECT_EQ(cancel1[0].header("CSeq"), "1 CANCEL");
    EXPECT_TRUE(sent_to(2, "CANCEL").empty()); // no provisional yet: no CANCEL (§9.1)

    respond(leg2, 180, 4 * ms);
    EXPECT_EQ(sent_to(2, "CANCEL").size(), 1u);
    respond(leg3, 486, 5 * ms); // a final: ACKed in its own transaction
    const auto ack3 = sent_to(3, "ACK");
    ASSERT_EQ(ack3.size(), 1u);
    EXPECT_EQ(ack3[0].header("Via"), leg3.header("Via"));
    EXPECT_EQ(ack3[0].header("To"), leg3.header("To") + ";tag=be486");
    EXPECT_EQ(ack3[0].header("CSeq"), "1 ACK");

    respond(cancel1[0], 200, 6 * ms); // the CANCEL's own 200 ends nothing
    EXPECT_TRUE(sent_to(1, "ACK").empty());
    EXPECT_EQ(e->counters().end_answers, 1u); // taken and counted, never answered
    respond(leg1, 487, 7 * ms);
    EXPECT_EQ(sent_to(1, "ACK").size(), 1u);
    EXPECT_EQ(e->active_races(), 1u);

    // Leg 2 answers 2xx after all: ACK and BYE, to its Contact, in new transactions.
    respond(leg2, 200, 8 * ms, "Contact: <sip:uas@198.18.1.2:5070>\r\n");
    const auto ack2 = sent_to(2, "ACK");
    const auto bye2 = sent_to(2, "BYE");
    ASSERT_EQ(ack2.size(), 1u);
    ASSERT_EQ(bye2.size(), 1u);
    EXPECT_EQ(bye2[0].text.rfind("BYE sip:uas@198.18.1.2:5070 SIP/2.0\r\n", 0), 0u);
    EXPECT_NE(ack2[0].header("Via"), leg2.header("Via"));
    EXPECT_NE(bye2[0].header("Via"), ack2[0].header("Via"));
    EXPECT_EQ(bye2[0].header("To"), leg2.header("To") + ";tag=be200");
    EXPECT_EQ(bye2[0].header("CSeq"), "2 BYE");
    EXPECT_EQ(e->active_races(), 0u);
    const engine_counters& c = e->counters();
    EXPECT_EQ(c.cancels, 2u);
    EXPECT_EQ(c.acks, 3u);
    EXPECT_EQ(c.byes, 1u);
    EXPECT_EQ(c.late_answers, 2u);
    // The BYE's 200 comes back to a forgotten race: counted stray, nothing sent.
    const std::size_t before = sends.size();
    respond(bye2[0], 200, 9 * ms);
    EXPECT_EQ(sends.size(), before);
}

TEST_F(race_test, a_retransmitted_final_is_acked_again) {
    make({.table_size = 8}, invite_pool());
    submit(request("INVITE", "c7"), 0);
    const sent leg1 = sent_to(1, "INVITE").at(0);
    respond(leg1, 483, 1 * ms); // Max-Forwards 0: the proxy's own answer, and the race signal
    EXPECT_EQ(answers.at(0).decision.winner_slot, 11);
    respond(leg1, 483, 2 * ms);
    EXPECT_EQ(sent_to(1, "ACK").size(), 2u);
}

TEST_F(race_test, other_methods_race_with_options_in_an_invite_pool) {
    make({.table_size = 8}, invite_pool());
    submit(request("SUBSCRIBE", "c8"), 0);
    EXPECT_EQ(sent_to(1, "OPTIONS").size(), 1u);
    EXPECT_TRUE(sent_to(1, "SUBSCRIBE").empty());
}

TEST_F(race_test, a_full_table_gets_the_configured_answer) {
    make({.table_size = 1});
    submit(request("INVITE", "c9"), 0);
    submit(request("INVITE", "c10"), 1 * ms);
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_TRUE(answers[0].decision.refuse);
    EXPECT_EQ(e->counters().table_full, 1u);

    make({.table_size = 1, .full_reply_fallback = true});
    answers.clear();
    submit(request("INVITE", "c11"), 0);
    submit(request("INVITE", "c12"), 1 * ms);
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_FALSE(answers[0].decision.refuse);
    EXPECT_FALSE(answers[0].decision.has_winner);
}

TEST_F(race_test, coalescing_shares_one_race_within_the_window) {
    make({.table_size = 8}, coalescing_pool(50));
    submit(request("INVITE", "d1"), 0);
    submit(request("INVITE", "d2"), 10 * ms); // joins the open race
    EXPECT_EQ(sends.size(), 3u);
    respond(sent_to(3, "OPTIONS")[0], 200, 20 * ms);
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_EQ(answers[0].decision.winner_slot, 13);
    EXPECT_EQ(answers[1].decision.winner_slot, 13);
    submit(request("INVITE", "d3"), 60 * ms); // within 50 ms of the decision: its result
    ASSERT_EQ(answers.size(), 3u);
    EXPECT_EQ(answers[2].decision.winner_slot, 13);
    EXPECT_EQ(sends.size(), 3u);
    submit(request("INVITE", "d4"), 71 * ms); // past it: a new race
    EXPECT_EQ(sends.size(), 6u);
    EXPECT_EQ(e->counters().races, 2u);
    EXPECT_EQ(e->counters().coalesced, 2u);
}

TEST_F(race_test, the_leg_rate_cap_holds_per_backend) {
    make({.table_size = 8}, capped_pool(10)); // a burst of one, then one per 100 ms
    submit(request("INVITE", "e1"), 0);
    EXPECT_EQ(sends.size(), 3u);
    submit(request("INVITE", "e2"), 1 * ms);
    EXPECT_EQ(sends.size(), 3u);
    ASSERT_EQ(answers.size(), 1u); // no backend may be asked: the fallback answers at once
    EXPECT_FALSE(answers[0].decision.has_winner);
    EXPECT_EQ(e->counters().legs_capped, 3u);
    EXPECT_EQ(e->counters().no_backend, 1u);
    submit(request("INVITE", "e3"), 101 * ms);
    EXPECT_EQ(sends.size(), 6u);
}

TEST_F(race_test, forged_and_stale_responses_decide_nothing) {
    make();
    submit(request("INVITE", "f1"), 0);
    const sent leg = sent_to(1, "OPTIONS")[0];
    sent forged = leg;
    forged.to = backend(9); // right branch, wrong source
    respond(forged, 200, 1 * ms);
    sent other_run = leg; // another run's nonce
    other_run.text.replace(other_run.text.find("z9hG4bK-rc") + 10, 4, "0000");
    respond(other_run, 200, 1 * ms);
    e->on_datagram("not sip at all", backend(1), 1 * ms, outputs());
    EXPECT_TRUE(answers.empty());
    EXPECT_EQ(e->counters().stray, 3u);

    respond(leg, 200, 2 * ms);
    respond(sent_to(2, "OPTIONS")[0], 200, 2 * ms);
    respond(sent_to(3, "OPTIONS")[0], 200, 2 * ms);
    EXPECT_EQ(e->active_races(), 0u);
    submit(request("INVITE", "f2"), 3 * ms); // reuses the entry, next generation
    respond(leg, 200, 4 * ms);               // the old race's answer again
    EXPECT_EQ(answers.size(), 1u);
    EXPECT_EQ(e->counters().stray, 4u);
}

TEST_F(race_test, at_exit_every_waiting_request_is_answered) {
    make();
    submit(request("INVITE", "g1"), 0);
    submit(request("INVITE", "g2"), 0);
    e->flush(outputs());
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_FALSE(answers[0].decision.has_winner);
    EXPECT_EQ(e->waiting(), 0u);
}

TEST_F(race_test, a_pool_that_stopped_racing_is_answered_by_its_policy) {
    make();
    e->set_pools({pool_view{}});
    submit(request("INVITE", "h1"), 0);
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_TRUE(sends.empty());
    EXPECT_EQ(e->counters().not_race, 1u);
}

TEST(race_branch, round_trips_and_refuses_other_nonces) {
    const leg_origin o{
            .local = {net::ip_address::v4(198, 18, 0, 1), 5064},
            .nonce = 42,
            .mac_key = {9, 8, 7, 6, 5, 4, 3, 2, 1}};
    leg_origin other_run = o;
    other_run.nonce = 43;
    for (const leg_request r :
         {leg_request::invite_or_options, leg_request::ack_2xx, leg_request::bye}) {
        const leg_id id{.race = 7, .generation = 123456, .leg = 300, .request = r};
        leg_id back;
        ASSERT_TRUE(read_leg_branch(leg_branch(o, id), o, back));
        EXPECT_EQ(back, id);
        EXPECT_FALSE(read_leg_branch(leg_branch(o, id), other_run, back));
    }
    leg_id out;
    EXPECT_FALSE(read_leg_branch("z9hG4bK-rc", o, out));
    EXPECT_FALSE(read_leg_branch("z9hG4bK-rc000000000000002a-1-2", o, out));
    EXPECT_FALSE(read_leg_branch("z9hG4bK-rc000000000000002a-1-2-x", o, out));
}

// A backend sees its own legs' branches; rewriting one for a sibling's leg (another leg number,
// or the next race) must not give a branch the engine accepts.
TEST(race_branch, a_branch_rewritten_for_a_sibling_is_refused) {
    const leg_origin o{
            .local = {net::ip_address::v4(198, 18, 0, 1), 5064}, .nonce = 42, .mac_key = {1, 2, 3}};
    const leg_id id{.race = 7, .generation = 123456, .leg = 300};
    const std::string own = leg_branch(o, id);
    leg_id back;
    ASSERT_TRUE(read_leg_branch(own, o, back));
    std::string sibling = own;
    sibling.replace(sibling.find("-300-"), 5, "-301-");
    EXPECT_FALSE(read_leg_branch(sibling, o, back));
    std::string next_race = own;
    next_race.replace(next_race.find("-7-"), 3, "-8-");
    EXPECT_FALSE(read_leg_branch(next_race, o, back));
    leg_origin other_key = o;
    other_key.mac_key[0] ^= 1;
    EXPECT_FALSE(read_leg_branch(own, other_key, back));
}

TEST(race_contact, finds_the_uri) {
    EXPECT_EQ(contact_uri("<sip:a@b:5070>;expires=3"), "sip:a@b:5070");
    EXPECT_EQ(contact_uri(" sip:a@b;lr"), "sip:a@b");
    EXPECT_EQ(contact_uri("\"x\" <sip:a@b"), "");
    EXPECT_EQ(contact_uri(""), "");
}
