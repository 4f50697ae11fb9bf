// SPDX-License-Identifier: BSD-3-Clause
// The statistics an operator reads: the JSON printed on exit (and written by --stats-json),
// with the same names the telemetry commands use.
#pragma once

#include <cstdint>
#include <pipeline/worker_stats.hpp>
#include <string>
#include <vector>

namespace sipredir::control {

struct run_summary {
    double seconds = 0;
    std::uint32_t workers = 0;
    std::vector<std::string> backend_names;        // by slot
    std::vector<std::uint64_t> redirects;          // by slot
    std::uint64_t exception_to_kernel = 0;         // frames written to the TAP
    std::uint64_t exception_to_kernel_dropped = 0; // frames the TAP did not take
    std::uint64_t exception_from_kernel = 0;       // frames the kernel sent out through the port
    std::uint64_t exception_dropped = 0;           // kernel frames the port did not take
};

std::string stats_json(const pipeline::stats_totals& t, const run_summary& run);

} // namespace sipredir::control
