// SPDX-License-Identifier: BSD-3-Clause
#include "mbuf_budget.hpp"

#include <algorithm>

namespace sipredir::control {

namespace {

// An rte_ring of size n holds n - 1 entries.
std::uint32_t ring_slots(std::uint32_t ring_size) noexcept {
    return ring_size == 0 ? 0 : ring_size - 1;
}

std::uint32_t line_of_mbufs(const appliance_config& c) {
    for (const char* key : {"dataplane.mbufs", "dataplane"}) {
        if (const auto at = c.section_lines.find(key); at != c.section_lines.end()) {
            return at->second;
        }
    }
    return 1;
}

// The smallest 2^n - 1 pool of at least `floor` mbufs that covers its own demand (the cache
// and the default fragment share grow with the pool); 0: none below 2^24.
std::uint32_t smallest_pool(const appliance_config& c, std::uint32_t workers, std::uint32_t floor) {
    appliance_config bigger = c;
    for (std::uint32_t n = 1023; n < (1u << 24); n = n * 2 + 1) {
        bigger.dataplane.mbufs = n;
        if (n >= floor && mbuf_demand_of(bigger, workers).total() <= n) {
            return n;
        }
    }
    return 0;
}

} // namespace

std::uint64_t mbuf_demand::total() const noexcept {
    const std::uint64_t per_worker = std::uint64_t{rx} + tx + rings + fragments;
    return workers * per_worker + std::uint64_t{lcores} * cache + shared;
}

std::string mbuf_demand::arithmetic() const {
    std::string terms;
    const auto term = [&terms](std::uint32_t n, const char* what) {
        if (n != 0) {
            terms += (terms.empty() ? "" : " + ") + std::to_string(n) + " " + what;
        }
    };
    term(rx, "rx");
    term(tx, "tx");
    term(rings, "ring");
    term(fragments, "fragments");
    std::string out = std::to_string(workers) + (workers == 1 ? " worker" : " workers") + " × ("
                      + terms + ") + " + std::to_string(lcores) + " lcores × "
                      + std::to_string(cache) + " cache";
    if (shared != 0) {
        out += " + " + std::to_string(shared) + " race replies";
    }
    return out + " = " + std::to_string(total());
}

std::uint32_t mempool_cache_size(std::uint32_t mbufs) noexcept {
    return std::min<std::uint32_t>(256, mbufs / 8);
}

std::uint32_t fragment_mbuf_cap(const dataplane_config& d) noexcept {
    return d.fragment_mbufs != 0 ? d.fragment_mbufs : d.mbufs / 4;
}

std::uint32_t fragment_mbufs_per_worker(const dataplane_config& d, std::uint32_t workers) noexcept {
    return workers == 0 ? 0 : fragment_mbuf_cap(d) / workers;
}

mbuf_demand mbuf_demand_of(const appliance_config& c, std::uint32_t workers) noexcept {
    const bool exception = !c.exception.tap.empty();
    const bool races = c.any_race_pool();
    const std::uint32_t ring = ring_slots(c.exception.ring_size);
    return {
            .workers = workers,
            .lcores = workers + 1,
            .rx = c.dataplane.rx_descriptors,
            .tx = c.dataplane.tx_descriptors,
            // Each worker's rings to the kernel (exception path: ARP/NDP and the rest) and to
            // the race engine.
            .rings = (exception ? ring_slots(urgent_ring_size) + ring : 0) + (races ? ring : 0),
            .fragments = fragment_mbufs_per_worker(c.dataplane, workers),
            // DPDK lets a cache grow to 1.5 times its size before it flushes to the pool.
            .cache = mempool_cache_size(c.dataplane.mbufs) * 3 / 2,
            // Race replies reach worker 0's queue through the kernel frames' ring.
            .shared = races ? ring : 0,
    };
}

std::uint32_t sized_mbuf_pool(const appliance_config& c, std::uint32_t workers) {
    return smallest_pool(c, workers, default_mbufs);
}

std::string check_mbuf_pool(const appliance_config& c, std::uint32_t workers) {
    const mbuf_demand need = mbuf_demand_of(c, workers);
    if (need.total() <= c.dataplane.mbufs) {
        return {};
    }
    std::string out = c.source + ":" + std::to_string(line_of_mbufs(c))
                      + ": mbufs = " + std::to_string(c.dataplane.mbufs)
                      + " is too small: " + need.arithmetic() + " needed";
    // The smallest 2^n - 1 pool that would do (the cache and the default fragment cap grow
    // with the pool).
    if (const std::uint32_t n = smallest_pool(c, workers, c.dataplane.mbufs + 1); n != 0) {
        return out + "; give mbufs = " + std::to_string(n)
               + " or more, or 0 to size it at start (docs/operations.md)";
    }
    return out + " (docs/operations.md)";
}

} // namespace sipredir::control
