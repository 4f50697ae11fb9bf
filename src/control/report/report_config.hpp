// SPDX-License-Identifier: BSD-3-Clause
// [reports] of the configuration (docs/configuration.md): what the pushed load reports are
// given.
#pragma once

#include "load_report.hpp"
#include "report_gate.hpp"

#include <cstdint>
#include <optional>

namespace sipredir::control {

// Pushed load reports (docs/operations.md). Off unless [reports] gives a port.
struct reports_config {
    std::uint16_t port = 0;
    std::optional<report_key> key; // the deployment's; a backend's own key takes precedence
    // Lets backends share a key (key_file, or one report_key_file for several): any of them
    // can then sign as the others, so loading such a file logs a warning.
    bool allow_shared_key = false;
    report_settings settings;
};

} // namespace sipredir::control
