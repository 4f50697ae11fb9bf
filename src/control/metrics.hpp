// SPDX-License-Identifier: BSD-3-Clause
// Prometheus text exposition (version 0.0.4) of the appliance: the workers' counters, the
// latency histogram, and per backend its redirects, state, load, RTT and reports.
#pragma once

#include "exit_stats.hpp"
#include "fleet/fleet_transport.hpp"
#include "fleet/redirect_exchange.hpp"
#include "load_monitor.hpp"
#include "overload/server_overload.hpp"
#include "race/race_engine.hpp"

#include <optional>
#include <pipeline/worker_stats.hpp>
#include <span>
#include <string>
#include <vector>

namespace sipredir::control {

struct control_counters {
    std::uint64_t reloads = 0;
    std::uint64_t reloads_failed = 0;
    std::uint64_t backend_changes = 0; // set, add or remove through the API, in force
    std::uint64_t publications = 0;
    std::uint64_t generation = 0;
    // sipredirctl and HTTP clients closed before their reply was written, by cause: the oldest
    // made room for a new one, no byte moved for a while, the reply was over its cap.
    std::uint64_t management_evicted = 0;
    std::uint64_t management_idle = 0;
    std::uint64_t management_too_large = 0;
};

// What the port and the control core's side of the exception path counted, beside the
// workers (whose own exception counters are in the catalogue).
struct dataplane_counters {
    std::optional<port_counters> port;     // absent: the port's statistics could not be read
    std::uint64_t tap_written = 0;         // frames the control core wrote to the TAP
    std::uint64_t tap_dropped = 0;         // frames for the TAP it did not take
    std::uint64_t from_kernel_dropped = 0; // the kernel's frames the ring to worker 0 did not take
};

struct pool_redirects {
    std::string name;
    std::uint64_t total = 0; // 302s sent for this pool
};

struct metrics_input {
    const pipeline::stats_totals* totals = nullptr;
    std::span<const pool_redirects> pools;
    std::span<const backend_status> backends;
    std::span<const std::uint64_t> redirects; // by slot
    const probe_counters* probes = nullptr;
    const report_gate* reports = nullptr;
    control_counters control;
    std::string config_revision;
    const race::engine_counters* race = nullptr;     // null: no pool races
    const fleet::exchange_counters* fleet = nullptr; // null: no [fleet]
    std::span<const fleet::peer_status> peers;
    std::int64_t fleet_now_ns = 0; // the clock of peers' heard_ns, for their silence
    const fleet::transport_counters* transport = nullptr;   // null: no [fleet]
    std::string_view transport_kind;                        // "mesh" or "nats"
    std::span<const fleet::probe_role> probe_roles;         // by slot; empty: probing not shared
    std::span<const fleet::shared_probe_age> shared_probes; // backends on others' results
    balance::overload_signal overload; // the RFC 7339 indication last published
    overload_readings overload_read;   // the last interval's busiest worker and missed frames
    std::optional<dataplane_counters> dataplane; // absent: no data plane (tests, tools)
    std::string stage1_kernel;                   // the SIMD kernel the parser runs
};

std::string prometheus_text(const metrics_input& in);

} // namespace sipredir::control
