// SPDX-License-Identifier: BSD-3-Clause
// The one pointer through which workers see the current table snapshot, and the control
// thread's reclamation of old snapshots after a QSBR grace period.
//
// Worker, per burst:  snap = table.acquire(); ... use snap ...; table.domain().quiescent(id);
// Control:            if (table.publish(next)) ...; table.reclaim();   (never blocks)
//
// Memory is bounded: at most `max_retired` old snapshots wait for a grace period. A reader that
// is descheduled (a lab machine with fewer cores than threads) holds them longer; publish() then
// declines, and since every snapshot is a whole picture the next one simply carries the newer
// facts.
#pragma once

#include "qsbr.hpp"
#include "snapshot.hpp"

#include <atomic>
#include <deque>
#include <memory>

namespace sipredir::balance {

class load_table {
public:
    explicit load_table(std::size_t readers, std::size_t max_retired = 64)
        : _domain(readers), _max_retired(max_retired) {}
    load_table(const load_table&) = delete;
    load_table& operator=(const load_table&) = delete;

    // Worker side: the current snapshot (nullptr before the first publish). Valid until this
    // reader's next quiescent() or offline().
    const table_snapshot* acquire() const noexcept {
        // acquire: pairs with the release in publish(); the whole snapshot is visible.
        return _current.load(std::memory_order_acquire);
    }
    qsbr& domain() noexcept { return _domain; }

    // Control side (one thread). Makes `next` current and retires the previous snapshot, after
    // reclaiming what it can; false (and `next` untouched) when max_retired still wait.
    bool publish(std::unique_ptr<const table_snapshot>& next);
    // Frees the retired snapshots whose grace period has ended; returns how many still wait.
    std::size_t reclaim();
    std::size_t retired() const noexcept { return _retired.size(); }
    std::size_t max_retired() const noexcept { return _max_retired; }

private:
    struct retired_snapshot {
        qsbr::token token;
        std::unique_ptr<const table_snapshot> snapshot;
    };

    std::atomic<const table_snapshot*> _current{
            nullptr}; // writer: control; readers: workers; sync: snapshot
    std::unique_ptr<const table_snapshot> _owned; // the current one, owned by control
    qsbr _domain;
    std::size_t _max_retired;              // writer: init; control only
    std::deque<retired_snapshot> _retired; // control only, oldest first
};

static_assert(std::atomic<const table_snapshot*>::is_always_lock_free);

} // namespace sipredir::balance
