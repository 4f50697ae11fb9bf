// SPDX-License-Identifier: BSD-3-Clause
// One received frame in, its reply written over it: classify (Ethernet, VLAN, IP, UDP, our
// address and port), parse, decide, choose backends, write the response (stages.hpp). A pure
// function of its arguments plus the worker's own generator and counters: no lock, allocation or
// syscall, and no DPDK, so that it is tested on plain buffers and driven by the DPDK worker per
// mbuf.
#pragma once

#include "identity.hpp"
#include "kernel_filter.hpp"
#include "outcome.hpp"
#include "request_work.hpp"
#include "source_limiter.hpp"

#include <balance/redirect_counters.hpp>
#include <balance/snapshot.hpp>
#include <cstdint>
#include <span>

namespace sipredir::pipeline {

inline constexpr std::size_t max_pools = balance::max_pools;

// How the control core answers a request it raced (src/control/race): the pool the worker
// routed it to, and the race's winner, if there was one (else the pool's fallback chooses, or
// with `refuse`, a 503).
struct race_decision {
    std::uint16_t pool = 0;
    bool has_winner = false;
    std::uint16_t winner_slot = 0; // the winner's backend slot
    bool refuse = false;
};

// What one worker owns across frames.
struct worker_state {
    std::array<std::uint64_t, max_pools> sequence{}; // requests per pool, for wrr
    balance::worker_redirects* redirects = nullptr;  // this worker's per-backend counts
    std::span<char> scratch; // where a reply is built when the frame's tailroom is short
    std::uint16_t ipv4_id = 0;
    std::uint16_t worker = 0;          // this worker's index: its Hyperscan scratch in the ruleset
    source_limiter* limiter = nullptr; // this worker's per-source buckets; null: no limit
    std::uint64_t now_ms = 0;          // monotonic, set by the caller per burst
    icmp_bucket icmp;                  // this worker's ICMP allowance toward the kernel
    // Set by the caller for a reassembled datagram: each of its fragments took a token from
    // the source's bucket already, so the datagram takes none.
    bool source_charged = false;
    // Null in the workers: a race pool's request is handed over (disposition::to_race). The
    // control core sets it to answer such a request (rules are then not matched again).
    const race_decision* decided = nullptr;
    // The request in hand, from stage to stage; reused, never zeroed whole (request_work.hpp).
    request_work work;
};

// `room` is the writable buffer starting at the frame's first byte; the frame is its first
// `frame_size` bytes. The reply is written past the request when it fits there (the request's
// own header bytes then take the reply's headers, so nothing is copied), else through
// state.scratch to the front of `room`. `snapshot` may be null (nothing published yet: a
// redirect becomes a 503).
handled handle_frame(
        const identity& s,
        const balance::table_snapshot* snapshot,
        worker_state& state,
        std::span<std::uint8_t> room,
        std::size_t frame_size
) noexcept;

// The same with the checksum checks given per frame (those the NIC has verified are skipped).
handled handle_frame(
        const identity& s,
        const balance::table_snapshot* snapshot,
        worker_state& state,
        std::span<std::uint8_t> room,
        std::size_t frame_size,
        net::frame_checks checks
) noexcept;

} // namespace sipredir::pipeline
