// SPDX-License-Identifier: BSD-3-Clause
#include "features.hpp"

#include "fleet/fleet_config_reader.hpp"
#include "fleet/fleet_service.hpp"
#include "management/management_config_reader.hpp"
#include "management/management_service.hpp"
#include "overload/overload_config_reader.hpp"
#include "probe/probe_config_reader.hpp"
#include "probe/probe_service.hpp"
#include "race/race_config_reader.hpp"
#include "race/race_service.hpp"
#include "report/report_config_reader.hpp"
#include "report/report_service.hpp"

namespace sipredir::control {

namespace {

// A new feature: its folder, and one line here (and its member in appliance_config).
constexpr feature list[] = {
        {"probe",
         [](const toml::table& r, appliance_config& c) { read_probe(r, c.probe); },
         check_probe_socket,
         make_probe_service},
        {"reports",
         [](const toml::table& r, appliance_config& c) { read_reports(r, c.reports, c.source); },
         check_report_socket,
         make_report_service},
        {"race",
         [](const toml::table& r, appliance_config& c) { read_race(r, c.race); },
         [](const toml::table& r, const appliance_config& c) {
             for (const balance::pool_config& p : c.pools) {
                 if (p.policy == balance::policy_kind::race) {
                     check_race_socket(r, c, p); // the first racing pool's legs
                     return;
                 }
             }
         },
         make_race_service},
        {"fleet",
         [](const toml::table& r, appliance_config& c) { read_fleet(r, c.fleet, c.source); },
         [](const toml::table& r, const appliance_config& c) {
             check_fleet_socket(r, c, c.any_race_pool());
         },
         make_fleet_service},
        {"overload",
         [](const toml::table& r, appliance_config& c) { read_overload(r, c.overload); },
         nullptr,
         nullptr},
        {"management",
         [](const toml::table& r, appliance_config& c) { read_management(r, c.management); },
         nullptr,
         make_management_service},
};

} // namespace

std::span<const feature> features() noexcept {
    return list;
}

} // namespace sipredir::control
