// SPDX-License-Identifier: BSD-3-Clause
#include "exception_path.hpp"

#include "port.hpp"

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <control/interface_setup.hpp>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace sipredir::app {

namespace {

constexpr unsigned pump_burst = 64;

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
    if (const std::string error = control::configure_interface(c.exception.tap, c.exception);
        !error.empty()) {
        throw std::runtime_error("exception path: " + error);
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
