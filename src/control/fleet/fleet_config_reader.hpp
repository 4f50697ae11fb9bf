// SPDX-License-Identifier: BSD-3-Clause
// [fleet] of the configuration (docs/fleet.md): its reader, and its socket's checks against
// the other sections.
#pragma once

#include "../config_reader.hpp"
#include "fleet_config.hpp"

namespace sipredir::control {

// [fleet] into f (enabled when the table is present); key_file is read relative to `source`.
void read_fleet(const toml::table& root, fleet_config& f, const std::string& source);
// The fleet needs the exception path and a port no other control socket or the fast path uses;
// `races`: a pool races, so race.source_port is taken too.
void check_fleet_socket(const toml::table& root, const appliance_config& c, bool races);

} // namespace sipredir::control
