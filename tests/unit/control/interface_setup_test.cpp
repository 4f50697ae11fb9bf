// SPDX-License-Identifier: BSD-3-Clause
// The rtnetlink requests that address the exception path's TAP, read back field by field, and
// the reading of the kernel's acknowledgements. Nothing is sent: no privilege needed.
#include <gtest/gtest.h>

#include <control/interface_setup.hpp>
#include <cstring>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <map>
#include <net/if.h>
#include <sys/socket.h>
#include <vector>

using namespace sipredir;
using namespace sipredir::control;

namespace {

template <typename T> T at(const std::vector<std::uint8_t>& m, std::size_t offset) {
    T out{};
    EXPECT_LE(offset + sizeof out, m.size());
    std::memcpy(&out, m.data() + offset, sizeof out);
    return out;
}

// The attributes after the fixed header of size `fixed`, by type; each must be well formed.
std::map<int, std::vector<std::uint8_t>>
attributes(const std::vector<std::uint8_t>& m, std::size_t fixed) {
    std::map<int, std::vector<std::uint8_t>> out;
    std::size_t offset = NLMSG_HDRLEN + NLMSG_ALIGN(fixed);
    while (offset < m.size()) {
        const auto a = at<rtattr>(m, offset);
        EXPECT_GE(a.rta_len, sizeof(rtattr));
        EXPECT_LE(offset + a.rta_len, m.size());
        if (a.rta_len < sizeof(rtattr) || offset + a.rta_len > m.size()) {
            break;
        }
        const auto* data = m.data() + offset + RTA_LENGTH(0);
        out[a.rta_type].assign(data, data + a.rta_len - RTA_LENGTH(0));
        offset += RTA_ALIGN(a.rta_len);
    }
    EXPECT_EQ(offset, m.size());
    return out;
}

std::vector<std::uint8_t> bytes_of(const net::ip_address& a) {
    const std::size_t n = a.family == net::ip_family::v4 ? 4 : 16;
    return {a.bytes.begin(), a.bytes.begin() + static_cast<std::ptrdiff_t>(n)};
}

void expect_header(const std::vector<std::uint8_t>& m, int type, int flags, std::uint32_t seq) {
    const auto h = at<nlmsghdr>(m, 0);
    EXPECT_EQ(h.nlmsg_len, m.size());
    EXPECT_EQ(m.size() % 4, 0u);
    EXPECT_EQ(h.nlmsg_type, type);
    EXPECT_EQ(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | flags);
    EXPECT_EQ(h.nlmsg_seq, seq);
}

net::ip_address v6(std::string_view text) {
    net::ip_address a;
    EXPECT_TRUE(net::parse_ip(text, a)) << text;
    return a;
}

// A reply holding one NLMSG_ERROR for `seq` carrying `error` (0: an acknowledgement).
std::vector<std::uint8_t> error_reply(std::uint32_t seq, int error) {
    std::vector<std::uint8_t> m(NLMSG_LENGTH(sizeof(nlmsgerr)));
    nlmsghdr h{};
    h.nlmsg_len = static_cast<std::uint32_t>(m.size());
    h.nlmsg_type = NLMSG_ERROR;
    h.nlmsg_seq = seq;
    nlmsgerr e{};
    e.error = error;
    std::memcpy(m.data(), &h, sizeof h);
    std::memcpy(m.data() + NLMSG_HDRLEN, &e, sizeof e);
    return m;
}

} // namespace

TEST(interface_setup, link_up_sets_only_iff_up) {
    const std::vector<std::uint8_t> m = link_up_request(7, 1);
    expect_header(m, RTM_NEWLINK, 0, 1);
    const auto i = at<ifinfomsg>(m, NLMSG_HDRLEN);
    EXPECT_EQ(i.ifi_index, 7);
    EXPECT_EQ(i.ifi_flags, unsigned{IFF_UP});
    EXPECT_EQ(i.ifi_change, unsigned{IFF_UP});
    EXPECT_EQ(m.size(), NLMSG_LENGTH(sizeof(ifinfomsg)));
}

TEST(interface_setup, address_requests_carry_the_address_and_prefix) {
    struct address_case {
        const char* name;
        interface_address address;
        int family;
        int flags;
    };
    const address_case cases[] = {
            {"IPv4", {net::ip_address::v4(198, 18, 0, 1), 24}, AF_INET, 0},
            {"IPv6, without DAD", {v6("2001:db8::1"), 64}, AF_INET6, IFA_F_NODAD},
    };
    for (const address_case& c : cases) {
        SCOPED_TRACE(c.name);
        const std::vector<std::uint8_t> m = address_request(9, c.address, 42);
        expect_header(m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, 42);
        const auto a = at<ifaddrmsg>(m, NLMSG_HDRLEN);
        EXPECT_EQ(a.ifa_family, c.family);
        EXPECT_EQ(a.ifa_prefixlen, c.address.prefix);
        EXPECT_EQ(a.ifa_flags, c.flags);
        EXPECT_EQ(a.ifa_scope, RT_SCOPE_UNIVERSE);
        EXPECT_EQ(a.ifa_index, 9u);
        const auto attrs = attributes(m, sizeof(ifaddrmsg));
        ASSERT_EQ(attrs.size(), 2u);
        EXPECT_EQ(attrs.at(IFA_LOCAL), bytes_of(c.address.address));
        EXPECT_EQ(attrs.at(IFA_ADDRESS), bytes_of(c.address.address));
    }
}

TEST(interface_setup, route_requests_carry_destination_gateway_and_interface) {
    struct route_case {
        const char* name;
        interface_route route;
        int family;
        bool has_destination;
    };
    const route_case cases[] = {
            {"IPv4 subnet",
             {{net::ip_address::v4(198, 18, 4, 0), 24}, net::ip_address::v4(198, 18, 0, 254)},
             AF_INET,
             true},
            {"IPv4 default",
             {{net::ip_address::v4(0, 0, 0, 0), 0}, net::ip_address::v4(198, 18, 0, 254)},
             AF_INET,
             false},
            {"IPv6 subnet", {{v6("2001:db8:5::"), 48}, v6("2001:db8::fe")}, AF_INET6, true},
    };
    for (const route_case& c : cases) {
        SCOPED_TRACE(c.name);
        const std::vector<std::uint8_t> m = route_request(3, c.route, 5);
        expect_header(m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, 5);
        const auto r = at<rtmsg>(m, NLMSG_HDRLEN);
        EXPECT_EQ(r.rtm_family, c.family);
        EXPECT_EQ(r.rtm_dst_len, c.route.to.prefix);
        EXPECT_EQ(r.rtm_table, RT_TABLE_MAIN);
        EXPECT_EQ(r.rtm_type, RTN_UNICAST);
        EXPECT_EQ(r.rtm_scope, RT_SCOPE_UNIVERSE);
        const auto attrs = attributes(m, sizeof(rtmsg));
        EXPECT_EQ(attrs.count(RTA_DST), c.has_destination ? 1u : 0u);
        if (c.has_destination) {
            EXPECT_EQ(attrs.at(RTA_DST), bytes_of(c.route.to.address));
        }
        EXPECT_EQ(attrs.at(RTA_GATEWAY), bytes_of(c.route.via));
        std::uint32_t oif = 0;
        ASSERT_EQ(attrs.at(RTA_OIF).size(), sizeof oif);
        std::memcpy(&oif, attrs.at(RTA_OIF).data(), sizeof oif);
        EXPECT_EQ(oif, 3u);
    }
}

TEST(interface_setup, ack_status_reads_the_answer_to_its_request) {
    EXPECT_EQ(ack_status(error_reply(4, 0), 4), 0);
    EXPECT_EQ(ack_status(error_reply(4, -EEXIST), 4), EEXIST);
    EXPECT_EQ(ack_status(error_reply(3, -EPERM), 4), std::nullopt) << "another request's";
    std::vector<std::uint8_t> two = error_reply(3, -EPERM);
    const std::vector<std::uint8_t> mine = error_reply(4, -EACCES);
    two.insert(two.end(), mine.begin(), mine.end());
    EXPECT_EQ(ack_status(two, 4), EACCES) << "the second message of a reply";
    std::vector<std::uint8_t> cut = error_reply(4, 0);
    cut.resize(cut.size() - 2);
    EXPECT_EQ(ack_status(cut, 4), std::nullopt) << "a truncated message is no answer";
    EXPECT_EQ(ack_status({}, 4), std::nullopt);
}

TEST(interface_setup, a_missing_interface_is_named_in_the_error) {
    exception_config e;
    e.addresses.push_back({net::ip_address::v4(198, 18, 0, 1), 24});
    const std::string error = configure_interface("sr-no-such0", e);
    EXPECT_EQ(error.rfind("interface sr-no-such0: cannot find it", 0), 0u) << error;
}
