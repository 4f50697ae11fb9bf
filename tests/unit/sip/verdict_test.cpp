// SPDX-License-Identifier: BSD-3-Clause
// The order of decisions, one named case per rule (RFC 3261 §8.2, §16.3, §21).
#include <gtest/gtest.h>

#include <sip/parser.hpp>
#include <sip/verdict.hpp>
#include <string>

namespace sipredir::sip {
namespace {

std::string
request(std::string_view method,
        std::string_view extra = "",
        std::string_view cseq_method = "",
        std::string_view uri = "sip:bob@example.com") {
    return std::string(method) + " " + std::string(uri) + " SIP/2.0\r\n"
           + "Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bKv\r\n"
           + "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
           + "Call-ID: v@198.18.0.2\r\nCSeq: 1 "
           + std::string(cseq_method.empty() ? method : cseq_method) + "\r\n" + std::string(extra)
           + "Content-Length: 0\r\n\r\n";
}

struct verdict_case {
    const char* name;
    std::string bytes;
    action what;
    std::uint16_t code;
    method_set redirect = bit(method::invite);
};

class decision : public ::testing::TestWithParam<verdict_case> {};

TEST_P(decision, as_rfc_says) {
    const verdict_case& c = GetParam();
    message_view m;
    parse(c.bytes, m);
    const verdict v =
            decide(m,
                   {.redirect_methods = c.redirect,
                    .supported_option_tags = default_supported_option_tags});
    EXPECT_EQ(v.what, c.what);
    EXPECT_EQ(v.code, c.code);
}

using enum action;
const verdict_case cases[] = {
        {"invite_redirected", request("INVITE"), reply, 302},
        {"options_answered", request("OPTIONS"), reply, 200},
        {"options_redirected_when_configured",
         request("OPTIONS"),
         reply,
         302,
         bit(method::invite) | bit(method::options)},
        {"cancel_answered", request("CANCEL"), reply, 200},
        {"ack_absorbed", request("ACK"), absorb, 0},
        {"ack_with_max_forwards_0_absorbed", request("ACK", "Max-Forwards: 0\r\n"), absorb, 0},
        {"bye_not_allowed", request("BYE"), reply, 405},
        {"register_not_allowed", request("REGISTER"), reply, 405},
        {"register_redirected_when_configured",
         request("REGISTER"),
         reply,
         302,
         bit(method::register_)},
        {"extension_not_allowed", request("FOO"), reply, 405},
        {"extension_redirected_when_unknown_is", request("FOO"), reply, 302, bit(method::unknown)},
        {"max_forwards_0", request("INVITE", "Max-Forwards: 0\r\n"), reply, 483},
        {"max_forwards_0_before_method", request("BYE", "Max-Forwards: 0\r\n"), reply, 483},
        {"max_forwards_1", request("INVITE", "Max-Forwards: 1\r\n"), reply, 302},
        {"cseq_method_mismatch", request("OPTIONS", "", "INVITE"), reply, 400},
        {"cseq_mismatch_on_405_method", request("FOO", "", "INVITE"), reply, 405},
        {"require_unsupported", request("INVITE", "Require: foo\r\n"), reply, 420},
        {"require_supported", request("INVITE", "Require: 100rel, timer\r\n"), reply, 302},
        {"require_ignored_on_cancel", request("CANCEL", "Require: foo\r\n"), reply, 200},
        {"tel_uri", request("INVITE", "", "", "tel:+12015550123"), reply, 302},
        {"unknown_scheme", request("INVITE", "", "", "urn:service:sos"), reply, 416},
        {"version_2_1", "INVITE sip:b@c SIP/2.1\r\nVia: SIP/2.0/UDP h\r\n\r\n", reply, 505},
        {"missing_call_id",
         "INVITE sip:b@c SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:b@c>\r\n"
         "From: <sip:a@c>;tag=1\r\nCSeq: 1 INVITE\r\n\r\n",
         reply,
         400},
        {"no_via_dropped", "INVITE sip:b@c SIP/2.0\r\nTo: <sip:b@c>\r\n\r\n", drop, 0},
        {"unreadable_via_dropped", "INVITE sip:b@c SIP/2.0\r\nVia: nonsense\r\n\r\n", drop, 0},
        {"response_dropped", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n\r\n", drop, 0},
        {"garbage_dropped", "\x16\x03\x01 hello", drop, 0},
};

INSTANTIATE_TEST_SUITE_P(cases, decision, ::testing::ValuesIn(cases), [](const auto& info) {
    return std::string(info.param.name);
});

TEST(verdict, unsupported_tags_listed) {
    const std::string bytes = request("OPTIONS", "Require: a, 100rel\r\nRequire: b\r\n");
    message_view m;
    parse(bytes, m);
    const verdict v = decide(m, {.supported_option_tags = default_supported_option_tags});
    ASSERT_EQ(v.code, 420);
    ASSERT_EQ(v.unsupported_count, 2);
    EXPECT_EQ(v.unsupported[0], "a");
    EXPECT_EQ(v.unsupported[1], "b");
}

TEST(verdict, drop_reasons_are_named) {
    message_view m;
    parse(std::string_view("SIP/2.0 100 Trying\r\n\r\n"), m);
    EXPECT_EQ(decide(m, {}).drop, drop_reason::response);
    parse(std::string_view("hello"), m);
    EXPECT_EQ(decide(m, {}).drop, drop_reason::start_line_bad);
    parse(std::string_view("INVITE sip:a@b SIP/2.0\r\n\r\n"), m);
    EXPECT_EQ(decide(m, {}).drop, drop_reason::unroutable);
    for (std::size_t i = 0; i < drop_reason_table.size(); ++i) {
        EXPECT_EQ(static_cast<std::size_t>(drop_reason_table[i].id), i);
    }
}

} // namespace
} // namespace sipredir::sip
