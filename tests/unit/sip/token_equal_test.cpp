// SPDX-License-Identifier: BSD-3-Clause
// token_iequals against the octet-by-octet iequals: every name the parser compares, every token
// octet in every position of it, and every length up to 17.
#include <gtest/gtest.h>

#include <sip/chars.hpp>
#include <sip/token_equal.hpp>
#include <string>

namespace sipredir::sip {
namespace {

constexpr std::string_view names[] = {
        "to",
        "tag",
        "via",
        "cseq",
        "rport",
        "branch",
        "oc-seq",
        "call-id",
        "oc-algo",
        "received",
        "user-agent",
        "oc-validity",
        "max-forwards",
        "proxy-require",
        "content-length",
        "session-expires",
        "content-encoding",
        "a-name-of-17-oct1",
        "x",
        "4",
};

TEST(TokenEqualTest, AgreesWithTheOctetComparisonForEveryTokenOctetAnywhere) {
    for (const std::string_view lower : names) {
        SCOPED_TRACE(std::string(lower));
        std::string upper(lower);
        for (char& c : upper) {
            c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
        }
        EXPECT_TRUE(token_iequals(lower, lower));
        EXPECT_TRUE(token_iequals(upper, lower));
        for (std::size_t at = 0; at < lower.size(); ++at) {
            for (unsigned c = 0; c < 256; ++c) {
                if (!is(static_cast<char>(c), cc_token)) {
                    continue; // only tokens reach it
                }
                std::string t(lower);
                t[at] = static_cast<char>(c);
                ASSERT_EQ(token_iequals(t, lower), iequals(t, lower))
                        << "octet " << c << " at " << at;
            }
        }
    }
}

TEST(TokenEqualTest, LengthsMustMatch) {
    EXPECT_FALSE(token_iequals("branc", "branch"));
    EXPECT_FALSE(token_iequals("branchx", "branch"));
    EXPECT_FALSE(token_iequals("", "to"));
    EXPECT_TRUE(token_iequals("", ""));
}

} // namespace
} // namespace sipredir::sip
