// SPDX-License-Identifier: BSD-3-Clause
// RFC 7339 overload control as a server: whether the appliance itself is overloaded (a worker
// busy most of the time, or the NIC missing frames), decided on the control core from the
// workers' counters and published in the table snapshot for the workers to put in replies.
#pragma once

#include "overload_config.hpp"

#include <balance/snapshot.hpp>
#include <cstdint>
#include <span>
#include <vector>

namespace sipredir::control {

// One interval's readings.
struct overload_readings {
    double busiest_share = 0;      // the busiest worker's busy time over the interval's length
    double imissed_per_second = 0; // frames the NIC missed over the interval, per second
};

// How often the readings are taken (at the table's publications, which come at least this often).
inline constexpr std::int64_t overload_interval_ns = 100'000'000;

// The appliance's own trigger: the busiest worker at or over settings.busy_share, or the NIC
// missing at least settings.imissed_per_second (when that is not 0). Never when disabled.
bool appliance_overloaded(const overload_settings& s, const overload_readings& r) noexcept;

// Readings from two samples of the cumulative counters (busy ns per worker, imissed) taken
// `elapsed_ns` apart. A worker missing from `before` (or a counter that went back) reads 0.
overload_readings readings_between(
        std::span<const std::uint64_t> busy_before,
        std::span<const std::uint64_t> busy_now,
        std::uint64_t imissed_before,
        std::uint64_t imissed_now,
        std::int64_t elapsed_ns
) noexcept;

// The indication to publish, kept across publications so that its oc-seq grows whenever it
// changes (RFC 7339 §5.2).
class server_overload {
public:
    // Whether update at `now_ns` takes a sample (the counters are read only then).
    bool reading_due(std::int64_t now_ns) const noexcept {
        return !_sampled || now_ns - _sampled_ns >= overload_interval_ns;
    }

    // At `now_ns` (monotonic): when reading_due, a sample of the cumulative counters, from which
    // the appliance's trigger is re-evaluated over the time since the last one; otherwise the
    // counters are ignored and the last evaluation stands.
    // `pool_saturated`: some pool has every available backend over its threshold. `wall_ms`:
    // the wall clock, the base of oc-seq, so that it still grows across a restart. Returns the
    // signal for the snapshot (reduction 0: none).
    balance::overload_signal
    update(const overload_settings& s,
           std::int64_t now_ns,
           std::uint64_t wall_ms,
           std::span<const std::uint64_t> busy_ns,
           std::uint64_t imissed,
           bool pool_saturated);

    const overload_readings& readings() const noexcept { return _readings; }
    bool self_overloaded() const noexcept { return _self; }

private:
    std::vector<std::uint64_t> _busy; // the last sample
    std::uint64_t _imissed = 0;
    std::int64_t _sampled_ns = 0;
    bool _sampled = false;
    bool _self = false;
    overload_readings _readings;
    balance::overload_signal _signal;
    std::uint64_t _last_seq_ms = 0;
};

} // namespace sipredir::control
