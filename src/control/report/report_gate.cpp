// SPDX-License-Identifier: BSD-3-Clause
#include "report_gate.hpp"

#include <algorithm>
#include <cstdint>

namespace sipredir::control {

void report_gate::configure(
        const report_settings& settings, std::span<const report_source> sources
) {
    std::vector<source_state> next;
    next.reserve(sources.size());
    for (const report_source& s : sources) {
        source_state st;
        const auto old = std::find_if(_sources.begin(), _sources.end(), [&](const source_state& o) {
            return o.source.backend == s.backend;
        });
        if (old != _sources.end()) {
            st = *old;
        }
        st.source = s;
        next.push_back(std::move(st));
    }
    _settings = settings;
    _sources = std::move(next);
}

report_verdict report_gate::admit(
        std::string_view datagram,
        const net::ip_address& from,
        std::int64_t wall_ms,
        std::int64_t mono_ns,
        taken_report& out
) noexcept {
    const report_verdict v = judge(datagram, from, wall_ms, mono_ns, out);
    ++_counts[static_cast<std::size_t>(v)];
    return v;
}

report_verdict report_gate::judge(
        std::string_view datagram,
        const net::ip_address& from,
        std::int64_t wall_ms,
        std::int64_t mono_ns,
        taken_report& out
) noexcept {
    load_report r;
    if (!parse_report(datagram, r)) {
        return report_verdict::malformed;
    }
    const auto it = std::find_if(_sources.begin(), _sources.end(), [&](const source_state& s) {
        return s.source.backend == r.backend;
    });
    if (it == _sources.end()) {
        return report_verdict::unknown_backend;
    }
    source_state& s = *it;
    // A backend's key signs only what comes from its own address: a rival backend, or another
    // agent host, holding a key cannot speak for it.
    if (from != s.source.from) {
        return report_verdict::wrong_source;
    }
    if (!report_authentic(r, s.source.key)) {
        return report_verdict::forged;
    }
    if (!within_window(r.ts_ms, wall_ms)) {
        return report_verdict::stale;
    }
    if (s.has_seq && (r.ts_ms < s.last_ts || (r.ts_ms == s.last_ts && r.seq <= s.last_seq))) {
        return report_verdict::replayed;
    }
    if (!take_token(s, mono_ns)) {
        return report_verdict::rate_limited;
    }
    s.last_ts = r.ts_ms;
    s.last_seq = r.seq;
    s.has_seq = true;
    ++s.accepted;
    out.slot = s.source.slot;
    out.utilisation = *r.utilisation();
    out.calls = r.calls;
    out.capacity = r.capacity;
    return report_verdict::accepted;
}

bool report_gate::within_window(std::uint64_t ts_ms, std::int64_t wall_ms) const noexcept {
    // The window as unsigned bounds, computed where they cannot overflow, so that no ts (up to
    // 2^64 - 1) is converted or subtracted out of range.
    const std::int64_t window = std::max<std::int64_t>(_settings.window_ms, 0);
    const std::int64_t wall = std::clamp<std::int64_t>(wall_ms, 0, INT64_MAX / 2);
    const auto earliest = static_cast<std::uint64_t>(std::max<std::int64_t>(wall - window, 0));
    const auto latest = static_cast<std::uint64_t>(wall) + static_cast<std::uint64_t>(window);
    return ts_ms >= earliest && ts_ms <= latest;
}

bool report_gate::take_token(source_state& s, std::int64_t mono_ns) const noexcept {
    // Token bucket: `rate` a second, at most `burst` saved up.
    if (!s.started) {
        s.tokens = _settings.burst;
        s.refilled_ns = mono_ns;
        s.started = true;
    }
    // Only forward: a clock read that went back refills nothing (and takes nothing away).
    if (mono_ns > s.refilled_ns) {
        const double elapsed_s = static_cast<double>(mono_ns - s.refilled_ns) / 1e9;
        s.tokens = std::min(_settings.burst, s.tokens + elapsed_s * _settings.rate);
        s.refilled_ns = mono_ns;
    }
    if (s.tokens < 1) {
        return false;
    }
    s.tokens -= 1;
    return true;
}

const report_gate::source_state* report_gate::state_of(std::uint16_t slot) const noexcept {
    for (const source_state& s : _sources) {
        if (s.source.slot == slot) {
            return &s;
        }
    }
    return nullptr;
}

} // namespace sipredir::control
