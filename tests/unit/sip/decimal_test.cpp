// SPDX-License-Identifier: BSD-3-Clause
// parse_decimal against the digit-by-digit definition: every value up to 10^6 and every length
// to 20 digits, followed by each kind of octet, in spans that end at the number or run past it,
// with limits that saturate. (A SWAR version, eight octets a load, was measured slower for the
// 1-4 digit numbers of ordinary requests and not kept; this test stays for whatever comes next.)
#include <gtest/gtest.h>

#include <random>
#include <sip/scan.hpp>
#include <string>

namespace sipredir::sip {
namespace {

scan::number reference(const char* p, const char* end, std::uint64_t limit) {
    scan::number n;
    const char* start = p;
    std::uint64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (v <= limit) {
            v = v * 10 + static_cast<std::uint64_t>(*p - '0');
        }
        ++p;
    }
    if (p != start) {
        n.next = p;
        n.value = v > limit ? limit + 1 : v;
    }
    return n;
}

void expect_same(const std::string& text, std::size_t span, std::uint64_t limit) {
    const char* b = text.data();
    const scan::number got = scan::parse_decimal(b, b + span, limit);
    const scan::number want = reference(b, b + span, limit);
    ASSERT_EQ(got.next, want.next) << '"' << text << "\" span " << span << " limit " << limit;
    ASSERT_EQ(got.value, want.value) << '"' << text << "\" span " << span << " limit " << limit;
}

TEST(DecimalTest, EveryValueToAMillionWithEachFollower) {
    const std::string followers[] = {"", " ", ";", "\r\n", "a", "/", ":", "\x7f", "\xff", "\x3a"};
    for (unsigned v = 0; v < 1'000'000; v += (v < 20'000 ? 1 : 7)) {
        for (const std::string& f : followers) {
            const std::string text = std::to_string(v) + f + "xxxxxxxx";
            for (const std::size_t span : {text.size(), std::to_string(v).size() + f.size()}) {
                expect_same(text, span, 65535);
                expect_same(text, span, 0xffffffffULL);
            }
        }
    }
}

TEST(DecimalTest, LongNumbersAndLeadingZerosSaturateAlike) {
    std::mt19937_64 random(7);
    for (int i = 0; i < 20'000; ++i) {
        const std::size_t length = 1 + random() % 20;
        std::string text;
        for (std::size_t k = 0; k < length; ++k) {
            text += static_cast<char>('0' + random() % 10);
        }
        text += static_cast<char>(random() % 256);
        text += "123456789";
        const std::size_t span = random() % (text.size() + 1);
        for (const std::uint64_t limit : {255ULL, 65535ULL, 1ULL << 24, 0xffffffffULL, 999ULL}) {
            expect_same(text, span, limit);
        }
    }
}

TEST(DecimalTest, NoDigitIsNoNumber) {
    const std::string text = "x12345678901234";
    EXPECT_EQ(scan::parse_decimal(text.data(), text.data() + text.size(), 100).next, nullptr);
    EXPECT_EQ(scan::parse_decimal(text.data(), text.data(), 100).next, nullptr);
}

} // namespace
} // namespace sipredir::sip
