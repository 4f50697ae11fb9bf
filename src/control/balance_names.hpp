// SPDX-License-Identifier: BSD-3-Clause
// The names the configuration and the management answers give the load balancer's enums: one
// table per enum, read by the configuration readers and written by the views.
#pragma once

#include "enum_names.hpp"

#include <balance/pool_config.hpp>

namespace sipredir::control {

inline constexpr auto backend_state_table = std::to_array<enum_name<balance::backend_state>>({
        {balance::backend_state::up, "up"},
        {balance::backend_state::down, "down"},
        {balance::backend_state::draining, "draining"},
        {balance::backend_state::unknown, "unknown"},
});
static_assert(covers_in_order(backend_state_table, balance::backend_state::unknown));

inline constexpr auto policy_kind_table = std::to_array<enum_name<balance::policy_kind>>({
        {balance::policy_kind::least_load, "least-load"},
        {balance::policy_kind::proportional, "proportional"},
        {balance::policy_kind::p2c, "p2c"},
        {balance::policy_kind::sequence, "sequence"},
        {balance::policy_kind::wrr, "wrr"},
        {balance::policy_kind::hash, "hash"},
        {balance::policy_kind::random, "random"},
        {balance::policy_kind::least_latency, "least-latency"},
        {balance::policy_kind::race, "race"},
});
static_assert(covers_in_order(policy_kind_table, balance::policy_kind::race));

inline constexpr auto contact_user_table = std::to_array<enum_name<balance::contact_user>>({
        {balance::contact_user::request_uri, "request-uri"},
        {balance::contact_user::to, "to"},
        {balance::contact_user::none, "none"},
});
static_assert(covers_in_order(contact_user_table, balance::contact_user::none));

constexpr std::string_view name_of(balance::backend_state s) noexcept {
    return name_in(backend_state_table, s);
}
constexpr std::string_view name_of(balance::policy_kind k) noexcept {
    return name_in(policy_kind_table, k);
}
constexpr std::string_view name_of(balance::contact_user u) noexcept {
    return name_in(contact_user_table, u);
}

} // namespace sipredir::control
