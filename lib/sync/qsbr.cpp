// SPDX-License-Identifier: BSD-3-Clause
#include "qsbr.hpp"

#include <cassert>

namespace sipredir::sync {

qsbr::qsbr(std::size_t readers) noexcept : _readers(readers) {
    assert(readers <= max_readers);
}

void qsbr::online(std::size_t reader) noexcept {
    // The reader must be seen online before its first read of shared data. rte_rcu_qsbr puts a
    // seq_cst fence after the store; TSan does not model fences (so it could not vouch for
    // this), and in C++ a fence on one side alone does not order a store before a later load.
    // Instead: mark the slot online (older than any grace period), then read the token with a
    // read-modify-write. start() is one too, so the two are ordered in _token's modification
    // order, and whichever comes first synchronises with the other:
    // - ours first: the mark happens-before start(), so check() sees this reader online and
    //   waits for it;
    // - start() first: ours reads its token (acquire), so everything published before that
    //   start() happens-before our reads, and the reader never sees what it retired.
    _slots[reader].seen.store(online_mark, std::memory_order_relaxed);
    // acq_rel: release pairs with the acquire in start() (the mark above); acquire pairs with
    // its release (what the writer published before it).
    const token t = _token.fetch_add(0, std::memory_order_acq_rel);
    _slots[reader].seen.store(t, std::memory_order_release);
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
    // acquire: pairs with the release of online()'s read-modify-write, so a reader that came
    // online just before is seen online by check().
    return _token.fetch_add(1, std::memory_order_acq_rel) + 1;
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
