// SPDX-License-Identifier: BSD-3-Clause
#include "interface_setup.hpp"

#include "address_text.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace sipredir::control {

namespace {

// A request under construction: the netlink header, the family's fixed header, attributes.
class request {
public:
    request(std::uint16_t type, std::uint16_t flags, std::uint32_t seq) {
        nlmsghdr h{};
        h.nlmsg_type = type;
        h.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
        h.nlmsg_seq = seq;
        append(&h, sizeof h);
    }

    template <typename Header> void header(const Header& h) { append(&h, sizeof h); }

    void attribute(std::uint16_t type, const void* data, std::size_t size) {
        rtattr a{};
        a.rta_type = type;
        a.rta_len = static_cast<std::uint16_t>(RTA_LENGTH(size));
        append(&a, sizeof a);
        append(data, size);
    }

    // The finished message, its length in its header.
    std::vector<std::uint8_t> done() {
        const auto length = static_cast<std::uint32_t>(_bytes.size());
        std::memcpy(_bytes.data() + offsetof(nlmsghdr, nlmsg_len), &length, sizeof length);
        return std::move(_bytes);
    }

private:
    // Every part starts 4-aligned (NLMSG_ALIGN, RTA_ALIGN): pad with zeros after each.
    void append(const void* data, std::size_t size) {
        const auto* p = static_cast<const std::uint8_t*>(data);
        _bytes.insert(_bytes.end(), p, p + size);
        _bytes.resize(NLMSG_ALIGN(_bytes.size()), 0);
    }

    std::vector<std::uint8_t> _bytes;
};

unsigned char family_of(const net::ip_address& a) {
    return a.family == net::ip_family::v4 ? AF_INET : AF_INET6;
}

std::size_t size_of(const net::ip_address& a) {
    return a.family == net::ip_family::v4 ? 4 : 16;
}

std::string prefix_text(const interface_address& a) {
    return ip_text(a.address) + "/" + std::to_string(a.prefix);
}

class netlink_socket {
public:
    netlink_socket() : _fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {}
    ~netlink_socket() {
        if (_fd >= 0) {
            ::close(_fd);
        }
    }
    netlink_socket(const netlink_socket&) = delete;
    netlink_socket& operator=(const netlink_socket&) = delete;

    // "" when the socket is usable, else why not.
    std::string open_error() const {
        if (_fd < 0) {
            return std::string("cannot open an rtnetlink socket: ") + std::strerror(errno);
        }
        // A kernel that never answers must not hang the start.
        const timeval wait{.tv_sec = 5, .tv_usec = 0};
        if (::setsockopt(_fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait) != 0) {
            return std::string("cannot set an rtnetlink timeout: ") + std::strerror(errno);
        }
        return "";
    }

    // Sends `message` (sequence `seq`) and waits for its acknowledgement: 0, or the errno the
    // kernel (or the socket) failed with.
    int exchange(const std::vector<std::uint8_t>& message, std::uint32_t seq) {
        sockaddr_nl kernel{};
        kernel.nl_family = AF_NETLINK;
        if (::sendto(
                    _fd,
                    message.data(),
                    message.size(),
                    0,
                    reinterpret_cast<const sockaddr*>(&kernel),
                    sizeof kernel
            )
            < 0) {
            return errno;
        }
        std::array<std::uint8_t, 8192> reply{};
        for (;;) {
            const ssize_t n = ::recv(_fd, reply.data(), reply.size(), 0);
            if (n < 0) {
                return errno == EAGAIN ? ETIMEDOUT : errno;
            }
            if (const std::optional<int> status =
                        ack_status({reply.data(), static_cast<std::size_t>(n)}, seq)) {
                return *status;
            }
        }
    }

private:
    int _fd;
};

} // namespace

std::vector<std::uint8_t> link_up_request(int ifindex, std::uint32_t seq) {
    request r(RTM_NEWLINK, 0, seq);
    ifinfomsg i{};
    i.ifi_family = AF_UNSPEC;
    i.ifi_index = ifindex;
    i.ifi_flags = IFF_UP;
    i.ifi_change = IFF_UP;
    r.header(i);
    return r.done();
}

std::vector<std::uint8_t>
address_request(int ifindex, const interface_address& a, std::uint32_t seq) {
    request r(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, seq);
    ifaddrmsg m{};
    m.ifa_family = family_of(a.address);
    m.ifa_prefixlen = a.prefix;
    // The appliance's own address, set by its operator: no duplicate address detection
    // (RFC 4862 §5.4), which would hold it tentative, and the probes back, for a second.
    m.ifa_flags = a.address.family == net::ip_family::v6 ? IFA_F_NODAD : 0;
    m.ifa_scope = RT_SCOPE_UNIVERSE;
    m.ifa_index = static_cast<std::uint32_t>(ifindex);
    r.header(m);
    r.attribute(IFA_LOCAL, a.address.bytes.data(), size_of(a.address));
    r.attribute(IFA_ADDRESS, a.address.bytes.data(), size_of(a.address));
    return r.done();
}

std::vector<std::uint8_t>
route_request(int ifindex, const interface_route& route, std::uint32_t seq) {
    request r(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, seq);
    rtmsg m{};
    m.rtm_family = family_of(route.to.address);
    m.rtm_dst_len = route.to.prefix;
    m.rtm_table = RT_TABLE_MAIN;
    m.rtm_protocol = RTPROT_STATIC;
    m.rtm_scope = RT_SCOPE_UNIVERSE;
    m.rtm_type = RTN_UNICAST;
    r.header(m);
    if (route.to.prefix != 0) {
        r.attribute(RTA_DST, route.to.address.bytes.data(), size_of(route.to.address));
    }
    r.attribute(RTA_GATEWAY, route.via.bytes.data(), size_of(route.via));
    const auto oif = static_cast<std::uint32_t>(ifindex);
    r.attribute(RTA_OIF, &oif, sizeof oif);
    return r.done();
}

std::optional<int> ack_status(std::span<const std::uint8_t> reply, std::uint32_t seq) {
    std::size_t at = 0;
    while (reply.size() - at >= sizeof(nlmsghdr)) {
        nlmsghdr h{};
        std::memcpy(&h, reply.data() + at, sizeof h);
        if (h.nlmsg_len < sizeof h || h.nlmsg_len > reply.size() - at) {
            return std::nullopt;
        }
        if (h.nlmsg_seq == seq && h.nlmsg_type == NLMSG_ERROR
            && h.nlmsg_len >= NLMSG_LENGTH(sizeof(nlmsgerr))) {
            nlmsgerr e{};
            std::memcpy(&e, reply.data() + at + NLMSG_HDRLEN, sizeof e);
            return -e.error; // 0: an acknowledgement; else -errno
        }
        at += NLMSG_ALIGN(h.nlmsg_len);
    }
    return std::nullopt;
}

std::string configure_interface(const std::string& name, const exception_config& e) {
    const std::string where = "interface " + name + ": ";
    const int ifindex = static_cast<int>(::if_nametoindex(name.c_str()));
    if (ifindex == 0) {
        return where + "cannot find it: " + std::strerror(errno);
    }
    netlink_socket s;
    if (const std::string error = s.open_error(); !error.empty()) {
        return where + error;
    }
    std::uint32_t seq = 1;
    if (const int error = s.exchange(link_up_request(ifindex, seq), seq); error != 0) {
        return where + "cannot bring it up: " + std::strerror(error);
    }
    for (const interface_address& a : e.addresses) {
        ++seq;
        if (const int error = s.exchange(address_request(ifindex, a, seq), seq); error != 0) {
            return where + "cannot add address " + prefix_text(a) + ": " + std::strerror(error);
        }
    }
    for (const interface_route& r : e.routes) {
        ++seq;
        if (const int error = s.exchange(route_request(ifindex, r, seq), seq); error != 0) {
            return where + "cannot add route to " + prefix_text(r.to) + " via " + ip_text(r.via)
                   + ": " + std::strerror(error);
        }
    }
    return "";
}

} // namespace sipredir::control
