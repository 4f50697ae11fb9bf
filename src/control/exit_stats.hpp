// SPDX-License-Identifier: BSD-3-Clause
// The statistics an operator reads: the JSON printed on exit (and written by --stats-json),
// with the same names the telemetry commands use.
#pragma once

#include "race/race_engine.hpp"

#include <cstdint>
#include <pipeline/worker_stats.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sipredir::control {

// The port's own counters (rte_eth_stats): what the NIC or PMD saw and dropped before a worker
// could count it.
struct port_counters {
    std::uint64_t ipackets = 0;
    std::uint64_t opackets = 0;
    std::uint64_t imissed = 0;   // frames the port dropped: RX queue full (the workers fell behind)
    std::uint64_t ierrors = 0;   // frames received in error
    std::uint64_t oerrors = 0;   // frames the port failed to send
    std::uint64_t rx_nombuf = 0; // frames dropped for want of an mbuf
};

// One worker's own share of the totals, to tell an idle worker from a busy one (RSS spread).
struct worker_line {
    std::uint64_t rx = 0;
    std::uint64_t replied = 0;
    std::uint64_t dropped = 0;
    std::uint64_t busy_ns = 0;
};

struct run_summary {
    double seconds = 0;
    std::uint32_t workers = 0;
    std::vector<std::string> backend_names;        // by slot
    std::vector<std::uint64_t> redirects;          // by slot
    std::uint64_t exception_to_kernel = 0;         // frames written to the TAP
    std::uint64_t exception_to_kernel_dropped = 0; // frames the TAP did not take
    std::uint64_t exception_from_kernel = 0;       // frames the kernel sent out through the port
    std::uint64_t exception_dropped = 0;           // kernel frames the port did not take
    port_counters port;
    const race::engine_counters* race = nullptr; // null: no pool races
    std::vector<std::uint64_t> race_wins;        // races won, beside backend_names
    std::vector<worker_line> per_worker;         // by worker index
};

std::string stats_json(const pipeline::stats_totals& t, const run_summary& run);

// The same JSON on one line, ending in a line break: what sipredir prints at exit, so that the
// journal keeps it as one entry. Only the layout changes (the writer escapes every line break
// inside a string, so each one in `json` is layout).
std::string one_line(std::string_view json);

} // namespace sipredir::control
