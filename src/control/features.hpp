// SPDX-License-Identifier: BSD-3-Clause
// The control plane's features, one line each in features.cpp: the TOML section a feature owns,
// how it is read into the configuration, and the service that runs it in the control loop. The
// configuration reader and the loop both walk this list and name no feature themselves.
#pragma once

#include "service.hpp"

#include <toml++/toml.h>

#include <span>
#include <string_view>

namespace sipredir::control {

struct feature {
    std::string_view section; // the file's [section] (or [[section]]) it owns
    // Reads that section of `root` into its member of `c`; refuses (config_reader.hpp) what is
    // wrong, at its line.
    void (*read)(const toml::table& root, appliance_config& c);
    // Once every section is read (backends and pools too): what the feature needs of the rest,
    // such as its socket's port against the listen ports. Null: nothing.
    void (*check)(const toml::table& root, const appliance_config& c);
    service_maker make; // null: the feature only configures others (no sockets, no timers)
};

// In the order the loop serves them each round.
std::span<const feature> features() noexcept;

} // namespace sipredir::control
