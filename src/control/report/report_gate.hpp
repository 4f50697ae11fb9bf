// SPDX-License-Identifier: BSD-3-Clause
// Which pushed load reports are believed: well formed, from a configured backend, with a MAC
// under that backend's key, sent within the clock window, newer than the last one taken, and
// within the backend's rate. Everything else is refused and counted by reason.
#pragma once

#include "load_report.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sipredir::control {

struct report_settings {
    std::int64_t window_ms = 5000; // |sender's ts - our wall clock| accepted
    double rate = 20;              // reports per second per backend, sustained
    double burst = 40;             // and in a burst
};

struct report_source {
    std::uint16_t slot = 0;
    std::string backend;
    report_key key{};
};

enum class report_verdict : std::uint8_t {
    accepted,
    malformed,
    unknown_backend,
    forged, // wrong MAC
    stale,  // timestamp outside the window
    replayed,
    rate_limited,
};
inline constexpr std::size_t report_verdict_count = 7;
const char* name_of(report_verdict v) noexcept;

struct taken_report {
    std::uint16_t slot = 0;
    double utilisation = 0;
    std::optional<std::uint64_t> calls;
    std::optional<std::uint64_t> capacity;
};

class report_gate {
public:
    // The backends that may report. A backend that stays (same name) keeps its last sequence
    // number and rate budget, so a reload opens no replay window.
    void configure(const report_settings& settings, std::span<const report_source> sources);

    report_verdict
    admit(std::string_view datagram, std::int64_t wall_ms, std::int64_t mono_ns, taken_report& out
    ) noexcept;

    std::uint64_t count(report_verdict v) const noexcept {
        return _counts[static_cast<std::size_t>(v)];
    }

    struct source_state {
        report_source source;
        std::uint64_t last_seq = 0;
        bool has_seq = false;
        double tokens = 0;
        std::int64_t refilled_ns = 0;
        bool started = false;
        std::uint64_t accepted = 0;
    };
    const source_state* state_of(std::uint16_t slot) const noexcept;

private:
    report_settings _settings;
    std::vector<source_state> _sources;
    std::array<std::uint64_t, report_verdict_count> _counts{};

    report_verdict
    judge(std::string_view datagram, std::int64_t wall_ms, std::int64_t mono_ns, taken_report& out
    ) noexcept;
};

} // namespace sipredir::control
