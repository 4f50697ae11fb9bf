// SPDX-License-Identifier: BSD-3-Clause
// [management] of the configuration (docs/configuration.md): sipredirctl's UNIX socket and the
// metrics HTTP endpoint.
#pragma once

#include "../config_reader.hpp"
#include "management_config.hpp"

namespace sipredir::control {

// [management] into m. Refuses a socket path a UNIX socket cannot hold.
void read_management(const toml::table& root, management_config& m);

} // namespace sipredir::control
