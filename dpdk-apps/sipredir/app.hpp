// SPDX-License-Identifier: BSD-3-Clause
// The running appliance: what the main (control) lcore sets up and every worker lcore reads.
// Fields are written before the workers are launched unless their comment says otherwise.
#pragma once

#include <array>
#include <atomic>
#include <balance/load_table.hpp>
#include <balance/redirect_counters.hpp>
#include <control/config.hpp>
#include <cstdint>
#include <memory>
#include <pipeline/identity.hpp>
#include <pipeline/worker_stats.hpp>
#include <vector>

struct rte_mempool;
struct rte_ring;

namespace sipredir::app {

inline constexpr std::uint16_t no_port = 0xffff;

struct port_facts {
    std::uint16_t id = no_port;
    int socket = 0;
    std::uint16_t rx_queues = 0;
    std::uint16_t tx_queues = 0; // one per worker
    bool udp_checksum_offload = false;
    bool rx_checksum_offload = false; // the NIC verifies IPv4 and UDP checksums
    bool rss = false;
    rte_mempool* pool = nullptr;
};

struct worker_slot {
    unsigned lcore = 0;
    std::uint16_t queue = 0;
    rte_ring* to_kernel = nullptr; // writer: this worker (SP); reader: control (SC)
    // ARP and NDP for the kernel, drained before to_kernel so that a flood the filter admits
    // (ICMP, control ports) cannot delay address resolution. writer: this worker (SP); reader:
    // control (SC).
    rte_ring* to_kernel_urgent = nullptr;
    // The kernel's frames, sent by this worker on its TX queue (worker 0 only): a PMD need not
    // offer a queue beyond the workers'. writer: control (SP); reader: this worker (SC).
    rte_ring* from_kernel = nullptr;
    // Race pools' requests (src/control/race); null when no pool races. writer: this worker
    // (SP); reader: control (SC).
    rte_ring* to_race = nullptr;
};

struct appliance {
    control::appliance_config config;
    pipeline::identity identity;
    std::array<std::uint8_t, 6> own_mac{}; // the data port's; written once at start
    port_facts data;                       // the port SIP is served on
    port_facts tap;                        // the exception path's TAP (id == no_port: none)
    std::vector<worker_slot> workers;      // index = QSBR reader id = counters index
    std::unique_ptr<balance::load_table> table;
    std::unique_ptr<balance::redirect_counters> redirects;
    std::unique_ptr<pipeline::worker_stats[]> stats; // one per worker; written by its worker
    std::atomic<bool> stop{false}; // writer: control (and signal handler); readers: workers

    // Exception path counters: writer: control lcore; readers: telemetry, exit report.
    std::atomic<std::uint64_t> to_kernel{0};
    std::atomic<std::uint64_t> to_kernel_dropped{0};
    std::atomic<std::uint64_t> from_kernel_dropped{0};
    // writer: control lcore (republication); readers: telemetry
    std::atomic<std::uint64_t> generation{0};

    std::span<const pipeline::worker_stats> all_stats() const noexcept {
        return {stats.get(), workers.size()};
    }
};

} // namespace sipredir::app
