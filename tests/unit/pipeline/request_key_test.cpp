// SPDX-License-Identifier: BSD-3-Clause
#include <gtest/gtest.h>

#include <pipeline/request_key.hpp>
#include <sip/parser.hpp>
#include <string>

namespace sipredir::pipeline {
namespace {

using balance::hash_key;

std::string invite(std::string_view ruri, std::string_view from, std::string_view call_id) {
    return "INVITE " + std::string(ruri) + " SIP/2.0\r\n"
           + "Via: SIP/2.0/UDP 198.18.0.2;branch=z9hG4bKk\r\n" + "From: " + std::string(from)
           + ";tag=1\r\nTo: <sip:b@example.com>\r\n" + "Call-ID: " + std::string(call_id)
           + "\r\nCSeq: 1 INVITE\r\n\r\n";
}

struct key_case {
    const char* name;
    std::string ruri;
    std::string from;
    hash_key kind;
    std::string_view expected;
};

TEST(request_key, picks_the_configured_field) {
    const key_case cases[] = {
            {"call_id",
             "sip:+4930123@sbc.example.net",
             "<sip:alice@a.example.com>",
             hash_key::call_id,
             "c1@198.18.0.2"},
            {"from_user",
             "sip:+4930123@sbc.example.net",
             "\"A\" <sip:alice@a.example.com>",
             hash_key::from_user,
             "alice"},
            {"from_user_tel",
             "sip:+4930123@sbc.example.net",
             "<tel:+4940555>",
             hash_key::from_user,
             "+4940555"},
            {"from_without_user_uses_call_id",
             "sip:x@y",
             "<sip:a.example.com>",
             hash_key::from_user,
             "c1@198.18.0.2"},
            {"ruri_user",
             "sip:+4930123@sbc.example.net;user=phone",
             "<sip:a@b>",
             hash_key::request_uri_user,
             "+4930123"},
            {"ruri_without_user_uses_call_id",
             "sip:sbc.example.net",
             "<sip:a@b>",
             hash_key::request_uri_user,
             "c1@198.18.0.2"},
    };
    for (const key_case& c : cases) {
        const std::string bytes = invite(c.ruri, c.from, "c1@198.18.0.2");
        sip::message_view m;
        ASSERT_EQ(sip::parse(bytes, m).status, sip::parse_status::ok) << c.name;
        EXPECT_EQ(request_key(m, c.kind), c.expected) << c.name;
    }
}

TEST(request_key, same_key_same_hash_and_the_secret_matters) {
    const siphash_key k1{1};
    const siphash_key k2{2};
    const std::string a = invite("sip:u@h", "<sip:alice@x>", "one@h");
    const std::string b = invite("sip:v@h", "<sip:alice@y>", "two@h");
    sip::message_view ma;
    sip::message_view mb;
    sip::parse(a, ma);
    sip::parse(b, mb);
    EXPECT_EQ(
            request_key_hash(ma, hash_key::from_user, k1),
            request_key_hash(mb, hash_key::from_user, k1)
    ) << "both from alice";
    EXPECT_NE(
            request_key_hash(ma, hash_key::call_id, k1), request_key_hash(mb, hash_key::call_id, k1)
    );
    EXPECT_NE(
            request_key_hash(ma, hash_key::call_id, k1), request_key_hash(ma, hash_key::call_id, k2)
    );
}

} // namespace
} // namespace sipredir::pipeline
