// SPDX-License-Identifier: BSD-3-Clause
#include "race_service.hpp"

#include "../address_text.hpp"

#include <sodium.h>

namespace sipredir::control {

race_service::race_service(control_context& c) : datagram_service(c) {
    const appliance_config& config = c.config();
    if (!config.any_race_pool()) {
        return;
    }
    race::leg_origin origin{
            .local = {config.listen.addresses.front(), config.race.source_port},
            .user_agent = config.sip.server.empty() ? "sipredir" : config.sip.server,
    };
    randombytes_buf(&origin.nonce, sizeof origin.nonce);
    randombytes_buf(origin.mac_key.data(), origin.mac_key.size());
    _race = std::make_unique<race::engine>(
            race::engine_settings{
                    .table_size = config.race.table_size,
                    .leg_linger_ns = std::int64_t{config.race.leg_linger_ms} * 1'000'000,
                    .full_reply_fallback = config.race.full_reply_fallback,
            },
            std::move(origin)
    );
}

race::engine_outputs race_service::outputs() {
    return {
            .send = [this](const net::ip_endpoint& to, std::string_view request
                    ) { return send_datagram(_socket, to, request); },
            .answer = _c.hooks.answer_race,
    };
}

void race_service::request(std::span<const std::uint8_t> frame, std::uint16_t pool) {
    if (_race) {
        _race->submit(frame, pool, _c.now_ns(), outputs());
    } else if (_c.hooks.answer_race && _unraced.hold(frame)) {
        // No pool raced at start: the pool's own policy answers.
        _c.hooks.answer_race(_unraced, {.pool = pool});
    }
}

void race_service::open() {
    if (_race) {
        _socket = open_udp(_race->origin().local, false);
    }
}

void race_service::describe(std::vector<log_field>& fields) const {
    fields.emplace_back("races", _race ? endpoint_text(_race->origin().local) : "off");
}

void race_service::read_round(std::int64_t now) {
    const race::engine_outputs out = outputs();
    read_datagrams(_socket, [&](std::string_view d, const net::ip_endpoint& from) {
        _race->on_datagram(d, from, now, out);
    });
}

void race_service::on_tick(std::int64_t now) {
    if (_race) {
        _race->expire(now, outputs());
    }
}

std::int64_t race_service::next_due_ns() const {
    return _race ? _race->next_event_ns() : service::next_due_ns();
}

// The race engine's view of the pools: for race pools, the backends neither down nor draining.
void race_service::on_facts(std::span<const balance::backend_facts> facts) {
    if (!_race) {
        return;
    }
    const appliance_config& config = _c.config();
    std::vector<race::pool_view> pools;
    for (const balance::pool_config& p : config.pools) {
        race::pool_view v;
        v.races = p.policy == balance::policy_kind::race;
        v.config = p.race;
        for (const std::uint16_t slot : p.backends) {
            const static_backend* b = config.backend_in(slot);
            const balance::backend_state s =
                    slot < facts.size() ? facts[slot].state : balance::backend_state::unknown;
            if (v.races && b != nullptr && s != balance::backend_state::down
                && s != balance::backend_state::draining) {
                v.live.push_back({.slot = slot, .address = b->config.address});
            }
        }
        pools.push_back(std::move(v));
    }
    _race->set_pools(std::move(pools));
}

std::string_view race_service::restart_only_change(
        const appliance_config& running, const appliance_config& next
) const {
    const bool same = running.race == next.race && running.any_race_pool() == next.any_race_pool();
    return same ? "" : "race";
}

void race_service::fill_metrics(metrics_input& in) {
    in.race = _race ? &_race->counters() : nullptr;
}

void race_service::finish() {
    if (_race) {
        _race->flush(outputs());
    }
}

std::unique_ptr<service> make_race_service(control_context& c) {
    return std::make_unique<race_service>(c);
}

} // namespace sipredir::control
