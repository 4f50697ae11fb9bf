// SPDX-License-Identifier: BSD-3-Clause
// Every counter of the workers' totals, once: its field, its name, its help, its kind and its
// unit. Each output walks this table, so the Prometheus text, the stats JSON (printed on exit and
// answered to `sipredirctl stats`) and DPDK telemetry show the same counters under one name.
#pragma once

#include <array>
#include <cstdint>
#include <pipeline/worker_stats.hpp>
#include <string>
#include <string_view>

namespace sipredir::control {

// As Prometheus types them.
enum class counter_kind : std::uint8_t { counter, gauge };

// What one count is. Durations are kept in nanoseconds and shown in seconds where an output
// can show a fraction.
enum class counter_unit : std::uint8_t { count, nanoseconds };

// The labelled counts a total is the sum of, each under its own table: Prometheus shows the
// labelled samples instead of the total, the JSON both.
enum class counter_breakdown : std::uint8_t {
    none,
    by_code,  // pipeline::counted_codes, then "other"
    by_cause, // pipeline::drop_cause_table
};

struct counter_info {
    std::uint64_t pipeline::stats_totals::*field;
    // sipredir_<name>[_seconds]_total in Prometheus, <name>[_seconds] in JSON
    std::string_view name;
    std::string_view help;
    counter_kind kind = counter_kind::counter;
    counter_unit unit = counter_unit::count;
    counter_breakdown breakdown = counter_breakdown::none;
};

inline constexpr auto counter_table = std::to_array<counter_info>({
        {&pipeline::stats_totals::rx, "received_frames", "Frames the workers received."},
        {&pipeline::stats_totals::replied,
         "replies",
         "Replies sent, by status code.",
         counter_kind::counter,
         counter_unit::count,
         counter_breakdown::by_code},
        {&pipeline::stats_totals::absorbed, "absorbed", "ACKs taken without a reply."},
        {&pipeline::stats_totals::to_exception, "exception_frames", "Frames handed to the kernel."},
        {&pipeline::stats_totals::to_race,
         "race_handoffs",
         "Race pool requests the workers handed to the control core."},
        {&pipeline::stats_totals::dropped,
         "dropped",
         "Frames dropped, by cause.",
         counter_kind::counter,
         counter_unit::count,
         counter_breakdown::by_cause},
        {&pipeline::stats_totals::fragments_merged,
         "fragments_merged",
         "IP fragments that became part of a reassembled datagram, but the one it counts as."},
        {&pipeline::stats_totals::limited_replies,
         "source_limited_replies",
         "503s sent to sources over their rate limit ([limits] action 503)."},
        {&pipeline::stats_totals::idle_sleeps,
         "idle_sleeps",
         "Times a worker slept for want of traffic (idle = \"sleep\")."},
        {&pipeline::stats_totals::busy_ns,
         "busy",
         "Worker time spent on frames.",
         counter_kind::counter,
         counter_unit::nanoseconds},
        {&pipeline::stats_totals::from_kernel_sent,
         "kernel_frames_sent",
         "Frames from the kernel (exception path) sent on the workers' TX queues."},
        {&pipeline::stats_totals::from_kernel_tx_full,
         "kernel_frames_tx_full",
         "Frames from the kernel a worker's TX queue did not take."},
});

// Every scalar of stats_totals has its row: a new field without one fails here. The latency
// histogram and its sum are written as one family (metrics.cpp), not as rows.
static_assert(
        sizeof(pipeline::stats_totals)
        == counter_table.size() * sizeof(std::uint64_t)
                   + sizeof(pipeline::stats_totals::latency_ns_sum)
                   + sizeof(pipeline::stats_totals::dropped_by_cause)
                   + sizeof(pipeline::stats_totals::replies_by_code)
                   + sizeof(pipeline::stats_totals::bad_requests)
                   + sizeof(pipeline::stats_totals::latency)
);

// The counter's value as the outputs that take fractions show it (seconds for a duration).
inline double shown_value(const counter_info& c, const pipeline::stats_totals& t) noexcept {
    const auto v = static_cast<double>(t.*c.field);
    return c.unit == counter_unit::nanoseconds ? v / 1e9 : v;
}

// `name` with its unit: "busy_seconds", "received_frames".
inline std::string shown_name(const counter_info& c) {
    std::string n(c.name);
    return c.unit == counter_unit::nanoseconds ? n + "_seconds" : n;
}

// The name where only whole numbers can be shown (DPDK telemetry): "busy_ns".
inline std::string whole_name(const counter_info& c) {
    std::string n(c.name);
    return c.unit == counter_unit::nanoseconds ? n + "_ns" : n;
}

// The name of the code slot `i` of replies_by_code: the status code, or "other".
inline std::string code_label(std::size_t i) {
    return i < pipeline::counted_codes.size() ? std::to_string(pipeline::counted_codes[i])
                                              : std::string("other");
}

} // namespace sipredir::control
