// SPDX-License-Identifier: BSD-3-Clause
// Rules on hand-written requests: which rule decides (the first in configured order that
// matches), each field and match kind, and compile errors naming the rule's file:line.
#include <gtest/gtest.h>

#include <rules/ruleset.hpp>
#include <sip/parser.hpp>
#include <string>

namespace sipredir::rules {
namespace {

std::string
invite(std::string_view ruri,
       std::string_view user_agent = "Grandstream GXP2170",
       std::string_view extra = "") {
    std::string s = "INVITE ";
    s += ruri;
    s += " SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.2;branch=z9hG4bKk\r\n"
         "From: \"A\" <sip:alice@a.example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
         "Call-ID: c1@198.18.0.2\r\nCSeq: 1 INVITE\r\nUser-Agent: ";
    s += user_agent;
    s += "\r\n";
    s += extra;
    s += "Content-Length: 0\r\n\r\n";
    return s;
}

rule make(
        std::string name,
        field where,
        match_kind how,
        std::string pattern,
        action then,
        std::uint16_t pool = 0,
        std::string header = ""
) {
    rule r;
    r.name = std::move(name);
    r.where = where;
    r.how = how;
    r.pattern = std::move(pattern);
    r.then = then;
    r.pool = pool;
    r.header = std::move(header);
    r.source = "rules.toml";
    r.line = 7;
    return r;
}

// The name of the deciding rule, or "" when none matches.
std::string decide(const ruleset& set, const std::string& request) {
    sip::message_view m;
    sip::parse(request, m);
    const decision d = set.match(m, 0);
    return d.matched != nullptr ? d.matched->name : "";
}

std::shared_ptr<ruleset> build(std::vector<rule> rules) {
    compile_result r = compile(std::move(rules));
    EXPECT_TRUE(r.rules) << r.error;
    if (r.rules) {
        EXPECT_TRUE(r.rules->allocate_scratch(2));
    }
    return r.rules;
}

TEST(rules, the_first_matching_rule_in_order_decides) {
    auto set = build({
            make("mobile", field::request_uri_user, match_kind::prefix, "+4917", action::route, 1),
            make("germany", field::request_uri_user, match_kind::prefix, "+49", action::route, 2),
            make("scanner",
                 field::header,
                 match_kind::regex,
                 "friendly-scanner|sipvicious",
                 action::drop,
                 0,
                 "User-Agent"),
    });
    ASSERT_TRUE(set);
    EXPECT_EQ(decide(*set, invite("sip:+4917012345@carrier.example")), "mobile");
    EXPECT_EQ(decide(*set, invite("sip:+4930123@carrier.example")), "germany");
    EXPECT_EQ(decide(*set, invite("sip:+3312345@carrier.example")), "");
    EXPECT_EQ(decide(*set, invite("sip:+3312345@carrier.example", "friendly-scanner")), "scanner");
    // Both match; the earlier rule wins whatever the field.
    EXPECT_EQ(decide(*set, invite("sip:+4930123@carrier.example", "sipvicious 0.2")), "germany");
}

TEST(rules, prefix_is_anchored_exact_is_whole_contains_is_anywhere) {
    auto set = build({
            make("prefix", field::request_uri_user, match_kind::prefix, "800", action::route),
            make("exact", field::request_uri_user, match_kind::exact, "112", action::route),
            make("contains", field::request_uri_user, match_kind::contains, "*99", action::route),
    });
    ASSERT_TRUE(set);
    EXPECT_EQ(decide(*set, invite("sip:8005551234@x.example")), "prefix");
    EXPECT_EQ(decide(*set, invite("sip:1800@x.example")), "");
    EXPECT_EQ(decide(*set, invite("sip:112@x.example")), "exact");
    EXPECT_EQ(decide(*set, invite("sip:1123@x.example")), "");
    EXPECT_EQ(decide(*set, invite("sip:12*99@x.example")), "contains") << "'*' is a literal";
    EXPECT_EQ(decide(*set, invite("sip:12999@x.example")), "");
}

TEST(rules, domain_from_user_and_any_header) {
    std::vector<rule> rules = {
            make("domain",
                 field::request_uri_host,
                 match_kind::exact,
                 "evil.example",
                 action::reject),
            make("from", field::from_user, match_kind::exact, "alice", action::route, 3),
            make("priority",
                 field::header,
                 match_kind::exact,
                 "emergency",
                 action::route,
                 4,
                 "Priority"),
            make("subject", field::header, match_kind::contains, "spam", action::drop, 0, "Subject"
            ),
    };
    rules[0].caseless = true;
    auto set = build(std::move(rules));
    ASSERT_TRUE(set);
    EXPECT_EQ(decide(*set, invite("sip:1@EVIL.Example")), "domain") << "caseless when asked";
    EXPECT_EQ(decide(*set, invite("sip:1@good.example")), "from");
    EXPECT_EQ(decide(*set, invite("sip:1@good.example", "x", "Priority: emergency\r\n")), "from");
    auto no_alice = build(
            {make("priority",
                  field::header,
                  match_kind::exact,
                  "emergency",
                  action::route,
                  4,
                  "priority"),
             make("subject", field::header, match_kind::contains, "spam", action::drop, 0, "Subject"
             )}
    );
    ASSERT_TRUE(no_alice);
    EXPECT_EQ(
            decide(*no_alice, invite("sip:1@g.example", "x", "PRIORITY: emergency\r\n")), "priority"
    ) << "header names match case-insensitively";
    EXPECT_EQ(decide(*no_alice, invite("sip:1@g.example", "x", "s: buy spam now\r\n")), "subject")
            << "the compact form s is Subject";
    EXPECT_EQ(decide(*no_alice, invite("sip:1@g.example", "x", "Priority: urgent\r\n")), "");
}

TEST(rules, an_empty_ruleset_matches_nothing) {
    auto set = build({});
    ASSERT_TRUE(set);
    EXPECT_EQ(decide(*set, invite("sip:1@x.example")), "");
}

TEST(rules, a_worker_without_scratch_matches_nothing_rather_than_crash) {
    compile_result r =
            compile({make("a", field::request_uri_user, match_kind::prefix, "1", action::drop)});
    ASSERT_TRUE(r.rules);
    const std::string request = invite("sip:1@x.example"); // the view points into it
    sip::message_view m;
    sip::parse(request, m);
    EXPECT_EQ(r.rules->match(m, 0).matched, nullptr);
    ASSERT_TRUE(r.rules->allocate_scratch(1));
    EXPECT_NE(r.rules->match(m, 0).matched, nullptr);
    EXPECT_EQ(r.rules->match(m, 1).matched, nullptr);
}

TEST(rules, compile_errors_name_the_rule_and_its_line) {
    compile_result bad = compile({
            make("ok", field::request_uri_user, match_kind::prefix, "1", action::drop),
            make("broken", field::request_uri_user, match_kind::regex, "(unclosed", action::drop),
    });
    EXPECT_FALSE(bad.rules);
    EXPECT_EQ(bad.error.rfind("rules.toml:7: rule 'broken': ", 0), 0u) << bad.error;

    compile_result empty =
            compile({make("e", field::request_uri_user, match_kind::prefix, "", action::drop)});
    EXPECT_FALSE(empty.rules);
    EXPECT_EQ(empty.error, "rules.toml:7: rule 'e': the pattern is empty");

    compile_result everything =
            compile({make("all", field::request_uri_user, match_kind::regex, ".*", action::drop)});
    EXPECT_FALSE(everything.rules) << "a rule that matches the empty value is refused";
}

TEST(rules, thousands_of_rules_compile_and_match_the_right_one) {
    std::vector<rule> rules;
    for (int i = 0; i < 1000; ++i) {
        std::string name = "r";
        name += std::to_string(i);
        std::string prefix = "+1";
        prefix += std::to_string(1000 + i);
        rules.push_back(
                make(name, field::request_uri_user, match_kind::prefix, prefix, action::route)
        );
    }
    auto set = build(std::move(rules));
    ASSERT_TRUE(set);
    EXPECT_EQ(decide(*set, invite("sip:+117775550100@x.example")), "r777");
    EXPECT_EQ(decide(*set, invite("sip:+120005550100@x.example")), "");
}

} // namespace
} // namespace sipredir::rules
