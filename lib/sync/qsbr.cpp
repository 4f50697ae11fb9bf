// SPDX-License-Identifier: BSD-3-Clause
#include "qsbr.hpp"

#include <cassert>

namespace sipredir::sync {

qsbr::qsbr(std::size_t readers) noexcept : _readers(readers) {
    assert(readers <= max_readers);
}

void qsbr::online(std::size_t reader) noexcept {
    // Report the current token before the first read of shared data: the fence keeps the
    // reader's later loads from moving above this store (as rte_rcu_qsbr_thread_online does).
    _slots[reader].seen.store(_token.load(std::memory_order_acquire), std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

void qsbr::offline(std::size_t reader) noexcept {
    // release: every read of shared data before going offline happens-before the writer's
    // check that sees the mark.
    _slots[reader].seen.store(offline_mark, std::memory_order_release);
}

void qsbr::quiescent(std::size_t reader) noexcept {
    // acquire: pairs with the release in start(); the reader's later loads of a published
    // pointer then see what the writer published before starting this grace period.
    const token t = _token.load(std::memory_order_acquire);
    // Store only when it changed, so an idle reader never dirties the writer's cache line.
    if (_slots[reader].seen.load(std::memory_order_relaxed) != t) {
        // release: this reader's reads of the old data happen-before the writer's check.
        _slots[reader].seen.store(t, std::memory_order_release);
    }
}

qsbr::token qsbr::start() noexcept {
    // release: the writer's unlink/replace happens-before a reader that acquires this token.
    return _token.fetch_add(1, std::memory_order_release) + 1;
}

bool qsbr::check(token t) const noexcept {
    for (std::size_t i = 0; i < _readers; ++i) {
        // acquire: pairs with the release stores of quiescent() and offline().
        const token seen = _slots[i].seen.load(std::memory_order_acquire);
        if (seen != offline_mark && seen < t) {
            return false;
        }
    }
    return true;
}

} // namespace sipredir::sync
