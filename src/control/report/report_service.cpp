// SPDX-License-Identifier: BSD-3-Clause
#include "report_service.hpp"

#include <sys/socket.h>

namespace sipredir::control {

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

void report_service::watch(std::vector<pollfd>& fds) const {
    if (_socket) {
        fds.push_back({_socket.get(), POLLIN, 0});
    }
}

void report_service::on_polled(std::span<const pollfd> mine, std::int64_t now) {
    if (!any_ready(mine)) {
        return;
    }
    char buf[2048];
    const std::int64_t wall = wall_ms();
    for (std::size_t n = 0; n < max_datagrams_per_round; ++n) {
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        const ssize_t got = ::recvfrom(
                _socket.get(),
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
        if (_c.monitor.reports().admit(d, source, wall, now, r) == report_verdict::accepted) {
            _c.monitor.take(r, now);
            _c.dirty = true;
        }
    }
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
