// SPDX-License-Identifier: BSD-3-Clause
// [probe] of the configuration (docs/configuration.md): its reader, and its socket's checks
// against the other sections.
#pragma once

#include "../config_reader.hpp"
#include "probe_config.hpp"

namespace sipredir::control {

// [probe] into p (enabled when the table is present). Refuses a bad key with its line.
void read_probe(const toml::table& root, probe_config& p);
// Probing needs the exception path, and a source port the fast path does not answer.
void check_probe_socket(const toml::table& root, const appliance_config& c);

} // namespace sipredir::control
