// SPDX-License-Identifier: BSD-3-Clause
// Which pushed load reports are believed: well formed, from a configured backend, sent from
// that backend's address (or its configured report source), with a MAC under that backend's key,
// sent within the clock window, newer than the last one taken, and within the backend's rate.
// Everything else is refused and counted by reason.
#pragma once

#include "../enum_names.hpp"
#include "load_report.hpp"

#include <array>
#include <cstdint>
#include <net/ip_address.hpp>
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
    net::ip_address from; // the only address its reports may come from
};

enum class report_verdict : std::uint8_t {
    accepted,
    malformed,
    unknown_backend,
    wrong_source, // not from the backend's address (or its report_source)
    forged,       // wrong MAC
    stale,        // timestamp outside the window
    replayed,
    rate_limited,
};

inline constexpr auto report_verdict_table = std::to_array<enum_name<report_verdict>>({
        {report_verdict::accepted, "accepted"},
        {report_verdict::malformed, "malformed"},
        {report_verdict::unknown_backend, "unknown_backend"},
        {report_verdict::wrong_source, "wrong_source"},
        {report_verdict::forged, "forged"},
        {report_verdict::stale, "stale"},
        {report_verdict::replayed, "replayed"},
        {report_verdict::rate_limited, "rate_limited"},
});
static_assert(covers_in_order(report_verdict_table, report_verdict::rate_limited));
inline constexpr std::size_t report_verdict_count = report_verdict_table.size();

constexpr std::string_view name_of(report_verdict v) noexcept {
    return name_in(report_verdict_table, v);
}

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

    // `from`: the datagram's source address.
    report_verdict
    admit(std::string_view datagram,
          const net::ip_address& from,
          std::int64_t wall_ms,
          std::int64_t mono_ns,
          taken_report& out) noexcept;

    std::uint64_t count(report_verdict v) const noexcept {
        return _counts[static_cast<std::size_t>(v)];
    }

    struct source_state {
        report_source source;
        // The newest report taken, ordered by (ts, seq): a report is new when its ts is later,
        // or equal with a greater seq. ts is held to the clock window, so no report, whatever
        // its seq, can hold a backend's later reports off for longer than window_ms.
        std::uint64_t last_ts = 0;
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
    judge(std::string_view datagram,
          const net::ip_address& from,
          std::int64_t wall_ms,
          std::int64_t mono_ns,
          taken_report& out) noexcept;
    // Whether a report sent at `ts_ms` is within the clock window of `wall_ms`.
    bool within_window(std::uint64_t ts_ms, std::int64_t wall_ms) const noexcept;
    // Takes one token from `s`'s bucket, refilled up to now; false when there is none.
    bool take_token(source_state& s, std::int64_t mono_ns) const noexcept;
};

} // namespace sipredir::control
