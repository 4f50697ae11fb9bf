// SPDX-License-Identifier: BSD-3-Clause
#include "fleet_service.hpp"

#include "../enum_names.hpp"
#include "mesh_transport.hpp"
#include "nats_transport.hpp"

#include <algorithm>
#include <balance/policy.hpp>

namespace sipredir::control {

fleet_service::fleet_service(control_context& c) : _c(c) {
    if (c.config().fleet.enabled) {
        _fleet = std::make_unique<fleet::redirect_exchange>();
        configure();
    }
}

// The exchange's view of the configuration: names by slot, key, peers' timing.
void fleet_service::configure() {
    const appliance_config& config = _c.config();
    const fleet_config& f = config.fleet;
    fleet::exchange_settings s;
    s.self = f.name;
    s.key = f.key.value_or(signing_key{});
    s.window_ms = f.window_ms;
    s.interval_ns = std::int64_t{f.interval_ms} * 1'000'000;
    s.full_interval_ns = std::int64_t{f.full_interval_ms} * 1'000'000;
    s.peer_timeout_ns = std::int64_t{f.peer_timeout_ms} * 1'000'000;
    s.send_fraction = f.send_fraction;
    s.probers = config.probe.enabled ? f.probers : 0;
    s.probe_interval_ns = config.probe.settings.interval_ns;
    for (std::size_t i = 0; i < f.peer_names.size(); ++i) {
        s.peers.push_back({f.peer_names[i], f.peers[i].address});
    }
    s.any_peer = f.transport == fleet_transport_kind::nats && f.peer_names.empty();
    std::vector<std::string> names(balance::max_backends);
    s.capacity.assign(balance::max_backends, 0); // a free slot: nothing to fold
    for (const static_backend& b : config.backends) {
        names[b.slot] = b.config.name;
        s.capacity[b.slot] = b.config.capacity;
    }
    _fleet->configure(s, names, static_cast<std::uint64_t>(wall_ms()));
}

void fleet_service::open() {
    const appliance_config& c = _c.config();
    if (!_fleet) {
        return;
    }
    if (c.fleet.transport == fleet_transport_kind::nats) {
        _transport = std::make_unique<fleet::nats_transport>(c.fleet.nats, c.fleet.name);
    } else {
        _transport = std::make_unique<fleet::mesh_transport>(
                net::ip_endpoint{c.listen.addresses.front(), c.fleet.port}, c.fleet.peers
        );
    }
    _transport->open();
}

void fleet_service::watch(std::vector<pollfd>& fds) const {
    if (_transport) {
        _transport->watch(fds);
    }
}

void fleet_service::finish() {
    if (_transport) {
        _transport->close();
    }
}

void fleet_service::describe(std::vector<log_field>& fields) const {
    const fleet_config& f = _c.config().fleet;
    fields.emplace_back("fleet", _transport ? f.name + ", " + _transport->describe() : "off");
}

void fleet_service::on_polled(std::span<const pollfd> mine, std::int64_t now) {
    if (!_transport) {
        return;
    }
    const std::int64_t wall = wall_ms();
    _transport->receive(mine, [&](std::string_view d, const fleet::message_origin& from) {
        // Folded at the next publication, not at once: 50 peers every 50 ms would otherwise
        // publish a table a thousand times a second.
        _fleet->admit(d, from, wall, now, _c.peer_redirects);
    });
}

// The NATS connection's ups and downs, logged by the control loop (the library's threads only
// count them).
void fleet_service::log_connection_changes() {
    const fleet::transport_counters now = _transport->counters();
    if (now.disconnects != _logged.disconnects || (_logged.connected && !now.connected)) {
        log(log_level::warning,
            "fleet_disconnected",
            {{"transport", _transport->describe()},
             {"disconnects", std::to_string(now.disconnects)}});
    }
    if (now.reconnects != _logged.reconnects || (!_logged.connected && now.connected)) {
        log(log_level::info,
            "fleet_connected",
            {{"transport", _transport->describe()}, {"reconnects", std::to_string(now.reconnects)}}
        );
    }
    _logged = now;
    if (const std::optional<std::string> error = _transport->new_error()) {
        log(log_level::warning, "fleet_transport_error", {{"error", *error}});
    }
}

// Our new redirects to every peer when the exchange says so (its interval, a full round, or a
// backend whose unsent count passed its share of the spare capacity).
void fleet_service::on_tick(std::int64_t now) {
    if (!_fleet || now < _next_collect_ns) {
        return;
    }
    _next_collect_ns = now + 1'000'000;
    log_connection_changes();
    _fleet->expire(now);
    _probe_share.tick(*_fleet, _c, now);
    _c.loop->collect_redirects();
    std::vector<double> spare(balance::max_backends, 0.0);
    const std::span<const balance::backend_facts> facts = _c.monitor.facts();
    for (const static_backend& b : _c.config().backends) {
        if (b.slot < facts.size()) {
            const double load =
                    balance::estimated_load(b.config, facts[b.slot])
                    + static_cast<double>(_c.own_redirects[b.slot] + _c.peer_redirects[b.slot])
                              / std::max<double>(b.config.capacity, 1);
            spare[b.slot] = (b.config.threshold - load) * b.config.capacity;
        }
    }
    if (!_fleet->due(now, spare)) {
        return;
    }
    for (const std::string& m : _fleet->take_messages(now, wall_ms())) {
        _transport->publish(m);
    }
}

std::int64_t fleet_service::next_due_ns() const {
    return _fleet ? std::min(_fleet->next_event_ns(), _next_collect_ns) : service::next_due_ns();
}

void fleet_service::on_own_redirects(std::span<const std::uint64_t> delta) {
    if (_fleet) {
        _fleet->add_own(delta);
    }
}

void fleet_service::on_reload() {
    if (_fleet) {
        configure();
    }
    if (_transport) {
        _transport->reconfigure(_c.config().fleet);
    }
}

std::string_view fleet_service::restart_only_change(
        const appliance_config& running, const appliance_config& next
) const {
    const fleet_config& a = running.fleet;
    const fleet_config& b = next.fleet;
    const bool same = a.enabled == b.enabled && a.name == b.name && a.port == b.port
                      && a.transport == b.transport && a.nats == b.nats;
    return same ? "" : "fleet";
}

std::optional<std::string> fleet_service::command(std::string_view verb, std::string_view) {
    if (verb != "fleet") {
        return std::nullopt;
    }
    return status_json();
}

std::string fleet_service::status_json() {
    if (!_fleet) {
        return error_json("this appliance has no [fleet]");
    }
    std::string out;
    object_writer o(out, 0);
    const std::int64_t now = _c.now_ns();
    o.field("ok", true);
    o.field("name", _c.config().fleet.name);
    o.field("transport", _transport->describe());
    o.field("configured_peers", std::uint64_t{_c.config().fleet.peer_names.size()});
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
    for (const enum_name<fleet::exchange_verdict>& v : fleet::exchange_verdict_table) {
        r.field(v.name, c.received[static_cast<std::size_t>(v.value)]);
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
    const fleet::transport_counters t = _transport->counters();
    o.key("transport_counters");
    object_writer tc(out, 1);
    tc.field("connected", t.connected);
    tc.field("published", t.published);
    tc.field("publish_failed", t.publish_failed);
    tc.field("received", t.received);
    tc.field("dropped", t.dropped);
    tc.field("disconnects", t.disconnects);
    tc.field("reconnects", t.reconnects);
    tc.close();
    _probe_share.write_status(*_fleet, _c, o, out, now);
    o.close();
    return out + "\n";
}

void fleet_service::fill_metrics(metrics_input& in) {
    _peers = _fleet ? _fleet->peers() : std::vector<fleet::peer_status>{};
    in.fleet = _fleet ? &_fleet->counters() : nullptr;
    in.peers = _peers;
    in.fleet_now_ns = _c.now_ns();
    if (_transport) {
        _transport_seen = _transport->counters();
        in.transport = &_transport_seen;
        in.transport_kind = name_of(_c.config().fleet.transport);
    }
    in.probe_roles = _probe_share.roles();
    if (_fleet) {
        in.shared_probes = _probe_share.shared_ages(*_fleet, _c, _c.now_ns());
    }
}

std::unique_ptr<service> make_fleet_service(control_context& c) {
    return std::make_unique<fleet_service>(c);
}

} // namespace sipredir::control
