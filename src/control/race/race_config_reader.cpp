// SPDX-License-Identifier: BSD-3-Clause
#include "race_config_reader.hpp"

#include <algorithm>
#include <sip/chars.hpp>

namespace sipredir::control {

using namespace toml_read;

void read_race(const toml::table& root, race_engine_config& r) {
    const toml::table* t = section_at(
            root,
            "race",
            {"table_size", "source_port", "leg_linger_ms", "when_full", "allow_forwarding_legs"}
    );
    if (t == nullptr) {
        return;
    }
    read_key(*t, "table_size", r.table_size, ranged<std::uint32_t>(1, 1 << 20));
    read_key(*t, "source_port", r.source_port, ranged<std::uint16_t>(1, 65535));
    read_key(*t, "leg_linger_ms", r.leg_linger_ms, ranged<std::uint32_t>(100, 64000));
    read_key(*t, "when_full", r.full_reply_fallback, [](const toml::node& n, std::string_view k) {
        return one_of<bool>(n, k, {{"503", false}, {"fallback", true}});
    });
    read_key(*t, "allow_forwarding_legs", r.allow_forwarding_legs, bool_value);
}

namespace {

// race_fallback: the policy that answers when a race cannot ("503": a 503 answers).
void read_race_fallback(const toml::table& t, balance::race_config& r) {
    if (const toml::node* n = t.get("race_fallback")) {
        using balance::policy_kind;
        if (n->is_string() && n->as_string()->get() == "503") {
            r.refuse_fallback = true;
        } else {
            r.fallback = one_of<policy_kind>(
                    *n,
                    "race_fallback",
                    {{"least-load", policy_kind::least_load},
                     {"proportional", policy_kind::proportional},
                     {"p2c", policy_kind::p2c},
                     {"sequence", policy_kind::sequence},
                     {"wrr", policy_kind::wrr},
                     {"random", policy_kind::random},
                     {"least-latency", policy_kind::least_latency},
                     {"503", policy_kind::race}} // listed for the message; taken above
            );
        }
    }
}

// race_leg_header: one header line, "Name: value".
std::string leg_header_value(const toml::node& n, std::string_view k) {
    const std::string v = string_value(n, k);
    const std::size_t colon = v.find(':');
    const bool clean = std::none_of(v.begin(), v.end(), sip::is_control_octet);
    if (colon == 0 || colon == std::string::npos || !clean
        || !std::all_of(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
               return sip::is(c, sip::cc_token);
           })) {
        refuse(n, "race_leg_header must be one header line, \"Name: value\"");
    }
    return v;
}

} // namespace

void read_pool_race(const toml::table& t, balance::pool_config& p, const race_engine_config& e) {
    balance::race_config& r = p.race;
    const bool race = p.policy == balance::policy_kind::race;
    for (auto&& [key, value] : t) {
        if (!race && key.str().starts_with("race_")) {
            refuse(value, std::string(key.str()) + " is for pools with policy \"race\"");
        }
    }
    read_key(t, "race_method", r.method, [](const toml::node& n, std::string_view k) {
        using balance::race_method;
        return one_of<race_method>(
                n, k, {{"options", race_method::options}, {"invite", race_method::invite}}
        );
    });
    read_race_fallback(t, r);
    read_key(t, "race_timeout_ms", r.timeout_ms, ranged<std::uint32_t>(1, 10000));
    read_key(t, "race_coalesce_ms", r.coalesce_ms, ranged<std::uint32_t>(0, 10000));
    // No 0 ("no cap"): every request to a race pool is a leg to each of its backends, so an
    // uncapped pool turns a flood at the appliance into a flood at every backend.
    read_key(
            t, "race_max_legs_per_second", r.max_legs_per_second, ranged<std::uint32_t>(1, 1000000)
    );
    read_key(t, "race_max_legs", r.max_legs, ranged<std::uint16_t>(1, balance::max_backends));
    read_key(t, "race_max_body", r.max_body, ranged<std::uint32_t>(0, 65535));
    read_key(t, "race_leg", r.leg, [](const toml::node& n, std::string_view k) {
        using balance::race_leg;
        return one_of<race_leg>(
                n,
                k,
                {{"max-forwards-0", race_leg::max_forwards_0},
                 {"header", race_leg::header},
                 {"forward", race_leg::forward}}
        );
    });
    read_key(t, "race_leg_header", r.leg_header, leg_header_value);
    if (r.leg == balance::race_leg::header && r.leg_header.empty()) {
        refuse(t, "pool '" + p.name + "': race_leg \"header\" needs race_leg_header");
    }
    if (r.leg == balance::race_leg::forward && !e.allow_forwarding_legs) {
        refuse(*t.get("race_leg"),
               "race_leg \"forward\" lets a race leg ring a phone: it needs "
               "[race] allow_forwarding_legs = true (docs/race.md)");
    }
}

void check_race_socket(
        const toml::table& root, const appliance_config& c, const balance::pool_config& race_pool
) {
    if (c.exception.tap.empty()) {
        throw refusal{
                line_at(root, "exception", ""),
                "pool '" + race_pool.name
                        + "' races its backends, which needs the exception path ([exception] "
                          "tap): race legs use a kernel socket on the appliance's address"};
    }
    if (listened(c, c.race.source_port)
        || (c.probe.enabled && c.race.source_port == c.probe.source_port)
        || c.race.source_port == c.reports.port) {
        throw refusal{
                line_at(root, "race", "source_port"),
                "race source_port must differ from listen.ports, probe.source_port and "
                "reports.port"};
    }
}

} // namespace sipredir::control
