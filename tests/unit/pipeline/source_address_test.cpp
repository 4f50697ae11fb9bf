// SPDX-License-Identifier: BSD-3-Clause
// Which request sources the workers answer: a table of addresses and ports no reply can go to,
// and their neighbours that can.
#include <gtest/gtest.h>

#include <net/ip_address.hpp>
#include <pipeline/source_address.hpp>
#include <string_view>

using namespace sipredir;

namespace {

struct source_case {
    std::string_view address;
    std::uint16_t port;
    bool answerable;
};

constexpr source_case cases[] = {
        {"198.18.0.2", 5060, true},
        {"198.18.0.2", 0, false}, // port 0
        {"0.0.0.0", 5060, false},
        {"0.1.2.3", 5060, false}, // 0/8
        {"1.0.0.0", 5060, true},
        {"127.0.0.1", 5060, false},
        {"127.255.255.254", 5060, false},
        {"126.255.255.255", 5060, true},
        {"128.0.0.1", 5060, true},
        {"224.0.0.1", 5060, false}, // multicast
        {"239.255.255.250", 1900, false},
        {"223.255.255.255", 5060, true},
        {"240.0.0.1", 5060, false}, // reserved
        {"255.255.255.255", 5060, false},
        {"2001:db8::2", 5060, true},
        {"2001:db8::2", 0, false},
        {"::", 5060, false},
        {"::1", 5060, false},
        {"::2", 5060, true},
        {"ff02::1", 5060, false},
        {"ff0e::101", 5060, false},
        {"fe80::1", 5060, true},
        {"::ffff:127.0.0.1", 5060, false},
        {"::ffff:0.0.0.0", 5060, false},
        {"::ffff:224.0.0.1", 5060, false},
        {"::ffff:198.18.0.2", 5060, true},
        {"1::", 5060, true},
};

} // namespace

TEST(source_address, sources_no_reply_can_go_to_are_not_answered) {
    for (const source_case& c : cases) {
        net::ip_address ip;
        ASSERT_TRUE(net::parse_ip(c.address, ip)) << c.address;
        EXPECT_EQ(pipeline::answerable_source(ip, c.port), c.answerable)
                << c.address << " port " << c.port;
    }
}
