// SPDX-License-Identifier: BSD-3-Clause
#include "probe_service.hpp"

#include "../address_text.hpp"

#include <sodium.h>

namespace sipredir::control {

probe_service::probe_service(control_context& c) : datagram_service(c) {
    const appliance_config& config = c.config();
    randombytes_buf(&_origin.nonce, sizeof _origin.nonce);
    randombytes_buf(_origin.mac_key.data(), _origin.mac_key.size());
    _origin.local = {config.listen.addresses.front(), config.probe.source_port};
    _origin.user_agent = config.sip.server.empty() ? "sipredir" : config.sip.server;
}

void probe_service::open() {
    if (_c.config().probe.enabled) {
        _socket = open_udp(_origin.local, false);
    }
}

void probe_service::describe(std::vector<log_field>& fields) const {
    fields.emplace_back(
            "probing", _c.config().probe.enabled ? endpoint_text(_origin.local) : "off"
    );
}

void probe_service::read_round(std::int64_t now) {
    read_datagrams(_socket, [&](std::string_view d, const net::ip_endpoint& from) {
        const auto changed = _c.monitor.probes().on_datagram(d, from, _origin, now);
        if (!changed) {
            return;
        }
        _c.dirty = true;
        const probe_record* r = _c.monitor.probes().record(*changed);
        const static_backend* b = _c.config().backend_in(*changed);
        if (r != nullptr && b != nullptr) {
            log(r->health.state == health::up ? log_level::info : log_level::warning,
                r->health.state == health::up ? "backend_up" : "backend_down",
                {{"backend", b->config.name}, {"code", std::to_string(r->health.last_code)}});
        }
    });
}

void probe_service::on_tick(std::int64_t now) {
    // Timeouts first, so that a backend re-probed at once is asked in this round.
    _c.monitor.probes().expire(now, [&](std::uint16_t slot) {
        _c.dirty = true;
        if (const static_backend* b = _c.config().backend_in(slot)) {
            log(log_level::warning,
                "backend_down",
                {{"backend", b->config.name}, {"cause", "probe timeout"}});
        }
    });
    if (_socket) {
        _c.monitor.probes().send_due(
                _origin,
                now,
                [&](std::uint16_t, const net::ip_endpoint& to, std::string_view request) {
                    return send_datagram(_socket, to, request);
                }
        );
    }
}

std::int64_t probe_service::next_due_ns() const {
    return _c.monitor.probes().next_event_ns();
}

std::string_view probe_service::restart_only_change(
        const appliance_config& running, const appliance_config& next
) const {
    const bool same = running.probe.enabled == next.probe.enabled
                      && running.probe.source_port == next.probe.source_port;
    return same ? "" : "probe";
}

void probe_service::write_stats(object_writer& o, std::string& out) const {
    // Named as in the metrics: sipredir_probes_total{result}.
    o.key("probes");
    object_writer probes(out, 2);
    for (const probe_counter_info& c : probe_counter_table) {
        probes.field(c.result, _c.monitor.probes().counters().*c.field);
    }
    probes.close();
}

void probe_service::fill_metrics(metrics_input& in) {
    in.probes = &_c.monitor.probes().counters();
}

std::unique_ptr<service> make_probe_service(control_context& c) {
    return std::make_unique<probe_service>(c);
}

} // namespace sipredir::control
