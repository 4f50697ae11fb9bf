// SPDX-License-Identifier: BSD-3-Clause
// [overload] of the configuration (docs/configuration.md): when the appliance asks its clients
// to send less (RFC 7339).
#pragma once

#include "../config_reader.hpp"
#include "overload_config.hpp"

namespace sipredir::control {

// [overload] into o. Refuses a bad key with its line.
void read_overload(const toml::table& root, overload_settings& o);

} // namespace sipredir::control
