// SPDX-License-Identifier: BSD-3-Clause
// The one pointer through which workers see the current immutable snapshot of something, and the
// control thread's reclamation of old snapshots after a QSBR grace period.
//
// Worker, per burst:  snap = cell.acquire(); ... use snap ...; cell.domain().quiescent(id);
// Control:            if (cell.publish(next)) ...; cell.reclaim();   (never blocks)
//
// Memory is bounded: at most `max_retired` old snapshots wait for a grace period. A reader that
// is descheduled (a lab machine with fewer cores than threads) holds them longer; publish() then
// declines, and since every snapshot is a whole picture the next one simply carries the newer
// facts.
#pragma once

#include "qsbr.hpp"

#include <atomic>
#include <deque>
#include <memory>

namespace sipredir::sync {

template <typename Snapshot> class published {
public:
    explicit published(std::size_t readers, std::size_t max_retired = 64)
        : _domain(readers), _max_retired(max_retired) {}
    published(const published&) = delete;
    published& operator=(const published&) = delete;

    // Worker side: the current snapshot (nullptr before the first publish). Valid until this
    // reader's next quiescent() or offline().
    const Snapshot* acquire() const noexcept {
        // acquire: pairs with the release in publish(); the whole snapshot is visible.
        return _current.load(std::memory_order_acquire);
    }
    qsbr& domain() noexcept { return _domain; }

    // Control side (one thread). Makes `next` current and retires the previous snapshot, after
    // reclaiming what it can; false (and `next` untouched) when max_retired still wait.
    bool publish(std::unique_ptr<const Snapshot>& next) {
        if (_owned && reclaim() >= _max_retired) {
            return false;
        }
        // release: the snapshot's contents happen-before any worker that acquires the pointer.
        _current.store(next.get(), std::memory_order_release);
        std::unique_ptr<const Snapshot> old = std::move(_owned);
        _owned = std::move(next);
        if (old) {
            // The token orders after the store above; a reader that reports it no longer holds
            // old.
            _retired.push_back({_domain.start(), std::move(old)});
        }
        return true;
    }
    // Frees the retired snapshots whose grace period has ended; returns how many still wait.
    std::size_t reclaim() {
        // Tokens grow with each retirement, so the oldest entries end their grace period first.
        while (!_retired.empty() && _domain.check(_retired.front().token)) {
            _retired.pop_front();
        }
        return _retired.size();
    }
    std::size_t retired() const noexcept { return _retired.size(); }
    std::size_t max_retired() const noexcept { return _max_retired; }

private:
    struct retired_snapshot {
        qsbr::token token;
        std::unique_ptr<const Snapshot> snapshot;
    };

    std::atomic<const Snapshot*> _current{
            nullptr};                       // writer: control; readers: workers; sync: snapshot
    std::unique_ptr<const Snapshot> _owned; // the current one, owned by control
    qsbr _domain;
    std::size_t _max_retired;              // writer: init; control only
    std::deque<retired_snapshot> _retired; // control only, oldest first

    static_assert(std::atomic<const Snapshot*>::is_always_lock_free);
};

} // namespace sipredir::sync
