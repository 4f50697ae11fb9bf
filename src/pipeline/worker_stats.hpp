// SPDX-License-Identifier: BSD-3-Clause
// Per-worker counters, each worker's on its own cache lines: a worker only ever writes its own,
// with a plain load and store (no locked instruction); the control thread, telemetry and the
// exit report read them relaxed and sum over workers.
#pragma once

#include "outcome.hpp"

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <sip/defect.hpp>
#include <span>
#include <sync/cache_line.hpp>

namespace sipredir::pipeline {

// One single-writer counter.
struct counter {
    std::atomic<std::uint64_t> value{0}; // writer: the owning worker; readers: any; sync: relaxed

    void add(std::uint64_t n) noexcept {
        value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return value.load(std::memory_order_relaxed); }
};

// Latency from RX burst to TX burst, in power-of-two nanosecond buckets: bucket i counts
// [2^i, 2^(i+1)) ns, bucket 0 also counts 0 ns.
inline constexpr std::size_t latency_buckets = 32;

constexpr std::size_t latency_bucket(std::uint64_t ns) {
    const std::size_t b = ns == 0 ? 0 : static_cast<std::size_t>(std::bit_width(ns) - 1);
    return b < latency_buckets ? b : latency_buckets - 1;
}

struct alignas(sync::cache_line) worker_stats {
    counter rx;           // frames received
    counter replied;      // responses sent
    counter absorbed;     // ACKs taken without a reply
    counter to_exception; // frames handed to the kernel
    counter to_race;      // race pool requests handed to the control core
    std::array<counter, drop_cause_count> dropped;
    std::array<counter, reply_code_slots> replies_by_code;
    std::array<counter, sip::defect_table.size()> bad_requests; // 400s, by the defect named
    std::array<counter, latency_buckets> latency;               // frames, by RX-to-TX time
    counter latency_ns_sum;   // RX-to-TX time summed over those frames: the histogram's exact sum
    counter fragments_merged; // fragments that became part of a reassembled datagram, but one
    counter idle_sleeps;      // lab mode: times the worker slept for want of traffic
    counter busy_ns;          // time in polls that received frames (the rest is idle polling)
    counter from_kernel_sent; // exception path: the kernel's frames sent on this queue
    counter from_kernel_tx_full; // ... and those the TX queue did not take
    counter limited_replies;     // 503s sent because the source was over its rate limit

    void drop(drop_cause c, std::uint64_t n = 1) noexcept {
        dropped[static_cast<std::size_t>(c)].add(n);
    }

    // Counts a frame's fate. A reply is recorded once it is on the wire: the caller records
    // a reply the TX queue refused as dropped(tx_full) instead.
    void record(const handled& h) noexcept;
};

// One burst's counts, kept by the worker in a local and added to its counters once per burst
// (a counter's store is then one per burst, not one per frame).
struct burst_tally {
    std::uint32_t replied = 0;
    std::uint32_t absorbed = 0;
    std::uint32_t to_exception = 0;
    std::uint32_t to_race = 0;
    std::uint32_t limited_replies = 0;
    std::array<std::uint32_t, drop_cause_count> dropped{};
    std::array<std::uint32_t, reply_code_slots> replies_by_code{};
    std::array<std::uint32_t, sip::defect_table.size()> bad_requests{};

    void drop(drop_cause c, std::uint32_t n = 1) noexcept {
        dropped[static_cast<std::size_t>(c)] += n;
    }

    // As worker_stats::record.
    void record(const handled& h) noexcept;

    // Adds the burst's counts to the worker's (only those that moved).
    void add_to(worker_stats& stats) const noexcept;
};

namespace detail {

inline void bump(counter& c) noexcept {
    c.add(1);
}
inline void bump(std::uint32_t& n) noexcept {
    ++n;
}

// A frame's fate into `counts`: a worker's counters, or a burst's tally of them (the same
// fields, plain integers). One switch for both, so the two cannot count differently.
template <typename Counts> void record_fate(Counts& counts, const handled& h) noexcept {
    switch (h.what) {
    case disposition::replied:
        bump(counts.replied);
        bump(counts.replies_by_code[code_slot(h.code)]);
        if (h.code == 400) {
            bump(counts.bad_requests[static_cast<std::size_t>(h.why)]);
        }
        if (h.source_limited) {
            bump(counts.limited_replies);
        }
        break;
    case disposition::absorbed:
        bump(counts.absorbed);
        break;
    case disposition::to_exception:
        bump(counts.to_exception);
        break;
    case disposition::to_race:
        bump(counts.to_race);
        break;
    case disposition::dropped:
        counts.drop(h.cause);
        break;
    case disposition::fragment:
        break; // counted when its datagram completes or is given up
    }
}

} // namespace detail

inline void worker_stats::record(const handled& h) noexcept {
    detail::record_fate(*this, h);
}

inline void burst_tally::record(const handled& h) noexcept {
    detail::record_fate(*this, h);
}

// Sums of every worker's counters, read at one moment (each counter exact; the set not atomic).
struct stats_totals {
    std::uint64_t rx = 0;
    std::uint64_t replied = 0;
    std::uint64_t absorbed = 0;
    std::uint64_t to_exception = 0;
    std::uint64_t to_race = 0;
    std::uint64_t dropped = 0;
    std::array<std::uint64_t, drop_cause_count> dropped_by_cause{};
    std::array<std::uint64_t, reply_code_slots> replies_by_code{};
    std::array<std::uint64_t, sip::defect_table.size()> bad_requests{};
    std::array<std::uint64_t, latency_buckets> latency{};
    std::uint64_t latency_ns_sum = 0;
    std::uint64_t fragments_merged = 0;
    std::uint64_t idle_sleeps = 0;
    std::uint64_t busy_ns = 0;
    std::uint64_t from_kernel_sent = 0;
    std::uint64_t from_kernel_tx_full = 0;
    std::uint64_t limited_replies = 0;

    // Every received frame is accounted for once (fragments merged into one datagram count
    // once, as that datagram).
    bool balanced() const noexcept {
        return rx == replied + absorbed + to_exception + to_race + dropped + fragments_merged;
    }
};

stats_totals sum(std::span<const worker_stats> workers) noexcept;

// The latency below which `fraction` (0..1) of the frames fell: the upper edge of the bucket
// that crosses it, in ns (0 when nothing was counted).
std::uint64_t latency_percentile(const stats_totals& t, double fraction) noexcept;

} // namespace sipredir::pipeline
