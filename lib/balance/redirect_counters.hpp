// SPDX-License-Identifier: BSD-3-Clause
// Redirects issued per backend, counted by each worker on its own cache lines and folded by the
// control thread into the load estimate between load reports.
#pragma once

#include "pool_config.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <sync/cache_line.hpp>
#include <vector>

namespace sipredir::balance {

struct alignas(sync::cache_line) worker_redirects {
    // writer: own worker; readers: control; sync: relaxed
    std::array<std::atomic<std::uint64_t>, max_backends> total{};
    // 302s sent for each pool (by its index in the configuration). A backend may serve several
    // pools, so these are not sums of `total`. writer: own worker; readers: control; sync: relaxed
    std::array<std::atomic<std::uint64_t>, max_pools> by_pool{};

    // Single writer: a plain load and store, not a locked read-modify-write.
    void add(std::uint16_t slot, std::uint64_t n) noexcept { bump(total[slot], n); }
    void add_to_pool(std::size_t pool, std::uint64_t n) noexcept { bump(by_pool[pool], n); }

private:
    static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n) noexcept {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
};

class redirect_counters {
public:
    explicit redirect_counters(std::size_t workers)
        : _workers(std::make_unique<worker_redirects[]>(workers)), _n(workers),
          _folded(max_backends, 0) {}

    // Worker side: this worker's own counters.
    worker_redirects& of(std::size_t worker) noexcept { return _workers[worker]; }

    // Any reader: every redirect issued to `slot` so far, summed over workers.
    std::uint64_t total(std::size_t slot) const noexcept {
        std::uint64_t sum = 0;
        for (std::size_t w = 0; w < _n; ++w) {
            sum += _workers[w].total[slot].load(std::memory_order_relaxed);
        }
        return sum;
    }

    // Any reader: every 302 sent for pool `pool` so far, summed over workers.
    std::uint64_t pool_total(std::size_t pool) const noexcept {
        std::uint64_t sum = 0;
        for (std::size_t w = 0; w < _n; ++w) {
            sum += _workers[w].by_pool[pool].load(std::memory_order_relaxed);
        }
        return sum;
    }

    // Control side: redirects per slot since the previous call (sums over workers; each
    // worker's total only grows, so the difference is exact even while workers count).
    std::vector<std::uint64_t> take_new() {
        std::vector<std::uint64_t> delta(max_backends, 0);
        for (std::size_t slot = 0; slot < max_backends; ++slot) {
            std::uint64_t sum = 0;
            for (std::size_t w = 0; w < _n; ++w) {
                sum += _workers[w].total[slot].load(std::memory_order_relaxed);
            }
            delta[slot] = sum - _folded[slot];
            _folded[slot] = sum;
        }
        return delta;
    }

private:
    std::unique_ptr<worker_redirects[]> _workers; // writer: init; readers: all; sync: thread start
    std::size_t _n;                               // writer: init; readers: all; sync: thread start
    std::vector<std::uint64_t> _folded;           // control only: totals at the last take_new
};

// Control side: adds new redirects to each backend's count since its last report.
inline void fold_redirects(std::span<backend_facts> facts, std::span<const std::uint64_t> delta) {
    for (std::size_t slot = 0; slot < facts.size() && slot < delta.size(); ++slot) {
        facts[slot].redirects_since_report += delta[slot];
    }
}

// Control side: a fresh load report resets the count of redirects not yet reflected in it.
inline void take_report(backend_facts& f, double calls, std::int64_t now_ns) {
    f.reported_calls = calls;
    f.reported_at_ns = now_ns;
    f.redirects_since_report = 0;
}

} // namespace sipredir::balance
