// SPDX-License-Identifier: BSD-3-Clause
// Probing: hysteresis, RTT, load headers, RFC 7339 overload control, the OPTIONS request and
// the matching of replies, and the prober's schedule (fast re-probe while failing).
#include <gtest/gtest.h>

#include <algorithm>
#include <control/probe/prober.hpp>
#include <sip/parser.hpp>
#include <string>
#include <vector>

using namespace sipredir;
using namespace sipredir::control;

namespace {

constexpr std::int64_t ms = 1'000'000;

// The reply a backend would send to `request`: its Via, From, To (with a tag), Call-ID and CSeq,
// with `extra` header lines and the top Via's parameters extended by `via_params`.
std::string reply_to(
        const std::string& request,
        int code,
        const std::string& extra = "",
        const std::string& via_params = ""
) {
    sip::message_view m;
    EXPECT_EQ(sip::parse(request, m).status, sip::parse_status::ok);
    std::string via(m.vias[0]);
    if (!via_params.empty()) {
        const std::size_t oc = via.find(";oc");
        via = via.substr(0, oc) + via_params;
    }
    std::string r = "SIP/2.0 " + std::to_string(code) + " Whatever\r\n";
    r += "Via: " + via + "\r\n";
    r += "From: " + std::string(m.from.value) + "\r\n";
    r += "To: " + std::string(m.to.value) + ";tag=be\r\n";
    r += "Call-ID: " + std::string(m.call_id) + "\r\n";
    r += "CSeq: " + std::string(m.cseq) + "\r\n";
    r += extra;
    r += "Content-Length: 0\r\n\r\n";
    return r;
}

const probe_origin origin{
        {net::ip_address::v4(198, 18, 0, 1), 5062},
        0x0123456789abcdefULL,
        {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
        "sipredir"};
const net::ip_endpoint backend{net::ip_address::v4(198, 18, 1, 1), 5060};

} // namespace

TEST(health, hysteresis_takes_n_failures_down_and_m_successes_up) {
    const health_policy p{.down_after = 3, .up_after = 2};
    health_record h;
    EXPECT_TRUE(record_reply(h, p, true, 200, 1.0, 1));
    EXPECT_EQ(h.state, health::up) << "from unknown one answer is enough";
    EXPECT_FALSE(record_timeout(h, p, 2));
    EXPECT_FALSE(record_timeout(h, p, 3));
    EXPECT_FALSE(record_reply(h, p, true, 200, 1.0, 4)) << "a success resets the failures";
    EXPECT_FALSE(record_timeout(h, p, 5));
    EXPECT_FALSE(record_reply(h, p, false, 503, 1.0, 6));
    EXPECT_EQ(h.state, health::up);
    EXPECT_TRUE(record_timeout(h, p, 7));
    EXPECT_EQ(h.state, health::down);
    EXPECT_EQ(h.changed_at_ns, 7);
    EXPECT_FALSE(record_reply(h, p, true, 200, 1.0, 8));
    EXPECT_EQ(h.state, health::down);
    EXPECT_TRUE(record_reply(h, p, true, 200, 1.0, 9));
    EXPECT_EQ(h.state, health::up);
    EXPECT_EQ(h.timeouts, 4u);
    EXPECT_EQ(h.other_replies, 1u);
    EXPECT_EQ(h.alive_replies, 4u);
}

TEST(health, rtt_is_smoothed_and_jitter_tracks_deviation) {
    health_record h;
    const health_policy p;
    record_reply(h, p, true, 200, 10.0, 1);
    EXPECT_DOUBLE_EQ(h.rtt_ms, 10.0);
    for (int i = 0; i < 200; ++i) {
        record_reply(h, p, true, 200, i % 2 == 0 ? 8.0 : 12.0, 2 + i);
    }
    EXPECT_NEAR(h.rtt_ms, 10.0, 0.5);
    EXPECT_NEAR(h.jitter_ms, 2.0, 0.3);
}

TEST(load_figure, formats) {
    EXPECT_DOUBLE_EQ(*read_load_figure("42", load_format::percent), 0.42);
    EXPECT_DOUBLE_EQ(*read_load_figure(" 42.5 ", load_format::percent), 0.425);
    EXPECT_DOUBLE_EQ(*read_load_figure("150", load_format::percent), 1.5);
    EXPECT_DOUBLE_EQ(*read_load_figure("calls=40;capacity=200", load_format::calls_capacity), 0.2);
    EXPECT_DOUBLE_EQ(
            *read_load_figure("Capacity=200, calls=50", load_format::calls_capacity), 0.25
    );
    for (const char* bad : {"", "-1", "+3", "abc", "42%", "5000", "1e2", "nan"}) {
        EXPECT_FALSE(read_load_figure(bad, load_format::percent)) << bad;
    }
    for (const char* bad :
         {"calls=4",
          "capacity=4",
          "calls=4;capacity=0",
          "calls;capacity=4",
          "calls=x;capacity=4",
          "calls=1000;capacity=1"}) {
        EXPECT_FALSE(read_load_figure(bad, load_format::calls_capacity)) << bad;
    }
}

TEST(overload_control, takes_validity_sequence_and_algorithm) {
    const auto via = [](std::string_view oc,
                        std::string_view validity,
                        std::string_view seq,
                        std::string_view algo) {
        sip::via_top v;
        v.has_oc = true;
        v.oc = oc;
        v.oc_validity = validity;
        v.oc_seq = seq;
        v.oc_algo = algo;
        return v;
    };
    overload_state s;
    take_overload(s, via("20", "1000", "100.1", "loss"), 0);
    EXPECT_DOUBLE_EQ(reduction_at(s, 999 * ms), 20);
    EXPECT_DOUBLE_EQ(reduction_at(s, 1000 * ms), 0) << "validity over";
    take_overload(s, via("50", "", "100.1", ""), 0);
    EXPECT_EQ(s.ignored, 1u) << "same oc-seq: not newer";
    take_overload(s, via("50", "", "100.2", "\"loss\""), 0);
    EXPECT_DOUBLE_EQ(reduction_at(s, 499 * ms), 50) << "default validity 500 ms";
    EXPECT_DOUBLE_EQ(reduction_at(s, 500 * ms), 0);
    take_overload(s, via("30", "0", "100.3", ""), 0);
    EXPECT_DOUBLE_EQ(reduction_at(s, 1), 0) << "oc-validity=0 ends it";
    take_overload(s, via("101", "", "", ""), 0);
    take_overload(s, via("20", "", "", "rate"), 0);
    take_overload(s, via("x", "", "", ""), 0);
    EXPECT_EQ(s.ignored, 4u);
    take_overload(s, via("", "", "", ""), 0);
    EXPECT_EQ(s.ignored, 4u) << "our own bare oc coming back is no request";
}

TEST(options_probe, request_parses_and_its_reply_matches) {
    const std::string req = write_options(origin, backend, {3, 17});
    sip::message_view m;
    ASSERT_EQ(sip::parse(req, m).status, sip::parse_status::ok) << req;
    EXPECT_EQ(m.request_method, sip::method::options);
    EXPECT_EQ(m.request_uri, "sip:198.18.1.1:5060");
    EXPECT_EQ(m.max_forwards, 70);
    EXPECT_EQ(m.cseq_number, 17u);
    EXPECT_TRUE(m.top_via.has_oc) << "RFC 7339: the client offers overload control";
    EXPECT_EQ(m.top_via.host, "198.18.0.1");
    EXPECT_EQ(m.top_via.port, 5062);

    probe_reply r;
    const std::string reply = reply_to(
            req, 200, "X-Load: 37\r\n", ";oc=20;oc-validity=800;oc-seq=1.5;oc-algo=\"loss\""
    );
    ASSERT_EQ(read_probe_reply(reply, origin, "x-load", r), probe_reply_status::ok);
    EXPECT_EQ(r.id, (probe_id{3, 17}));
    EXPECT_EQ(r.code, 200);
    EXPECT_TRUE(r.has_load);
    EXPECT_EQ(r.load, "37");
    EXPECT_EQ(r.via.oc, "20");
    EXPECT_EQ(r.via.oc_validity, "800");

    probe_origin other_run = origin;
    other_run.nonce += 1;
    EXPECT_EQ(read_probe_reply(reply, other_run, "", r), probe_reply_status::not_ours)
            << "another run's nonce";
    EXPECT_EQ(read_probe_reply(req, origin, "", r), probe_reply_status::not_sip);
    EXPECT_EQ(read_probe_reply("garbage", origin, "", r), probe_reply_status::not_sip);
    std::string wrong_cseq = reply;
    wrong_cseq.replace(wrong_cseq.find("CSeq: 17"), 8, "CSeq: 18");
    EXPECT_EQ(read_probe_reply(wrong_cseq, origin, "", r), probe_reply_status::not_ours);
}

// A backend sees the branches of its own probes. It must not be able to answer a sibling's
// probe by writing that sibling's slot (and a guessable sequence number) into a branch of its
// own: the MAC under the run's secret key no longer matches.
TEST(options_probe, a_branch_rewritten_for_a_sibling_is_not_ours) {
    const std::string req = write_options(origin, backend, {3, 17});
    const std::string reply = reply_to(req, 200);
    probe_reply r;
    ASSERT_EQ(read_probe_reply(reply, origin, "", r), probe_reply_status::ok);

    const std::string own = "-3-17-";
    const std::size_t at = reply.find(own);
    ASSERT_NE(at, std::string::npos) << reply;
    std::string sibling = reply;
    sibling.replace(at, own.size(), "-4-17-"); // slot 4's probe, same sequence number
    EXPECT_EQ(read_probe_reply(sibling, origin, "", r), probe_reply_status::not_ours);

    std::string next = reply;
    next.replace(at, own.size(), "-3-18-");
    next.replace(next.find("CSeq: 17"), 8, "CSeq: 18"); // its own next probe, guessed
    EXPECT_EQ(read_probe_reply(next, origin, "", r), probe_reply_status::not_ours);

    probe_origin other_key = origin;
    other_key.mac_key[0] ^= 1;
    EXPECT_EQ(read_probe_reply(reply, other_key, "", r), probe_reply_status::not_ours)
            << "the MAC depends on the run's key";
}

TEST(options_probe, ipv6_origin_and_target_are_bracketed) {
    probe_origin o = origin;
    net::parse_ip("2001:db8::1", o.local.address);
    net::ip_endpoint t{};
    net::parse_ip("2001:db8::10", t.address);
    t.port = 5070;
    const std::string req = write_options(o, t, {0, 1});
    EXPECT_NE(req.find("OPTIONS sip:[2001:db8::10]:5070 SIP/2.0\r\n"), std::string::npos) << req;
    EXPECT_NE(req.find("Via: SIP/2.0/UDP [2001:db8::1]:5062;"), std::string::npos) << req;
    sip::message_view m;
    EXPECT_EQ(sip::parse(req, m).status, sip::parse_status::ok);
}

class prober_fixture : public ::testing::Test {
protected:
    prober_fixture() : p(settings()) {
        const probe_target t[] = {{0, backend}, {1, {net::ip_address::v4(198, 18, 1, 2), 5060}}};
        p.set_targets(t, 0);
    }
    static probe_settings settings() {
        probe_settings s;
        s.interval_ns = 1000 * ms;
        s.timeout_ns = 400 * ms;
        s.policy = {.down_after = 2, .up_after = 2};
        s.load_header = "X-Load";
        return s;
    }
    // Sends what is due at `now`; returns the requests by slot.
    std::vector<std::pair<std::uint16_t, std::string>> send(std::int64_t now) {
        std::vector<std::pair<std::uint16_t, std::string>> out;
        p.send_due(
                origin,
                now,
                [&](std::uint16_t slot, const net::ip_endpoint&, std::string_view r) {
                    out.emplace_back(slot, std::string(r));
                    return true;
                }
        );
        return out;
    }
    std::vector<std::uint16_t> expire(std::int64_t now) {
        std::vector<std::uint16_t> changed;
        p.expire(now, [&](std::uint16_t s) { changed.push_back(s); });
        return changed;
    }
    prober p;
};

TEST_F(prober_fixture, first_probes_are_spread_over_one_interval) {
    EXPECT_EQ(send(0).size(), 1u);
    EXPECT_EQ(p.next_event_ns(), 400 * ms) << "slot 0's timeout";
    EXPECT_TRUE(send(499 * ms).empty());
    EXPECT_EQ(send(500 * ms).size(), 1u);
}

TEST_F(prober_fixture, dead_backend_is_down_within_interval_plus_two_timeouts) {
    // Only slot 0 is followed here; slot 1 never answers and goes down on its own schedule.
    const auto to_zero = [](const std::vector<std::pair<std::uint16_t, std::string>>& sent) {
        std::vector<std::string> out;
        for (const auto& [slot, req] : sent) {
            if (slot == 0) {
                out.push_back(req);
            }
        }
        return out;
    };
    const auto has_zero = [](const std::vector<std::uint16_t>& changed) {
        return std::find(changed.begin(), changed.end(), 0) != changed.end();
    };
    // Slot 0 answers at 0, then dies.
    auto sent = to_zero(send(0));
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(
            p.on_datagram(reply_to(sent[0], 200, "X-Load: 40\r\n"), backend, origin, 2 * ms),
            std::optional<std::uint16_t>(0)
    );
    EXPECT_EQ(p.record(0)->health.state, health::up);
    EXPECT_DOUBLE_EQ(*p.record(0)->utilisation, 0.40);
    EXPECT_NEAR(p.record(0)->health.rtt_ms, 2.0, 1e-9);
    EXPECT_TRUE(to_zero(send(999 * ms)).empty());
    // Its next probe at 1000 ms goes unanswered; the retry goes at once at the timeout.
    EXPECT_EQ(to_zero(send(1000 * ms)).size(), 1u);
    EXPECT_FALSE(has_zero(expire(1399 * ms)));
    EXPECT_FALSE(has_zero(expire(1400 * ms)));
    EXPECT_EQ(p.record(0)->health.failures, 1u);
    EXPECT_EQ(to_zero(send(1400 * ms)).size(), 1u) << "re-probed at once";
    EXPECT_TRUE(has_zero(expire(1800 * ms)));
    EXPECT_EQ(p.record(0)->health.state, health::down) << "down 1.8 intervals after dying";
    // Down: probed at the interval again, and back after two answers.
    std::int64_t now = 1801 * ms;
    int answers = 0;
    while (p.record(0)->health.state == health::down && now < 10'000 * ms) {
        for (const std::string& req : to_zero(send(now))) {
            p.on_datagram(reply_to(req, 200), backend, origin, now + ms);
            ++answers;
        }
        expire(now);
        now += 100 * ms;
    }
    EXPECT_EQ(answers, 2);
    EXPECT_EQ(p.record(0)->health.state, health::up);
    EXPECT_GE(now, 3400 * ms) << "the second answer comes an interval after the first";
}

TEST_F(prober_fixture, replies_from_elsewhere_late_or_provisional_change_nothing) {
    const auto sent = send(0);
    ASSERT_EQ(sent.size(), 1u);
    const std::string ok = reply_to(sent[0].second, 200);
    const net::ip_endpoint spoofer{net::ip_address::v4(198, 18, 9, 9), 5060};
    EXPECT_FALSE(p.on_datagram(ok, spoofer, origin, ms));
    EXPECT_EQ(p.counters().not_ours, 1u);
    EXPECT_FALSE(p.on_datagram(reply_to(sent[0].second, 100), backend, origin, ms));
    EXPECT_EQ(p.record(0)->health.state, health::unknown);
    expire(400 * ms);
    EXPECT_FALSE(p.on_datagram(ok, backend, origin, 401 * ms));
    EXPECT_EQ(p.counters().late, 1u);
    EXPECT_FALSE(p.on_datagram("not sip", backend, origin, 401 * ms));
    EXPECT_EQ(p.counters().not_sip, 1u);
}

TEST_F(prober_fixture, reply_codes_count_as_configured) {
    probe_settings s = settings();
    s.alive_codes = {{200, 299}, {404, 404}};
    p.configure(s);
    EXPECT_TRUE(p.alive_code(200));
    EXPECT_TRUE(p.alive_code(404));
    EXPECT_FALSE(p.alive_code(403));
    EXPECT_FALSE(p.alive_code(503));
}

TEST_F(prober_fixture, targets_that_stay_keep_their_record) {
    const auto sent = send(0);
    p.on_datagram(reply_to(sent[0].second, 200), backend, origin, ms);
    const probe_target moved[] = {{0, backend}, {1, {net::ip_address::v4(198, 18, 1, 9), 5060}}};
    p.set_targets(moved, 10 * ms);
    EXPECT_EQ(p.record(0)->health.state, health::up);
    EXPECT_EQ(p.record(1)->health.state, health::unknown);
    EXPECT_EQ(p.record(1)->address.address, net::ip_address::v4(198, 18, 1, 9));
    const probe_target none[] = {{0, backend}};
    p.set_targets(none, 20 * ms);
    EXPECT_EQ(p.record(1), nullptr);
}
