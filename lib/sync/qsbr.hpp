// SPDX-License-Identifier: BSD-3-Clause
// Quiescent-state-based reclamation, the scheme of DPDK's rte_rcu_qsbr in plain C++ atomics so
// that lib/ needs no DPDK. Readers (workers) report a quiescent state when they hold no reference
// to shared data (at the end of each loop iteration); the writer (control) starts a grace period
// and frees what it retired once every online reader has reported since.
#pragma once

#include "cache_line.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace sipredir::sync {

inline constexpr std::size_t max_readers = 64;

class qsbr {
public:
    using token = std::uint64_t;

    // `readers`: how many reader ids (0 .. readers-1) there are, at most max_readers. Every
    // reader starts offline.
    explicit qsbr(std::size_t readers) noexcept;

    // Reader side: each reader calls these with its own id only. No lock, no allocation.
    void online(std::size_t reader) noexcept;
    void offline(std::size_t reader) noexcept;
    void quiescent(std::size_t reader) noexcept;

    // Writer side (one writer). start() opens a grace period after the caller unlinked or
    // replaced what it wants to free; check(t) is true once every reader that was online has
    // passed a quiescent state since (offline readers hold nothing and do not count).
    token start() noexcept;
    bool check(token t) const noexcept;

    std::size_t readers() const noexcept { return _readers; }

private:
    static constexpr token offline_mark = 0;
    // Online, not yet past any grace period: below every token start() returns (2 and up).
    static constexpr token online_mark = 1;

    struct alignas(cache_line) reader_slot {
        // writer: own reader; readers: control (check); sync: release/acquire
        std::atomic<token> seen{offline_mark};
    };

    // writer: control (start); readers: all readers; sync: release/acquire
    alignas(cache_line) std::atomic<token> _token{1};
    std::array<reader_slot, max_readers> _slots;
    std::size_t _readers; // writer: init; readers: all; sync: thread start
};

static_assert(std::atomic<qsbr::token>::is_always_lock_free);

} // namespace sipredir::sync
