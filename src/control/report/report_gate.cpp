// SPDX-License-Identifier: BSD-3-Clause
#include "report_gate.hpp"

#include <algorithm>

namespace sipredir::control {

const char* name_of(report_verdict v) noexcept {
    switch (v) {
    case report_verdict::accepted:
        return "accepted";
    case report_verdict::malformed:
        return "malformed";
    case report_verdict::unknown_backend:
        return "unknown_backend";
    case report_verdict::forged:
        return "forged";
    case report_verdict::stale:
        return "stale";
    case report_verdict::replayed:
        return "replayed";
    case report_verdict::rate_limited:
        return "rate_limited";
    }
    return "?";
}

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
        std::string_view datagram, std::int64_t wall_ms, std::int64_t mono_ns, taken_report& out
) noexcept {
    const report_verdict v = judge(datagram, wall_ms, mono_ns, out);
    ++_counts[static_cast<std::size_t>(v)];
    return v;
}

report_verdict report_gate::judge(
        std::string_view datagram, std::int64_t wall_ms, std::int64_t mono_ns, taken_report& out
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
    if (!report_authentic(r, s.source.key)) {
        return report_verdict::forged;
    }
    const std::int64_t skew = static_cast<std::int64_t>(r.ts_ms) - wall_ms;
    if (r.ts_ms > static_cast<std::uint64_t>(INT64_MAX) || skew > _settings.window_ms
        || skew < -_settings.window_ms) {
        return report_verdict::stale;
    }
    if (s.has_seq && r.seq <= s.last_seq) {
        return report_verdict::replayed;
    }
    // Token bucket: `rate` a second, at most `burst` saved up.
    if (!s.started) {
        s.tokens = _settings.burst;
        s.refilled_ns = mono_ns;
        s.started = true;
    }
    s.tokens = std::min(
            _settings.burst,
            s.tokens + static_cast<double>(mono_ns - s.refilled_ns) / 1e9 * _settings.rate
    );
    s.refilled_ns = mono_ns;
    if (s.tokens < 1) {
        return report_verdict::rate_limited;
    }
    s.tokens -= 1;
    s.last_seq = r.seq;
    s.has_seq = true;
    ++s.accepted;
    out.slot = s.source.slot;
    out.utilisation = *r.utilisation();
    out.calls = r.calls;
    out.capacity = r.capacity;
    return report_verdict::accepted;
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
