// SPDX-License-Identifier: BSD-3-Clause
// [race] and the race_* keys of a [[pool]] (docs/race.md): their readers, and the race
// socket's checks against the other sections.
#pragma once

#include "../config_reader.hpp"
#include "race_config.hpp"

namespace sipredir::control {

// [race] into r.
void read_race(const toml::table& root, race_engine_config& r);
// A pool's race_* keys (policy "race" only; refused on any other pool).
void read_pool_race(const toml::table& t, balance::pool_config& p, const race_engine_config& e);
// A race pool (`race_pool`) needs the exception path and a source port of its own.
void check_race_socket(
        const toml::table& root, const appliance_config& c, const balance::pool_config& race_pool
);

} // namespace sipredir::control
