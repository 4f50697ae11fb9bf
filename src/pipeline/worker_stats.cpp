// SPDX-License-Identifier: BSD-3-Clause
#include "worker_stats.hpp"

namespace sipredir::pipeline {

namespace {

template <std::size_t N>
void add_all(std::array<std::uint64_t, N>& to, const std::array<counter, N>& from) noexcept {
    for (std::size_t i = 0; i < N; ++i) {
        to[i] += from[i].get();
    }
}

template <std::size_t N>
void add_moved(std::array<counter, N>& to, const std::array<std::uint32_t, N>& from) noexcept {
    for (std::size_t i = 0; i < N; ++i) {
        if (from[i] != 0) {
            to[i].add(from[i]);
        }
    }
}

void add_moved(counter& to, std::uint32_t n) noexcept {
    if (n != 0) {
        to.add(n);
    }
}

} // namespace

void burst_tally::add_to(worker_stats& stats) const noexcept {
    add_moved(stats.replied, replied);
    add_moved(stats.absorbed, absorbed);
    add_moved(stats.to_exception, to_exception);
    add_moved(stats.to_race, to_race);
    add_moved(stats.limited_replies, limited_replies);
    add_moved(stats.dropped, dropped);
    add_moved(stats.replies_by_code, replies_by_code);
    add_moved(stats.bad_requests, bad_requests);
}

stats_totals sum(std::span<const worker_stats> workers) noexcept {
    stats_totals t;
    for (const worker_stats& w : workers) {
        t.rx += w.rx.get();
        t.replied += w.replied.get();
        t.absorbed += w.absorbed.get();
        t.to_exception += w.to_exception.get();
        t.to_race += w.to_race.get();
        add_all(t.dropped_by_cause, w.dropped);
        add_all(t.replies_by_code, w.replies_by_code);
        add_all(t.bad_requests, w.bad_requests);
        add_all(t.latency, w.latency);
        t.latency_ns_sum += w.latency_ns_sum.get();
        t.fragments_merged += w.fragments_merged.get();
        t.idle_sleeps += w.idle_sleeps.get();
        t.busy_ns += w.busy_ns.get();
        t.from_kernel_sent += w.from_kernel_sent.get();
        t.from_kernel_tx_full += w.from_kernel_tx_full.get();
        t.limited_replies += w.limited_replies.get();
    }
    for (const std::uint64_t n : t.dropped_by_cause) {
        t.dropped += n;
    }
    return t;
}

std::uint64_t latency_percentile(const stats_totals& t, double fraction) noexcept {
    std::uint64_t total = 0;
    for (const std::uint64_t n : t.latency) {
        total += n;
    }
    if (total == 0) {
        return 0;
    }
    const auto wanted = static_cast<std::uint64_t>(fraction * static_cast<double>(total));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < t.latency.size(); ++i) {
        seen += t.latency[i];
        if (seen > wanted || seen == total) {
            return std::uint64_t{2} << i;
        }
    }
    return std::uint64_t{2} << (t.latency.size() - 1);
}

} // namespace sipredir::pipeline
