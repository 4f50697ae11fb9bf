// SPDX-License-Identifier: BSD-3-Clause
#include "load_table.hpp"

namespace sipredir::balance {

bool load_table::publish(std::unique_ptr<const table_snapshot>& next) {
    if (_owned && reclaim() >= _max_retired) {
        return false;
    }
    // release: the snapshot's contents happen-before any worker that acquires the pointer.
    _current.store(next.get(), std::memory_order_release);
    std::unique_ptr<const table_snapshot> old = std::move(_owned);
    _owned = std::move(next);
    if (old) {
        // The token orders after the store above; a reader that reports it no longer holds old.
        _retired.push_back({_domain.start(), std::move(old)});
    }
    return true;
}

std::size_t load_table::reclaim() {
    // Tokens grow with each retirement, so the oldest entries end their grace period first.
    while (!_retired.empty() && _domain.check(_retired.front().token)) {
        _retired.pop_front();
    }
    return _retired.size();
}

} // namespace sipredir::balance
