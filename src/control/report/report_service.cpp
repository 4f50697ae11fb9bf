// SPDX-License-Identifier: BSD-3-Clause
#include "report_service.hpp"

namespace sipredir::control {

namespace {

// The longest datagram read as a report.
constexpr std::size_t max_report_datagram = 2048;

} // namespace

void report_service::open() {
    const appliance_config& c = _c.config();
    if (c.reports.port != 0) {
        _socket = open_udp({c.listen.addresses.front(), c.reports.port}, true);
    }
}

void report_service::describe(std::vector<log_field>& fields) const {
    const std::uint16_t port = _c.config().reports.port;
    fields.emplace_back("reports", port != 0 ? std::to_string(port) : "off");
}

void report_service::read_round(std::int64_t now) {
    const std::int64_t wall = wall_ms();
    // A datagram longer than any report reaches the gate empty, which counts it as malformed.
    read_datagrams(
            _socket,
            [&](std::string_view d, const net::ip_endpoint& from) {
                taken_report r;
                if (_c.monitor.reports().admit(d, from.address, wall, now, r)
                    == report_verdict::accepted) {
                    _c.monitor.take(r, now);
                    _c.dirty = true;
                }
            },
            max_report_datagram
    );
}

std::string_view report_service::restart_only_change(
        const appliance_config& running, const appliance_config& next
) const {
    return running.reports.port != next.reports.port ? "reports" : "";
}

void report_service::write_stats(object_writer& o, std::string& out) const {
    // Named as in the metrics: sipredir_load_reports_total{verdict}.
    o.key("reports");
    object_writer r(out, 2);
    for (const enum_name<report_verdict>& v : report_verdict_table) {
        r.field(v.name, _c.monitor.reports().count(v.value));
    }
    r.close();
}

void report_service::fill_metrics(metrics_input& in) {
    in.reports = &_c.monitor.reports();
}

std::unique_ptr<service> make_report_service(control_context& c) {
    return std::make_unique<report_service>(c);
}

} // namespace sipredir::control
