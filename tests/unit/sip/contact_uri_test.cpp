// SPDX-License-Identifier: BSD-3-Clause
// The Contact a 302 carries: the request's user and URI parameters around each backend's part,
// checked on whole replies, and the uri-parameters grammar the configuration is checked with.
#include <gtest/gtest.h>

#include <sip/contact_uri.hpp>
#include <sip/parser.hpp>
#include <sip/reply_writer.hpp>
#include <string>
#include <vector>

namespace sipredir::sip {
namespace {

const siphash_key key = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

constexpr std::string_view udp1 = "<sip:198.18.1.1:5060;transport=udp>";
constexpr std::string_view tcp_v6 = "<sip:[2001:db8::1:3]:5062;transport=tcp>";
constexpr std::string_view tls2 = "<sips:198.18.1.2:5061;transport=tcp>";
constexpr std::string_view with_params = "<sip:198.18.1.1:5060;transport=udp;x-pool=a;user=ip>";

struct contact_case {
    const char* name;
    std::string_view request_uri;
    std::string_view to; // To header value; empty: the request has no To
    contact_user from;
    std::vector<std::string_view> backends;
    std::vector<std::string_view> expected; // the Contact values, in order
};

std::string request_text(const contact_case& c) {
    std::string m = "INVITE " + std::string(c.request_uri) + " SIP/2.0\r\n";
    m += "Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bKc1\r\n"
         "Max-Forwards: 70\r\n"
         "From: <sip:alice@example.com>;tag=a1\r\n";
    if (!c.to.empty()) {
        m += "To: " + std::string(c.to) + "\r\n";
    }
    m += "Call-ID: c1@198.18.0.2\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    return m;
}

// The Contact header values of a reply, in order.
std::vector<std::string> contacts_of(std::string_view reply) {
    std::vector<std::string> out;
    for (std::size_t at = reply.find("\r\nContact: "); at != std::string_view::npos;
         at = reply.find("\r\nContact: ", at + 2)) {
        const std::size_t begin = at + 11;
        out.emplace_back(reply.substr(begin, reply.find("\r\n", begin) - begin));
    }
    return out;
}

std::string reply_to(const contact_case& c) {
    const std::string text = request_text(c);
    message_view m;
    parse(text, m);
    std::vector<contact_entry> entries;
    for (const std::string_view b : c.backends) {
        entries.push_back({b});
    }
    reply_spec spec;
    spec.code = 302;
    spec.source = {net::ip_address::v4(198, 18, 0, 2), 5061};
    spec.to_tag_key = &key;
    spec.contacts = entries;
    spec.contact_from = c.from;
    std::vector<char> out(4096);
    const write_result w = write_reply(m, spec, out);
    EXPECT_TRUE(w.ok);
    return {out.data(), w.size};
}

class contact_composition : public ::testing::TestWithParam<contact_case> {};

TEST_P(contact_composition, contacts_are_the_dialled_uri_at_the_backend) {
    const contact_case& c = GetParam();
    const std::string reply = reply_to(c);
    const std::vector<std::string> got = contacts_of(reply);
    ASSERT_EQ(got.size(), c.expected.size()) << reply;
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i], c.expected[i]) << reply;
        // Every Contact is a name-addr a caller can parse and send to.
        uri_view u;
        ASSERT_GE(got[i].size(), 2u);
        const std::string_view inside = std::string_view(got[i]).substr(1, got[i].find('>') - 1);
        EXPECT_EQ(parse_uri(inside, u), uri_status::ok) << got[i];
    }
}

const contact_case cases[] = {
        {"user_kept_with_escapes",
         "sip:%61lice%20b+1@sbc.example.net",
         "<sip:x@example.com>",
         contact_user::request_uri,
         {udp1},
         {"<sip:%61lice%20b+1@198.18.1.1:5060;transport=udp>"}},
        {"telephone_number_with_user_phone",
         "sip:+15551234567@sbc.example.net;user=phone",
         "<sip:+15551234567@sbc.example.net>",
         contact_user::request_uri,
         {udp1},
         {"<sip:+15551234567@198.18.1.1:5060;user=phone;transport=udp>"}},
        {"other_params_kept_in_order",
         "sip:bob@sbc.example.net;user=phone;x-trunk=7;lr",
         "<sip:bob@example.com>",
         contact_user::request_uri,
         {udp1},
         {"<sip:bob@198.18.1.1:5060;user=phone;x-trunk=7;lr;transport=udp>"}},
        {"transport_replaced_by_the_backends",
         "sip:bob@sbc.example.net:5070;TRANSPORT=tls;user=phone;transport=tcp",
         "<sip:bob@example.com>",
         contact_user::request_uri,
         {udp1},
         {"<sip:bob@198.18.1.1:5060;user=phone;transport=udp>"}},
        {"maddr_dropped",
         "sip:bob@sbc.example.net;maddr=192.0.2.1;ttl=1",
         "<sip:bob@example.com>",
         contact_user::request_uri,
         {udp1},
         {"<sip:bob@198.18.1.1:5060;ttl=1;transport=udp>"}},
        {"headers_dropped",
         "sip:bob@sbc.example.net;user=phone?Subject=hi&Priority=urgent",
         "<sip:bob@example.com>",
         contact_user::request_uri,
         {udp1},
         {"<sip:bob@198.18.1.1:5060;user=phone;transport=udp>"}},
        {"password_dropped",
         "sip:bob:secret@sbc.example.net",
         "<sip:bob@example.com>",
         contact_user::request_uri,
         {udp1},
         {"<sip:bob@198.18.1.1:5060;transport=udp>"}},
        {"no_user_gives_none",
         "sip:sbc.example.net:5060",
         "<sip:bob@example.com>",
         contact_user::request_uri,
         {udp1},
         {"<sip:198.18.1.1:5060;transport=udp>"}},
        {"tel_becomes_user_with_user_phone",
         "tel:+358-555-1234567;postd=pp22",
         "<tel:+358-555-1234567>",
         contact_user::request_uri,
         {udp1},
         {"<sip:+358-555-1234567;postd=pp22@198.18.1.1:5060;user=phone;transport=udp>"}},
        {"tel_escapes_what_a_user_may_not_hold",
         "tel:7042;phone-context=[2001:db8::1]",
         "<sip:bob@example.com>",
         contact_user::request_uri,
         {udp1},
         {"<sip:7042;phone-context=%5B2001%3Adb8%3A%3A1%5D@198.18.1.1:5060;user=phone;"
          "transport=udp>"}},
        {"ipv6_backend",
         "sip:+15551234567@sbc.example.net;user=phone",
         "<sip:bob@example.com>",
         contact_user::request_uri,
         {tcp_v6},
         {"<sip:+15551234567@[2001:db8::1:3]:5062;user=phone;transport=tcp>"}},
        {"tls_backend_is_sips",
         "sip:bob@sbc.example.net",
         "<sip:bob@example.com>",
         contact_user::request_uri,
         {tls2},
         {"<sips:bob@198.18.1.2:5061;transport=tcp>"}},
        {"sips_request_to_a_udp_backend_is_sip",
         "sips:bob@sbc.example.net",
         "<sips:bob@example.com>",
         contact_user::request_uri,
         {udp1},
         {"<sip:bob@198.18.1.1:5060;transport=udp>"}},
        {"contact_user_to",
         "sip:trunk7@sbc.example.net;x-route=1",
         "\"Bob\" <sip:+4930123@example.com;user=phone?Subject=x>;tag=9",
         contact_user::to,
         {udp1},
         {"<sip:+4930123@198.18.1.1:5060;user=phone;transport=udp>"}},
        {"contact_user_to_tel",
         "sip:trunk7@sbc.example.net",
         "<tel:+4930123>",
         contact_user::to,
         {udp1},
         {"<sip:+4930123@198.18.1.1:5060;user=phone;transport=udp>"}},
        {"contact_user_to_without_to",
         "sip:trunk7@sbc.example.net",
         "",
         contact_user::to,
         {udp1},
         {"<sip:198.18.1.1:5060;transport=udp>"}},
        {"contact_user_none",
         "sip:+15551234567@sbc.example.net;user=phone",
         "<sip:bob@example.com>",
         contact_user::none,
         {udp1},
         {"<sip:198.18.1.1:5060;transport=udp>"}},
        {"contact_params_follow_and_win",
         "sip:bob@sbc.example.net;x-pool=b;user=phone;x-other",
         "<sip:bob@example.com>",
         contact_user::request_uri,
         {with_params},
         {"<sip:bob@198.18.1.1:5060;x-other;transport=udp;x-pool=a;user=ip>"}},
        {"contact_params_user_replaces_the_tel_user_phone",
         "tel:+15551234567",
         "<sip:bob@example.com>",
         contact_user::request_uri,
         {with_params},
         {"<sip:+15551234567@198.18.1.1:5060;transport=udp;x-pool=a;user=ip>"}},
        {"multi_contact_same_user",
         "sip:+15551234567@sbc.example.net;user=phone",
         "<sip:bob@example.com>",
         contact_user::request_uri,
         {udp1, tcp_v6, tls2},
         {"<sip:+15551234567@198.18.1.1:5060;user=phone;transport=udp>",
          "<sip:+15551234567@[2001:db8::1:3]:5062;user=phone;transport=tcp>",
          "<sips:+15551234567@198.18.1.2:5061;user=phone;transport=tcp>"}},
};

INSTANTIATE_TEST_SUITE_P(
        cases,
        contact_composition,
        ::testing::ValuesIn(cases),
        [](const auto& info) { return std::string(info.param.name); }
);

TEST(contact_uri, a_short_buffer_learns_the_size_and_is_not_overrun) {
    message_view m;
    const std::string text = request_text(
            {"", "sip:+15551234567@sbc.example.net;user=phone", "<sip:b@x>", {}, {}, {}}
    );
    parse(text, m);
    const uri_view source = contact_source(m, contact_user::request_uri);
    const std::string_view expected = "<sip:+15551234567@[2001:db8::1:3]:5062;user=phone;"
                                      "transport=tcp>";
    std::vector<char> out(expected.size() + 8, '#');
    for (std::size_t room = 0; room <= expected.size(); ++room) {
        std::fill(out.begin(), out.end(), '#');
        const std::size_t need = write_contact_uri(tcp_v6, source, {out.data(), room});
        EXPECT_EQ(need, expected.size()) << room;
        EXPECT_TRUE(std::all_of(
                out.begin() + static_cast<std::ptrdiff_t>(room),
                out.end(),
                [](char c) { return c == '#'; }
        )) << room;
    }
    EXPECT_EQ(std::string_view(out.data(), expected.size()), expected);
}

TEST(contact_uri, a_whole_reply_too_short_for_its_contacts_says_so) {
    const contact_case c = cases[1];
    const std::string text = request_text(c);
    message_view m;
    parse(text, m);
    const contact_entry one[] = {{udp1}};
    reply_spec spec;
    spec.code = 302;
    spec.to_tag_key = &key;
    spec.contacts = one;
    std::vector<char> big(4096);
    const write_result full = write_reply(m, spec, big);
    ASSERT_TRUE(full.ok);
    for (std::size_t room = full.size - 80; room < full.size; ++room) {
        std::vector<char> out(room);
        const write_result w = write_reply(m, spec, out);
        EXPECT_FALSE(w.ok) << room;
        EXPECT_EQ(w.size, full.size) << room;
    }
}

TEST(contact_uri, uri_parameters_grammar) {
    const struct {
        std::string_view text;
        bool valid;
    } cases[] = {
            {"", true},
            {";user=phone", true},
            {";lr", true},
            {";x-pool=a;lr;x=%41b", true},
            {";x=[2001:db8::1]/a+b$", true},
            {"user=phone", false}, // no leading ';'
            {";", false},
            {";;lr", false},
            {";=a", false},
            {";a=", false},
            {";a=b=c", false},
            {";a b", false},
            {";a=%4", false},
            {";a=%zz", false},
            {";a>", false},
            {";a?b", false},
            {";a\r\nX: y", false},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(valid_uri_params(c.text), c.valid) << c.text;
    }
}

} // namespace
} // namespace sipredir::sip
