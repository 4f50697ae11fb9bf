// SPDX-License-Identifier: BSD-3-Clause
#include <gtest/gtest.h>

#include <sip/parser.hpp>
#include <sip/reply_writer.hpp>
#include <sip/to_tag.hpp>
#include <string>
#include <vector>

namespace sipredir::sip {
namespace {

constexpr std::string_view request =
        "INVITE sip:b@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bKw\r\n"
        "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
        "Call-ID: w@198.18.0.2\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

const siphash_key key{};

reply_spec spec_for(std::uint16_t code) {
    reply_spec s;
    s.code = code;
    s.source = {net::ip_address::v4(198, 18, 0, 2), 5061};
    s.to_tag_key = &key;
    return s;
}

std::string write(const message_view& m, const reply_spec& s) {
    std::vector<char> out(2048);
    const write_result w = write_reply(m, s, out);
    EXPECT_TRUE(w.ok);
    return {out.data(), w.size};
}

std::string replaced(std::string_view from, std::string_view to) {
    std::string s(request);
    const std::size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.substr(0, at) + std::string(to) + s.substr(at + from.size());
}

TEST(reply_writer, reports_needed_size_and_writes_nothing_past_the_buffer) {
    message_view m;
    ASSERT_EQ(parse(request, m).status, parse_status::ok);
    const std::string whole = write(m, spec_for(200));
    for (std::size_t n = 0; n < whole.size(); ++n) {
        std::vector<char> out(n + 16, '#');
        const write_result w = write_reply(m, spec_for(200), std::span(out.data(), n));
        EXPECT_FALSE(w.ok) << n;
        EXPECT_EQ(w.size, whole.size()) << n;
        for (std::size_t i = n; i < out.size(); ++i) {
            ASSERT_EQ(out[i], '#') << "wrote past a " << n << "-octet buffer";
        }
    }
    std::vector<char> exact(whole.size());
    const write_result w = write_reply(m, spec_for(200), exact);
    EXPECT_TRUE(w.ok);
    EXPECT_EQ(std::string(exact.data(), w.size), whole);
}

// RFC 7339 §5.2, §5.3: the client's oc parameters in the top Via are replaced by the
// indication, wherever they sit and however written; a Via without oc is left as it is.
TEST(reply_writer, overload_parameters_replace_the_clients) {
    const via_overload o{.reduction = 100, .validity_ms = 0xffffffff, .seq_ms = 7};
    const struct {
        std::string_view via;
        std::string_view expected;
    } cases[] = {
            {"branch=z9hG4bKw;oc",
             "branch=z9hG4bKw;oc=100;oc-algo=\"loss\";oc-validity=4294967295;oc-seq=0.007\r\n"},
            {"OC;branch=z9hG4bKw",
             "branch=z9hG4bKw;oc=100;oc-algo=\"loss\";oc-validity=4294967295;oc-seq=0.007\r\n"},
            // The whitespace before each ';' stays, as LWS the grammar allows there.
            {"branch=z9hG4bKw ; oc = 5 ;oc-validity=9;oc-seq=99.5;oc-algo=\"rate,loss\"",
             "branch=z9hG4bKw  ;oc=100;oc-algo=\"loss\";oc-validity=4294967295;oc-seq=0.007\r\n"},
            {"branch=z9hG4bKw;oc-seq=1.1", "branch=z9hG4bKw;oc-seq=1.1\r\n"},
            {"branch=z9hG4bKw", "branch=z9hG4bKw\r\n"},
    };
    for (const auto& c : cases) {
        const std::string text = replaced("branch=z9hG4bKw", c.via);
        message_view m;
        ASSERT_EQ(parse(text, m).status, parse_status::ok) << c.via;
        reply_spec s = spec_for(302);
        s.overload = &o;
        const std::string reply = write(m, s);
        const std::string via = "Via: SIP/2.0/UDP 198.18.0.2:5061;" + std::string(c.expected);
        EXPECT_NE(reply.find(via), std::string::npos) << c.via << "\n" << reply;
        EXPECT_EQ(parse(reply, m).status, parse_status::ok) << reply;
    }
}

TEST(reply_writer, status_lines_of_every_code) {
    message_view m;
    parse(request, m);
    const struct {
        std::uint16_t code;
        std::string_view line;
    } codes[] = {
            {200, "SIP/2.0 200 OK\r\n"},
            {302, "SIP/2.0 302 Moved Temporarily\r\n"},
            {400, "SIP/2.0 400 Bad Request\r\n"},
            {403, "SIP/2.0 403 Forbidden\r\n"},
            {405, "SIP/2.0 405 Method Not Allowed\r\n"},
            {416, "SIP/2.0 416 Unsupported URI Scheme\r\n"},
            {420, "SIP/2.0 420 Bad Extension\r\n"},
            {483, "SIP/2.0 483 Too Many Hops\r\n"},
            {500, "SIP/2.0 500 Server Internal Error\r\n"},
            {503, "SIP/2.0 503 Service Unavailable\r\n"},
            {505, "SIP/2.0 505 Version Not Supported\r\n"},
    };
    for (const auto& c : codes) {
        EXPECT_EQ(write(m, spec_for(c.code)).substr(0, c.line.size()), c.line);
    }
    reply_spec s = spec_for(400);
    s.reason = "Malformed Via";
    EXPECT_EQ(write(m, s).substr(0, 27), "SIP/2.0 400 Malformed Via\r\n");
}

TEST(reply_writer, bare_cr_in_a_copied_field_never_reaches_the_reply) {
    // The From grammar rejects the CR (a 400), and the 400 copies From without it.
    const std::string bytes =
            replaced("From: <sip:a@example.com>;tag=1", "From: <sip:a@example.com>\r;tag=1");
    message_view m;
    ASSERT_EQ(parse(bytes, m).reason, defect::from_bad);
    const std::string reply = write(m, spec_for(400));
    for (std::size_t i = 0; i < reply.size(); ++i) {
        if (reply[i] == '\r') {
            ASSERT_LT(i + 1, reply.size());
            EXPECT_EQ(reply[i + 1], '\n') << "bare CR at " << i << "\n" << reply;
        }
    }
    EXPECT_NE(reply.find("From: <sip:a@example.com>;tag=1\r\n"), std::string::npos) << reply;
}

// Found by tests/dataplane/robustness_pcap_test.py: a NUL inside a copied field was echoed into
// the reply. Every control octet but HTAB is outside the grammar of the fields a reply copies
// (RFC 3261 §25.1: TEXT-UTF8, LWS), so the request is malformed and its reply holds none.
TEST(reply_writer, a_control_octet_in_a_copied_field_is_a_defect_and_never_reaches_the_reply) {
    const std::string_view fields[] = {
            "Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bKw",
            "From: <sip:a@example.com>;tag=1",
            "To: <sip:b@example.com>",
            "Call-ID: w@198.18.0.2",
            "CSeq: 1 INVITE",
    };
    for (const char ctl : {'\0', '\x01', '\x1b', '\x7f'}) {
        for (std::string_view field : fields) {
            const std::size_t value_at = field.find(':') + 2;
            for (std::size_t i = value_at; i < field.size(); ++i) {
                std::string broken(field);
                broken[i] = ctl;
                const std::string bytes = replaced(field, broken);
                message_view m;
                const parse_result r = parse(bytes, m);
                ASSERT_NE(r.reason, defect::none) << field << " at " << i << " " << int(ctl);
                const std::string reply = write(m, spec_for(400));
                for (char c : reply) {
                    const auto u = static_cast<unsigned char>(c);
                    ASSERT_FALSE((u < 0x20 && c != '\r' && c != '\n' && c != '\t') || u == 0x7f)
                            << field << " with " << int(ctl) << " at " << i << ":\n"
                            << reply;
                }
            }
        }
    }
}

// Found by sip_fuzz (tests/data/sip/fuzz-regressions): a 400 that left control octets out
// of its copies changed their structure. A list element that was only a form feed vanished,
// and "\<DEL>\"" lost its quoted-pair, so the backslash escaped the closing quote: either way
// the reply had fewer Via values than the request. They are each replaced by '?' instead.
TEST(reply_writer, a_400_keeps_every_via_value_whatever_control_octets_they_hold) {
    using namespace std::literals;
    const std::string vias[] = {
            "Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bKw,\x0c,SIP/2.0/UDP h"s,
            "Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bKw;x=\"a\\\x7f\",SIP/2.0/UDP h"s,
            "Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bKw;x=\"a\\\0\",SIP/2.0/UDP h"s,
            "Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bKw;x=\"a\\\r\",SIP/2.0/UDP h"s,
    };
    for (const std::string& via : vias) {
        const std::string bytes = replaced("Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bKw", via);
        message_view m;
        ASSERT_NE(parse(bytes, m).reason, defect::none) << via;
        const std::string reply = write(m, spec_for(400));
        message_view r;
        parse(reply, r);
        EXPECT_EQ(r.via_count, m.via_count) << reply;
        EXPECT_EQ(reply.find_first_of("\0\x0c\x7f"s), std::string::npos) << reply;
    }
}

TEST(reply_writer, q_values_are_qvalue_grammar) {
    message_view m;
    parse(request, m);
    const struct {
        std::uint16_t milli;
        std::string_view text;
    } cases[] = {
            {1000, ";q=1\r\n"},
            {900, ";q=0.9\r\n"},
            {850, ";q=0.85\r\n"},
            {5, ";q=0.005\r\n"},
            {100, ";q=0.1\r\n"},
            {1, ";q=0.001\r\n"}};
    for (const auto& c : cases) {
        const contact_entry contact[] = {{"<sip:h>", c.milli}};
        reply_spec s = spec_for(302);
        s.contacts = contact;
        s.contact_from = contact_user::none;
        const std::string r = write(m, s);
        EXPECT_NE(r.find(std::string("Contact: <sip:h>") + std::string(c.text)), std::string::npos)
                << c.milli << "\n"
                << r;
    }
}

TEST(reply_writer, received_only_when_source_differs_or_rport) {
    message_view m;
    parse(request, m);
    EXPECT_EQ(write(m, spec_for(200)).find("received="), std::string::npos)
            << "sent-by 198.18.0.2 is the source";
    reply_spec other = spec_for(200);
    other.source.address = net::ip_address::v4(198, 18, 0, 3);
    EXPECT_NE(write(m, other).find(";branch=z9hG4bKw;received=198.18.0.3\r\n"), std::string::npos);
}

// Sent-by is compared with the source as text, and must answer as comparing addresses would.
TEST(reply_writer, sent_by_names_the_source_in_any_spelling) {
    net::ip_endpoint v6;
    ASSERT_TRUE(net::parse_ip("2001:db8::9:1", v6.address));
    v6.port = 5061;
    const net::ip_endpoint v4 = {net::ip_address::v4(198, 18, 0, 2), 5061};
    const struct {
        std::string_view sent_by;
        net::ip_endpoint source;
        bool received;
    } cases[] = {
            {"198.18.0.2", v4, false},
            {"198.018.000.002", v4, false}, // leading zeros: longer, the same address
            {"198.18.0.20", v4, true},
            {"198.18.0.3", v4, true},
            {"98.18.0.2", v4, true},
            {"sbc.example.net", v4, true},
            {"[2001:db8::9:1]", v6, false},
            {"[2001:DB8:0:0:0:0:9:1]", v6, false},
            {"[2001:db8::9:2]", v6, true},
            {"198.18.0.2", v6, true},
            {"[::ffff:198.18.0.2]", v4, true}, // a mapped address is another family
    };
    for (const auto& c : cases) {
        const std::string text =
                replaced("198.18.0.2:5061;branch", std::string(c.sent_by) + ":5061;branch");
        message_view m;
        ASSERT_EQ(parse(text, m).status, parse_status::ok) << c.sent_by;
        reply_spec s = spec_for(200);
        s.source = c.source;
        EXPECT_EQ(write(m, s).find(";received=") != std::string::npos, c.received) << c.sent_by;
    }
}

// Numbers are written with two digits per step: every length, and the edges between them.
TEST(reply_writer, numbers_of_every_length) {
    message_view m;
    parse(request, m);
    for (std::uint64_t v :
         {0ULL,
          7ULL,
          9ULL,
          10ULL,
          99ULL,
          100ULL,
          101ULL,
          999ULL,
          1000ULL,
          65535ULL,
          4294967295ULL,
          18446744073709551615ULL}) {
        reply_spec s = spec_for(503);
        s.retry_after = static_cast<std::uint32_t>(v);
        s.has_retry_after = v <= 0xffffffff;
        const std::string reply = write(m, s);
        if (s.has_retry_after) {
            EXPECT_NE(reply.find("Retry-After: " + std::to_string(v) + "\r\n"), std::string::npos)
                    << v;
        }
    }
    // Via the rport, which every port exercises in 1 to 5 digits.
    const std::string with_rport = replaced(";branch=z9hG4bKw", ";rport;branch=z9hG4bKw");
    parse(with_rport, m);
    for (std::uint16_t port : {0, 1, 9, 10, 99, 100, 5060, 9999, 10000, 65535}) {
        reply_spec s = spec_for(200);
        s.source.port = port;
        EXPECT_NE(write(m, s).find(";rport=" + std::to_string(port) + ";"), std::string::npos)
                << port;
    }
}

TEST(reply_writer, to_tag_depends_on_call_id_from_tag_and_branch) {
    const std::string variants[] = {
            std::string(request),
            replaced("Call-ID: w@", "Call-ID: x@"),
            replaced("tag=1", "tag=2"),
            replaced("z9hG4bKw", "z9hG4bKy"),
    };
    std::vector<std::string> tags;
    for (const std::string& v : variants) {
        message_view m;
        parse(v, m);
        const std::string r = write(m, spec_for(302));
        const std::size_t at = r.find(";tag=", r.find("\r\nTo: "));
        tags.push_back(r.substr(at + 5, 16));
    }
    for (std::size_t i = 1; i < tags.size(); ++i) {
        EXPECT_NE(tags[i], tags[0]) << i;
    }
    siphash_key other_key{};
    other_key[0] = 1;
    message_view m;
    parse(request, m);
    reply_spec s = spec_for(302);
    s.to_tag_key = &other_key;
    EXPECT_EQ(write(m, s).find(tags[0]), std::string::npos) << "the key changes the tag";
}

TEST(reply_writer, a_digest_given_by_the_caller_is_the_tag_it_would_compute) {
    message_view m;
    parse(request, m);
    const std::string computed = write(m, spec_for(302));
    reply_spec given = spec_for(302);
    given.to_tag_digest = to_tag_digest(*given.to_tag_key, m);
    EXPECT_EQ(write(m, given), computed);
    given.to_tag_digest = 0x0123456789abcdefULL;
    EXPECT_NE(write(m, given).find(";tag=0123456789abcdef\r\n"), std::string::npos)
            << "the given digest is used, not recomputed";
}

} // namespace
} // namespace sipredir::sip
