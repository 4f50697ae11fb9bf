// SPDX-License-Identifier: BSD-3-Clause
// DPDK telemetry commands under /sipredir/, readable with dpdk-telemetry.py while it runs.
#pragma once

#include "app.hpp"

namespace sipredir::app {

// Registers the commands; `app` must outlive the process's telemetry thread (it is the
// program's one appliance, which lives until exit).
void register_telemetry(appliance& app);

} // namespace sipredir::app
