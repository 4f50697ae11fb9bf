// SPDX-License-Identifier: BSD-3-Clause
// The control plane's loop body, run on the control lcore between exception-path bursts: probe
// sockets, pushed reports, sipredirctl's UNIX socket, the metrics endpoint, reloads, and the
// publication of the load table. The DPDK side gives it hooks (counters in, tables out), so the
// whole of it builds and is tested without DPDK.
#pragma once

#include "config.hpp"
#include "fleet/redirect_exchange.hpp"
#include "load_monitor.hpp"
#include "metrics.hpp"
#include "query_args.hpp"
#include "race/race_engine.hpp"
#include "sockets.hpp"

#include <atomic>
#include <balance/snapshot.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <pipeline/worker_stats.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sipredir::control {

struct plane_hooks {
    // New redirects per slot since the last call (max_backends entries).
    std::function<std::vector<std::uint64_t>()> take_redirects;
    // Every redirect issued to a slot so far.
    std::function<std::uint64_t(std::uint16_t)> redirect_total;
    // Publishes a table built from `config` and `facts`, carrying `overload`; false when it had
    // to decline (it is tried again at the next round).
    std::function<
            bool(const appliance_config&,
                 std::span<const balance::backend_facts>,
                 const balance::overload_signal& overload)>
            publish;
    // The workers' counters, summed.
    std::function<pipeline::stats_totals()> totals;
    // Each worker's busy time so far (ns), and the frames the NIC missed so far: what the
    // appliance's own RFC 7339 overload is decided from. Absent: never overloaded by them.
    std::function<std::vector<std::uint64_t>()> busy_ns;
    std::function<std::uint64_t()> imissed;
    // The appliance's statistics as JSON (the same as --stats-json).
    std::function<std::string()> stats_json;
    // Answers a raced request (its frame as received) as decided; false when it could not.
    std::function<bool(std::span<const std::uint8_t>, const pipeline::race_decision&)> answer_race;
    // Counts one redirect to a slot that the control plane itself named (a query), with the
    // workers' redirects: the next take_redirects includes it.
    std::function<void(std::uint16_t)> count_redirect;
};

inline constexpr std::string_view version_text = "sipredir 0.6.0";

class plane {
public:
    plane(std::string config_path, appliance_config initial, plane_hooks hooks);
    plane(const plane&) = delete;
    plane& operator=(const plane&) = delete;

    // Opens the sockets the configuration asks for. Throws std::runtime_error.
    void open();
    // Waits up to `max_wait` for a socket or a timer, then does everything due.
    void run_once(std::chrono::microseconds max_wait);
    // A request a worker handed over (disposition::to_race), routed to `pool`.
    void race_request(std::span<const std::uint8_t> frame, std::uint16_t pool);
    // At exit, after the workers stopped: every request still waiting on a race is answered.
    void finish_races();
    // Null when no pool races.
    const race::engine* races() const noexcept { return _race.get(); }
    // Null without [fleet].
    const fleet::redirect_exchange* fleet() const noexcept { return _fleet.get(); }

    // From a signal handler: reload at the next round.
    void request_reload() noexcept { _reload_requested.store(true, std::memory_order_relaxed); }

    // Reads the configuration file again. Empty on success, else `file:line: what is wrong`
    // (the running configuration stays).
    std::string reload();
    // One sipredirctl request line -> its JSON answer (one object, "ok" says how it went).
    std::string command(std::string_view line);

    const appliance_config& config() const noexcept { return *_config; }
    const load_monitor& monitor() const noexcept { return _monitor; }
    const control_counters& counters() const noexcept { return _counters; }
    // The last RFC 7339 indication published (reduction 0: none).
    const balance::overload_signal& overload() const noexcept { return _overload_signal; }
    std::int64_t now_ns() const noexcept;

private:
    // A sipredirctl or HTTP client. Its reply is kept here and written as poll finds room, so a
    // client that never reads holds its buffer, never the control lcore.
    struct connection {
        socket_fd fd;
        std::string in;
        std::string out;       // the whole reply, once built
        std::size_t sent = 0;  // of `out`
        bool answered = false; // `out` is built: only writing is left
        bool http = false;
        std::chrono::steady_clock::time_point last_progress; // accepted, or a byte moved
    };

    std::string _path;
    std::unique_ptr<appliance_config> _config;
    plane_hooks _hooks;
    load_monitor _monitor;
    std::vector<bool> _used_slots;
    control_counters _counters;
    probe_origin _origin;
    socket_fd _probe_socket;
    socket_fd _report_socket;
    std::unique_ptr<race::engine> _race; // pools with policy race; null: none
    socket_fd _race_socket;
    std::unique_ptr<fleet::redirect_exchange> _fleet; // [fleet]; null: no peers to share with
    socket_fd _fleet_socket;
    // Redirects not yet folded into the facts, per slot: our workers' (taken from their
    // counters at most every millisecond, and given to the exchange at once) and the peers'.
    std::vector<std::uint64_t> _own_redirects;
    std::vector<std::uint64_t> _peer_redirects;
    std::int64_t _next_collect_ns = 0;
    socket_fd _management;
    socket_fd _metrics;
    std::vector<connection> _connections;
    std::atomic<bool> _reload_requested{false}; // writer: signal handler; reader: control
    bool _dirty = true;                         // facts changed: publish without waiting
    server_overload _overload;
    balance::overload_signal _overload_signal;
    std::int64_t _next_publish_ns = 0;
    std::int64_t _epoch_ns = 0;

    void read_probes(std::int64_t now);
    void read_reports(std::int64_t now);
    void read_race_answers(std::int64_t now);
    void configure_fleet();
    void read_fleet(std::int64_t now);
    void collect_redirects();
    void share_redirects(std::int64_t now);
    race::engine_outputs race_outputs();
    void update_race_pools(std::span<const balance::backend_facts> facts);
    void accept(int listener, bool http);
    bool serve(connection& c);                 // false: done, close it
    std::string reply_to(const connection& c); // empty: the request is not whole yet
    bool write_out(connection& c);             // false: done or failed, close it
    void publish(std::int64_t now);
    std::string metrics_text();
    std::string backends_json();
    std::string fleet_json();
    std::unique_ptr<const balance::table_snapshot> current_tables();
    std::string pools_json();
    std::string query_json(const query_args& args);
    std::string stats_text();
};

} // namespace sipredir::control
