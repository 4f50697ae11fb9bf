// SPDX-License-Identifier: BSD-3-Clause
// Parser tables: one line per case, each input placed against a guard page.
#include "../test_support.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <sip/chars.hpp>
#include <sip/header.hpp>
#include <sip/parser.hpp>
#include <string>

namespace sipredir::sip {
namespace {

constexpr std::string_view invite =
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
        "Max-Forwards: 70\r\n"
        "To: Bob <sip:bob@biloxi.example.com>\r\n"
        "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
        "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
        "CSeq: 314159 INVITE\r\n"
        "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
        "Content-Type: application/sdp\r\n"
        "Content-Length: 4\r\n"
        "\r\n"
        "v=0\n";

// Parses a copy that ends at a guard page. The copy lives until the next call on this thread,
// so the views in `m` stay readable while the test inspects them.
parse_result parse_guarded(std::string_view bytes, message_view& m) {
    thread_local std::unique_ptr<test::guarded_copy> copy;
    copy.reset();
    copy = std::make_unique<test::guarded_copy>(bytes);
    return parse(copy->view(), m);
}

// A request built from `invite` with one header line replaced (or added when absent).
std::string with_header(std::string_view name, std::string_view line) {
    std::string s(invite);
    const std::size_t at = s.find(std::string("\r\n") + std::string(name) + ":");
    if (at == std::string::npos) {
        s.insert(s.find("\r\n") + 2, std::string(line) + "\r\n");
        return s;
    }
    const std::size_t end = s.find("\r\n", at + 2);
    s.replace(at + 2, end - (at + 2), line);
    return s;
}

TEST(parser, plain_invite) {
    message_view m;
    const parse_result r = parse_guarded(invite, m);
    ASSERT_EQ(r.status, parse_status::ok) << info(r.reason).name;
    EXPECT_EQ(m.kind, message_kind::request);
    EXPECT_EQ(m.request_method, method::invite);
    EXPECT_EQ(m.request_uri, "sip:bob@biloxi.example.com");
    EXPECT_EQ(m.request_uri_parts.user, "bob");
    EXPECT_EQ(m.version_major, 2);
    EXPECT_EQ(m.via_count, 1);
    EXPECT_TRUE(m.top_via_readable);
    EXPECT_EQ(m.top_via.transport, "UDP");
    EXPECT_EQ(m.top_via.host, "pc33.atlanta.example.com");
    EXPECT_FALSE(m.top_via.has_port);
    EXPECT_EQ(m.top_via.branch, "z9hG4bK776asdhds");
    EXPECT_EQ(m.max_forwards, 70);
    EXPECT_EQ(m.to.display_name, "Bob");
    EXPECT_EQ(m.to.uri, "sip:bob@biloxi.example.com");
    EXPECT_FALSE(m.to.has_tag);
    EXPECT_EQ(m.from.tag, "1928301774");
    EXPECT_EQ(m.call_id, "a84b4c76e66710@pc33.atlanta.example.com");
    EXPECT_EQ(m.cseq_number, 314159u);
    EXPECT_EQ(m.cseq_method_text, "INVITE");
    EXPECT_EQ(m.first_contact, "<sip:alice@pc33.atlanta.example.com>");
    EXPECT_EQ(m.body, "v=0\n");
    EXPECT_EQ(m.message_size, invite.size());
}

TEST(parser, every_strict_prefix_is_truncated_or_invalid) {
    for (std::size_t n = 0; n < invite.size(); ++n) {
        message_view m;
        const parse_result r = parse_guarded(invite.substr(0, n), m);
        EXPECT_NE(r.status, parse_status::ok) << "prefix of " << n << " octets";
    }
}

struct field_case {
    const char* name;
    std::string header_name; // replaced header, or added
    std::string line;
    parse_status status;
    defect reason;
};

class field : public ::testing::TestWithParam<field_case> {};

TEST_P(field, parses_as_expected) {
    const field_case& c = GetParam();
    message_view m;
    const parse_result r = parse_guarded(with_header(c.header_name, c.line), m);
    EXPECT_EQ(info(r.reason).name, info(c.reason).name);
    EXPECT_EQ(r.status, c.status);
}

using enum parse_status;
const field_case field_cases[] = {
        {"compact_via", "Via", "v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1", ok, defect::none},
        {"via_lws_in_protocol", "Via", "Via: SIP / 2.0 / UDP a.example.com", ok, defect::none},
        {"via_no_lws_before_host",
         "Via",
         "Via: SIP/2.0/UDPa.example.com",
         invalid,
         defect::via_bad},
        {"via_empty_element", "Via", "Via: SIP/2.0/UDP a.example.com,,", invalid, defect::via_bad},
        {"via_port_too_big",
         "Via",
         "Via: SIP/2.0/UDP a.example.com:65536",
         invalid,
         defect::via_bad},
        {"via_quoted_param",
         "Via",
         "Via: SIP/2.0/UDP a;x=\"q,\\\"uoted\";branch=z9hG4bKx",
         ok,
         defect::none},
        {"via_unclosed_quote", "Via", "Via: SIP/2.0/UDP a;x=\"open", invalid, defect::via_bad},
        // RFC 3261 §20.42: every Via element below the top one has the top one's grammar.
        {"via_second_element_junk",
         "Via",
         "Via: SIP/2.0/UDP a;branch=z9hG4bK1,x",
         invalid,
         defect::via_element_bad},
        {"via_second_element_no_transport",
         "Via",
         "Via: SIP/2.0/UDP a, SIP/2.0 b",
         invalid,
         defect::via_element_bad},
        {"via_second_element_no_sent_by",
         "Via",
         "Via: SIP/2.0/UDP a, SIP/2.0/UDP",
         invalid,
         defect::via_element_bad},
        {"via_second_element_no_lws_before_host",
         "Via",
         "Via: SIP/2.0/UDP a, SIP/2.0/UDPb",
         invalid,
         defect::via_element_bad},
        {"via_second_element_port_too_big",
         "Via",
         "Via: SIP/2.0/UDP a, SIP/2.0/UDP b:65536",
         invalid,
         defect::via_element_bad},
        {"via_second_element_port_not_a_number",
         "Via",
         "Via: SIP/2.0/UDP a, SIP/2.0/UDP b:x",
         invalid,
         defect::via_element_bad},
        {"via_second_element_bad_host",
         "Via",
         "Via: SIP/2.0/UDP a, SIP/2.0/UDP b@c",
         invalid,
         defect::via_element_bad},
        {"via_second_element_unclosed_ipv6",
         "Via",
         "Via: SIP/2.0/UDP a, SIP/2.0/UDP [2001:db8::1",
         invalid,
         defect::via_element_bad},
        {"via_second_element_empty_param",
         "Via",
         "Via: SIP/2.0/UDP a, SIP/2.0/UDP b;;branch=z9hG4bK2",
         invalid,
         defect::via_element_bad},
        {"via_second_element_param_without_name",
         "Via",
         "Via: SIP/2.0/UDP a, SIP/2.0/UDP b;=2",
         invalid,
         defect::via_element_bad},
        {"via_second_element_param_without_value",
         "Via",
         "Via: SIP/2.0/UDP a, SIP/2.0/UDP b;branch=",
         invalid,
         defect::via_element_bad},
        {"via_second_element_trailing_text",
         "Via",
         "Via: SIP/2.0/UDP a, SIP/2.0/UDP b junk",
         invalid,
         defect::via_element_bad},
        {"via_second_line_junk", "Max-Forwards", "Via: x", invalid, defect::via_element_bad},
        {"via_top_bad_wins_over_a_lower_one",
         "Via",
         "Via: SIP/2.0/UDP a:99999, x",
         invalid,
         defect::via_bad},
        {"via_second_element_full",
         "Via",
         "Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP "
         "b.example.com:5070;branch=z9hG4bK2;received=192.0.2.1;rport=5070;ttl=16;maddr=224.2.0.1",
         ok,
         defect::none},
        {"via_second_element_lws_and_ipv6",
         "Via",
         "Via: SIP/2.0/UDP a ,\r\n SIP / 2.0 / SCTP [2001:db8::1]:5060 ; rport ; branch = z9hG4bK3",
         ok,
         defect::none},
        {"via_second_element_unknown_transport_quoted",
         "Via",
         "Via: SIP/2.0/UDP a, SIP/2.0/UNKNOWN c;x=\"q,1\";received=[2001:db8::9:255]",
         ok,
         defect::none},
        {"via_second_line",
         "Max-Forwards",
         "v: SIP/2.0/TLS d.example.com;branch=z9hG4bK4",
         ok,
         defect::none},
        {"from_unclosed_quote", "From", "From: \"Alice <sip:a@b>;tag=1", invalid, defect::from_bad},
        {"from_no_lws_before_laquot", "From", "From: Alice<sip:a@b>;tag=1", ok, defect::none},
        {"from_lws_inside_brackets", "From", "From: < sip:a@b>;tag=1", invalid, defect::from_bad},
        {"from_comma_in_display", "From", "From: A, B <sip:a@b>;tag=1", invalid, defect::from_bad},
        {"from_not_a_uri", "From", "From: alice;tag=1", invalid, defect::from_bad},
        {"to_addr_spec_params", "To", "t: sip:b@c;user=phone", ok, defect::none},
        {"to_repeated", "X", "To: <sip:c@d>", invalid, defect::header_repeated},
        {"call_id_space", "Call-ID", "Call-ID: a b", invalid, defect::call_id_bad},
        {"call_id_two_ats", "Call-ID", "i: a@b@c", invalid, defect::call_id_bad},
        {"call_id_compact", "Call-ID", "i: abc@host", ok, defect::none},
        {"cseq_no_method", "CSeq", "CSeq: 1", invalid, defect::cseq_bad},
        {"cseq_no_space", "CSeq", "CSeq: 1INVITE", invalid, defect::cseq_bad},
        {"cseq_2_31", "CSeq", "CSeq: 2147483648 INVITE", invalid, defect::cseq_out_of_range},
        {"cseq_2_31_minus_1", "CSeq", "CSeq: 2147483647 INVITE", ok, defect::none},
        {"cseq_huge",
         "CSeq",
         "CSeq: 99999999999999999999999999 INVITE",
         invalid,
         defect::cseq_out_of_range},
        {"max_forwards_256",
         "Max-Forwards",
         "Max-Forwards: 256",
         invalid,
         defect::max_forwards_bad},
        {"max_forwards_negative",
         "Max-Forwards",
         "Max-Forwards: -1",
         invalid,
         defect::max_forwards_bad},
        {"content_length_negative",
         "Content-Length",
         "Content-Length: -4",
         invalid,
         defect::content_length_bad},
        {"content_length_compact_no_space", "Content-Length", "l:4", ok, defect::none},
        {"content_length_too_big",
         "Content-Length",
         "Content-Length: 5",
         truncated,
         defect::content_length_exceeds_datagram},
        {"content_length_huge",
         "Content-Length",
         "Content-Length: 99999999999999999999",
         invalid,
         defect::content_length_bad},
        {"content_length_repeated", "X", "l: 4", invalid, defect::content_length_repeated},
        {"header_without_colon", "X", "NoColonHere", invalid, defect::header_line_bad},
        {"header_space_before_colon", "X", "X-Thing  \t: v", ok, defect::none},
        {"header_folded", "X", "X-Thing: a\r\n b\r\n\tc", ok, defect::none},
        {"from_bare_cr_is_not_whitespace",
         "From",
         "From: <sip:a@b>\r;tag=1",
         invalid,
         defect::from_bad},
        {"cseq_bare_cr_is_not_whitespace", "CSeq", "CSeq: 1\rINVITE", invalid, defect::cseq_bad},
        {"cseq_folded_is_whitespace", "CSeq", "CSeq: 314159\r\n INVITE", ok, defect::none},
};

INSTANTIATE_TEST_SUITE_P(cases, field, ::testing::ValuesIn(field_cases), [](const auto& info) {
    return std::string(info.param.name);
});

struct start_line_case {
    const char* name;
    std::string line;
    message_kind kind;
    defect reason;
};

class start_line : public ::testing::TestWithParam<start_line_case> {};

TEST_P(start_line, classified) {
    const start_line_case& c = GetParam();
    std::string bytes(invite);
    bytes.replace(0, bytes.find("\r\n"), c.line);
    message_view m;
    const parse_result r = parse_guarded(bytes, m);
    EXPECT_EQ(m.kind, c.kind);
    EXPECT_EQ(info(r.reason).name, info(c.reason).name);
}

const start_line_case start_line_cases[] = {
        {"extension_method", "FOO sip:a@b SIP/2.0", message_kind::request, defect::none},
        {"lower_case_invite_is_extension",
         "invite sip:a@b SIP/2.0",
         message_kind::request,
         defect::none},
        {"version_case_insensitive", "INVITE sip:a@b sip/2.0", message_kind::request, defect::none},
        {"no_version", "INVITE sip:a@b", message_kind::request, defect::request_line_bad},
        {"double_space",
         "INVITE  sip:a@b SIP/2.0",
         message_kind::request,
         defect::request_line_bad},
        {"trailing_space",
         "INVITE sip:a@b SIP/2.0 ",
         message_kind::request,
         defect::request_line_bad},
        {"angle_brackets",
         "INVITE <sip:a@b> SIP/2.0",
         message_kind::request,
         defect::request_uri_bad},
        {"uri_headers",
         "INVITE sip:a@b?Route=x SIP/2.0",
         message_kind::request,
         defect::request_uri_has_headers},
        {"ipv6_unbracketed",
         "INVITE sip:2001:db8::1 SIP/2.0",
         message_kind::request,
         defect::request_uri_bad},
        {"version_7", "INVITE sip:a@b SIP/7.0", message_kind::request, defect::none},
        {"status_line", "SIP/2.0 180 Ringing", message_kind::response, defect::none},
        {"status_empty_reason", "SIP/2.0 100 ", message_kind::response, defect::none},
        {"status_code_overlarge",
         "SIP/2.0 4294967301 Big",
         message_kind::response,
         defect::status_line_bad},
        {"garbage", "\x01\x02\x03", message_kind::unknown, defect::start_line_bad},
        {"empty", "", message_kind::unknown, defect::start_line_bad},
};

INSTANTIATE_TEST_SUITE_P(
        cases,
        start_line,
        ::testing::ValuesIn(start_line_cases),
        [](const auto& info) { return std::string(info.param.name); }
);

TEST(parser, folded_multi_line_and_comma_vias_in_order) {
    const std::string bytes = with_header(
            "Via",
            "Via: SIP/2.0/UDP first.example.com:5070\r\n ;rport;branch=z9hG4bKa ,\r\n"
            "\tSIP/2.0/TCP second.example.com;branch=z9hG4bKb\r\n"
            "V: SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKc, SIP/2.0/SCTP 192.0.2.1"
    );
    message_view m;
    ASSERT_EQ(parse_guarded(bytes, m).status, ok);
    ASSERT_EQ(m.via_count, 4);
    EXPECT_EQ(m.vias[1], "SIP/2.0/TCP second.example.com;branch=z9hG4bKb");
    EXPECT_EQ(m.vias[2], "SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKc");
    EXPECT_EQ(m.vias[3], "SIP/2.0/SCTP 192.0.2.1");
    EXPECT_EQ(m.top_via.host, "first.example.com");
    EXPECT_EQ(m.top_via.port, 5070);
    EXPECT_TRUE(m.top_via.has_rport);
    EXPECT_TRUE(m.top_via.rport_value.empty());
    EXPECT_EQ(m.top_via.rport_param, "rport");
    EXPECT_EQ(m.top_via.branch, "z9hG4bKa");
}

TEST(parser, top_via_parameters) {
    message_view m;
    ASSERT_EQ(
            parse_guarded(
                    with_header(
                            "Via",
                            "Via: SIP/2.0/UDP [2001:db8::9:1]:5060 ; received = [2001:db8::9:255]"
                            ";rport=7;oc=20;oc-validity=500;oc-seq=1282321615.782;oc-algo=\"loss\""
                            ";branch=z9hG4bKoc"
                    ),
                    m
            )
                    .status,
            ok
    );
    EXPECT_EQ(m.top_via.host, "[2001:db8::9:1]");
    EXPECT_EQ(m.top_via.port, 5060);
    EXPECT_EQ(m.top_via.received, "[2001:db8::9:255]");
    EXPECT_EQ(m.top_via.received_param, "; received = [2001:db8::9:255]");
    EXPECT_EQ(m.top_via.rport_value, "7");
    EXPECT_TRUE(m.top_via.has_oc);
    EXPECT_EQ(m.top_via.oc, "20");
    EXPECT_EQ(m.top_via.oc_validity, "500");
    EXPECT_EQ(m.top_via.oc_seq, "1282321615.782");
    EXPECT_EQ(m.top_via.oc_algo, "\"loss\"");
    // Where each sits, from its ';', for a reply to replace them.
    EXPECT_EQ(m.top_via.oc_param, ";oc=20");
    EXPECT_EQ(m.top_via.oc_validity_param, ";oc-validity=500");
    EXPECT_EQ(m.top_via.oc_seq_param, ";oc-seq=1282321615.782");
    EXPECT_EQ(m.top_via.oc_algo_param, ";oc-algo=\"loss\"");
    EXPECT_EQ(m.top_via.branch, "z9hG4bKoc");
}

TEST(parser, bare_ipv6_received_rfc5118) {
    message_view m;
    ASSERT_EQ(
            parse_guarded(
                    with_header(
                            "Via", "Via: SIP/2.0/UDP h;received=2001:db8::9:255;branch=z9hG4bK"
                    ),
                    m
            )
                    .status,
            ok
    );
    EXPECT_EQ(m.top_via.received, "2001:db8::9:255");
}

TEST(parser, quoted_display_name_with_escapes_and_nul) {
    using namespace std::literals;
    message_view m;
    ASSERT_EQ(
            parse_guarded(with_header("To", "To: \"a \\\" b \\\0 c\" <sip:x@y>;tag=t1"s), m).status,
            ok
    );
    EXPECT_EQ(m.to.display_name, "\"a \\\" b \\\0 c\""sv);
    EXPECT_EQ(m.to.tag, "t1");
}

TEST(parser, a_bare_control_octet_in_a_quoted_display_name_is_malformed) {
    using namespace std::literals;
    message_view m;
    // qdtext holds no NUL; only a quoted-pair may carry one.
    EXPECT_EQ(
            parse_guarded(with_header("To", "To: \"a \0 c\" <sip:x@y>"s), m).reason, defect::to_bad
    );
    EXPECT_EQ(
            parse_guarded(with_header("To", "To: \"a \x1b c\" <sip:x@y>"s), m).reason,
            defect::to_bad
    );
    EXPECT_EQ(parse_guarded(with_header("To", "To: \"a\" <sip:x\0@y>"s), m).reason, defect::to_bad);
    EXPECT_EQ(
            parse_guarded(with_header("To", "To: \"a\" <sip:x@y>;tag=\x7f"s), m).reason,
            defect::to_bad
    );
}

TEST(parser, folds_are_flagged_for_the_writer) {
    message_view m;
    ASSERT_EQ(parse_guarded(invite, m).status, ok);
    EXPECT_FALSE(m.has_folded_lines);
    ASSERT_EQ(
            parse_guarded(with_header("To", "To: Bob\r\n <sip:bob@biloxi.example.com>"), m).status,
            ok
    );
    EXPECT_TRUE(m.has_folded_lines);
}

TEST(parser, bare_lf_line_ends_are_accepted) {
    std::string lf(invite);
    for (std::size_t at; (at = lf.find("\r\n")) != std::string::npos;) {
        lf.erase(at, 1);
    }
    message_view m;
    const parse_result r = parse_guarded(lf, m);
    EXPECT_EQ(r.status, ok) << info(r.reason).name;
    EXPECT_EQ(m.body, "v=0\n");
}

// Found by sip_fuzz under UBSan: an empty datagram has no bytes and may have a null data
// pointer, which reached memchr.
TEST(parser, empty_datagram_with_null_data_is_a_bad_start_line) {
    message_view m;
    const parse_result r = parse(std::span<const std::uint8_t>{}, m);
    EXPECT_EQ(r.status, invalid);
    EXPECT_EQ(r.reason, defect::start_line_bad);
    EXPECT_EQ(m.message_size, 0u);
}

TEST(parser, octets_past_content_length_are_ignored) {
    const std::string bytes = std::string(invite) + "INVITE sip:extra SIP/2.0\r\n\r\n";
    message_view m;
    ASSERT_EQ(parse_guarded(bytes, m).status, ok);
    EXPECT_EQ(m.body, "v=0\n");
    EXPECT_EQ(m.message_size, invite.size());
}

TEST(parser, no_content_length_body_is_rest_of_datagram) {
    std::string bytes(invite);
    const std::size_t at = bytes.find("Content-Length: 4\r\n");
    bytes.erase(at, std::string_view("Content-Length: 4\r\n").size());
    message_view m;
    ASSERT_EQ(parse_guarded(bytes, m).status, ok);
    EXPECT_EQ(m.content_length, -1);
    EXPECT_EQ(m.body, "v=0\n");
}

TEST(parser, too_many_vias) {
    std::string vias = "Via: SIP/2.0/UDP h0";
    for (std::size_t i = 1; i <= max_via_values; ++i) {
        vias += ", SIP/2.0/UDP h" + std::to_string(i);
    }
    message_view m;
    EXPECT_EQ(parse_guarded(with_header("Via", vias), m).reason, defect::via_too_many);
    EXPECT_EQ(m.via_count, max_via_values);
}

TEST(parser, sixty_three_junk_via_elements_are_malformed) {
    // One real Via element and 63 that are not: each would become a Via line of its own in the
    // reply, 6 octets more than the request spent on it.
    std::string via = "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds";
    for (int i = 0; i < 63; ++i) {
        via += ",x";
    }
    message_view m;
    const parse_result r = parse_guarded(with_header("Via", via), m);
    EXPECT_EQ(r.status, parse_status::invalid);
    EXPECT_EQ(info(r.reason).name, info(defect::via_element_bad).name);
    EXPECT_EQ(info(r.reason).phrase, "Malformed Via Element");
    EXPECT_TRUE(m.top_via_readable) << "the 400 can be routed";
    EXPECT_EQ(m.via_count, 64);
}

TEST(parser, many_good_via_elements_are_accepted) {
    std::string via = "Via: SIP/2.0/UDP h0;branch=z9hG4bK0";
    for (std::size_t i = 1; i < max_via_values; ++i) {
        via += i % 2 == 0 ? ", " : ",\r\n ";
        via += "SIP/2.0/" + std::string(i % 3 == 0 ? "TCP" : "UDP") + " h" + std::to_string(i) + ":"
               + std::to_string(5060 + i) + ";branch=z9hG4bK" + std::to_string(i)
               + ";received=192.0.2." + std::to_string(i);
    }
    message_view m;
    const parse_result r = parse_guarded(with_header("Via", via), m);
    EXPECT_EQ(r.status, parse_status::ok) << info(r.reason).name;
    EXPECT_EQ(m.via_count, max_via_values);
}

TEST(parser, second_pass_finds_compact_headers) {
    const std::string bytes = with_header("X", "k: 100rel\r\nc: text/plain\r\no: presence");
    message_view m;
    ASSERT_EQ(parse_guarded(bytes, m).status, ok);
    EXPECT_EQ(find_header(m.headers, header_kind::supported).value, "100rel");
    EXPECT_EQ(find_header(m.headers, header_kind::event).value, "presence");
    EXPECT_EQ(find_header(m.headers, header_kind::content_type).value, "text/plain");
    EXPECT_FALSE(find_header(m.headers, header_kind::refer_to).found);
}

TEST(parser, second_pass_walks_every_contact_and_route_value) {
    const std::string bytes = with_header(
            "Contact",
            "Contact: \"Doe, J\" <sip:a@h1;x=1,2>;q=0.5, <sip:b@h2>\r\n"
            "m: sip:c@h3\r\n"
            "Route: <sip:p1;lr>,<sip:p2;lr>\r\nRoute: <sip:p3;lr>"
    );
    message_view m;
    ASSERT_EQ(parse_guarded(bytes, m).status, ok);
    std::vector<std::string_view> contacts;
    EXPECT_TRUE(for_each_header_value(m.headers, header_kind::contact, [&](std::string_view v) {
        contacts.push_back(v);
        return true;
    }));
    ASSERT_EQ(contacts.size(), 3u);
    EXPECT_EQ(contacts[0], "\"Doe, J\" <sip:a@h1;x=1,2>;q=0.5");
    EXPECT_EQ(contacts[1], "<sip:b@h2>");
    EXPECT_EQ(contacts[2], "sip:c@h3");
    std::vector<std::string_view> routes;
    for_each_header_value(m.headers, header_kind::route, [&](std::string_view v) {
        routes.push_back(v);
        return routes.size() < 2; // stops early
    });
    EXPECT_EQ(routes, (std::vector<std::string_view>{"<sip:p1;lr>", "<sip:p2;lr>"}));
    EXPECT_EQ(m.first_route, "<sip:p1;lr>,<sip:p2;lr>");
}

TEST(parser, every_compact_form) {
    const struct {
        std::string_view name;
        header_kind kind;
    } forms[] = {
            {"v", header_kind::via},
            {"f", header_kind::from},
            {"t", header_kind::to},
            {"i", header_kind::call_id},
            {"m", header_kind::contact},
            {"l", header_kind::content_length},
            {"c", header_kind::content_type},
            {"k", header_kind::supported},
            {"s", header_kind::subject},
            {"e", header_kind::content_encoding},
            {"o", header_kind::event},
            {"u", header_kind::allow_events},
            {"r", header_kind::refer_to},
            {"x", header_kind::session_expires},
            {"y", header_kind::identity},
            {"V", header_kind::via},
            {"CALL-ID", header_kind::call_id},
            {"max-FORWARDS", header_kind::max_forwards},
            {"b", header_kind::other},
            {"Vias", header_kind::other},
            // Same length, first and last letter as a known name, one byte off.
            {"vXa", header_kind::other},
            {"tO", header_kind::to},
            {"Cxeq", header_kind::other},
            {"Call_ID", header_kind::other},
            {"Content-Lenxth", header_kind::other},
            {"Content-Xength", header_kind::other},
            {"content-encodinG", header_kind::content_encoding},
            {"Content-Encodin9", header_kind::other},
            {"Max.Forwards", header_kind::other},
            {"Session-Expirxs", header_kind::other},
    };
    for (const auto& f : forms) {
        EXPECT_EQ(classify_header(f.name), f.kind) << f.name;
    }
}

TEST(parser, control_and_high_bytes_anywhere_never_crash) {
    // Every byte value at every position of the request: the parser must stay in bounds.
    std::string bytes(invite);
    for (std::size_t pos = 0; pos < bytes.size(); pos += 3) {
        for (int b : {0x00, 0x0d, 0x0a, 0x09, 0x20, 0x22, 0x3c, 0x3e, 0x2c, 0x3b, 0x7f, 0xff}) {
            std::string mutated = bytes;
            mutated[pos] = static_cast<char>(b);
            message_view m;
            parse_guarded(mutated, m);
            EXPECT_LE(m.message_size, mutated.size());
        }
    }
}

} // namespace
} // namespace sipredir::sip

namespace sipredir::sip {
namespace {

// The eight-at-a-time scan against the octet-by-octet definition: every octet value at every
// position of every length up to three chunks, over a background of ordinary octets.
TEST(chars, has_control_octet_agrees_with_the_definition_everywhere) {
    for (std::size_t length = 1; length <= 24; ++length) {
        for (std::size_t at = 0; at < length; ++at) {
            for (unsigned v = 0; v < 256; ++v) {
                std::string s(length, 'a');
                s[at] = static_cast<char>(v);
                ASSERT_EQ(has_control_octet(s), is_control_octet(s[at]))
                        << "length " << length << " at " << at << " octet " << v;
            }
        }
    }
    EXPECT_FALSE(has_control_octet("To: Bob\r\n\t<sip:bob@example.com> ;tag=\x80\xff"));
    EXPECT_TRUE(has_control_octet("0123456789abcde\x1f"));
}

} // namespace
} // namespace sipredir::sip
