// SPDX-License-Identifier: BSD-3-Clause
// What sipredirctl and the HTTP endpoint show: each a whole reply (one JSON object and a
// newline, or Prometheus text), rendered from the services' shared state as of now.
#pragma once

#include "../service.hpp"
#include "query_args.hpp"

#include <string>

namespace sipredir::control {

// {"ok", "version", "config_revision"}.
std::string version_json(const control_context& c);
// The appliance's statistics, the loop's counters, then each service's part.
std::string stats_json(const control_context& c);
// Every backend's state, load and counts.
std::string backends_json(const control_context& c);
// Every pool of a table built from the facts as of now.
std::string pools_json(control_context& c);
// A choice made as a worker would make it now, and the table it was made from; counted as
// redirects unless args.count is false. An error object for bad arguments or an unknown pool.
std::string query_json(control_context& c, const query_args& args);
// Prometheus text: the workers', the loop's and each service's counters.
std::string metrics_text(control_context& c);

} // namespace sipredir::control
