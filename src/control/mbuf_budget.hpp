// SPDX-License-Identifier: BSD-3-Clause
// How many mbufs the data port's pool must hold for the worst moment: every RX and TX
// descriptor filled, every ring full, reassembly at its cap and every lcore's cache full. A
// pool smaller than that runs dry under load (the NIC then drops frames for want of an mbuf),
// so such a configuration is refused at start, with the arithmetic in the error.
#pragma once

#include "config.hpp"

#include <cstdint>
#include <string>

namespace sipredir::control {

struct mbuf_demand {
    std::uint32_t workers = 0;
    std::uint32_t lcores = 0;    // the workers and the control lcore: each has a mempool cache
    std::uint32_t rx = 0;        // per worker: RX descriptors, each always holding an mbuf
    std::uint32_t tx = 0;        // per worker: TX descriptors, holding sent mbufs until freed
    std::uint32_t rings = 0;     // per worker: exception and race ring slots
    std::uint32_t fragments = 0; // per worker: the most mbufs reassembly may hold
    std::uint32_t cache = 0;     // per lcore: the most its cache holds
    std::uint32_t shared = 0;    // the control core's race replies queued to worker 0

    std::uint64_t total() const noexcept;
    // "2 workers × (1024 rx + 1024 tx + 1023 ring + 1023 fragments) + 3 lcores × 384 cache
    // = 9340"
    std::string arithmetic() const;
};

// The per-lcore cache of a pool of `mbufs` (what the port creates it with).
std::uint32_t mempool_cache_size(std::uint32_t mbufs) noexcept;

// The most mbufs reassembly may hold, across all workers: dataplane.fragment_mbufs, or when 0,
// a quarter of the pool.
std::uint32_t fragment_mbuf_cap(const dataplane_config& d) noexcept;

// Each worker's share of that cap.
std::uint32_t fragment_mbufs_per_worker(const dataplane_config& d, std::uint32_t workers) noexcept;

// What the data port's pool must hold with `workers` worker lcores under configuration `c`.
mbuf_demand mbuf_demand_of(const appliance_config& c, std::uint32_t workers) noexcept;

// The smallest 2^n - 1 pool, at least default_mbufs, that covers mbuf_demand_of(c, workers) with
// c.dataplane.mbufs set to it (the cache and the default fragment share grow with the pool);
// 0 when none up to 2^24 - 1 does.
std::uint32_t sized_mbuf_pool(const appliance_config& c, std::uint32_t workers);

// Empty when dataplane.mbufs covers mbuf_demand_of(c, workers); else the refusal,
// "file:line: mbufs = 8191 is too small: <arithmetic> needed; ...", naming the line of
// `mbufs` (or of [dataplane], or 1).
std::string check_mbuf_pool(const appliance_config& c, std::uint32_t workers);

// Each worker's ring of ARP and NDP frames for the kernel (drained first): a few bursts.
inline constexpr std::uint32_t urgent_ring_size = 256;

} // namespace sipredir::control
