// SPDX-License-Identifier: BSD-3-Clause
// The bound on reply growth: a reply is at most [sip] max_reply_growth octets larger than its
// request, its Contact lines aside, or it is dropped and counted (reply_amplification). Also the
// measurement behind docs/security.md: the growth of every reply to the RFC 4475/5118 corpora
// and the golden requests.
#include "../net/frame_builder.hpp"
#include "../test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <control/config.hpp>
#include <control/snapshot_builder.hpp>
#include <iostream>
#include <pipeline/handle_frame.hpp>
#include <pipeline/reply_growth.hpp>
#include <pipeline/worker_stats.hpp>
#include <string>
#include <vector>

using namespace sipredir;
using namespace sipredir::pipeline;
using net::test::build_frame;
using net::test::frame_spec;

namespace {

constexpr std::string_view reply_with_contacts =
        "SIP/2.0 302 Moved Temporarily\r\n"
        "Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bKa\r\n"
        "From: <sip:bob@198.18.0.2>;tag=f1\r\n"
        "To: <sip:alice@198.18.0.1>;tag=t1\r\n"
        "Call-ID: a@198.18.0.2\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:198.18.1.1:5060;transport=udp>;q=1\r\n"   // 50 octets
        "Contact: <sip:198.18.1.2:5060;transport=udp>;q=0.5\r\n" // 52 octets
        "Content-Length: 0\r\n"
        "\r\n";

TEST(reply_growth, contact_octets_counts_whole_contact_lines) {
    EXPECT_EQ(contact_octets(reply_with_contacts), 50u + 52u);
    EXPECT_EQ(contact_octets("SIP/2.0 200 OK\r\nm: <sip:a@b>\r\nContent-Length: 0\r\n\r\n"), 14u);
    EXPECT_EQ(contact_octets("SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), 0u);
    EXPECT_EQ(contact_octets(""), 0u);
    EXPECT_EQ(contact_octets("no line end"), 0u);
}

struct growth_case {
    const char* name;
    std::size_t request_size;
    std::size_t max_growth;
    bool within;
};

class growth : public ::testing::TestWithParam<growth_case> {};

TEST_P(growth, bound_excludes_the_contact_lines) {
    const growth_case& c = GetParam();
    EXPECT_EQ(within_growth(c.request_size, reply_with_contacts, c.max_growth), c.within);
}

// reply_with_contacts is 313 octets, 211 without its Contact lines.
const growth_case growth_cases[] = {
        {"smaller_than_the_request", 400, 0, true},
        {"as_large_as_the_request", 313, 0, true},
        {"larger_only_by_its_contacts", 211, 0, true},
        {"one_octet_past_contacts_and_bound", 210, 0, false},
        {"within_the_bound", 11, 200, true},
        {"one_octet_past_the_bound", 10, 200, false},
        {"empty_request_large_bound", 0, 256, true},
};

INSTANTIATE_TEST_SUITE_P(cases, growth, ::testing::ValuesIn(growth_cases), [](const auto& info) {
    return std::string(info.param.name);
});

std::string invite(std::string_view via_tail = {}, std::string_view method = "INVITE") {
    std::string m;
    m += method;
    m += " sip:alice@198.18.0.1 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bKg1";
    m += via_tail;
    m += "\r\nMax-Forwards: 70\r\n"
         "From: <sip:bob@198.18.0.2>;tag=f1\r\n"
         "To: <sip:alice@198.18.0.1>\r\n"
         "Call-ID: g1@198.18.0.2\r\nCSeq: 1 ";
    m += method;
    m += "\r\nContent-Length: 0\r\n\r\n";
    return m;
}

// `n` Via elements that are not via-parms: each costs 2 octets and would be a line of its own in
// the reply ("Via: x" CRLF, 8 octets).
std::string junk_vias(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        s += ",x";
    }
    return s;
}

class reply_growth_pipeline : public ::testing::Test {
protected:
    void SetUp() override {
        const auto path = test::data_dir().parent_path().parent_path() / "config" / "bench.toml";
        auto loaded = control::load_config(path.string());
        ASSERT_TRUE(loaded.config.has_value()) << loaded.error.message;
        config = std::move(*loaded.config);
        s = control::make_identity(config, {0x02, 0x70, 0x63, 0x61, 0x70, 0x00});
        tables = control::build_tables(config, control::initial_facts(config), 1, nullptr);
        state.redirects = &redirects.of(0);
        state.scratch = scratch;
    }

    // The SIP payload of the reply to `payload` sent from `spec` (empty when none was sent).
    std::string run(std::string_view payload, const frame_spec& spec = {}) {
        const std::vector<std::uint8_t> frame = build_frame(spec, payload);
        buffer.assign(std::max<std::size_t>(8192, 2 * frame.size()), 0xee);
        std::copy(frame.begin(), frame.end(), buffer.begin());
        last = handle_frame(s, tables.get(), state, buffer, frame.size());
        stats.record(last);
        if (last.what != disposition::replied) {
            return {};
        }
        return {reinterpret_cast<const char*>(buffer.data()) + last.reply_offset
                        + last.layout.payload_offset,
                last.reply_size - last.layout.payload_offset};
    }

    std::uint64_t dropped(drop_cause c) const {
        return sum(std::span(&stats, 1)).dropped_by_cause[static_cast<std::size_t>(c)];
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

TEST_F(reply_growth_pipeline, a_reply_past_the_bound_is_dropped_and_counted) {
    const std::string request = invite();
    const std::string reply = run(request);
    ASSERT_EQ(last.code, 302);
    // The exact bound the reply needs, then one octet less.
    const std::size_t needed = reply.size() - contact_octets(reply) > request.size()
                                       ? reply.size() - contact_octets(reply) - request.size()
                                       : 0;
    s.server.assign(300, 's'); // a reply that grows by more than the default bound
    const std::string grown = run(request);
    EXPECT_EQ(last.what, disposition::dropped);
    EXPECT_EQ(last.cause, drop_cause::reply_amplification);
    EXPECT_EQ(dropped(drop_cause::reply_amplification), 1u);
    EXPECT_EQ(redirects.of(0).total[0].load() + redirects.of(0).total[1].load(), 1u)
            << "a dropped 302 is no redirect";

    s.server = config.sip.server;
    s.max_reply_growth = static_cast<std::uint32_t>(needed);
    EXPECT_EQ(run(request).size(), reply.size());
    EXPECT_EQ(last.what, disposition::replied);
    if (needed > 0) {
        s.max_reply_growth = static_cast<std::uint32_t>(needed - 1);
        run(request);
        EXPECT_EQ(last.cause, drop_cause::reply_amplification);
        EXPECT_EQ(dropped(drop_cause::reply_amplification), 2u);
    }
}

TEST_F(reply_growth_pipeline, the_contact_lines_do_not_count_but_a_repeated_user_does) {
    // Three Contacts of a failover pool: the 302 is larger than its INVITE mostly by them. Each
    // carries the dialled user ("alice@", 6 octets): the second and third copies count.
    control::appliance_config three = config;
    three.pools[0].contacts = 3;
    tables = control::build_tables(three, control::initial_facts(three), 2, nullptr);
    const std::string request = invite();
    const std::string reply = run(request);
    ASSERT_EQ(last.code, 302);
    ASSERT_NE(reply.find("Contact: <sip:alice@"), std::string::npos) << reply;
    const std::size_t contacts = contact_octets(reply);
    ASSERT_GT(reply.size() - contacts, request.size());
    const std::size_t repeated = 2 * std::string_view("alice@").size();
    s.max_reply_growth =
            static_cast<std::uint32_t>(reply.size() - contacts + repeated - request.size());
    ASSERT_GT(reply.size() - request.size(), s.max_reply_growth + 100);
    EXPECT_EQ(run(request).size(), reply.size());
    EXPECT_EQ(last.what, disposition::replied) << info(last.cause).name;
    s.max_reply_growth -= 1;
    EXPECT_EQ(run(request), "");
    EXPECT_EQ(last.cause, drop_cause::reply_amplification);
}

TEST_F(reply_growth_pipeline, a_long_dialled_user_times_the_contacts_is_dropped) {
    // A spoofed INVITE whose Request-URI user is 400 octets: one Contact carries it once (the
    // request paid for it); three would send it three times to the victim.
    control::appliance_config three = config;
    three.pools[0].contacts = 3;
    tables = control::build_tables(three, control::initial_facts(three), 2, nullptr);
    std::string request = invite();
    request.replace(request.find("alice@"), 5, std::string(400, '1'));
    EXPECT_EQ(run(request), "");
    EXPECT_EQ(last.what, disposition::dropped);
    EXPECT_EQ(last.cause, drop_cause::reply_amplification);
    // With one Contact the same request is answered: its user is in the reply once.
    tables = control::build_tables(config, control::initial_facts(config), 3, nullptr);
    const std::string reply = run(request);
    EXPECT_EQ(last.code, 302);
    EXPECT_NE(reply.find("Contact: <sip:" + std::string(400, '1') + "@"), std::string::npos);
}

TEST_F(reply_growth_pipeline, the_bound_is_configured_in_sip_max_reply_growth) {
    EXPECT_EQ(s.max_reply_growth, 256u) << "the default";
    control::appliance_config c = config;
    c.sip.max_reply_growth = 40;
    EXPECT_EQ(control::make_identity(c, s.own_mac).max_reply_growth, 40u);
}

TEST_F(reply_growth_pipeline, junk_via_elements_get_a_400_while_it_stays_small) {
    const std::string request = invite(junk_vias(3));
    const std::string reply = run(request);
    ASSERT_EQ(last.what, disposition::replied) << info(last.cause).name;
    EXPECT_EQ(last.code, 400);
    EXPECT_EQ(last.why, sip::defect::via_element_bad);
    EXPECT_EQ(reply.rfind("SIP/2.0 400 Malformed Via Element\r\n", 0), 0u) << reply;
}

TEST_F(reply_growth_pipeline, sixty_three_junk_via_elements_get_no_amplified_reply) {
    // One real Via element and 63 that are not: the 400 would copy each as a line of its own,
    // 6 octets more per element than the request spent on it.
    const std::string request = invite(junk_vias(63));
    EXPECT_EQ(run(request), "");
    EXPECT_EQ(last.what, disposition::dropped);
    EXPECT_EQ(last.cause, drop_cause::reply_amplification);
    EXPECT_EQ(dropped(drop_cause::reply_amplification), 1u);
    // A bound wide enough lets the 400 out: it is the parser that refuses the elements.
    s.max_reply_growth = 65535;
    const std::string reply = run(request);
    EXPECT_EQ(last.code, 400);
    EXPECT_EQ(last.why, sip::defect::via_element_bad);
    EXPECT_GT(reply.size(), request.size() + 256);
}

// Every request of the RFC 4475/5118 corpora and of tests/golden/sip, from 198.18.0.2:5061 as
// in the corpora's INDEX.md, through the pipeline with config/bench.toml: how much larger than
// its request each reply is. The bound must drop none of them; the figures are those quoted in
// docs/security.md.
TEST_F(reply_growth_pipeline, corpora_and_golden_replies_stay_within_the_bound) {
    std::vector<std::filesystem::path> requests;
    for (const char* corpus : {"rfc4475", "rfc5118"}) {
        for (const auto& e :
             std::filesystem::directory_iterator(test::data_dir() / "sip" / corpus)) {
            if (e.path().extension() == ".dat") {
                requests.push_back(e.path());
            }
        }
    }
    const auto golden = test::data_dir().parent_path() / "golden" / "sip";
    for (const auto& e : std::filesystem::directory_iterator(golden)) {
        if (e.path().extension() == ".request") {
            requests.push_back(e.path());
        }
    }
    std::sort(requests.begin(), requests.end());
    ASSERT_GE(requests.size(), 62u + 14u); // 50 + 12 torture messages, and the golden cases

    struct worst {
        std::ptrdiff_t growth = 0;
        double ratio = 0;
        std::string name;
        std::size_t request = 0;
        std::size_t reply = 0;
    };
    worst by_growth;
    by_growth.growth = -100000;
    worst by_ratio;
    std::size_t replied = 0;
    for (const auto& path : requests) {
        const std::string request = test::read_file(path);
        state.sequence = {};
        const std::string reply = run(request);
        EXPECT_NE(last.cause, drop_cause::reply_amplification) << path.filename();
        if (reply.empty()) {
            continue;
        }
        ++replied;
        const std::size_t counted = reply.size() - contact_octets(reply);
        const auto g =
                static_cast<std::ptrdiff_t>(counted) - static_cast<std::ptrdiff_t>(request.size());
        const double ratio =
                static_cast<double>(reply.size()) / static_cast<double>(request.size());
        const std::string name =
                path.parent_path().filename().string() + "/" + path.filename().string();
        if (g > by_growth.growth) {
            by_growth = {g, ratio, name, request.size(), reply.size()};
        }
        if (ratio > by_ratio.ratio) {
            by_ratio = {g, ratio, name, request.size(), reply.size()};
        }
    }
    EXPECT_GT(replied, 60u);
    EXPECT_LE(by_growth.growth, static_cast<std::ptrdiff_t>(s.max_reply_growth));
    std::cout << "largest growth, Contact lines aside: " << by_growth.growth << " octets ("
              << by_growth.name << ": " << by_growth.request << " -> " << by_growth.reply
              << ")\nlargest reply/request ratio: " << by_ratio.ratio << " (" << by_ratio.name
              << ": " << by_ratio.request << " -> " << by_ratio.reply << ")\n";
}

// The smallest requests that still get an answer (compact header names, one-letter values): the
// reply's fixed parts (full header names, To-tag, received, Allow, Server) weigh most here. The
// figures are those quoted in docs/security.md.
TEST_F(reply_growth_pipeline, the_smallest_requests_stay_within_the_bound) {
    for (const std::string_view method : {"OPTIONS", "INVITE"}) {
        std::string request(method);
        request += " sip:a SIP/2.0\r\nv:SIP/2.0/UDP a\r\nf:<sip:a>\r\nt:<sip:a>\r\ni:a\r\n"
                   "CSeq:1 ";
        request += method;
        request += "\r\n\r\n";
        const std::string reply = run(request);
        ASSERT_EQ(last.what, disposition::replied) << method << ": " << info(last.cause).name;
        const std::size_t counted = reply.size() - contact_octets(reply);
        EXPECT_LE(counted, request.size() + s.max_reply_growth);
        std::cout << method << " " << request.size() << " -> " << last.code << " " << reply.size()
                  << " (" << counted << " Contact lines aside), ratio "
                  << static_cast<double>(reply.size()) / static_cast<double>(request.size())
                  << "\n";
    }
}

} // namespace
