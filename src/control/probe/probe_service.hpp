// SPDX-License-Identifier: BSD-3-Clause
// Probing as a control-plane service: the probe socket, OPTIONS sent when due, replies and
// timeouts fed to the load monitor's prober, and the probes' counters in stats and metrics.
#pragma once

#include "../service.hpp"
#include "options_probe.hpp"

namespace sipredir::control {

class probe_service final : public datagram_service {
public:
    explicit probe_service(control_context& c);

    void open() override;
    void describe(std::vector<log_field>& fields) const override;
    void on_tick(std::int64_t now) override;
    std::int64_t next_due_ns() const override;
    std::string_view restart_only_change(
            const appliance_config& running, const appliance_config& next
    ) const override;
    void write_stats(object_writer& o, std::string& out) const override;
    void fill_metrics(metrics_input& in) override;

private:
    void read_round(std::int64_t now) override;
    probe_origin _origin;
};

std::unique_ptr<service> make_probe_service(control_context& c);

} // namespace sipredir::control
