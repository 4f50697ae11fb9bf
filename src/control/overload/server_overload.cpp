// SPDX-License-Identifier: BSD-3-Clause
#include "server_overload.hpp"

#include <algorithm>

namespace sipredir::control {

bool appliance_overloaded(const overload_settings& s, const overload_readings& r) noexcept {
    if (!s.enabled) {
        return false;
    }
    return r.busiest_share >= s.busy_share
           || (s.imissed_per_second > 0 && r.imissed_per_second >= s.imissed_per_second);
}

overload_readings readings_between(
        std::span<const std::uint64_t> busy_before,
        std::span<const std::uint64_t> busy_now,
        std::uint64_t imissed_before,
        std::uint64_t imissed_now,
        std::int64_t elapsed_ns
) noexcept {
    overload_readings r;
    if (elapsed_ns <= 0) {
        return r;
    }
    const auto elapsed = static_cast<double>(elapsed_ns);
    for (std::size_t w = 0; w < busy_now.size() && w < busy_before.size(); ++w) {
        if (busy_now[w] > busy_before[w]) {
            r.busiest_share = std::max(
                    r.busiest_share, static_cast<double>(busy_now[w] - busy_before[w]) / elapsed
            );
        }
    }
    if (imissed_now > imissed_before) {
        r.imissed_per_second = static_cast<double>(imissed_now - imissed_before) * 1e9 / elapsed;
    }
    return r;
}

balance::overload_signal server_overload::update(
        const overload_settings& s,
        std::int64_t now_ns,
        std::uint64_t wall_ms,
        std::span<const std::uint64_t> busy_ns,
        std::uint64_t imissed,
        bool pool_saturated
) {
    if (reading_due(now_ns)) {
        if (_sampled && _busy.size() == busy_ns.size()) {
            _readings = readings_between(_busy, busy_ns, _imissed, imissed, now_ns - _sampled_ns);
            _self = appliance_overloaded(s, _readings);
        }
        _busy.assign(busy_ns.begin(), busy_ns.end());
        _imissed = imissed;
        _sampled_ns = now_ns;
        _sampled = true;
    }
    const bool self = _self && s.enabled;
    if (!s.enabled || !(self || pool_saturated)) {
        _signal = {};
        return _signal;
    }
    // RFC 7339 §5.2: oc-seq grows whenever the indication changes; a new episode, or another
    // reduction or validity, gets a new one. The wall clock keeps it growing across restarts;
    // one more than the last keeps it growing when the clock does not.
    if (_signal.reduction != s.reduction || _signal.validity_ms != s.validity_ms) {
        _last_seq_ms = std::max(wall_ms, _last_seq_ms + 1);
    }
    _signal = {
            .reduction = s.reduction,
            .everywhere = self,
            .validity_ms = s.validity_ms,
            .seq_ms = _last_seq_ms,
    };
    return _signal;
}

} // namespace sipredir::control
