// SPDX-License-Identifier: BSD-3-Clause
#include "plane.hpp"

#include "features.hpp"
#include "fleet/fleet_service.hpp"
#include "log.hpp"
#include "management/management_service.hpp"
#include "race/race_service.hpp"
#include "runtime_changes.hpp"
#include "snapshot_builder.hpp"

#include <algorithm>
#include <ctime>
#include <poll.h>

namespace sipredir::control {

namespace {

constexpr std::int64_t publish_interval_ns = 100'000'000;

// The sections no service owns that a reload cannot change while the workers run; the first
// such, or "".
std::string_view restart_only_section(const appliance_config& a, const appliance_config& b) {
    // A pool the appliance sized at start (mbufs = 0) is still "0" in a file that leaves it so.
    const auto as_written = [](dataplane_config d) {
        if (d.mbufs_sized) {
            d.mbufs = 0;
            d.mbufs_sized = false;
        }
        return d;
    };
    if (!(a.listen == b.listen)) {
        return "listen";
    }
    if (!(as_written(a.dataplane) == as_written(b.dataplane))) {
        return "dataplane";
    }
    if (!(a.exception == b.exception)) {
        return "exception";
    }
    if (!same_identity_policy(a.sip, b.sip)) {
        return "sip";
    }
    if (!(a.limits == b.limits)) {
        return "limits";
    }
    return "";
}

} // namespace

plane::plane(std::string config_path, appliance_config initial, plane_hooks hooks)
    : _ctx(std::move(config_path), std::move(initial), std::move(hooks)) {
    _used_slots.assign(balance::max_backends, false);
    for (const static_backend& b : _ctx.config().backends) {
        _used_slots[b.slot] = true;
    }
    _ctx.loop = this;
    for (const feature& f : features()) {
        if (f.make != nullptr) {
            _services.push_back(f.make(_ctx));
        }
    }
    _ctx.services = _services;
}

template <typename S> S* plane::find() const noexcept {
    for (const std::unique_ptr<service>& s : _services) {
        if (auto* found = dynamic_cast<S*>(s.get())) {
            return found;
        }
    }
    return nullptr;
}

// The two services the DPDK side reaches directly: the race path hands requests over, and the
// exit statistics read the race engine's and the exchange's counters.
const race::engine* plane::races() const noexcept {
    const race_service* r = find<race_service>();
    return r != nullptr ? r->engine() : nullptr;
}

const fleet::redirect_exchange* plane::fleet() const noexcept {
    const fleet_service* f = find<fleet_service>();
    return f != nullptr ? f->exchange() : nullptr;
}

void plane::race_request(std::span<const std::uint8_t> frame, std::uint16_t pool) {
    if (race_service* r = find<race_service>()) {
        r->request(frame, pool);
    }
}

void plane::finish_races() {
    for (const std::unique_ptr<service>& s : _services) {
        s->finish();
    }
}

std::string plane::command(std::string_view line) {
    return answer_command(_ctx, line);
}

void plane::open() {
    std::vector<log_field> fields;
    for (const std::unique_ptr<service>& s : _services) {
        s->open();
        s->describe(fields);
    }
    log(log_level::info, "control_plane_started", fields);
}

// How long the next poll may wait: until the soonest timer, at most max_wait, not at all when
// the facts changed.
std::int64_t plane::wait_ns(std::chrono::microseconds max_wait) const {
    if (_ctx.dirty) {
        return 0;
    }
    std::int64_t due = std::min(_next_publish_ns, _systemd.next_due_ns());
    for (const std::unique_ptr<service>& s : _services) {
        due = std::min(due, s->next_due_ns());
    }
    const std::int64_t left = std::max<std::int64_t>(0, due - _ctx.now_ns());
    return std::min<std::int64_t>(max_wait.count() * 1000, left);
}

void plane::run_once(std::chrono::microseconds max_wait) {
    std::vector<pollfd> fds;
    std::vector<std::size_t> starts; // each service's first entry in fds, then the end
    for (const std::unique_ptr<service>& s : _services) {
        starts.push_back(fds.size());
        s->watch(fds);
    }
    starts.push_back(fds.size());
    const std::int64_t wait = wait_ns(max_wait);
    const timespec timeout{wait / 1'000'000'000, wait % 1'000'000'000};
    if (ppoll(fds.data(), fds.size(), &timeout, nullptr) <= 0) {
        for (pollfd& p : fds) {
            p.revents = 0; // a timeout or a signal: nothing is ready
        }
    }
    const std::int64_t now = _ctx.now_ns();
    const std::span<const pollfd> polled = fds;
    for (std::size_t i = 0; i < _services.size(); ++i) {
        _services[i]->on_polled(polled.subspan(starts[i], starts[i + 1] - starts[i]), now);
    }
    if (_reload_requested.exchange(false, std::memory_order_relaxed)) {
        reload();
    }
    for (const std::unique_ptr<service>& s : _services) {
        s->on_tick(now);
    }
    if (_ctx.dirty || now >= _next_publish_ns) {
        publish(now);
    }
    tell_systemd(now);
}

// The line `systemctl status` shows: "2 workers, 3 of 4 backends up".
std::string plane::status_line() const {
    const std::span<const balance::backend_facts> facts = _ctx.monitor.facts();
    std::size_t up = 0;
    for (const static_backend& b : _ctx.config().backends) {
        up += b.slot < facts.size() && facts[b.slot].state == balance::backend_state::up ? 1 : 0;
    }
    const std::uint32_t w = _ctx.hooks.workers;
    return std::to_string(w) + (w == 1 ? " worker, " : " workers, ") + std::to_string(up) + " of "
           + std::to_string(_ctx.config().backends.size()) + " backends up";
}

// READY=1 once the loop has published a table (the workers run by then), the status when a
// table is published, and the watchdog's pings.
void plane::tell_systemd(std::int64_t now) {
    if (_systemd.published(now, _ctx.counters.publications)) {
        _systemd.status(status_line());
    }
    _systemd.watchdog(now);
}

void plane::collect_redirects() {
    if (!_ctx.hooks.take_redirects) {
        return;
    }
    const std::vector<std::uint64_t> delta = _ctx.hooks.take_redirects();
    for (std::size_t i = 0; i < delta.size() && i < _ctx.own_redirects.size(); ++i) {
        _ctx.own_redirects[i] += delta[i];
    }
    for (const std::unique_ptr<service>& s : _services) {
        s->on_own_redirects(delta);
    }
}

void plane::publish(std::int64_t now) {
    collect_redirects();
    std::vector<std::uint64_t> delta(balance::max_backends, 0);
    for (std::size_t i = 0; i < delta.size(); ++i) {
        delta[i] = _ctx.own_redirects[i] + _ctx.peer_redirects[i];
    }
    std::fill(_ctx.own_redirects.begin(), _ctx.own_redirects.end(), 0);
    std::fill(_ctx.peer_redirects.begin(), _ctx.peer_redirects.end(), 0);
    const std::span<const balance::backend_facts> facts = _ctx.monitor.update(now, delta);
    for (const std::unique_ptr<service>& s : _services) {
        s->on_facts(facts);
    }
    // The workers' and the port's counters only when a reading is due (the port's cost a
    // driver call).
    std::vector<std::uint64_t> busy;
    std::uint64_t imissed = 0;
    if (_ctx.overload.reading_due(now)) {
        busy = _ctx.hooks.busy_ns ? _ctx.hooks.busy_ns() : std::vector<std::uint64_t>{};
        imissed = _ctx.hooks.imissed ? _ctx.hooks.imissed() : 0;
    }
    const auto wall = std::chrono::system_clock::now().time_since_epoch();
    _ctx.overload_signal = _ctx.overload.update(
            _ctx.config().overload,
            now,
            static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(wall).count()
            ),
            busy,
            imissed,
            any_pool_saturated(_ctx.config(), facts)
    );
    if (_ctx.hooks.publish && _ctx.hooks.publish(_ctx.config(), facts, _ctx.overload_signal)) {
        ++_ctx.counters.publications;
        ++_ctx.counters.generation;
        _ctx.dirty = false;
    }
    _next_publish_ns = now + publish_interval_ns;
}

// What a reload to `next` cannot change while the workers run: the first such section, or "".
std::string plane::restart_only_change(const appliance_config& next) const {
    std::string_view section = restart_only_section(_ctx.config(), next);
    for (std::size_t i = 0; section.empty() && i < _services.size(); ++i) {
        section = _services[i]->restart_only_change(_ctx.config(), next);
    }
    return std::string(section);
}

std::string plane::refusal_of(const config_result& next) const {
    if (!next.config) {
        return next.error.message;
    }
    const std::string section = restart_only_change(*next.config);
    if (section.empty()) {
        return "";
    }
    const auto line = next.config->section_lines.find(section);
    return _ctx.path + ":"
           + std::to_string(line != next.config->section_lines.end() ? line->second : 1) + ": ["
           + section + "] differs from the running configuration and only a restart can change it";
}

void plane::install(appliance_config next) {
    if (_ctx.hooks.pool_redirect_total) {
        std::vector<std::string> names;
        for (const balance::pool_config& p : _ctx.config().pools) {
            names.push_back(p.name);
        }
        _ctx.pool_redirects.rebase(names, _ctx.hooks.pool_redirect_total);
    }
    auto fresh = std::make_unique<appliance_config>(std::move(next));
    assign_slots(_ctx.config(), *fresh, _used_slots);
    // The monitor switches to the new configuration before the old one is freed.
    _ctx.monitor.apply(*fresh, _ctx.now_ns());
    _ctx.running = std::move(fresh);
    for (const std::unique_ptr<service>& s : _services) {
        s->on_reload();
    }
    _ctx.dirty = true;
    publish(_ctx.now_ns());
}

std::string plane::reload() {
    _systemd.reloading();
    config_result next = load_config(_ctx.path);
    if (const std::string error = refusal_of(next); !error.empty()) {
        ++_ctx.counters.reloads_failed;
        log(log_level::error, "reload_refused", {{"error", error}});
        _systemd.reloaded(status_line()); // the running configuration stays
        return error;
    }
    install(std::move(*next.config));
    ++_ctx.counters.reloads;
    log(log_level::info,
        "reloaded",
        {{"backends", std::to_string(_ctx.config().backends.size())},
         {"pools", std::to_string(_ctx.config().pools.size())},
         {"config_revision", _ctx.config().revision}});
    _systemd.reloaded(status_line());
    return "";
}

std::string plane::change_backends(std::string_view words, std::string_view who) {
    const std::string state_file = _ctx.config().management.state_file;
    if (state_file.empty()) {
        return "backend changes need [management] state_file, or a restart would lose them";
    }
    runtime_changes changes;
    std::string error = read_runtime_state(state_file, changes);
    // set and remove name a backend that runs now; add one that does not (the reader says so).
    if (const auto [verb, name] = change_target(words);
        error.empty() && (verb == "set" || verb == "remove")
        && _ctx.config().backend_named(name) == nullptr) {
        error = "no backend named '" + name + "'";
    }
    if (error.empty()) {
        error = edit_runtime_changes(changes, words);
    }
    config_result next;
    if (error.empty()) {
        // Over the file as it runs: edits on disk wait for their own reload.
        next = parse_config(_ctx.config().source_text, _ctx.path, &changes);
        error = refusal_of(next);
    }
    if (error.empty()) {
        error = write_runtime_state(state_file, changes);
    }
    if (!error.empty()) {
        log(log_level::warning,
            "backend_change_refused",
            {{"change", std::string(words)}, {"by", std::string(who)}, {"error", error}});
        return error;
    }
    install(std::move(*next.config));
    ++_ctx.counters.backend_changes;
    log(log_level::info,
        "backend_changed",
        {{"change", std::string(words)},
         {"by", std::string(who)},
         {"generation", std::to_string(_ctx.counters.generation)}});
    return "";
}

} // namespace sipredir::control
