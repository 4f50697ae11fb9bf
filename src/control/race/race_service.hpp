// SPDX-License-Identifier: BSD-3-Clause
// The race engine as a control-plane service (docs/race.md): the race socket, the requests the
// workers hand over, the legs' answers and deadlines, and the engine's counters in the metrics.
// Present only when a pool races at start; without one, a handed-over request is answered by
// its pool's own policy.
#pragma once

#include "../service.hpp"
#include "race_engine.hpp"

namespace sipredir::control {

class race_service final : public datagram_service {
public:
    explicit race_service(control_context& c);

    // A request a worker handed over (disposition::to_race), routed to `pool`.
    void request(std::span<const std::uint8_t> frame, std::uint16_t pool);
    // Null when no pool races.
    const race::engine* engine() const noexcept { return _race.get(); }

    void open() override;
    void describe(std::vector<log_field>& fields) const override;
    void on_tick(std::int64_t now) override;
    std::int64_t next_due_ns() const override;
    void on_facts(std::span<const balance::backend_facts> facts) override;
    std::string_view restart_only_change(
            const appliance_config& running, const appliance_config& next
    ) const override;
    void fill_metrics(metrics_input& in) override;
    // Every request still waiting on a race is answered.
    void finish() override;

private:
    void read_round(std::int64_t now) override;
    std::unique_ptr<race::engine> _race; // pools with policy race; null: none
    pipeline::held_request _unraced;     // no engine: the request its pool's policy answers

    race::engine_outputs outputs();
};

std::unique_ptr<service> make_race_service(control_context& c);

} // namespace sipredir::control
