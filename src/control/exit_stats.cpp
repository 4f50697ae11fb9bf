// SPDX-License-Identifier: BSD-3-Clause
#include "exit_stats.hpp"

#include "counter_catalogue.hpp"
#include "json_writer.hpp"

#include <cstdio>
#include <sip/defect.hpp>

namespace sipredir::control {

namespace {

// Every counter of the table, each total followed by its breakdown (replies_by_code,
// dropped_by_cause).
void write_counters(object_writer& top, std::string& out, const pipeline::stats_totals& t) {
    for (const counter_info& c : counter_table) {
        if (c.unit == counter_unit::count) {
            top.field(c.name, t.*c.field);
        } else {
            top.field(shown_name(c), shown_value(c, t));
        }
        if (c.breakdown == counter_breakdown::by_code) {
            top.key(std::string(c.name) + "_by_code");
            object_writer codes(out, 2);
            for (std::size_t i = 0; i < pipeline::reply_code_slots; ++i) {
                codes.field(code_label(i), t.replies_by_code[i]);
            }
            codes.close();
        } else if (c.breakdown == counter_breakdown::by_cause) {
            top.key(std::string(c.name) + "_by_cause");
            object_writer drops(out, 2);
            for (std::size_t i = 1; i < pipeline::drop_cause_count; ++i) {
                drops.field(pipeline::drop_cause_table[i].name, t.dropped_by_cause[i]);
            }
            drops.close();
        }
    }
}

void write_backends(object_writer& top, std::string& out, const run_summary& run) {
    top.key("redirects_by_backend");
    object_writer backends(out, 2);
    for (std::size_t slot = 0; slot < run.backend_names.size(); ++slot) {
        backends.field(
                run.backend_names[slot], slot < run.redirects.size() ? run.redirects[slot] : 0
        );
    }
    backends.close();

    if (run.race != nullptr) {
        top.key("race");
        object_writer race(out, 2);
        for (const race::named_counter& c : race::listed(*run.race)) {
            race.field(c.name, c.value);
        }
        race.key("won_by_backend");
        object_writer won(out, 4);
        for (std::size_t i = 0; i < run.backend_names.size() && i < run.race_wins.size(); ++i) {
            won.field(run.backend_names[i], run.race_wins[i]);
        }
        won.close();
        race.close();
    }
}

void write_defects_and_latency(
        object_writer& top, std::string& out, const pipeline::stats_totals& t
) {
    top.key("bad_requests_by_defect");
    object_writer bad(out, 2);
    for (std::size_t i = 0; i < t.bad_requests.size(); ++i) {
        if (t.bad_requests[i] != 0) {
            bad.field(sip::defect_table[i].name, t.bad_requests[i]);
        }
    }
    bad.close();

    top.key("latency_ns");
    object_writer latency(out, 2);
    latency.field("p50", pipeline::latency_percentile(t, 0.50));
    latency.field("p90", pipeline::latency_percentile(t, 0.90));
    latency.field("p99", pipeline::latency_percentile(t, 0.99));
    latency.field("p999", pipeline::latency_percentile(t, 0.999));
    latency.key("histogram_log2") += "[";
    for (std::size_t i = 0; i < t.latency.size(); ++i) {
        out += (i == 0 ? "" : ", ") + std::to_string(t.latency[i]);
    }
    out += "]";
    latency.close();
}

void write_exception_path_and_port(object_writer& top, std::string& out, const run_summary& run) {
    top.key("exception_path");
    object_writer exc(out, 2);
    exc.field("to_kernel", run.exception_to_kernel);
    exc.field("to_kernel_dropped", run.exception_to_kernel_dropped);
    exc.field("from_kernel", run.exception_from_kernel);
    exc.field("from_kernel_dropped", run.exception_dropped);
    exc.close();

    top.key("port");
    object_writer port(out, 2);
    port.field("ipackets", run.port.ipackets);
    port.field("opackets", run.port.opackets);
    port.field("imissed", run.port.imissed);
    port.field("ierrors", run.port.ierrors);
    port.field("oerrors", run.port.oerrors);
    port.field("rx_nombuf", run.port.rx_nombuf);
    port.close();
}

} // namespace

std::string stats_json(const pipeline::stats_totals& t, const run_summary& run) {
    std::string out;
    object_writer top(out, 0);
    top.field("seconds", run.seconds);
    top.field("workers", std::uint64_t{run.workers});
    write_counters(top, out, t);
    top.field("accounting_balanced", t.balanced());
    const double seconds = run.seconds > 0 ? run.seconds : 1;
    top.field("rx_per_second", static_cast<double>(t.rx) / seconds);
    top.field("replies_per_second", static_cast<double>(t.replied) / seconds);
    // A poll-mode worker is always at 100% CPU; busy_seconds is the part of it that did work,
    // and this what a saturated core would answer per second.
    top.field(
            "replies_per_busy_second",
            t.busy_ns == 0
                    ? std::uint64_t{0}
                    : static_cast<std::uint64_t>(
                            static_cast<double>(t.replied) * 1e9 / static_cast<double>(t.busy_ns)
                    )
    );
    write_backends(top, out, run);
    write_defects_and_latency(top, out, t);
    write_exception_path_and_port(top, out, run);
    top.key("per_worker") += "[";
    for (std::size_t w = 0; w < run.per_worker.size(); ++w) {
        const worker_line& l = run.per_worker[w];
        out += w == 0 ? "\n  " : ",\n  ";
        object_writer one(out, 2);
        one.field("received_frames", l.rx);
        one.field("replies", l.replied);
        one.field("dropped", l.dropped);
        one.field("busy_seconds", static_cast<double>(l.busy_ns) / 1e9);
        one.close();
    }
    out += run.per_worker.empty() ? "]" : "\n]";
    top.close();
    out += "\n";
    return out;
}

std::string one_line(std::string_view json) {
    std::string out;
    out.reserve(json.size());
    for (std::size_t i = 0; i < json.size(); ++i) {
        if (json[i] != '\n') {
            out += json[i];
            continue;
        }
        while (i + 1 < json.size() && json[i + 1] == ' ') {
            ++i; // the indentation
        }
        if (!out.empty() && out.back() == ',') {
            out += ' ';
        }
    }
    out += '\n';
    return out;
}

} // namespace sipredir::control
