// SPDX-License-Identifier: BSD-3-Clause
// What the appliance tells systemd as a Type=notify service (sd_notify(3)): READY=1 once it
// serves, STATUS= a line for `systemctl status`, WATCHDOG=1 while the control loop is healthy,
// RELOADING=1 and READY=1 around a reload, STOPPING=1 at shutdown. Outside systemd (no
// NOTIFY_SOCKET) every call does nothing. One thread (the control lcore) owns it.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace sipredir::control {

class systemd_notifier {
public:
    // Reads NOTIFY_SOCKET, and WATCHDOG_USEC when WATCHDOG_PID names this process
    // (sd_watchdog_enabled(3)); the environment is left as it is.
    systemd_notifier();

    // Whether systemd listens (NOTIFY_SOCKET is set).
    bool enabled() const noexcept { return _enabled; }
    // How often WATCHDOG=1 is sent: half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises;
    // 0: no watchdog.
    std::int64_t watchdog_interval_ns() const noexcept { return _interval_ns; }

    // Every round of the control loop: `publications` is how many tables the loop has published
    // so far. True when it grew since the last call (the caller then has a new status to tell).
    bool published(std::int64_t now_ns, std::uint64_t publications) noexcept;
    // STATUS=line, when it differs from the last one sent. The first call also sends READY=1:
    // call it once the workers run and a table is published.
    void status(std::string_view line);
    // WATCHDOG=1 when one is due at `now_ns` and a table was published within the last
    // WATCHDOG_USEC: a loop that can no longer publish (a worker that never reaches a quiescent
    // state holds every old table) stops the pings, and systemd restarts the appliance.
    void watchdog(std::int64_t now_ns);
    // When watchdog() next has something to send; max when never, or not until a table is
    // published again.
    std::int64_t next_due_ns() const noexcept;
    // Before a reload is read: RELOADING=1 with the monotonic clock (MONOTONIC_USEC). Nothing
    // before READY=1 was sent.
    void reloading();
    // After it was taken or refused: READY=1 and the status. Nothing before READY=1 was sent.
    void reloaded(std::string_view line);
    // At shutdown: STOPPING=1.
    void stopping();

private:
    bool send(const std::string& state);

    bool _enabled = false;
    bool _ready = false;
    std::int64_t _interval_ns = 0;
    std::int64_t _next_watchdog_ns = 0;
    std::int64_t _last_publication_ns = 0;
    std::uint64_t _publications = 0;
    std::string _status; // the last STATUS= sent
};

} // namespace sipredir::control
