// SPDX-License-Identifier: BSD-3-Clause
// Pushed load reports as a control-plane service: the report socket, each datagram judged by
// the load monitor's gate, and the verdicts' counters in stats and metrics.
#pragma once

#include "../service.hpp"

namespace sipredir::control {

class report_service final : public datagram_service {
public:
    explicit report_service(control_context& c) : datagram_service(c) {}

    void open() override;
    void describe(std::vector<log_field>& fields) const override;
    std::string_view restart_only_change(
            const appliance_config& running, const appliance_config& next
    ) const override;
    void write_stats(object_writer& o, std::string& out) const override;
    void fill_metrics(metrics_input& in) override;

private:
    void read_round(std::int64_t now) override;
};

std::unique_ptr<service> make_report_service(control_context& c);

} // namespace sipredir::control
