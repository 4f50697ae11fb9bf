// SPDX-License-Identifier: BSD-3-Clause
// `sipredir --check-config FILE`: a configuration judged without starting the appliance.
#pragma once

#include <string>
#include <vector>

namespace sipredir::control {

// Reads and compiles `path` as a reload would (every section read, the rules compiled), builds
// the first tables from it, and checks a fixed dataplane.mbufs against one worker (the start
// checks it again against the workers there are). Empty when the file is good, else
// `file:line: what is wrong`. Needs no DPDK, no hugepages and no root.
std::string check_config(const std::string& path);

// What a good configuration may still get wrong where it starts (start_warnings.hpp), as
// "event: detail" lines: those that need no data port to tell (the port's driver is known
// only at start, where the rest are logged).
std::vector<std::string> check_config_warnings(const std::string& path);

} // namespace sipredir::control
