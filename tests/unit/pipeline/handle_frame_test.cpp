// SPDX-License-Identifier: BSD-3-Clause
// The per-frame pipeline on plain buffers: classification, the reply written over the request,
// the counters, and the tailroom fallback.
#include "../net/frame_builder.hpp"
#include "../test_support.hpp"

#include <gtest/gtest.h>

#include <balance/load_table.hpp>
#include <control/config.hpp>
#include <control/snapshot_builder.hpp>
#include <pipeline/handle_frame.hpp>
#include <pipeline/held_request.hpp>
#include <pipeline/worker_stats.hpp>
#include <set>
#include <sip/parser.hpp>
#include <string>

using namespace sipredir;
using namespace sipredir::pipeline;
using net::test::build_frame;
using net::test::frame_spec;

namespace {

std::string invite(std::string_view branch, std::string_view method = "INVITE") {
    std::string m;
    m += method;
    m += " sip:alice@198.18.0.1 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bK";
    m += branch;
    m += "\r\nMax-Forwards: 70\r\n"
         "From: <sip:bob@198.18.0.2>;tag=f1\r\n"
         "To: <sip:alice@198.18.0.1>\r\n"
         "Call-ID: ";
    m += branch;
    m += "@198.18.0.2\r\nCSeq: 1 ";
    m += method;
    m += "\r\nContent-Length: 0\r\n\r\n";
    return m;
}

class pipeline_test : public ::testing::Test {
protected:
    void SetUp() override {
        const auto path = test::data_dir().parent_path().parent_path() / "config" / "bench.toml";
        auto loaded = control::load_config(path.string());
        ASSERT_TRUE(loaded.config.has_value()) << loaded.error.message;
        config = std::move(*loaded.config);
        s = control::make_identity(config, {0x02, 0x70, 0x63, 0x61, 0x70, 0x00});
        const auto facts = control::initial_facts(config);
        tables = control::build_tables(config, facts, 1, nullptr);
        state.redirects = &redirects.of(0);
        state.scratch = scratch;
    }

    // Runs one frame through a buffer of `room` bytes; returns the reply frame (empty if none).
    std::vector<std::uint8_t> run(const std::vector<std::uint8_t>& frame, std::size_t room = 2048) {
        buffer.assign(std::max(room, frame.size()), 0xee);
        std::copy(frame.begin(), frame.end(), buffer.begin());
        last = handle_frame(s, tables.get(), state, buffer, frame.size());
        stats.record(last);
        stats.rx.add(1);
        if (last.what != disposition::replied) {
            return {};
        }
        return {buffer.begin() + last.reply_offset,
                buffer.begin() + last.reply_offset + last.reply_size};
    }

    // The SIP text of a reply frame, after checking its headers (and UDP checksum) are sound.
    std::string payload_of(const std::vector<std::uint8_t>& reply, const frame_spec& request) {
        net::frame_view f;
        const net::frame_result r = net::parse_frame(reply, f);
        EXPECT_EQ(r.kind, net::frame_class::udp);
        EXPECT_EQ(f.dst_mac, request.src_mac);
        EXPECT_EQ(f.src_mac, s.own_mac);
        EXPECT_EQ(f.src_ip, request.dst);
        EXPECT_EQ(f.dst_ip, request.src);
        EXPECT_EQ(f.src_port, request.dst_port);
        EXPECT_EQ(f.dst_port, request.src_port);
        return {reinterpret_cast<const char*>(reply.data()) + f.payload_offset, f.payload_size};
    }

    control::appliance_config config;
    identity s;
    std::unique_ptr<const balance::table_snapshot> tables;
    balance::redirect_counters redirects{1};
    std::vector<char> scratch = std::vector<char>(65536);
    worker_state state;
    worker_stats stats;
    std::vector<std::uint8_t> buffer;
    handled last;
};

std::string contact_of(std::string_view reply) {
    const std::size_t at = reply.find("\r\nContact: ");
    if (at == std::string_view::npos) {
        return {};
    }
    const std::size_t end = reply.find("\r\n", at + 2);
    return std::string(reply.substr(at + 11, end - at - 11));
}

// A backend's Contact as a reply to invite() carries it: with the dialled user.
std::string dialled(std::string contact, std::string_view user = "alice") {
    contact.insert(contact.find(':') + 1, std::string(user) + "@");
    return contact;
}

} // namespace

TEST_F(pipeline_test, invite_gets_a_302_over_its_own_frame) {
    const frame_spec spec;
    const auto reply = run(build_frame(spec, invite("a1")));
    ASSERT_EQ(last.what, disposition::replied);
    EXPECT_EQ(last.code, 302);
    const std::string text = payload_of(reply, spec);
    EXPECT_EQ(text.rfind("SIP/2.0 302 Moved Temporarily\r\n", 0), 0u) << text;
    EXPECT_EQ(contact_of(text), "<sip:alice@198.18.1.1:5060;transport=udp>");
    sip::message_view m;
    EXPECT_EQ(sip::parse(text, m).status, sip::parse_status::ok);
    EXPECT_EQ(redirects.of(0).total[0].load(), 1u);
}

TEST_F(pipeline_test, the_pools_contact_user_and_params_shape_the_contact) {
    const auto path = test::data_dir().parent_path().parent_path() / "config" / "bench.toml";
    const struct {
        std::string pool_keys; // appended to bench.toml's [[pool]]
        std::string contact;
    } cases[] = {
            {"", "<sip:alice@198.18.1.1:5060;transport=udp>"},
            {"contact_user = \"to\"\n", "<sip:+4930123@198.18.1.1:5060;user=phone;transport=udp>"},
            {"contact_user = \"none\"\ncontact_params = \";x-pool=d\"\n",
             "<sip:198.18.1.1:5060;transport=udp;x-pool=d>"},
            {"contact_params = \";lr\"\n", "<sip:alice@198.18.1.1:5060;transport=udp;lr>"},
    };
    std::string request = invite("k1");
    const std::string to = "To: <sip:alice@198.18.0.1>";
    request.replace(request.find(to), to.size(), "To: <sip:+4930123@example.com;user=phone>");
    for (const auto& c : cases) {
        auto parsed = control::parse_config(test::read_file(path) + c.pool_keys, path.string());
        ASSERT_TRUE(parsed.config.has_value()) << parsed.error.message;
        tables = control::build_tables(
                *parsed.config, control::initial_facts(*parsed.config), 2, nullptr
        );
        state.sequence = {};
        const frame_spec spec;
        const std::string text = payload_of(run(build_frame(spec, request)), spec);
        EXPECT_EQ(contact_of(text), c.contact) << c.pool_keys << text;
    }
}

TEST_F(pipeline_test, wrr_pool_takes_the_backends_in_turn) {
    const frame_spec spec;
    std::vector<std::string> contacts;
    for (int i = 0; i < 6; ++i) {
        contacts.push_back(contact_of(payload_of(
                run(build_frame(spec, invite(std::string("r").append(std::to_string(i))))), spec
        )));
    }
    EXPECT_EQ(contacts[0], "<sip:alice@198.18.1.1:5060;transport=udp>");
    EXPECT_EQ(contacts[1], "<sip:alice@198.18.1.2:5060;transport=udp>");
    EXPECT_EQ(contacts[2], "<sip:alice@198.18.1.3:5060;transport=udp>");
    EXPECT_EQ(contacts[3], contacts[0]);
    for (std::uint16_t slot = 0; slot < 3; ++slot) {
        EXPECT_EQ(redirects.of(0).total[slot].load(), 2u);
    }
}

TEST_F(pipeline_test, short_tailroom_gives_the_same_reply_through_scratch) {
    const frame_spec spec;
    const auto frame = build_frame(spec, invite("t1"));
    const auto roomy = run(frame);
    state.sequence = {};                              // the same backend again
    const auto tight = run(frame, roomy.size() + 40); // not past the request; at the front
    ASSERT_EQ(last.what, disposition::replied);
    EXPECT_EQ(last.reply_offset, 0u);
    ASSERT_EQ(roomy.size(), tight.size());
    // Only the IPv4 identification (and so the header checksum) differs.
    EXPECT_TRUE(std::equal(roomy.begin() + 42, roomy.end(), tight.begin() + 42));
}

TEST_F(pipeline_test, reply_with_no_room_anywhere_is_a_counted_drop) {
    const auto frame = build_frame(frame_spec{}, invite("s1"));
    state.scratch = std::span(scratch).first(64);
    run(frame, frame.size());
    EXPECT_EQ(last.what, disposition::dropped);
    EXPECT_EQ(last.cause, drop_cause::reply_too_large);
}

TEST_F(pipeline_test, reply_over_the_mtu_is_marked_for_fragmenting) {
    s.max_reply_frame = 200;
    const frame_spec spec;
    const auto reply = run(build_frame(spec, invite("u1")));
    ASSERT_EQ(last.what, disposition::replied);
    EXPECT_TRUE(last.needs_fragmenting);
    EXPECT_FALSE(last.udp_checksum_pending); // fragments carry a checksum computed whole
    net::frame_view f;
    EXPECT_EQ(net::parse_frame(reply, f).kind, net::frame_class::udp);
}

TEST_F(pipeline_test, ack_is_absorbed_and_responses_dropped) {
    run(build_frame(frame_spec{}, invite("k1", "ACK")));
    EXPECT_EQ(last.what, disposition::absorbed);
    run(build_frame(frame_spec{}, "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.2\r\n\r\n"));
    EXPECT_EQ(last.what, disposition::dropped);
    EXPECT_EQ(last.cause, drop_cause::sip_response);
}

TEST_F(pipeline_test, other_methods_get_405_with_allow) {
    const frame_spec spec;
    const std::string text = payload_of(run(build_frame(spec, invite("m1", "MESSAGE"))), spec);
    EXPECT_EQ(last.code, 405);
    EXPECT_NE(text.find("\r\nAllow: INVITE, ACK, OPTIONS, CANCEL\r\n"), std::string::npos) << text;
}

TEST_F(pipeline_test, frames_not_for_sip_go_to_the_exception_path_or_are_dropped) {
    // A closed port: the exception path's filter drops it (kernel_filter_test has the rules).
    frame_spec other_port;
    other_port.dst_port = 9999;
    run(build_frame(other_port, "x"));
    EXPECT_EQ(last.cause, drop_cause::exception_filtered);

    frame_spec icmp;
    icmp.protocol = 1;
    run(build_frame(icmp, "ping"));
    EXPECT_EQ(last.what, disposition::to_exception);

    frame_spec stranger;
    stranger.dst = net::ip_address::v4(198, 18, 9, 9);
    run(build_frame(stranger, invite("x1")));
    EXPECT_EQ(last.cause, drop_cause::not_our_address);

    frame_spec tagged;
    tagged.vlans = {100};
    run(build_frame(tagged, invite("v1")));
    EXPECT_EQ(last.cause, drop_cause::not_our_vlan);

    frame_spec fragment;
    fragment.ipv4_fragment = 0x2000; // more fragments, offset 0
    run(build_frame(fragment, invite("f1")));
    EXPECT_EQ(last.what, disposition::fragment);
    // The same frame as the datagram a reassembly produced: not reassembled again, but
    // dropped and counted.
    EXPECT_EQ(after_reassembly(last).what, disposition::dropped);
    EXPECT_EQ(after_reassembly(last).cause, drop_cause::fragment_nested);

    std::vector<std::uint8_t> arp(60, 0);
    arp[12] = 0x08;
    arp[13] = 0x06;
    run(arp);
    EXPECT_EQ(last.what, disposition::to_exception);
    EXPECT_TRUE(last.urgent);

    auto corrupt = build_frame(frame_spec{}, invite("c1"));
    corrupt[24] ^= 0xff; // IPv4 header checksum
    run(corrupt);
    EXPECT_EQ(last.cause, drop_cause::frame_ipv4_bad_checksum);
}

TEST_F(pipeline_test, requests_from_sources_no_reply_can_go_to_are_dropped_and_counted) {
    const auto from = [](std::string_view address, std::uint16_t port) {
        frame_spec spec;
        net::parse_ip(address, spec.src);
        spec.src_port = port;
        return spec;
    };
    // A reply to these would go to this host, a multicast group, everyone on the segment, or
    // nowhere: they are spoofed requests.
    const frame_spec spoofed[] = {
            from("0.0.0.0", 5061),
            from("127.0.0.1", 5061),
            from("224.0.0.1", 5061),
            from("255.255.255.255", 5061),
            from("198.18.0.2", 0),
    };
    for (const frame_spec& spec : spoofed) {
        EXPECT_TRUE(run(build_frame(spec, invite("spoof"))).empty());
        EXPECT_EQ(last.what, disposition::dropped);
        EXPECT_EQ(last.cause, drop_cause::source_invalid);
    }
    s.addresses[s.address_count++] = [] {
        net::ip_address a;
        net::parse_ip("2001:db8::1", a);
        return a;
    }();
    for (const std::string_view v6 : {"::", "::1", "ff02::1"}) {
        frame_spec spec = from(v6, 5061);
        net::parse_ip("2001:db8::1", spec.dst);
        EXPECT_TRUE(run(build_frame(spec, invite("spoof6"))).empty()) << v6;
        EXPECT_EQ(last.cause, drop_cause::source_invalid) << v6;
    }
    EXPECT_EQ(stats.dropped[static_cast<std::size_t>(drop_cause::source_invalid)].get(), 8U);
    EXPECT_FALSE(run(build_frame(from("198.18.0.2", 5061), invite("real"))).empty());
    EXPECT_EQ(last.code, 302);
}

TEST_F(pipeline_test, ipv6_and_vlan_replies_keep_their_shape) {
    s.addresses[s.address_count++] = [] {
        net::ip_address a;
        net::parse_ip("2001:db8::1", a);
        return a;
    }();
    s.vlans[s.vlan_count++] = 100;
    frame_spec spec;
    spec.vlans = {100};
    net::parse_ip("2001:db8::1", spec.dst);
    net::parse_ip("2001:db8::2", spec.src);
    const auto reply = run(build_frame(spec, invite("six")));
    ASSERT_EQ(last.what, disposition::replied);
    EXPECT_TRUE(last.ipv6);
    net::frame_view f;
    ASSERT_EQ(net::parse_frame(reply, f).kind, net::frame_class::udp); // checksum verified
    EXPECT_EQ(f.vlan_count, 1);
    EXPECT_EQ(f.vlan_tci[0], 100);
}

TEST_F(pipeline_test, retransmission_gets_the_same_reply_under_a_random_policy) {
    auto& pool = const_cast<balance::pool_snapshot&>(tables->pools[0]);
    pool.policy = pool.chooser = balance::policy_kind::random;
    const frame_spec spec;
    const auto frame = build_frame(spec, invite("again"));
    const std::string first = payload_of(run(frame), spec);
    const std::string second = payload_of(run(frame), spec);
    EXPECT_EQ(first, second);
}

// A race pool: the worker hands the request over untouched; the control core answers it as
// the race decided (src/control/race).
// hash_key source-ip: the frame's source address is the key, so every call from one source
// goes to one backend, and sources spread over the backends.
TEST_F(pipeline_test, a_source_ip_hash_pool_keeps_each_source_on_one_backend) {
    config.pools[0].policy = balance::policy_kind::hash;
    config.pools[0].key = balance::hash_key::source_ip;
    tables = control::build_tables(config, control::initial_facts(config), 2, nullptr);
    std::set<std::string> across;
    for (std::uint8_t host = 1; host <= 16; ++host) {
        frame_spec spec;
        spec.src = net::ip_address::v4(198, 18, 7, host);
        std::set<std::string> seen;
        for (int call = 0; call < 4; ++call) {
            std::string id = "s";
            id += std::to_string(host);
            id += 'c';
            id += std::to_string(call);
            seen.insert(contact_of(payload_of(run(build_frame(spec, invite(id))), spec)));
        }
        EXPECT_EQ(seen.size(), 1u) << "source " << int{host};
        across.insert(seen.begin(), seen.end());
    }
    EXPECT_GT(across.size(), 1u);
}

class race_pool_test : public pipeline_test {
protected:
    void SetUp() override {
        pipeline_test::SetUp();
        auto& pool = const_cast<balance::pool_snapshot&>(tables->pools[0]);
        pool.policy = balance::policy_kind::race;
        pool.chooser = balance::policy_kind::least_load;
    }
};

TEST_F(race_pool_test, workers_hand_the_request_over_untouched) {
    const frame_spec spec;
    const auto frame = build_frame(spec, invite("r1"));
    EXPECT_TRUE(run(frame).empty());
    EXPECT_EQ(last.what, disposition::to_race);
    EXPECT_EQ(last.pool, 0);
    EXPECT_TRUE(std::equal(frame.begin(), frame.end(), buffer.begin()));
    EXPECT_EQ(redirects.of(0).total[0].load() + redirects.of(0).total[1].load(), 0u);
    const stats_totals t = sum(std::span(&stats, 1));
    EXPECT_EQ(t.to_race, 1u);
    EXPECT_TRUE(t.balanced());
}

TEST_F(race_pool_test, what_needs_no_backend_is_still_answered_by_the_worker) {
    const frame_spec spec;
    run(build_frame(spec, invite("r2", "OPTIONS")));
    EXPECT_EQ(last.code, 200);
    run(build_frame(spec, invite("r3", "ACK")));
    EXPECT_EQ(last.what, disposition::absorbed);
}

TEST_F(race_pool_test, the_control_core_redirects_to_the_winner) {
    const frame_spec spec;
    for (const std::uint16_t winner : {std::uint16_t{1}, std::uint16_t{2}, std::uint16_t{0}}) {
        const race_decision d{.pool = 0, .has_winner = true, .winner_slot = winner};
        state.decided = &d;
        const std::string text = payload_of(run(build_frame(spec, invite("w"))), spec);
        EXPECT_EQ(last.code, 302);
        EXPECT_EQ(contact_of(text), dialled(tables->pools[0].backends[winner].contact)) << text;
        EXPECT_EQ(redirects.of(0).total[winner].load(), 1u);
    }
}

TEST_F(race_pool_test, no_winner_means_the_fallback_or_a_refusal) {
    const frame_spec spec;
    const race_decision fallback{.pool = 0};
    state.decided = &fallback;
    const std::string text = payload_of(run(build_frame(spec, invite("f1"))), spec);
    EXPECT_EQ(last.code, 302);
    EXPECT_FALSE(contact_of(text).empty());
    const race_decision refuse{.pool = 0, .refuse = true};
    state.decided = &refuse;
    const std::string refused = payload_of(run(build_frame(spec, invite("f2"))), spec);
    EXPECT_EQ(last.code, 503);
    EXPECT_NE(refused.find("\r\nRetry-After: "), std::string::npos) << refused;
}

TEST_F(race_pool_test, a_winner_gone_down_since_is_replaced_by_the_fallback) {
    auto& pool = const_cast<balance::pool_snapshot&>(tables->pools[0]);
    pool.backends[1].state = balance::backend_state::down; // as the next snapshot has it
    for (auto* list : {&pool.available, &pool.eligible, &pool.ranked}) {
        std::erase(*list, std::uint16_t{1});
    }
    pool.least_ties = static_cast<std::uint16_t>(pool.ranked.size());
    const frame_spec spec;
    const race_decision d{.pool = 0, .has_winner = true, .winner_slot = 1};
    state.decided = &d;
    const std::string text = payload_of(run(build_frame(spec, invite("g1"))), spec);
    EXPECT_EQ(last.code, 302);
    EXPECT_NE(contact_of(text), dialled(pool.backends[1].contact));
}

// The control core holds a raced request parsed once and answers it from that parse: the same
// reply the whole pipeline gives it, also after the held request has moved (its view must follow
// its bytes).
TEST_F(race_pool_test, a_held_request_is_answered_as_the_whole_pipeline_answers_it) {
    const frame_spec spec;
    const race_decision decisions[] = {
            {.pool = 0, .has_winner = true, .winner_slot = 0},
            {.pool = 0, .has_winner = true, .winner_slot = 2},
            {.pool = 0, .refuse = true},
    };
    for (const std::string_view method : {"INVITE", "OPTIONS", "BYE"}) {
        for (const race_decision& d : decisions) {
            const auto frame = build_frame(spec, invite("h1", method));
            state.decided = &d;
            const std::string expected = payload_of(run(frame), spec);
            const std::uint16_t expected_code = last.code;
            state.decided = nullptr;

            held_request first;
            ASSERT_TRUE(first.hold(frame));
            EXPECT_EQ(first.message().method_text, method);
            held_request request = std::move(first);
            const handled h = answer_held(s, tables.get(), state, request, d);
            EXPECT_EQ(state.decided, nullptr);
            ASSERT_EQ(h.what, disposition::replied) << method;
            EXPECT_EQ(h.code, expected_code) << method;
            const auto reply = request.reply(h);
            EXPECT_EQ(payload_of({reply.begin(), reply.end()}, spec), expected) << method;
        }
    }
}

// A reply larger than the held room (three Contacts each repeating a 2,000-octet dialled user,
// with the growth bound raised to allow it) is written into a larger room, not refused.
TEST_F(race_pool_test, a_held_reply_larger_than_its_room_is_still_written) {
    s.max_reply_growth = 65535;
    auto& pool = const_cast<balance::pool_snapshot&>(tables->pools[0]);
    pool.contacts = 3;
    std::string request = invite("big");
    const std::string user(2000, '7');
    request.replace(request.find("alice@"), 5, user);
    const frame_spec spec;
    const auto frame = build_frame(spec, request);
    const race_decision d{.pool = 0, .has_winner = true, .winner_slot = 0};
    held_request held;
    ASSERT_TRUE(held.hold(frame));
    const handled h = answer_held(s, tables.get(), state, held, d);
    ASSERT_EQ(h.what, disposition::replied) << static_cast<int>(h.cause);
    EXPECT_EQ(h.code, 302);
    const auto reply = held.reply(h);
    EXPECT_GT(reply.size(), frame.size() + 4096);
    const std::string text = payload_of({reply.begin(), reply.end()}, spec);
    EXPECT_EQ(contact_of(text).find("<sip:" + user + "@"), 0u) << text.substr(0, 300);
}

TEST_F(race_pool_test, a_held_request_that_is_not_udp_is_refused) {
    held_request request;
    const std::vector<std::uint8_t> runt(20, 0);
    EXPECT_FALSE(request.hold(runt));
    EXPECT_FALSE(request.raceable());
    const frame_spec spec;
    ASSERT_TRUE(request.hold(build_frame(spec, invite("h2"))));
    EXPECT_TRUE(request.raceable());
}

// Each 302 counts once for its pool (however many Contacts it names); other replies do not.
TEST_F(pipeline_test, each_302_counts_once_for_its_pool) {
    const frame_spec spec;
    run(build_frame(spec, invite("p1")));
    ASSERT_EQ(last.code, 302);
    run(build_frame(spec, invite("p2")));
    run(build_frame(spec, invite("p3", "OPTIONS")));
    ASSERT_EQ(last.code, 200);
    EXPECT_EQ(redirects.pool_total(config.pool_index), 2u);
    tables.reset(); // nothing published: a 503
    run(build_frame(spec, invite("p4")));
    ASSERT_EQ(last.code, 503);
    EXPECT_EQ(redirects.pool_total(config.pool_index), 2u);
}

TEST_F(pipeline_test, nothing_published_means_503) {
    tables.reset();
    const frame_spec spec;
    const std::string text = payload_of(run(build_frame(spec, invite("n1"))), spec);
    EXPECT_EQ(last.code, 503);
    EXPECT_NE(text.find("\r\nRetry-After: 5\r\n"), std::string::npos) << text;
}

// RFC 7339 §5.10: every backend asks overload control to shed all it would get, so the request
// is refused, and that 503 carries no Retry-After; a pool that is merely all busy keeps its own.
TEST_F(pipeline_test, overload_control_503_has_no_retry_after) {
    auto facts = control::initial_facts(config);
    for (balance::backend_facts& f : facts) {
        f.oc_reduction = 100;
    }
    tables = control::build_tables(config, facts, 2, nullptr);
    const frame_spec spec;
    const std::string shed = payload_of(run(build_frame(spec, invite("s1"))), spec);
    EXPECT_EQ(last.code, 503);
    EXPECT_EQ(shed.find("Retry-After"), std::string::npos) << shed;
    facts = control::initial_facts(config);
    for (balance::backend_facts& f : facts) {
        f.state = balance::backend_state::down;
    }
    tables = control::build_tables(config, facts, 2, nullptr);
    const std::string down = payload_of(run(build_frame(spec, invite("s2"))), spec);
    EXPECT_EQ(last.code, 503);
    EXPECT_NE(down.find("\r\nRetry-After: 5\r\n"), std::string::npos) << down;
}

// RFC 7339 §5.2: while the control plane says the appliance is overloaded, a client that offered
// overload control (`oc` in its top Via) is told how much to shed; one that did not is not.
TEST_F(pipeline_test, overload_is_indicated_to_clients_that_offer_oc) {
    const balance::overload_signal signal{
            .reduction = 30, .everywhere = true, .validity_ms = 800, .seq_ms = 1700000000123};
    tables = control::build_tables(config, control::initial_facts(config), 2, nullptr, signal);
    const frame_spec spec;
    std::string offered = invite("o1");
    offered.insert(offered.find("\r\nMax-Forwards"), ";oc");
    const std::string told = payload_of(run(build_frame(spec, offered)), spec);
    EXPECT_EQ(last.code, 302);
    EXPECT_NE(
            told.find("\r\nVia: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bKo1;oc=30;oc-algo=\"loss\""
                      ";oc-validity=800;oc-seq=1700000000.123\r\n"),
            std::string::npos
    ) << told;
    const std::string plain = payload_of(run(build_frame(spec, invite("o2"))), spec);
    EXPECT_EQ(last.code, 302);
    EXPECT_EQ(plain.find("oc"), std::string::npos) << plain;
}

// The pool-level trigger: only the replies for a pool whose every backend is over its threshold
// carry the indication when the appliance itself is not overloaded.
TEST_F(pipeline_test, overload_of_a_saturated_pool_is_indicated_for_that_pool_only) {
    const balance::overload_signal signal{
            .reduction = 20, .everywhere = false, .validity_ms = 500, .seq_ms = 5000};
    auto facts = control::initial_facts(config);
    tables = control::build_tables(config, facts, 2, nullptr, signal);
    ASSERT_FALSE(tables->pools[tables->default_pool].saturated);
    const frame_spec spec;
    std::string offered = invite("p1");
    offered.insert(offered.find("\r\nMax-Forwards"), ";oc");
    const std::string calm = payload_of(run(build_frame(spec, offered)), spec);
    EXPECT_EQ(calm.find("oc="), std::string::npos) << calm;
    for (const control::static_backend& b : config.backends) {
        facts[b.slot].reported_calls = b.config.capacity; // at 100 %, over any threshold
    }
    tables = control::build_tables(config, facts, 3, nullptr, signal);
    ASSERT_TRUE(tables->pools[tables->default_pool].saturated);
    EXPECT_TRUE(control::any_pool_saturated(config, facts));
    const std::string busy = payload_of(run(build_frame(spec, offered)), spec);
    EXPECT_NE(
            busy.find(";oc=20;oc-algo=\"loss\";oc-validity=500;oc-seq=5.000\r\n"), std::string::npos
    ) << busy;
}

TEST_F(pipeline_test, every_frame_is_counted_once) {
    const frame_spec spec;
    run(build_frame(spec, invite("i1")));
    run(build_frame(spec, invite("i2", "ACK")));
    run(build_frame(spec, invite("i3", "OPTIONS")));
    frame_spec stranger;
    stranger.dst = net::ip_address::v4(198, 18, 9, 9);
    run(build_frame(stranger, invite("i4")));
    frame_spec other_port;
    other_port.dst_port = 1;
    run(build_frame(other_port, "x"));
    run(build_frame(spec, "garbage\r\n\r\n"));
    const stats_totals t = sum(std::span(&stats, 1));
    EXPECT_EQ(t.rx, 6u);
    EXPECT_TRUE(t.balanced()) << t.replied << " " << t.absorbed << " " << t.to_exception << " "
                              << t.dropped;
    EXPECT_EQ(t.replies_by_code[code_slot(302)], 1u);
    EXPECT_EQ(t.replies_by_code[code_slot(200)], 1u);
}

TEST(latency, buckets_and_percentiles) {
    EXPECT_EQ(latency_bucket(0), 0u);
    EXPECT_EQ(latency_bucket(1), 0u);
    EXPECT_EQ(latency_bucket(1023), 9u);
    EXPECT_EQ(latency_bucket(1024), 10u);
    EXPECT_EQ(latency_bucket(~0ULL), latency_buckets - 1);
    stats_totals t;
    t.latency[10] = 99;
    t.latency[20] = 1;
    EXPECT_EQ(latency_percentile(t, 0.5), 2048u);
    EXPECT_EQ(latency_percentile(t, 0.999), std::uint64_t{2} << 20);
}

namespace {

// bench.toml plus a second pool and three rules: scanners dropped, a domain refused, +49 numbers
// routed to the second pool.
class rules_pipeline_test : public pipeline_test {
protected:
    void SetUp() override {
        pipeline_test::SetUp();
        const auto path = test::data_dir().parent_path().parent_path() / "config" / "bench.toml";
        std::string text = test::read_file(path);
        text += R"(
[[pool]]
name = "germany"
backends = ["b3"]

[[rule]]
name = "scanners"
field = "header:User-Agent"
regex = "friendly-scanner|sipvicious"
caseless = true
action = "drop"

[[rule]]
name = "refused domain"
field = "request-uri-host"
exact = "evil.example"
action = "reject"

[[rule]]
name = "german numbers"
field = "request-uri-user"
prefix = "+49"
action = "route"
pool = "germany"
)";
        auto parsed = control::parse_config(text, path.string());
        ASSERT_TRUE(parsed.config.has_value()) << parsed.error.message;
        config = std::move(*parsed.config);
        ASSERT_TRUE(config.rules->allocate_scratch(1));
        tables = control::build_tables(config, control::initial_facts(config), 2, nullptr);
    }

    // invite() with another Request-URI and a User-Agent.
    static std::string
    request(std::string_view ruri, std::string_view user_agent, std::string_view method = "INVITE"
    ) {
        std::string m = invite("r1", method);
        const std::string old_ruri = "sip:alice@198.18.0.1 SIP";
        m.replace(m.find(old_ruri), old_ruri.size() - 4, ruri);
        const std::string ua = "User-Agent: " + std::string(user_agent) + "\r\n";
        m.insert(m.find("Content-Length"), ua);
        return m;
    }
};

} // namespace

TEST_F(rules_pipeline_test, a_drop_rule_sends_nothing_and_counts_the_cause) {
    const frame_spec spec;
    EXPECT_TRUE(run(build_frame(spec, request("sip:100@198.18.0.1", "friendly-scanner"))).empty());
    EXPECT_EQ(last.what, disposition::dropped);
    EXPECT_EQ(last.cause, drop_cause::rule_blocked);
    run(build_frame(spec, request("sip:100@198.18.0.1", "SIPVicious 0.3", "OPTIONS")));
    EXPECT_EQ(last.cause, drop_cause::rule_blocked) << "every method, any case";
    const stats_totals t = sum(std::span(&stats, 1));
    EXPECT_EQ(t.dropped_by_cause[static_cast<std::size_t>(drop_cause::rule_blocked)], 2u);
    EXPECT_TRUE(t.balanced());
}

TEST_F(rules_pipeline_test, a_reject_rule_answers_403) {
    const frame_spec spec;
    const std::string text =
            payload_of(run(build_frame(spec, request("sip:100@evil.example", "PBX"))), spec);
    EXPECT_EQ(last.code, 403);
    EXPECT_EQ(text.rfind("SIP/2.0 403 Forbidden\r\n", 0), 0u) << text;
    EXPECT_EQ(contact_of(text), "");
    sip::message_view m;
    EXPECT_EQ(sip::parse(text, m).status, sip::parse_status::ok);
    EXPECT_TRUE(m.to.has_tag);
}

TEST_F(rules_pipeline_test, a_route_rule_takes_its_pool_others_the_default) {
    const frame_spec spec;
    for (int i = 0; i < 6; ++i) {
        const std::string text =
                payload_of(run(build_frame(spec, request("sip:+4930123@198.18.0.1", "PBX"))), spec);
        EXPECT_EQ(contact_of(text), "<sip:+4930123@198.18.1.3:5060;transport=udp>") << text;
    }
    std::set<std::string> others;
    for (int i = 0; i < 6; ++i) {
        others.insert(contact_of(
                payload_of(run(build_frame(spec, request("sip:+3312345@198.18.0.1", "PBX"))), spec)
        ));
    }
    EXPECT_EQ(others.size(), 3u) << "the default pool (wrr over three)";
}

TEST_F(pipeline_test, a_source_over_its_rate_is_dropped_and_counted) {
    s.limits.rate = 1;
    s.limits.burst = 2;
    source_limiter limiter(s.limits, s.limit_key);
    state.limiter = &limiter;
    state.now_ms = 5000;
    const frame_spec spec;
    run(build_frame(spec, invite("l1")));
    run(build_frame(spec, invite("l2")));
    EXPECT_EQ(last.code, 302);
    EXPECT_TRUE(run(build_frame(spec, invite("l3"))).empty());
    EXPECT_EQ(last.cause, drop_cause::source_rate_limited);
    frame_spec other;
    other.src = net::ip_address::v4(198, 18, 0, 3);
    run(build_frame(other, invite("l4")));
    EXPECT_EQ(last.code, 302) << "another source has its own bucket";
    state.now_ms += 1000;
    run(build_frame(spec, invite("l5")));
    EXPECT_EQ(last.code, 302) << "a second later, one more token";
    EXPECT_TRUE(sum(std::span(&stats, 1)).balanced());
}

// A flood of fragments from one source must not fill the reassembly table either: each
// fragment takes a token, and a fragment over the rate is dropped even with action 503 (no
// reply can answer a fragment). The reassembled datagram takes none: its fragments paid.
TEST_F(pipeline_test, fragments_take_their_sources_tokens) {
    s.limits.rate = 1;
    s.limits.burst = 2;
    s.limits.reply_503 = true;
    source_limiter limiter(s.limits, s.limit_key);
    state.limiter = &limiter;
    state.now_ms = 5000;
    frame_spec fragment;
    fragment.ipv4_fragment = 0x2000; // more fragments, offset 0
    run(build_frame(fragment, invite("g1")));
    EXPECT_EQ(last.what, disposition::fragment);
    fragment.ipv4_fragment = 0x0010; // the last fragment, offset 128
    run(build_frame(fragment, invite("g1")));
    EXPECT_EQ(last.what, disposition::fragment);
    run(build_frame(fragment, invite("g2")));
    EXPECT_EQ(last.cause, drop_cause::fragment_rate_limited);

    state.source_charged = true; // the datagram those two fragments made
    run(build_frame(frame_spec{}, invite("g1")));
    EXPECT_EQ(last.code, 302);
    state.source_charged = false;
    run(build_frame(frame_spec{}, invite("g3")));
    EXPECT_EQ(last.code, 503) << "the bucket is still empty";
}

TEST_F(pipeline_test, with_action_503_the_excess_gets_a_short_503) {
    s.limits.rate = 1;
    s.limits.burst = 1;
    s.limits.reply_503 = true;
    s.limits.retry_after = 7;
    source_limiter limiter(s.limits, s.limit_key);
    state.limiter = &limiter;
    const frame_spec spec;
    run(build_frame(spec, invite("m1")));
    const std::string text = payload_of(run(build_frame(spec, invite("m2"))), spec);
    EXPECT_EQ(last.code, 503);
    EXPECT_TRUE(last.source_limited);
    EXPECT_NE(text.find("\r\nRetry-After: 7\r\n"), std::string::npos) << text;
    EXPECT_EQ(contact_of(text), "");
    const stats_totals t = sum(std::span(&stats, 1));
    EXPECT_EQ(t.limited_replies, 1u);
    EXPECT_EQ(t.replies_by_code[code_slot(503)], 1u);
}

// A burst counted in a tally and added once gives every counter what recording each frame gives.
TEST(burst_tally_test, adds_what_recording_each_frame_adds) {
    handled bad = handled_as(disposition::replied);
    bad.code = 400;
    bad.why = sip::defect::header_line_bad;
    handled limited = handled_as(disposition::replied);
    limited.code = 503;
    limited.source_limited = true;
    handled redirect = handled_as(disposition::replied);
    redirect.code = 302;
    const std::vector<handled> burst = {
            redirect,
            redirect,
            bad,
            limited,
            handled_as(disposition::absorbed),
            handled_as(disposition::to_exception),
            handled_as(disposition::to_race),
            handled_as(disposition::fragment),
            dropped_by(drop_cause::not_our_address),
            dropped_by(drop_cause::not_our_address),
            dropped_by(drop_cause::rule_blocked),
    };
    worker_stats each;
    worker_stats once;
    burst_tally tally;
    for (const handled& h : burst) {
        each.record(h);
        tally.record(h);
    }
    each.drop(drop_cause::tx_full, 3);
    tally.drop(drop_cause::tx_full, 3);
    tally.add_to(once);
    const stats_totals a = sum(std::span(&each, 1));
    const stats_totals b = sum(std::span(&once, 1));
    EXPECT_EQ(a.replied, 4u);
    EXPECT_EQ(b.replied, a.replied);
    EXPECT_EQ(b.absorbed, a.absorbed);
    EXPECT_EQ(b.to_exception, a.to_exception);
    EXPECT_EQ(b.to_race, a.to_race);
    EXPECT_EQ(b.limited_replies, a.limited_replies);
    EXPECT_EQ(b.dropped, a.dropped);
    EXPECT_EQ(b.dropped_by_cause, a.dropped_by_cause);
    EXPECT_EQ(b.replies_by_code, a.replies_by_code);
    EXPECT_EQ(b.bad_requests, a.bad_requests);
}
