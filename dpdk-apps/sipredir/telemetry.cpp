// SPDX-License-Identifier: BSD-3-Clause
// Runs on DPDK's telemetry thread: reads the workers' counters relaxed, never writes.
#include "telemetry.hpp"

#include <rte_telemetry.h>

#include <control/counter_catalogue.hpp>
#include <string>

namespace sipredir::app {

namespace {

appliance* g_app = nullptr; // writer: register_telemetry, before the first command

int stats_command(const char*, const char*, rte_tel_data* d) {
    const pipeline::stats_totals t = pipeline::sum(g_app->all_stats());
    rte_tel_data_start_dict(d);
    for (const control::counter_info& c : control::counter_table) {
        rte_tel_data_add_dict_u64(d, control::whole_name(c).c_str(), t.*c.field);
    }
    rte_tel_data_add_dict_u64(d, "workers", g_app->workers.size());
    rte_tel_data_add_dict_u64(
            d, "table_generation", g_app->generation.load(std::memory_order_relaxed)
    );
    rte_tel_data_add_dict_u64(
            d, "exception_to_kernel", g_app->to_kernel.load(std::memory_order_relaxed)
    );
    return 0;
}

int drops_command(const char*, const char*, rte_tel_data* d) {
    const pipeline::stats_totals t = pipeline::sum(g_app->all_stats());
    rte_tel_data_start_dict(d);
    for (std::size_t i = 1; i < pipeline::drop_cause_count; ++i) {
        rte_tel_data_add_dict_u64(
                d, std::string(pipeline::drop_cause_table[i].name).c_str(), t.dropped_by_cause[i]
        );
    }
    return 0;
}

int replies_command(const char*, const char*, rte_tel_data* d) {
    const pipeline::stats_totals t = pipeline::sum(g_app->all_stats());
    rte_tel_data_start_dict(d);
    for (std::size_t i = 0; i < pipeline::reply_code_slots; ++i) {
        rte_tel_data_add_dict_u64(d, control::code_label(i).c_str(), t.replies_by_code[i]);
    }
    return 0;
}

int backends_command(const char*, const char*, rte_tel_data* d) {
    rte_tel_data_start_dict(d);
    for (std::size_t slot = 0; slot < g_app->config.backends.size(); ++slot) {
        rte_tel_data_add_dict_u64(
                d, g_app->config.backends[slot].config.name.c_str(), g_app->redirects->total(slot)
        );
    }
    return 0;
}

int latency_command(const char*, const char*, rte_tel_data* d) {
    const pipeline::stats_totals t = pipeline::sum(g_app->all_stats());
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "p50_ns", pipeline::latency_percentile(t, 0.50));
    rte_tel_data_add_dict_u64(d, "p90_ns", pipeline::latency_percentile(t, 0.90));
    rte_tel_data_add_dict_u64(d, "p99_ns", pipeline::latency_percentile(t, 0.99));
    rte_tel_data_add_dict_u64(d, "p999_ns", pipeline::latency_percentile(t, 0.999));
    return 0;
}

} // namespace

void register_telemetry(appliance& app) {
    g_app = &app;
    rte_telemetry_register_cmd(
            "/sipredir/stats",
            stats_command,
            "Frames received and what became of them. Takes no parameters"
    );
    rte_telemetry_register_cmd(
            "/sipredir/drops", drops_command, "Dropped frames by cause. Takes no parameters"
    );
    rte_telemetry_register_cmd(
            "/sipredir/replies", replies_command, "Replies sent by status code. Takes no parameters"
    );
    rte_telemetry_register_cmd(
            "/sipredir/backends",
            backends_command,
            "Redirects issued per backend. Takes no parameters"
    );
    rte_telemetry_register_cmd(
            "/sipredir/latency",
            latency_command,
            "RX-to-TX latency percentiles. Takes no parameters"
    );
}

} // namespace sipredir::app
