// SPDX-License-Identifier: BSD-3-Clause
#include "systemd_notify.hpp"

#include <cstdlib>
#include <ctime>
#include <systemd/sd-daemon.h>

namespace sipredir::control {

systemd_notifier::systemd_notifier() {
    _enabled = std::getenv("NOTIFY_SOCKET") != nullptr;
    std::uint64_t usec = 0;
    if (_enabled && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        _interval_ns = static_cast<std::int64_t>(usec / 2 * 1000);
    }
}

bool systemd_notifier::send(const std::string& state) {
    return sd_notify(0, state.c_str()) > 0;
}

bool systemd_notifier::published(std::int64_t now_ns, std::uint64_t publications) noexcept {
    if (!_enabled || publications == _publications) {
        return false;
    }
    _publications = publications;
    _last_publication_ns = now_ns;
    return true;
}

void systemd_notifier::status(std::string_view line) {
    if (!_enabled || (_ready && line == _status)) {
        return;
    }
    _status = line;
    send((_ready ? "STATUS=" : "READY=1\nSTATUS=") + _status);
    _ready = true;
}

void systemd_notifier::watchdog(std::int64_t now_ns) {
    if (!_ready || _interval_ns == 0 || now_ns < _next_watchdog_ns) {
        return;
    }
    if (now_ns - _last_publication_ns >= 2 * _interval_ns) {
        _next_watchdog_ns = now_ns; // again once a table is published (next_due_ns)
        return;                     // no table for a whole WATCHDOG_USEC: let systemd act
    }
    send("WATCHDOG=1");
    _next_watchdog_ns = now_ns + _interval_ns;
}

std::int64_t systemd_notifier::next_due_ns() const noexcept {
    // Not due before a table is published again when none was for a whole WATCHDOG_USEC by then;
    // a publication is a round of the loop of its own.
    if (!_ready || _interval_ns == 0
        || _next_watchdog_ns - _last_publication_ns >= 2 * _interval_ns) {
        return std::numeric_limits<std::int64_t>::max();
    }
    return _next_watchdog_ns;
}

void systemd_notifier::reloading() {
    if (!_ready) {
        return; // still starting: READY=1 comes with the first status
    }
    // sd_notify(3): RELOADING=1 carries the CLOCK_MONOTONIC time, so that systemd can tell this
    // reload from one it asked for earlier.
    timespec t{};
    ::clock_gettime(CLOCK_MONOTONIC, &t);
    const std::uint64_t usec = static_cast<std::uint64_t>(t.tv_sec) * 1'000'000
                               + static_cast<std::uint64_t>(t.tv_nsec) / 1000;
    send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void systemd_notifier::reloaded(std::string_view line) {
    if (!_ready) {
        return;
    }
    _status = line;
    send("READY=1\nSTATUS=" + _status);
}

void systemd_notifier::stopping() {
    if (!_enabled) {
        return;
    }
    send("STOPPING=1");
}

} // namespace sipredir::control
