// SPDX-License-Identifier: BSD-3-Clause
#include "../test_support.hpp"

#include <gtest/gtest.h>

#include <sip/uri.hpp>

namespace sipredir::sip {
namespace {

struct uri_case {
    std::string_view text;
    uri_status status;
    uri_scheme scheme;
    std::string_view user;
    std::string_view host;
    int port; // -1: none
};

TEST(uri, table) {
    using enum uri_status;
    using s = uri_scheme;
    const uri_case cases[] = {
            {"sip:bob@biloxi.example.com", ok, s::sip, "bob", "biloxi.example.com", -1},
            {"SIP:bob@h:5060", ok, s::sip, "bob", "h", 5060},
            {"sips:h", ok, s::sips, "", "h", -1},
            {"sip:h:65535;transport=udp;lr", ok, s::sip, "", "h", 65535},
            {"sip:h:65536", bad, s::sip, "", "h", -1},
            {"sip:h:", bad, s::sip, "", "h", -1},
            {"sip:user:pass@h", ok, s::sip, "user", "h", -1},
            {"sip:user;par=u%40example.net@example.com",
             ok,
             s::sip,
             "user;par=u%40example.net",
             "example.com",
             -1}, // RFC 4475 semiuri
            {"sip:%61lice@h", ok, s::sip, "%61lice", "h", -1},
            {"sip:%6@h", bad, s::sip, "", "", -1},
            {"sip:null-%00-null@example.com", ok, s::sip, "null-%00-null", "example.com", -1},
            {"sip:[2001:db8::10]", ok, s::sip, "", "[2001:db8::10]", -1},
            {"sip:[2001:db8::10]:5070", ok, s::sip, "", "[2001:db8::10]", 5070},
            {"sip:[2001:db8::10:5070]", ok, s::sip, "", "[2001:db8::10:5070]", -1},
            {"sip:user@[2001:db8:::192.0.2.1]", ok, s::sip, "user", "[2001:db8:::192.0.2.1]", -1},
            {"sip:2001:db8::10", bad, s::sip, "", "2001", -1}, // RFC 5118 §4.2
            {"sip:[2001:db8::10", bad, s::sip, "", "", -1},
            {"sip:user@example.com?Route=%3Csip:example.com%3E",
             has_headers,
             s::sip,
             "user",
             "example.com",
             -1},
            {"sip:user@example.com;", ok, s::sip, "user", "example.com", -1},
            {"sip:@h", bad, s::sip, "", "", -1},
            {"sip:a@b@c", bad, s::sip, "a", "b", -1},
            {"sip:a b@c", bad, s::other, "", "", -1},
            {"tel:+1-201-555-0123;phone-context=x", ok, s::tel, "+1-201-555-0123", "", -1},
            {"nobodyKnowsThisScheme:totallyopaquecontent", ok, s::other, "", "", -1},
            {"soap.beep://192.0.2.103:3002", ok, s::other, "", "", -1},
            {"<sip:user@example.com>", bad, s::other, "", "", -1},
            {"sip:", bad, s::other, "", "", -1},
            {":x", bad, s::other, "", "", -1},
            {"1sip:x", bad, s::other, "", "", -1},
    };
    for (const uri_case& c : cases) {
        const test::guarded_copy g(c.text);
        uri_view u;
        EXPECT_EQ(parse_uri(g.view(), u), c.status) << c.text;
        if (c.status == bad) {
            continue;
        }
        EXPECT_EQ(u.scheme, c.scheme) << c.text;
        EXPECT_EQ(u.user, c.user) << c.text;
        EXPECT_EQ(u.host, c.host) << c.text;
        EXPECT_EQ(u.has_port, c.port >= 0) << c.text;
        if (c.port >= 0) {
            EXPECT_EQ(u.port, c.port) << c.text;
        }
    }
}

TEST(uri, params_and_headers_views) {
    uri_view u;
    ASSERT_EQ(parse_uri("sip:h;lr;maddr=x?Subject=hi&Priority=urgent", u), uri_status::has_headers);
    EXPECT_EQ(u.params, ";lr;maddr=x");
    EXPECT_EQ(u.headers, "Subject=hi&Priority=urgent");
}

} // namespace
} // namespace sipredir::sip
