// SPDX-License-Identifier: BSD-3-Clause
// call_id_valid against RFC 3261 §25.1: callid = word [ "@" word ], word = 1*(alphanum / "-" /
// "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" / "<" / ">" / ":" / "\" /
// DQUOTE / "/" / "[" / "]" / "?" / "{" / "}"), with words long enough to take the 16-octet runs.
#include <gtest/gtest.h>

#include <sip/fields.hpp>
#include <string>

namespace sipredir::sip {
namespace {

TEST(CallIdTest, WordAtWord) {
    const std::string long_word(40, 'a');
    const struct {
        std::string value;
        bool valid;
    } rows[] = {
            {"8931ef6a16ac79339f61f9c7@198.18.2.1", true},
            {"a", true},
            {long_word, true},
            {long_word + "@" + long_word, true},
            {"f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com", true},
            {"w<o>r:d\\\"/[]?{}@x", true},
            {"", false},
            {"@", false},
            {"@host", false},
            {"word@", false},
            {long_word + "@", false},
            {"a@b@c", false},
            {long_word + "@" + long_word + "@x", false},
            {"a b", false},
            {long_word + " " + long_word, false},
            {"a;b", false},
            {"a,b", false},
            {std::string("a\0b", 3), false},
            {"a\tb", false},
            {"caf\xc3\xa9", false},
    };
    for (const auto& r : rows) {
        EXPECT_EQ(call_id_valid(r.value), r.valid) << r.value;
    }
}

} // namespace
} // namespace sipredir::sip
