// SPDX-License-Identifier: BSD-3-Clause
// The fleet exchange as a control-plane service (docs/fleet.md): its transport (the UDP mesh or
// NATS), our redirects sent to the peers when the exchange says so, theirs taken into the facts,
// and the exchange's state in `sipredirctl fleet` and the metrics. Present only with [fleet].
#pragma once

#include "../service.hpp"
#include "fleet_transport.hpp"
#include "probe_share_link.hpp"
#include "redirect_exchange.hpp"

namespace sipredir::control {

class fleet_service final : public service {
public:
    explicit fleet_service(control_context& c);

    // Null without [fleet].
    const fleet::redirect_exchange* exchange() const noexcept { return _fleet.get(); }

    void open() override;
    void watch(std::vector<pollfd>& fds) const override;
    void on_polled(std::span<const pollfd> mine, std::int64_t now) override;
    void finish() override;
    void describe(std::vector<log_field>& fields) const override;
    void on_tick(std::int64_t now) override;
    std::int64_t next_due_ns() const override;
    void on_own_redirects(std::span<const std::uint64_t> delta) override;
    void on_reload() override;
    std::string_view restart_only_change(
            const appliance_config& running, const appliance_config& next
    ) const override;
    std::optional<std::string> command(std::string_view verb, std::string_view arg) override;
    void fill_metrics(metrics_input& in) override;

private:
    control_context& _c;
    std::unique_ptr<fleet::redirect_exchange> _fleet;   // null: no peers to share with
    std::unique_ptr<fleet::fleet_transport> _transport; // open while _fleet is
    fleet::transport_counters _logged;                  // what the last connection log saw
    std::int64_t _next_collect_ns = 0;
    std::vector<fleet::peer_status> _peers;    // what the last fill_metrics showed
    fleet::transport_counters _transport_seen; // likewise
    probe_share_link _probe_share;             // probing shared out

    void configure();
    void log_connection_changes();
    std::string status_json();
};

std::unique_ptr<service> make_fleet_service(control_context& c);

} // namespace sipredir::control
