// SPDX-License-Identifier: BSD-3-Clause
#include <gtest/gtest.h>

#include <pipeline/request_key.hpp>
#include <sip/parser.hpp>
#include <string>

namespace sipredir::pipeline {
namespace {

using balance::hash_key;

std::string
invite(std::string_view ruri,
       std::string_view from,
       std::string_view call_id,
       std::string_view to = "<sip:b@example.com>") {
    return "INVITE " + std::string(ruri) + " SIP/2.0\r\n"
           + "Via: SIP/2.0/UDP 198.18.0.2;branch=z9hG4bKk\r\n" + "From: " + std::string(from)
           + ";tag=1\r\nTo: " + std::string(to) + "\r\n" + "Call-ID: " + std::string(call_id)
           + "\r\nCSeq: 1 INVITE\r\n\r\n";
}

const net::ip_address source = net::ip_address::v4(198, 18, 0, 2);

struct key_case {
    const char* name;
    std::string ruri;
    std::string from;
    std::string to;
    hash_key kind;
    std::string_view expected;
};

TEST(request_key, picks_the_configured_field) {
    const std::string_view source_bytes("\xc6\x12\x00\x02", 4);
    const key_case cases[] = {
            {"call_id",
             "sip:+4930123@sbc.example.net",
             "<sip:alice@a.example.com>",
             "<sip:b@example.com>",
             hash_key::call_id,
             "c1@198.18.0.2"},
            {"from_user",
             "sip:+4930123@sbc.example.net",
             "\"A\" <sip:alice@a.example.com>",
             "<sip:b@example.com>",
             hash_key::from_user,
             "alice"},
            {"from_user_tel",
             "sip:+4930123@sbc.example.net",
             "<tel:+4940555>",
             "<sip:b@example.com>",
             hash_key::from_user,
             "+4940555"},
            {"from_without_user_uses_call_id",
             "sip:x@y",
             "<sip:a.example.com>",
             "<sip:b@example.com>",
             hash_key::from_user,
             "c1@198.18.0.2"},
            {"to_user",
             "sip:+4930123@sbc.example.net",
             "<sip:alice@a.example.com>",
             "\"Bob\" <sip:bob@b.example.com;user=phone>",
             hash_key::to_user,
             "bob"},
            {"to_user_bare_uri",
             "sip:+4930123@sbc.example.net",
             "<sip:alice@a.example.com>",
             "sip:+4930999@b.example.com",
             hash_key::to_user,
             "+4930999"},
            {"to_without_user_uses_call_id",
             "sip:x@y",
             "<sip:a@b>",
             "<sip:b.example.com>",
             hash_key::to_user,
             "c1@198.18.0.2"},
            {"ruri_user",
             "sip:+4930123@sbc.example.net;user=phone",
             "<sip:a@b>",
             "<sip:b@example.com>",
             hash_key::request_uri_user,
             "+4930123"},
            {"ruri_without_user_uses_call_id",
             "sip:sbc.example.net",
             "<sip:a@b>",
             "<sip:b@example.com>",
             hash_key::request_uri_user,
             "c1@198.18.0.2"},
            {"source_ip_is_the_address_bytes",
             "sip:x@y",
             "<sip:a@b>",
             "<sip:b@example.com>",
             hash_key::source_ip,
             source_bytes},
    };
    for (const key_case& c : cases) {
        const std::string bytes = invite(c.ruri, c.from, "c1@198.18.0.2", c.to);
        sip::message_view m;
        ASSERT_EQ(sip::parse(bytes, m).status, sip::parse_status::ok) << c.name;
        EXPECT_EQ(request_key(m, c.kind, source), c.expected) << c.name;
    }
}

TEST(request_key, same_key_same_hash_and_the_secret_matters) {
    const siphash_key k1{1};
    const siphash_key k2{2};
    const std::string a = invite("sip:u@h", "<sip:alice@x>", "one@h", "<sip:carol@h>");
    const std::string b = invite("sip:v@h", "<sip:alice@y>", "two@h", "<sip:carol@i>");
    sip::message_view ma;
    sip::message_view mb;
    sip::parse(a, ma);
    sip::parse(b, mb);
    const auto hash = [&](const sip::message_view& m, hash_key kind, const siphash_key& k) {
        return request_key_hash(m, kind, source, k);
    };
    EXPECT_EQ(hash(ma, hash_key::from_user, k1), hash(mb, hash_key::from_user, k1))
            << "both from alice";
    EXPECT_EQ(hash(ma, hash_key::to_user, k1), hash(mb, hash_key::to_user, k1)) << "both to carol";
    EXPECT_NE(hash(ma, hash_key::call_id, k1), hash(mb, hash_key::call_id, k1));
    EXPECT_NE(hash(ma, hash_key::call_id, k1), hash(ma, hash_key::call_id, k2));
}

// One source, one backend, whatever the call; another source hashes elsewhere; an IPv6 source
// hashes all 16 bytes.
TEST(request_key, source_ip_follows_the_address_not_the_call) {
    const siphash_key k{3};
    const std::string a = invite("sip:u@h", "<sip:alice@x>", "one@h");
    const std::string b = invite("sip:v@h", "<sip:bob@y>", "two@h");
    sip::message_view ma;
    sip::message_view mb;
    sip::parse(a, ma);
    sip::parse(b, mb);
    const net::ip_address other = net::ip_address::v4(198, 18, 0, 3);
    net::ip_address v6a;
    net::ip_address v6b;
    ASSERT_TRUE(net::parse_ip("2001:db8::1", v6a));
    ASSERT_TRUE(net::parse_ip("2001:db8::2", v6b));
    EXPECT_EQ(
            request_key_hash(ma, hash_key::source_ip, source, k),
            request_key_hash(mb, hash_key::source_ip, source, k)
    );
    EXPECT_NE(
            request_key_hash(ma, hash_key::source_ip, source, k),
            request_key_hash(ma, hash_key::source_ip, other, k)
    );
    EXPECT_EQ(request_key(ma, hash_key::source_ip, v6a).size(), 16u);
    EXPECT_NE(
            request_key_hash(ma, hash_key::source_ip, v6a, k),
            request_key_hash(ma, hash_key::source_ip, v6b, k)
    );
}

} // namespace
} // namespace sipredir::pipeline
