// SPDX-License-Identifier: BSD-3-Clause
#include "metrics.hpp"

#include "counter_catalogue.hpp"

#include <algorithm>
#include <cstdio>
#include <version.hpp>

namespace sipredir::control {

namespace {

// Label values escape backslash, quote and newline (exposition format 0.0.4).
std::string label(std::string_view v) {
    std::string out;
    for (const char c : v) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

class writer {
public:
    explicit writer(std::string& out) : _out(out) {}
    void family(std::string_view name, std::string_view type, std::string_view help) {
        _out += "# HELP ";
        _out += name;
        _out += ' ';
        _out += help;
        _out += "\n# TYPE ";
        _out += name;
        _out += ' ';
        _out += type;
        _out += '\n';
    }
    void sample(std::string_view name, std::string_view labels, double v) {
        char num[40];
        std::snprintf(num, sizeof num, "%.17g", v);
        line(name, labels, num);
    }
    void sample(std::string_view name, std::string_view labels, std::uint64_t v) {
        line(name, labels, std::to_string(v));
    }

private:
    void line(std::string_view name, std::string_view labels, std::string_view value) {
        _out += name;
        if (!labels.empty()) {
            _out += '{';
            _out += labels;
            _out += '}';
        }
        _out += ' ';
        _out += value;
        _out += '\n';
    }

    std::string& _out;
};

// The workers' counters, one family per row of counter_table, then the latency histogram.
void write_worker_counters(writer& w, const pipeline::stats_totals& t) {
    for (const counter_info& c : counter_table) {
        const std::string name =
                "sipredir_" + shown_name(c) + (c.kind == counter_kind::counter ? "_total" : "");
        w.family(name, c.kind == counter_kind::counter ? "counter" : "gauge", c.help);
        switch (c.breakdown) {
        case counter_breakdown::none:
            if (c.unit == counter_unit::count) {
                w.sample(name, "", t.*c.field);
            } else {
                w.sample(name, "", shown_value(c, t));
            }
            break;
        case counter_breakdown::by_code:
            for (std::size_t i = 0; i < t.replies_by_code.size(); ++i) {
                w.sample(name, "code=\"" + code_label(i) + "\"", t.replies_by_code[i]);
            }
            break;
        case counter_breakdown::by_cause:
            for (std::size_t i = 0; i < t.dropped_by_cause.size(); ++i) {
                w.sample(
                        name,
                        "cause=\"" + std::string(pipeline::drop_cause_table[i].name) + "\"",
                        t.dropped_by_cause[i]
                );
            }
            break;
        }
    }
    // Buckets are powers of two in ns: le is each bucket's upper edge in seconds.
    w.family("sipredir_reply_latency_seconds", "histogram", "RX burst to TX burst, per reply.");
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < t.latency.size(); ++i) {
        cumulative += t.latency[i];
        const double upper = static_cast<double>(std::uint64_t{2} << i) / 1e9;
        char le[40];
        std::snprintf(le, sizeof le, "le=\"%.9g\"", upper);
        if (i + 1 < t.latency.size()) {
            w.sample("sipredir_reply_latency_seconds_bucket", le, cumulative);
        }
    }
    w.sample("sipredir_reply_latency_seconds_bucket", "le=\"+Inf\"", cumulative);
    // The workers sum each reply's time as they bucket it: the exact sum, not one from buckets.
    w.sample("sipredir_reply_latency_seconds_sum", "", static_cast<double>(t.latency_ns_sum) / 1e9);
    w.sample("sipredir_reply_latency_seconds_count", "", cumulative);
}

void write_backends(writer& w, const metrics_input& in) {
    // A backend may serve several pools: its count is over all of them, and each pool has its
    // own count of 302s (one per reply, whatever its number of Contacts).
    w.family(
            "sipredir_redirects_total",
            "counter",
            "Contacts naming the backend in 302s, and queries answered with it, over all pools."
    );
    for (const backend_status& b : in.backends) {
        const std::uint64_t n = b.slot < in.redirects.size() ? in.redirects[b.slot] : 0;
        w.sample("sipredir_redirects_total", "backend=\"" + label(b.name) + "\"", n);
    }
    w.family("sipredir_pool_redirects_total", "counter", "302 replies sent for each pool.");
    for (const pool_redirects& p : in.pools) {
        w.sample("sipredir_pool_redirects_total", "pool=\"" + label(p.name) + "\"", p.total);
    }
    w.family("sipredir_backend_up", "gauge", "1 when the backend may be chosen (up or unknown).");
    for (const backend_status& b : in.backends) {
        const bool usable =
                b.state == balance::backend_state::up || b.state == balance::backend_state::unknown;
        w.sample("sipredir_backend_up", "backend=\"" + label(b.name) + "\"", std::uint64_t{usable});
    }
    w.family("sipredir_backend_draining", "gauge", "1 while the backend is drained.");
    for (const backend_status& b : in.backends) {
        w.sample(
                "sipredir_backend_draining",
                "backend=\"" + label(b.name) + "\"",
                std::uint64_t{b.state == balance::backend_state::draining}
        );
    }
    w.family("sipredir_backend_load_ratio", "gauge", "Estimated utilisation (1 = capacity).");
    for (const backend_status& b : in.backends) {
        w.sample("sipredir_backend_load_ratio", "backend=\"" + label(b.name) + "\"", b.load);
    }
    w.family("sipredir_backend_rtt_seconds", "gauge", "Smoothed probe round trip.");
    for (const backend_status& b : in.backends) {
        if (b.rtt_ms >= 0) {
            w.sample(
                    "sipredir_backend_rtt_seconds",
                    "backend=\"" + label(b.name) + "\"",
                    b.rtt_ms / 1e3
            );
        }
    }
    w.family("sipredir_backend_overload_reduction_ratio", "gauge", "RFC 7339 reduction asked for.");
    for (const backend_status& b : in.backends) {
        w.sample(
                "sipredir_backend_overload_reduction_ratio",
                "backend=\"" + label(b.name) + "\"",
                b.oc_reduction / 100.0
        );
    }
}

// What the probes and pushed reports brought.
void write_probes_and_reports(writer& w, const metrics_input& in) {
    if (in.probes != nullptr) {
        w.family("sipredir_probes_total", "counter", "OPTIONS probes and what came of them.");
        for (const probe_counter_info& c : probe_counter_table) {
            w.sample(
                    "sipredir_probes_total",
                    "result=\"" + std::string(c.result) + "\"",
                    (*in.probes).*c.field
            );
        }
    }
    if (in.reports != nullptr) {
        w.family("sipredir_load_reports_total", "counter", "Pushed load reports, by verdict.");
        for (const enum_name<report_verdict>& v : report_verdict_table) {
            w.sample(
                    "sipredir_load_reports_total",
                    "verdict=\"" + std::string(v.name) + "\"",
                    in.reports->count(v.value)
            );
        }
    }
}

// What the fleet's transport (the mesh or NATS) counted.
void write_fleet_transport(
        writer& w, const fleet::transport_counters& t, std::string_view transport
) {
    const std::string kind = "transport=\"" + std::string(transport) + "\"";
    w.family(
            "sipredir_fleet_transport_messages_total",
            "counter",
            "Fleet messages through the transport: published (once, for every peer), not sent, "
            "received (before any check) and dropped on arrival."
    );
    for (const auto& [event, n] :
         {std::pair{"published", t.published},
          std::pair{"publish_failed", t.publish_failed},
          std::pair{"received", t.received},
          std::pair{"dropped", t.dropped}}) {
        w.sample("sipredir_fleet_transport_messages_total", kind + ",event=\"" + event + "\"", n);
    }
    w.family(
            "sipredir_fleet_transport_disconnects_total",
            "counter",
            "NATS: connections to a server lost."
    );
    w.sample("sipredir_fleet_transport_disconnects_total", kind, t.disconnects);
    w.family(
            "sipredir_fleet_transport_reconnects_total",
            "counter",
            "NATS: connected again, to the same or another server of the cluster."
    );
    w.sample("sipredir_fleet_transport_reconnects_total", kind, t.reconnects);
    w.family(
            "sipredir_fleet_transport_connected",
            "gauge",
            "1 while a server is connected (mesh: 1)."
    );
    w.sample("sipredir_fleet_transport_connected", kind, std::uint64_t{t.connected ? 1U : 0U});
}

// Probing shared out across the fleet: the probe results exchanged, the fallbacks, and who
// probes each backend.
void write_probe_sharing(writer& w, const metrics_input& in) {
    const fleet::exchange_counters& c = *in.fleet;
    w.family(
            "sipredir_fleet_probe_results_total",
            "counter",
            "Probe results (one backend each) sent to the peers, taken from them, refused with "
            "their message, or for a backend not configured here."
    );
    w.sample("sipredir_fleet_probe_results_total", "result=\"sent\"", c.health_sent);
    w.sample("sipredir_fleet_probe_results_total", "result=\"received\"", c.health_received);
    w.sample("sipredir_fleet_probe_results_total", "result=\"refused\"", c.health_refused);
    w.sample(
            "sipredir_fleet_probe_results_total",
            "result=\"unknown_backends\"",
            c.health_unknown_backends
    );
    w.family(
            "sipredir_fleet_fallback_probes_total",
            "counter",
            "Probes sent to a backend others should probe, for want of a fresh shared result."
    );
    w.sample("sipredir_fleet_fallback_probes_total", "", c.fallback_probes);
    if (in.probe_roles.empty()) {
        return;
    }
    w.family(
            "sipredir_fleet_probe_role",
            "gauge",
            "1 for who probes each backend: self (this appliance, sharing its results), shared "
            "(others; their results are taken) or fallback (others should; this one does)."
    );
    w.family(
            "sipredir_fleet_shared_probe_age_seconds",
            "gauge",
            "Age of the newest probe result in use for a backend this appliance does not probe, "
            "by backend and the peer that sent it."
    );
    for (const fleet::shared_probe_age& a : in.shared_probes) {
        const auto b = std::find_if(in.backends.begin(), in.backends.end(), [&](const auto& s) {
            return s.slot == a.slot;
        });
        if (b != in.backends.end()) {
            w.sample(
                    "sipredir_fleet_shared_probe_age_seconds",
                    "backend=\"" + label(b->name) + "\",peer=\"" + label(a.peer) + "\"",
                    a.age_seconds
            );
        }
    }
    for (const backend_status& b : in.backends) {
        if (b.slot < in.probe_roles.size()) {
            w.sample(
                    "sipredir_fleet_probe_role",
                    "backend=\"" + label(b.name) + "\",role=\""
                            + std::string(name_of(in.probe_roles[b.slot])) + "\"",
                    std::uint64_t{1}
            );
        }
    }
}

// Race pools' and the fleet's counters, where there are any.
void write_race_and_fleet(writer& w, const metrics_input& in) {
    if (in.race != nullptr) {
        w.family("sipredir_race_events_total", "counter", "Race pools: races, legs and outcomes.");
        for (const race::named_counter& c : race::listed(*in.race)) {
            w.sample(
                    "sipredir_race_events_total", "event=\"" + std::string(c.name) + "\"", c.value
            );
        }
        w.family("sipredir_race_wins_total", "counter", "Races each backend won.");
        for (const backend_status& b : in.backends) {
            w.sample(
                    "sipredir_race_wins_total",
                    "backend=\"" + label(b.name) + "\"",
                    in.race->won_by_slot[b.slot]
            );
        }
    }
    if (in.fleet != nullptr) {
        w.family("sipredir_fleet_messages_total", "counter", "Peers' count messages, by verdict.");
        for (const enum_name<fleet::exchange_verdict>& v : fleet::exchange_verdict_table) {
            w.sample(
                    "sipredir_fleet_messages_total",
                    "verdict=\"" + std::string(v.name) + "\"",
                    in.fleet->received[static_cast<std::size_t>(v.value)]
            );
        }
        w.family(
                "sipredir_fleet_sent_messages_total", "counter", "Count messages sent to each peer."
        );
        w.sample("sipredir_fleet_sent_messages_total", "", in.fleet->sent_messages);
        w.family("sipredir_fleet_peers", "gauge", "Peers heard within their timeout.");
        w.sample("sipredir_fleet_peers", "", in.peers.size());
        w.family(
                "sipredir_fleet_peer_redirects_total",
                "counter",
                "Redirects each peer issued, as folded here since it was first heard."
        );
        for (const fleet::peer_status& p : in.peers) {
            w.sample(
                    "sipredir_fleet_peer_redirects_total",
                    "peer=\"" + label(p.name) + "\"",
                    p.redirects
            );
        }
        w.family(
                "sipredir_fleet_peer_silence_seconds",
                "gauge",
                "Time since each peer's last accepted message."
        );
        for (const fleet::peer_status& p : in.peers) {
            w.sample(
                    "sipredir_fleet_peer_silence_seconds",
                    "peer=\"" + label(p.name) + "\"",
                    static_cast<double>(std::max<std::int64_t>(0, in.fleet_now_ns - p.heard_ns))
                            / 1e9
            );
        }
        write_probe_sharing(w, in);
    }
    if (in.transport != nullptr) {
        write_fleet_transport(w, *in.transport, in.transport_kind);
    }
}

void write_control_state(writer& w, const metrics_input& in) {
    w.family("sipredir_reloads_total", "counter", "Configuration reloads, by result.");
    w.sample("sipredir_reloads_total", "result=\"applied\"", in.control.reloads);
    w.sample("sipredir_reloads_total", "result=\"refused\"", in.control.reloads_failed);
    w.family(
            "sipredir_management_closed_total",
            "counter",
            "sipredirctl and HTTP clients closed before their reply was written, by cause."
    );
    w.sample(
            "sipredir_management_closed_total", "cause=\"evicted\"", in.control.management_evicted
    );
    w.sample("sipredir_management_closed_total", "cause=\"idle\"", in.control.management_idle);
    w.sample(
            "sipredir_management_closed_total",
            "cause=\"too_large\"",
            in.control.management_too_large
    );
    w.family(
            "sipredir_backend_changes_total",
            "counter",
            "Backends set, added or removed through the API (sipredirctl backend), in force."
    );
    w.sample("sipredir_backend_changes_total", "", in.control.backend_changes);
    w.family("sipredir_config_info", "gauge", "The running configuration's config_revision.");
    w.sample(
            "sipredir_config_info",
            "revision=\"" + label(in.config_revision) + "\"",
            std::uint64_t{1}
    );
    w.family("sipredir_table_generation", "gauge", "Generation of the published load table.");
    w.sample("sipredir_table_generation", "", in.control.generation);
    w.family(
            "sipredir_overload_reduction_percent",
            "gauge",
            "RFC 7339 reduction asked of clients that offer oc (0: none)."
    );
    w.sample("sipredir_overload_reduction_percent", "", std::uint64_t{in.overload.reduction});
    w.family("sipredir_overload_busiest_worker_ratio", "gauge", "Busiest worker's busy share.");
    w.sample("sipredir_overload_busiest_worker_ratio", "", in.overload_read.busiest_share);
    w.family("sipredir_overload_imissed_per_second", "gauge", "Frames the NIC missed per second.");
    w.sample("sipredir_overload_imissed_per_second", "", in.overload_read.imissed_per_second);
}

// The port's counters (DPDK's names) and the exception path's, when there is a data plane.
void write_dataplane(writer& w, const dataplane_counters& d) {
    if (d.port) {
        const port_counters& p = *d.port;
        const std::pair<const char*, std::uint64_t> port[] = {
                {"ipackets", p.ipackets},
                {"opackets", p.opackets},
                {"imissed", p.imissed},
                {"ierrors", p.ierrors},
                {"oerrors", p.oerrors},
                {"rx_nombuf", p.rx_nombuf},
        };
        w.family(
                "sipredir_port_frames_total",
                "counter",
                "The port's own statistics: imissed (RX queue full), ierrors, oerrors and "
                "rx_nombuf (no mbuf) are frames lost before any worker counted them."
        );
        for (const auto& [name, value] : port) {
            w.sample("sipredir_port_frames_total", std::string("stat=\"") + name + "\"", value);
        }
    }
    w.family(
            "sipredir_exception_path_tap_written_total",
            "counter",
            "Frames the control core wrote to the exception path's TAP."
    );
    w.sample("sipredir_exception_path_tap_written_total", "", d.tap_written);
    w.family(
            "sipredir_exception_path_dropped_total",
            "counter",
            "Frames the control core's side of the exception path dropped: the TAP did not take "
            "them, or the ring back to worker 0 was full."
    );
    w.sample("sipredir_exception_path_dropped_total", "where=\"tap\"", d.tap_dropped);
    w.sample(
            "sipredir_exception_path_dropped_total",
            "where=\"from_kernel_ring\"",
            d.from_kernel_dropped
    );
}

void write_build_info(writer& w, const metrics_input& in) {
    w.family("sipredir_build_info", "gauge", "The running build: version and parser kernel.");
    std::string labels = "version=\"" + label(sipredir::version) + "\"";
    if (!in.stage1_kernel.empty()) {
        labels += ",stage1=\"" + label(in.stage1_kernel) + "\"";
    }
    w.sample("sipredir_build_info", labels, std::uint64_t{1});
}

} // namespace

std::string prometheus_text(const metrics_input& in) {
    std::string out;
    writer w(out);
    if (in.totals != nullptr) {
        write_worker_counters(w, *in.totals);
    }
    write_backends(w, in);
    write_probes_and_reports(w, in);
    write_race_and_fleet(w, in);
    write_control_state(w, in);
    if (in.dataplane) {
        write_dataplane(w, *in.dataplane);
    }
    write_build_info(w, in);
    return out;
}

} // namespace sipredir::control
