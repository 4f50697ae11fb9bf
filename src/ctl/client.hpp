// SPDX-License-Identifier: BSD-3-Clause
// sipredirctl's side of the management socket: one request line out, the answer read until the
// appliance closes.
#pragma once

#include <string>

namespace sipredir::ctl {

// Sends `line` (newline-terminated) to the UNIX socket at `path` and reads the answer into
// `reply`. 0, or 2 (with a line on stderr unless `quiet`) when the appliance could not be
// reached or did not answer within `timeout_ms`.
int exchange(
        const std::string& path,
        const std::string& line,
        std::string& reply,
        int timeout_ms,
        bool quiet = false
);

} // namespace sipredir::ctl
