// SPDX-License-Identifier: BSD-3-Clause
// [reports] of the configuration (docs/configuration.md): its reader, and the checks of its
// socket and keys against the other sections.
#pragma once

#include "../config_reader.hpp"
#include "report_config.hpp"

namespace sipredir::control {

// [reports] into r; key_file is read relative to `source`. Refuses a bad key with its line.
void read_reports(const toml::table& root, reports_config& r, const std::string& source);
// Reports need the exception path, a port of their own, and a key for every backend (one each,
// unless allow_shared_report_key).
void check_report_socket(const toml::table& root, const appliance_config& c);

} // namespace sipredir::control
