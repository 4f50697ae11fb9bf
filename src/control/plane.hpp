// SPDX-License-Identifier: BSD-3-Clause
// The control plane's loop, run on the control lcore between exception-path bursts: a poll over
// the descriptors of its services (probing, pushed reports, races, the fleet, management; see
// service.hpp), their timers, reloads, and the publication of the load table. The DPDK side
// gives it hooks (counters in, tables out), so the whole of it builds and is tested without
// DPDK.
#pragma once

#include "fleet/redirect_exchange.hpp"
#include "race/race_engine.hpp"
#include "service.hpp"
#include "systemd_notify.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sipredir::control {

class plane final : private control_loop {
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
    const race::engine* races() const noexcept;
    // Null without [fleet].
    const fleet::redirect_exchange* fleet() const noexcept;

    // At shutdown, before the workers stop: tells systemd (STOPPING=1).
    void stopping() { _systemd.stopping(); }

    // From a signal handler: reload at the next round.
    void request_reload() noexcept { _reload_requested.store(true, std::memory_order_relaxed); }

    // Reads the configuration file again. Empty on success, else `file:line: what is wrong`
    // (the running configuration stays).
    std::string reload() override;
    std::string change_backends(std::string_view words, std::string_view who) override;
    // One sipredirctl request line -> its JSON answer (one object, "ok" says how it went).
    std::string command(std::string_view line);

    const appliance_config& config() const noexcept { return _ctx.config(); }
    const load_monitor& monitor() const noexcept { return _ctx.monitor; }
    const control_counters& counters() const noexcept { return _ctx.counters; }
    // The last RFC 7339 indication published (reduction 0: none).
    const balance::overload_signal& overload() const noexcept { return _ctx.overload_signal; }
    std::int64_t now_ns() const noexcept { return _ctx.now_ns(); }

private:
    control_context _ctx;
    std::vector<std::unique_ptr<service>> _services;
    std::vector<bool> _used_slots;              // slots ever given a backend (assign_slots)
    std::atomic<bool> _reload_requested{false}; // writer: signal handler; reader: control
    std::int64_t _next_publish_ns = 0;
    systemd_notifier _systemd;

    void collect_redirects() override;
    void publish(std::int64_t now) override;
    std::int64_t wait_ns(std::chrono::microseconds max_wait) const;
    std::string restart_only_change(const appliance_config& next) const;
    // Why `next` cannot replace the running configuration ("" when it can).
    std::string refusal_of(const config_result& next) const;
    // Puts `next` in force: slots, monitor, services, a publication.
    void install(appliance_config next);
    template <typename S> S* find() const noexcept;
    std::string status_line() const;
    void tell_systemd(std::int64_t now);
};

} // namespace sipredir::control
