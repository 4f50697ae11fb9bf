// SPDX-License-Identifier: BSD-3-Clause
#include "exception_path.hpp"

#include "port.hpp"

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sipredir::app {

namespace {

constexpr unsigned pump_burst = 64;

// The kernel's in6_ifreq (linux/ipv6.h), which clashes with netinet/in.h if included.
struct in6_ifreq_compat {
    in6_addr addr;
    std::uint32_t prefixlen;
    int ifindex;
};

class socket_fd {
public:
    explicit socket_fd(int family) : _fd(::socket(family, SOCK_DGRAM, 0)) {
        if (_fd < 0) {
            throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
        }
    }
    ~socket_fd() { ::close(_fd); }
    socket_fd(const socket_fd&) = delete;
    socket_fd& operator=(const socket_fd&) = delete;
    int get() const noexcept { return _fd; }

private:
    int _fd;
};

[[noreturn]] void fail(const std::string& iface, const std::string& what) {
    throw std::runtime_error("exception path " + iface + ": " + what + ": " + std::strerror(errno));
}

void add_address(const std::string& iface, const control::interface_address& a) {
    if (a.address.family == net::ip_family::v4) {
        socket_fd s(AF_INET);
        ifreq r{};
        std::strncpy(r.ifr_name, iface.c_str(), IFNAMSIZ - 1);
        auto* sin = reinterpret_cast<sockaddr_in*>(&r.ifr_addr);
        sin->sin_family = AF_INET;
        std::memcpy(&sin->sin_addr, a.address.bytes.data(), 4);
        if (ioctl(s.get(), SIOCSIFADDR, &r) != 0) {
            fail(iface, "cannot set an IPv4 address");
        }
        sin->sin_addr.s_addr = a.prefix == 0 ? 0 : htonl(~std::uint32_t{0} << (32 - a.prefix));
        if (ioctl(s.get(), SIOCSIFNETMASK, &r) != 0) {
            fail(iface, "cannot set an IPv4 netmask");
        }
        return;
    }
    socket_fd s(AF_INET6);
    in6_ifreq_compat r{};
    std::memcpy(&r.addr, a.address.bytes.data(), 16);
    r.prefixlen = a.prefix;
    r.ifindex = static_cast<int>(if_nametoindex(iface.c_str()));
    if (r.ifindex == 0 || ioctl(s.get(), SIOCSIFADDR, &r) != 0) {
        fail(iface, "cannot set an IPv6 address");
    }
}

void set_up(const std::string& iface) {
    socket_fd s(AF_INET);
    ifreq r{};
    std::strncpy(r.ifr_name, iface.c_str(), IFNAMSIZ - 1);
    if (ioctl(s.get(), SIOCGIFFLAGS, &r) != 0) {
        fail(iface, "cannot read the interface flags");
    }
    r.ifr_flags = static_cast<short>(r.ifr_flags | IFF_UP | IFF_RUNNING);
    if (ioctl(s.get(), SIOCSIFFLAGS, &r) != 0) {
        fail(iface, "cannot bring the interface up");
    }
}

} // namespace

port_facts start_tap(const control::appliance_config& c, const std::array<std::uint8_t, 6>& mac) {
    char mac_text[18];
    std::snprintf(
            mac_text,
            sizeof mac_text,
            "%02x:%02x:%02x:%02x:%02x:%02x",
            mac[0],
            mac[1],
            mac[2],
            mac[3],
            mac[4],
            mac[5]
    );
    const std::string name = "net_tap_sipredir";
    const std::string args = "iface=" + c.exception.tap + ",mac=" + mac_text;
    if (rte_vdev_init(name.c_str(), args.c_str()) != 0) {
        throw std::runtime_error(
                "exception path: cannot create TAP " + c.exception.tap
                + " (net_tap needs root and /dev/net/tun)"
        );
    }
    std::uint16_t port = no_port;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0) {
        throw std::runtime_error("exception path: TAP port not found after creation");
    }
    port_facts p = start_port(port, 1, 1, c, false, "tap_pool");
    set_up(c.exception.tap);
    for (const control::interface_address& a : c.exception.addresses) {
        add_address(c.exception.tap, a);
    }
    return p;
}

unsigned pump_exception_path(appliance& app) {
    if (app.tap.id == no_port) {
        return 0;
    }
    std::array<rte_mbuf*, pump_burst> burst{};
    unsigned moved = 0;
    const auto pump_ring = [&](rte_ring* ring) {
        const unsigned n = rte_ring_sc_dequeue_burst(
                ring, reinterpret_cast<void**>(burst.data()), pump_burst, nullptr
        );
        if (n == 0) {
            return;
        }
        const std::uint16_t sent =
                rte_eth_tx_burst(app.tap.id, 0, burst.data(), static_cast<std::uint16_t>(n));
        app.to_kernel.fetch_add(sent, std::memory_order_relaxed);
        app.to_kernel_dropped.fetch_add(n - sent, std::memory_order_relaxed);
        for (unsigned i = sent; i < n; ++i) {
            rte_pktmbuf_free(burst[i]);
        }
        moved += n;
    };
    // ARP and NDP of every worker first: they keep the appliance reachable.
    for (const worker_slot& w : app.workers) {
        pump_ring(w.to_kernel_urgent);
    }
    for (const worker_slot& w : app.workers) {
        pump_ring(w.to_kernel);
    }
    const std::uint16_t n = rte_eth_rx_burst(app.tap.id, 0, burst.data(), pump_burst);
    if (n != 0) {
        // Worker 0 sends them on its own TX queue.
        const unsigned queued = rte_ring_sp_enqueue_burst(
                app.workers[0].from_kernel, reinterpret_cast<void* const*>(burst.data()), n, nullptr
        );
        app.from_kernel_dropped.fetch_add(n - queued, std::memory_order_relaxed);
        for (unsigned i = queued; i < n; ++i) {
            rte_pktmbuf_free(burst[i]);
        }
        moved += n;
    }
    return moved;
}

void drain_exception_rings(appliance& app) {
    for (const worker_slot& w : app.workers) {
        void* m = nullptr;
        for (rte_ring* ring : {w.to_kernel_urgent, w.to_kernel}) {
            while (ring != nullptr && rte_ring_sc_dequeue(ring, &m) == 0) {
                rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
                app.to_kernel_dropped.fetch_add(1, std::memory_order_relaxed);
            }
        }
        while (w.from_kernel != nullptr && rte_ring_sc_dequeue(w.from_kernel, &m) == 0) {
            rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
            app.from_kernel_dropped.fetch_add(1, std::memory_order_relaxed);
        }
    }
}

} // namespace sipredir::app
