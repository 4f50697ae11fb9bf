// SPDX-License-Identifier: BSD-3-Clause
#include "plane.hpp"

#include "address_text.hpp"
#include "json_writer.hpp"
#include "log.hpp"
#include "snapshot_builder.hpp"

#include <sodium.h>

#include <algorithm>
#include <balance/policy.hpp>
#include <balance/redirect_counters.hpp>
#include <cerrno>
#include <ctime>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sipredir::control {

namespace {

constexpr std::int64_t publish_interval_ns = 100'000'000;
constexpr std::size_t max_datagrams_per_round = 256; // bounds a round under a flood
constexpr std::size_t max_request = 4096;
// A client that moves no byte of its request or reply for this long is closed: its buffer is
// freed and its place given to the next.
constexpr std::size_t max_connections = 32;
constexpr auto connection_idle = std::chrono::seconds(2);
// The largest reply kept for a client (256 backends' metrics are well under it); 32 clients
// that never read hold at most 32 times this.
constexpr std::size_t max_reply = 8u << 20;

std::int64_t wall_ms() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

const char* state_name(balance::backend_state s) {
    switch (s) {
    case balance::backend_state::up:
        return "up";
    case balance::backend_state::down:
        return "down";
    case balance::backend_state::draining:
        return "draining";
    case balance::backend_state::unknown:
        return "unknown";
    }
    return "?";
}

const char* policy_name(balance::policy_kind k) {
    switch (k) {
    case balance::policy_kind::least_load:
        return "least-load";
    case balance::policy_kind::proportional:
        return "proportional";
    case balance::policy_kind::p2c:
        return "p2c";
    case balance::policy_kind::sequence:
        return "sequence";
    case balance::policy_kind::wrr:
        return "wrr";
    case balance::policy_kind::hash:
        return "hash";
    case balance::policy_kind::random:
        return "random";
    case balance::policy_kind::least_latency:
        return "least-latency";
    case balance::policy_kind::race:
        return "race";
    }
    return "?";
}

// Sends one datagram without blocking; true when all of it went.
bool send_datagram(const socket_fd& s, const net::ip_endpoint& to, std::string_view d) {
    sockaddr_storage sa{};
    const socklen_t len = to_sockaddr(to, sa);
    return ::sendto(
                   s.get(),
                   d.data(),
                   d.size(),
                   MSG_DONTWAIT,
                   reinterpret_cast<const sockaddr*>(&sa),
                   len
           )
           == static_cast<ssize_t>(d.size());
}

// Hands take(datagram, source) what waits on `s`, at most max_datagrams_per_round of them.
template <typename Take> void read_datagrams(const socket_fd& s, Take take) {
    char buf[65536];
    for (std::size_t n = 0; n < max_datagrams_per_round; ++n) {
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        const ssize_t got = ::recvfrom(
                s.get(), buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len
        );
        if (got < 0) {
            return;
        }
        take(std::string_view(buf, static_cast<std::size_t>(got)), from_sockaddr(from));
    }
}

std::string error_json(std::string_view message) {
    std::string out;
    object_writer o(out, 0);
    o.field("ok", false);
    o.field("error", message);
    o.close();
    return out + "\n";
}

// What a reload cannot change while the workers run; the first such section, or "".
std::string restart_only_change(const appliance_config& a, const appliance_config& b) {
    if (!(a.listen == b.listen)) {
        return "listen";
    }
    // A pool the appliance sized at start (mbufs = 0) is still "0" in a file that leaves it so.
    const auto as_written = [](dataplane_config d) {
        if (d.mbufs_sized) {
            d.mbufs = 0;
            d.mbufs_sized = false;
        }
        return d;
    };
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
    if (!(a.management == b.management)) {
        return "management";
    }
    if (a.probe.enabled != b.probe.enabled || a.probe.source_port != b.probe.source_port) {
        return "probe";
    }
    if (a.reports.port != b.reports.port) {
        return "reports";
    }
    if (!(a.race == b.race) || a.any_race_pool() != b.any_race_pool()) {
        return "race";
    }
    if (a.fleet.enabled != b.fleet.enabled || a.fleet.name != b.fleet.name
        || a.fleet.port != b.fleet.port) {
        return "fleet";
    }
    return "";
}

} // namespace

plane::plane(std::string config_path, appliance_config initial, plane_hooks hooks)
    : _path(std::move(config_path)),
      _config(std::make_unique<appliance_config>(std::move(initial))), _hooks(std::move(hooks)) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    _epoch_ns = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    _used_slots.assign(balance::max_backends, false);
    _own_redirects.assign(balance::max_backends, 0);
    _peer_redirects.assign(balance::max_backends, 0);
    for (const static_backend& b : _config->backends) {
        _used_slots[b.slot] = true;
    }
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium cannot initialise");
    }
    randombytes_buf(&_origin.nonce, sizeof _origin.nonce);
    randombytes_buf(_origin.mac_key.data(), _origin.mac_key.size());
    _origin.local = {_config->listen.addresses.front(), _config->probe.source_port};
    _origin.user_agent = _config->sip.server.empty() ? "sipredir" : _config->sip.server;
    _monitor.apply(*_config, now_ns());
    if (_config->fleet.enabled) {
        _fleet = std::make_unique<fleet::redirect_exchange>();
        configure_fleet();
    }
    if (_config->any_race_pool()) {
        race::leg_origin origin{
                .local = {_config->listen.addresses.front(), _config->race.source_port},
                .user_agent = _origin.user_agent,
        };
        randombytes_buf(&origin.nonce, sizeof origin.nonce);
        randombytes_buf(origin.mac_key.data(), origin.mac_key.size());
        _race = std::make_unique<race::engine>(
                race::engine_settings{
                        .table_size = _config->race.table_size,
                        .leg_linger_ns = std::int64_t{_config->race.leg_linger_ms} * 1'000'000,
                        .full_reply_fallback = _config->race.full_reply_fallback,
                },
                std::move(origin)
        );
    }
}

std::int64_t plane::now_ns() const noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    // Relative to the plane's start, so that 0 means "never" in the facts.
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec - _epoch_ns + 1;
}

void plane::open() {
    const appliance_config& c = *_config;
    if (c.probe.enabled) {
        _probe_socket = open_udp(_origin.local, false);
    }
    if (c.reports.port != 0) {
        _report_socket = open_udp({c.listen.addresses.front(), c.reports.port}, true);
    }
    if (_race) {
        _race_socket = open_udp(_race->origin().local, false);
    }
    if (_fleet) {
        _fleet_socket = open_udp({c.listen.addresses.front(), c.fleet.port}, true);
    }
    if (!c.management.socket.empty()) {
        _management = open_unix_listener(c.management.socket);
    }
    if (c.management.metrics) {
        _metrics = open_tcp_listener(*c.management.metrics);
    }
    log(log_level::info,
        "control_plane_started",
        {{"probing", c.probe.enabled ? endpoint_text(_origin.local) : "off"},
         {"reports", c.reports.port != 0 ? std::to_string(c.reports.port) : "off"},
         {"races", _race ? endpoint_text(_race->origin().local) : "off"},
         {"fleet",
          _fleet ? c.fleet.name + " on " + std::to_string(c.fleet.port) + ", "
                           + std::to_string(c.fleet.peers.size()) + " peers"
                 : "off"},
         {"socket", c.management.socket},
         {"metrics", c.management.metrics ? endpoint_text(*c.management.metrics) : "off"}});
}

void plane::run_once(std::chrono::microseconds max_wait) {
    std::vector<pollfd> fds;
    const auto watch = [&](int fd) {
        if (fd >= 0) {
            fds.push_back({fd, POLLIN, 0});
        }
    };
    watch(_probe_socket.get());
    watch(_report_socket.get());
    watch(_race_socket.get());
    watch(_fleet_socket.get());
    watch(_management.get());
    watch(_metrics.get());
    for (const connection& c : _connections) {
        fds.push_back({c.fd.get(), static_cast<short>(c.answered ? POLLOUT : POLLIN), 0});
    }
    std::int64_t now = now_ns();
    std::int64_t due = std::min(_monitor.probes().next_event_ns(), _next_publish_ns);
    if (_race) {
        due = std::min(due, _race->next_event_ns());
    }
    if (_fleet) {
        due = std::min({due, _fleet->next_event_ns(), _next_collect_ns});
    }
    std::int64_t wait_ns =
            std::min<std::int64_t>(max_wait.count() * 1000, std::max<std::int64_t>(0, due - now));
    if (_dirty) {
        wait_ns = 0;
    }
    const timespec timeout{wait_ns / 1'000'000'000, wait_ns % 1'000'000'000};
    const int ready = ppoll(fds.data(), fds.size(), &timeout, nullptr);
    now = now_ns();
    if (ready > 0) {
        read_probes(now);
        read_reports(now);
        read_race_answers(now);
        read_fleet(now);
        if (_management && std::any_of(fds.begin(), fds.end(), [&](const pollfd& p) {
                return p.fd == _management.get() && (p.revents & POLLIN) != 0;
            })) {
            accept(_management.get(), false);
        }
        if (_metrics && std::any_of(fds.begin(), fds.end(), [&](const pollfd& p) {
                return p.fd == _metrics.get() && (p.revents & POLLIN) != 0;
            })) {
            accept(_metrics.get(), true);
        }
    }
    std::erase_if(_connections, [&](connection& c) {
        if (!serve(c)) {
            return true;
        }
        if (std::chrono::steady_clock::now() - c.last_progress > connection_idle) {
            ++_counters.management_idle;
            return true;
        }
        return false;
    });

    if (_reload_requested.exchange(false, std::memory_order_relaxed)) {
        reload();
    }
    // Probes: timeouts first, so that a backend re-probed at once is asked in this round.
    _monitor.probes().expire(now, [&](std::uint16_t slot) {
        _dirty = true;
        if (const static_backend* b = _config->backend_in(slot)) {
            log(log_level::warning,
                "backend_down",
                {{"backend", b->config.name}, {"cause", "probe timeout"}});
        }
    });
    if (_probe_socket) {
        _monitor.probes().send_due(
                _origin,
                now,
                [&](std::uint16_t, const net::ip_endpoint& to, std::string_view request) {
                    return send_datagram(_probe_socket, to, request);
                }
        );
    }
    if (_race) {
        _race->expire(now, race_outputs());
    }
    share_redirects(now);
    if (_dirty || now >= _next_publish_ns) {
        publish(now);
    }
}

race::engine_outputs plane::race_outputs() {
    return {
            .send = [this](const net::ip_endpoint& to, std::string_view request
                    ) { return send_datagram(_race_socket, to, request); },
            .answer = _hooks.answer_race,
    };
}

void plane::race_request(std::span<const std::uint8_t> frame, std::uint16_t pool) {
    if (_race) {
        _race->submit(frame, pool, now_ns(), race_outputs());
    } else if (_hooks.answer_race) {
        // No pool raced at start: the pool's own policy answers.
        _hooks.answer_race(frame, {.pool = pool});
    }
}

void plane::finish_races() {
    if (_race) {
        _race->flush(race_outputs());
    }
}

void plane::read_race_answers(std::int64_t now) {
    if (!_race_socket) {
        return;
    }
    const race::engine_outputs out = race_outputs();
    read_datagrams(_race_socket, [&](std::string_view d, const net::ip_endpoint& from) {
        _race->on_datagram(d, from, now, out);
    });
}

// The race engine's view of the pools: for race pools, the backends neither down nor draining.
void plane::update_race_pools(std::span<const balance::backend_facts> facts) {
    if (!_race) {
        return;
    }
    std::vector<race::pool_view> pools;
    for (const balance::pool_config& p : _config->pools) {
        race::pool_view v;
        v.races = p.policy == balance::policy_kind::race;
        v.config = p.race;
        for (const std::uint16_t slot : p.backends) {
            const static_backend* b = _config->backend_in(slot);
            const balance::backend_state s =
                    slot < facts.size() ? facts[slot].state : balance::backend_state::unknown;
            if (v.races && b != nullptr && s != balance::backend_state::down
                && s != balance::backend_state::draining) {
                v.live.push_back({.slot = slot, .address = b->config.address});
            }
        }
        pools.push_back(std::move(v));
    }
    _race->set_pools(std::move(pools));
}

void plane::read_probes(std::int64_t now) {
    if (!_probe_socket) {
        return;
    }
    read_datagrams(_probe_socket, [&](std::string_view d, const net::ip_endpoint& from) {
        const auto changed = _monitor.probes().on_datagram(d, from, _origin, now);
        if (changed) {
            _dirty = true;
            const probe_record* r = _monitor.probes().record(*changed);
            const static_backend* b = _config->backend_in(*changed);
            if (r != nullptr && b != nullptr) {
                log(r->health.state == health::up ? log_level::info : log_level::warning,
                    r->health.state == health::up ? "backend_up" : "backend_down",
                    {{"backend", b->config.name}, {"code", std::to_string(r->health.last_code)}});
            }
        }
    });
}

// The exchange's view of the configuration: names by slot, key, peers' timing.
void plane::configure_fleet() {
    const fleet_config& f = _config->fleet;
    fleet::exchange_settings s;
    s.self = f.name;
    s.key = f.key.value_or(signing_key{});
    s.window_ms = f.window_ms;
    s.interval_ns = std::int64_t{f.interval_ms} * 1'000'000;
    s.full_interval_ns = std::int64_t{f.full_interval_ms} * 1'000'000;
    s.peer_timeout_ns = std::int64_t{f.peer_timeout_ms} * 1'000'000;
    s.send_fraction = f.send_fraction;
    for (std::size_t i = 0; i < f.peers.size(); ++i) {
        s.peers.push_back({f.peer_names[i], f.peers[i].address});
    }
    std::vector<std::string> names(balance::max_backends);
    s.capacity.assign(balance::max_backends, 0); // a free slot: nothing to fold
    for (const static_backend& b : _config->backends) {
        names[b.slot] = b.config.name;
        s.capacity[b.slot] = b.config.capacity;
    }
    _fleet->configure(s, names, static_cast<std::uint64_t>(wall_ms()));
}

void plane::read_fleet(std::int64_t now) {
    if (!_fleet_socket) {
        return;
    }
    const std::int64_t wall = wall_ms();
    read_datagrams(_fleet_socket, [&](std::string_view d, const net::ip_endpoint& from) {
        // Folded at the next publication, not at once: 50 peers every 50 ms would otherwise
        // publish a table a thousand times a second.
        _fleet->admit(d, from.address, wall, now, _peer_redirects);
    });
}

void plane::collect_redirects() {
    if (!_hooks.take_redirects) {
        return;
    }
    const std::vector<std::uint64_t> delta = _hooks.take_redirects();
    for (std::size_t i = 0; i < delta.size() && i < _own_redirects.size(); ++i) {
        _own_redirects[i] += delta[i];
    }
    if (_fleet) {
        _fleet->add_own(delta);
    }
}

// Our new redirects to every peer when the exchange says so (its interval, a full round, or a
// backend whose unsent count passed its share of the spare capacity).
void plane::share_redirects(std::int64_t now) {
    if (!_fleet) {
        return;
    }
    if (now < _next_collect_ns) {
        return;
    }
    _next_collect_ns = now + 1'000'000;
    _fleet->expire(now);
    collect_redirects();
    std::vector<double> spare(balance::max_backends, 0.0);
    const std::span<const balance::backend_facts> facts = _monitor.facts();
    for (const static_backend& b : _config->backends) {
        if (b.slot < facts.size()) {
            const double load =
                    balance::estimated_load(b.config, facts[b.slot])
                    + static_cast<double>(_own_redirects[b.slot] + _peer_redirects[b.slot])
                              / std::max<double>(b.config.capacity, 1);
            spare[b.slot] = (b.config.threshold - load) * b.config.capacity;
        }
    }
    if (!_fleet->due(now, spare)) {
        return;
    }
    for (const std::string& m : _fleet->take_messages(now, wall_ms())) {
        for (const net::ip_endpoint& peer : _config->fleet.peers) {
            send_datagram(_fleet_socket, peer, m);
        }
    }
}

void plane::read_reports(std::int64_t now) {
    if (!_report_socket) {
        return;
    }
    char buf[2048];
    const std::int64_t wall = wall_ms();
    for (std::size_t n = 0; n < max_datagrams_per_round; ++n) {
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        const ssize_t got = ::recvfrom(
                _report_socket.get(),
                buf,
                sizeof buf,
                MSG_DONTWAIT | MSG_TRUNC,
                reinterpret_cast<sockaddr*>(&from),
                &len
        );
        if (got < 0) {
            return;
        }
        // MSG_TRUNC gives the datagram's real length: one longer than the buffer is no report,
        // and the gate counts the empty view as malformed.
        const bool truncated = static_cast<std::size_t>(got) > sizeof buf;
        const std::string_view d = truncated ? std::string_view{}
                                             : std::string_view(buf, static_cast<std::size_t>(got));
        taken_report r;
        const net::ip_address source = from_sockaddr(from).address;
        if (_monitor.reports().admit(d, source, wall, now, r) == report_verdict::accepted) {
            _monitor.take(r, now);
            _dirty = true;
        }
    }
}

void plane::publish(std::int64_t now) {
    collect_redirects();
    std::vector<std::uint64_t> delta(balance::max_backends, 0);
    for (std::size_t i = 0; i < delta.size(); ++i) {
        delta[i] = _own_redirects[i] + _peer_redirects[i];
    }
    std::fill(_own_redirects.begin(), _own_redirects.end(), 0);
    std::fill(_peer_redirects.begin(), _peer_redirects.end(), 0);
    const std::span<const balance::backend_facts> facts = _monitor.update(now, delta);
    update_race_pools(facts);
    // The workers' and the port's counters only when a reading is due (the port's cost a
    // driver call).
    std::vector<std::uint64_t> busy;
    std::uint64_t imissed = 0;
    if (_overload.reading_due(now)) {
        busy = _hooks.busy_ns ? _hooks.busy_ns() : std::vector<std::uint64_t>{};
        imissed = _hooks.imissed ? _hooks.imissed() : 0;
    }
    const auto wall = std::chrono::system_clock::now().time_since_epoch();
    _overload_signal = _overload.update(
            _config->overload,
            now,
            static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(wall).count()
            ),
            busy,
            imissed,
            any_pool_saturated(*_config, facts)
    );
    if (_hooks.publish && _hooks.publish(*_config, facts, _overload_signal)) {
        ++_counters.publications;
        ++_counters.generation;
        _dirty = false;
    }
    _next_publish_ns = now + publish_interval_ns;
}

std::string plane::reload() {
    config_result next = load_config(_path);
    std::string error;
    if (!next.config) {
        error = next.error.message;
    } else if (const std::string section = restart_only_change(*_config, *next.config);
               !section.empty()) {
        const auto line = next.config->section_lines.find(section);
        error = _path + ":"
                + std::to_string(line != next.config->section_lines.end() ? line->second : 1)
                + ": [" + section
                + "] differs from the running configuration and only a restart can change it";
    }
    if (!error.empty()) {
        ++_counters.reloads_failed;
        log(log_level::error, "reload_refused", {{"error", error}});
        return error;
    }
    auto fresh = std::make_unique<appliance_config>(std::move(*next.config));
    assign_slots(*_config, *fresh, _used_slots);
    // The monitor switches to the new configuration before the old one is freed.
    _monitor.apply(*fresh, now_ns());
    _config = std::move(fresh);
    if (_fleet) {
        configure_fleet();
    }
    ++_counters.reloads;
    _dirty = true;
    publish(now_ns());
    log(log_level::info,
        "reloaded",
        {{"backends", std::to_string(_config->backends.size())},
         {"pools", std::to_string(_config->pools.size())},
         {"config_revision", _config->revision}});
    return "";
}

void plane::accept(int listener, bool http) {
    for (;;) {
        socket_fd fd(::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            return;
        }
        if (_connections.size() >= max_connections) {
            // The oldest gives way: clients that connect and never read cannot lock the
            // operator out, they only shorten each other's time.
            _connections.erase(_connections.begin());
            ++_counters.management_evicted;
        }
        connection c;
        c.fd = std::move(fd);
        c.http = http;
        c.last_progress = std::chrono::steady_clock::now();
        _connections.push_back(std::move(c));
    }
}

bool plane::serve(connection& c) {
    if (c.answered) {
        return write_out(c);
    }
    char buf[1024];
    bool closed = false;
    for (;;) {
        const ssize_t got = ::recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (got == 0) {
            closed = true; // the peer closed its side: answer what came
            break;
        }
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            }
            return false;
        }
        c.in.append(buf, static_cast<std::size_t>(got));
        c.last_progress = std::chrono::steady_clock::now();
        if (c.in.size() > max_request) {
            return false;
        }
    }
    c.out = reply_to(c);
    if (c.out.empty()) {
        return !closed; // more to come, unless the peer said it was done
    }
    if (c.out.size() > max_reply) {
        ++_counters.management_too_large;
        return false;
    }
    c.answered = true;
    c.in.clear();
    return write_out(c);
}

bool plane::write_out(connection& c) {
    // Never waits: what the socket takes now, the rest when poll says POLLOUT.
    while (c.sent < c.out.size()) {
        const ssize_t n =
                ::send(c.fd.get(),
                       c.out.data() + c.sent,
                       c.out.size() - c.sent,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        }
        if (n <= 0) {
            return false;
        }
        c.sent += static_cast<std::size_t>(n);
        c.last_progress = std::chrono::steady_clock::now();
    }
    return false; // all written: close
}

std::string plane::reply_to(const connection& c) {
    if (c.http) {
        const std::size_t end = c.in.find("\r\n\r\n");
        if (end == std::string::npos) {
            return {};
        }
        const std::string_view request_line = std::string_view(c.in).substr(0, c.in.find("\r\n"));
        std::string body;
        std::string status = "200 OK";
        std::string type = "text/plain; version=0.0.4; charset=utf-8";
        if (request_line.starts_with("GET /metrics ")
            || request_line.starts_with("GET /metrics?")) {
            body = metrics_text();
        } else if (request_line.starts_with("GET /backends ")) {
            body = backends_json();
            type = "application/json";
        } else if (request_line.starts_with("GET /query ") || request_line.starts_with("GET /query?")) {
            const std::string_view target = request_line.substr(4, request_line.find(' ', 4) - 4);
            body = query_json(query_args_from_target(target));
            type = "application/json";
        } else {
            status = "404 Not Found";
            body = "GET /metrics, /backends or /query?pool=NAME&count=false\n";
        }
        return "HTTP/1.0 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: "
               + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    }
    const std::size_t nl = c.in.find('\n');
    if (nl == std::string::npos) {
        return {};
    }
    return command(std::string_view(c.in).substr(0, nl));
}

std::string plane::command(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.remove_suffix(1);
    }
    const std::size_t space = line.find(' ');
    const std::string_view verb = line.substr(0, space);
    const std::string_view arg =
            space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
    if (verb == "version") {
        std::string out;
        object_writer o(out, 0);
        o.field("ok", true);
        o.field("version", version_text);
        o.field("config_revision", _config->revision);
        o.close();
        return out + "\n";
    }
    if (verb == "stats") {
        return stats_text();
    }
    if (verb == "backends") {
        return backends_json();
    }
    if (verb == "fleet") {
        return fleet_json();
    }
    if (verb == "pools") {
        return pools_json();
    }
    if (verb == "query") {
        return query_json(query_args_from_words(arg));
    }
    if (verb == "metrics") {
        return metrics_text();
    }
    if (verb == "drain" || verb == "undrain") {
        if (arg.empty() || !_monitor.set_drained(std::string(arg), verb == "drain")) {
            return error_json("no backend named '" + std::string(arg) + "'");
        }
        _dirty = true;
        publish(now_ns());
        log(log_level::info,
            verb == "drain" ? "backend_drained" : "backend_undrained",
            {{"backend", std::string(arg)}});
        std::string out;
        object_writer o(out, 0);
        o.field("ok", true);
        o.field(verb == "drain" ? "drained" : "undrained", arg);
        o.field("generation", _counters.generation);
        o.close();
        return out + "\n";
    }
    if (verb == "reload") {
        const std::string error = reload();
        if (!error.empty()) {
            return error_json(error);
        }
        std::string out;
        object_writer o(out, 0);
        o.field("ok", true);
        o.field("reloaded", _path);
        o.field("backends", std::uint64_t{_config->backends.size()});
        o.field("generation", _counters.generation);
        o.close();
        return out + "\n";
    }
    return error_json(
            "unknown command '" + std::string(verb)
            + "' (stats, backends, pools, query [POOL] [count=false], drain NAME, undrain NAME, "
              "reload, metrics, version)"
    );
}

std::string plane::stats_text() {
    std::string out;
    object_writer o(out, 0);
    o.field("ok", true);
    o.key("appliance") += _hooks.stats_json ? _hooks.stats_json() : std::string("{}");
    while (!out.empty() && out.back() == '\n') {
        out.pop_back();
    }
    // Named as in the metrics: sipredir_reloads_total{result}, sipredir_table_generation,
    // sipredir_probes_total{result}, sipredir_load_reports_total{verdict}.
    o.key("reloads");
    object_writer reloads(out, 2);
    reloads.field("applied", _counters.reloads);
    reloads.field("refused", _counters.reloads_failed);
    reloads.close();
    o.field("table_generation", _counters.generation);
    o.key("management_closed");
    object_writer closed(out, 2);
    closed.field("evicted", _counters.management_evicted);
    closed.field("idle", _counters.management_idle);
    closed.field("too_large", _counters.management_too_large);
    closed.close();
    o.key("probes");
    object_writer probes(out, 2);
    for (const probe_counter_info& c : probe_counter_table) {
        probes.field(c.result, _monitor.probes().counters().*c.field);
    }
    probes.close();
    o.key("reports");
    object_writer r(out, 2);
    for (std::size_t v = 0; v < report_verdict_count; ++v) {
        r.field(name_of(static_cast<report_verdict>(v)),
                _monitor.reports().count(static_cast<report_verdict>(v)));
    }
    r.close();
    o.close();
    return out + "\n";
}

std::string plane::fleet_json() {
    if (!_fleet) {
        return error_json("this appliance has no [fleet]");
    }
    std::string out;
    object_writer o(out, 0);
    const std::int64_t now = now_ns();
    o.field("ok", true);
    o.field("name", _config->fleet.name);
    o.field("configured_peers", std::uint64_t{_config->fleet.peers.size()});
    o.key("peers");
    out += "[";
    bool first = true;
    for (const fleet::peer_status& p : _fleet->peers()) {
        out += first ? "\n  " : ",\n  ";
        first = false;
        object_writer w(out, 2);
        w.field("name", p.name);
        w.field("epoch_ms", p.epoch_ms);
        w.field("last_seq", p.last_seq);
        w.field("heard_ms_ago",
                static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - p.heard_ns) / 1'000'000)
        );
        w.field("messages", p.messages);
        w.field("redirects", p.redirects);
        w.close();
    }
    out += first ? "]" : "\n]";
    const fleet::exchange_counters& c = _fleet->counters();
    o.key("received");
    object_writer r(out, 1);
    for (std::size_t v = 0; v < fleet::exchange_verdict_count; ++v) {
        r.field(fleet::name_of(static_cast<fleet::exchange_verdict>(v)), c.received[v]);
    }
    r.close();
    o.field("sends", c.sends);
    o.field("sent_messages", c.sent_messages);
    o.field("triggered_sends", c.triggered_sends);
    o.field("unknown_backends", c.unknown_backends);
    o.field("went_back", c.went_back);
    o.field("peers_expired", c.peers_expired);
    o.field("restarts_seen", c.restarts_seen);
    o.field("capped_redirects", c.capped_redirects);
    o.close();
    return out + "\n";
}

std::string plane::backends_json() {
    const std::int64_t now = now_ns();
    std::string out;
    object_writer o(out, 0);
    o.field("ok", true);
    o.key("backends");
    out += "[";
    bool first = true;
    for (const backend_status& s : _monitor.status(now)) {
        out += first ? "\n  " : ",\n  ";
        first = false;
        object_writer b(out, 2);
        b.field("name", s.name);
        b.field("address", s.address);
        b.field("state", state_name(s.state));
        b.field("configured", state_name(s.configured));
        b.field("drained", s.drained);
        b.field("probe", name_of(s.probed));
        b.field("probe_changed_ms_ago", s.probe_changed_ms_ago);
        b.field("load", s.load);
        b.field("load_source", name_of(s.source));
        b.field("load_age_ms", s.figure_age_ms);
        b.field("rtt_ms", s.rtt_ms);
        b.field("jitter_ms", s.jitter_ms);
        b.field("overload_reduction", s.oc_reduction);
        b.field("capacity", std::uint64_t{s.capacity});
        b.field("reports_accepted", s.reports_accepted);
        b.field("redirects",
                _hooks.redirect_total ? _hooks.redirect_total(s.slot) : std::uint64_t{0});
        b.close();
    }
    out += "\n  ]";
    o.close();
    return out + "\n";
}

std::unique_ptr<const balance::table_snapshot> plane::current_tables() {
    // The facts as of now, built whole; off the fast path, for the operator's questions. The
    // redirects publication has not folded yet are added to a copy, so that a query sees those
    // counted since, the queries' own included.
    collect_redirects();
    const std::span<const balance::backend_facts> now = _monitor.update(now_ns(), {});
    std::vector<balance::backend_facts> facts(now.begin(), now.end());
    std::vector<std::uint64_t> pending(_own_redirects.size(), 0);
    for (std::size_t i = 0; i < pending.size(); ++i) {
        pending[i] = _own_redirects[i] + _peer_redirects[i];
    }
    balance::fold_redirects(facts, pending);
    return build_tables(*_config, facts, 0, nullptr);
}

namespace {

std::string_view contact_user_name(balance::contact_user u) noexcept {
    switch (u) {
    case balance::contact_user::request_uri:
        return "request-uri";
    case balance::contact_user::to:
        return "to";
    case balance::contact_user::none:
        return "none";
    }
    return "?";
}

} // namespace

std::string plane::pools_json() {
    const auto tables = current_tables();
    std::string out;
    object_writer o(out, 0);
    o.field("ok", true);
    o.field("default", _config->pools[_config->pool_index].name);
    o.key("pools");
    out += "[";
    bool first = true;
    for (const balance::pool_snapshot& p : tables->pools) {
        out += first ? "\n  " : ",\n  ";
        first = false;
        object_writer w(out, 2);
        w.field("name", p.name);
        w.field("policy", policy_name(p.policy));
        w.field("contacts", std::uint64_t{p.contacts});
        w.field("contact_user", contact_user_name(p.contact_from));
        w.field("retry_after", std::uint64_t{p.retry_after});
        // Tiers on: how many, and the priority that takes requests now.
        w.field("tiers", std::uint64_t{p.tiers.size()});
        if (!p.tiers.empty()) {
            w.field("serving_priority", std::uint64_t{p.tiers[p.serving_tier].priority});
        }
        w.field("backends", std::uint64_t{p.backends.size()});
        w.field("available", std::uint64_t{p.available.size()});
        w.field("eligible", std::uint64_t{p.eligible.size()});
        w.close();
    }
    out += "\n  ]";
    o.close();
    return out + "\n";
}

std::string plane::query_json(const query_args& args) {
    if (!args.error.empty()) {
        return error_json(args.error);
    }
    const auto tables = current_tables();
    const balance::pool_snapshot* pool =
            args.pool.empty() ? &tables->pools[_config->pool_index] : tables->find(args.pool);
    if (pool == nullptr) {
        return error_json("no pool named '" + args.pool + "'");
    }
    balance::choice_inputs in;
    randombytes_buf(&in.random, sizeof in.random);
    randombytes_buf(&in.key_hash, sizeof in.key_hash);
    in.sequence = in.random;
    const balance::selection s = balance::choose(*pool, in);
    // A proxy that routes by query sends its caller to the backends named, as a 302 would: they
    // count as redirects, or every query between two publications names the same backend. The
    // table below is the one the choice was made from.
    const bool counted = args.count && _hooks.count_redirect;
    for (std::uint8_t i = 0; counted && i < s.count; ++i) {
        _hooks.count_redirect(pool->backends[s.picks[i]].slot);
    }
    std::string out;
    object_writer o(out, 0);
    o.field("ok", true);
    o.field("pool", pool->name);
    o.field("policy", policy_name(pool->policy));
    o.field("counted", counted && s.count > 0);
    o.key("choice");
    out += "[";
    for (std::uint8_t i = 0; i < s.count; ++i) {
        const balance::backend_view& b = pool->backends[s.picks[i]];
        const static_backend* c = _config->backend_in(b.slot);
        out += i == 0 ? "" : ", ";
        out += quoted(c != nullptr ? c->config.name : "?");
    }
    out += "]";
    if (s.count == 0) {
        o.field("retry_after", std::uint64_t{pool->retry_after});
    }
    o.key("table");
    out += "[";
    bool first = true;
    for (const balance::backend_view& b : pool->backends) {
        const static_backend* c = _config->backend_in(b.slot);
        out += first ? "\n  " : ",\n  ";
        first = false;
        object_writer w(out, 2);
        w.field("name", c != nullptr ? c->config.name : std::string("?"));
        w.field("state", state_name(b.state));
        w.field("load", b.load);
        w.field("threshold", b.threshold);
        w.field("eligible",
                std::find(pool->eligible.begin(), pool->eligible.end(), &b - pool->backends.data())
                        != pool->eligible.end());
        w.close();
    }
    out += "\n  ]";
    o.close();
    return out + "\n";
}

std::string plane::metrics_text() {
    const pipeline::stats_totals totals =
            _hooks.totals ? _hooks.totals() : pipeline::stats_totals{};
    const std::vector<backend_status> backends = _monitor.status(now_ns());
    std::vector<std::uint64_t> redirects(balance::max_backends, 0);
    for (const backend_status& b : backends) {
        redirects[b.slot] = _hooks.redirect_total ? _hooks.redirect_total(b.slot) : 0;
    }
    metrics_input in;
    in.totals = &totals;
    in.pool = _config->pools[_config->pool_index].name;
    in.backends = backends;
    in.redirects = redirects;
    in.probes = &_monitor.probes().counters();
    in.reports = &_monitor.reports();
    in.control = _counters;
    in.config_revision = _config->revision;
    in.race = _race ? &_race->counters() : nullptr;
    const std::vector<fleet::peer_status> peers =
            _fleet ? _fleet->peers() : std::vector<fleet::peer_status>{};
    in.fleet = _fleet ? &_fleet->counters() : nullptr;
    in.peers = peers;
    in.overload = _overload_signal;
    in.overload_read = _overload.readings();
    return prometheus_text(in);
}

} // namespace sipredir::control
