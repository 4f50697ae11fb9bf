// SPDX-License-Identifier: BSD-3-Clause
#include "check_config.hpp"

#include "config.hpp"
#include "mbuf_budget.hpp"
#include "snapshot_builder.hpp"
#include "start_warnings.hpp"

#include <rules/ruleset.hpp>

namespace sipredir::control {

std::string check_config(const std::string& path) {
    const config_result loaded = load_config(path);
    if (!loaded.config) {
        return loaded.error.message;
    }
    const appliance_config& c = *loaded.config;
    // A worker scans with its own scratch: one shows the rules can be scanned at all.
    if (c.rules && !c.rules->allocate_scratch(1)) {
        return path + ":0: the rules' Hyperscan scratch cannot be allocated";
    }
    if (build_tables(c, initial_facts(c), 1, nullptr) == nullptr) {
        return path + ":0: no table can be built from this configuration";
    }
    // One worker needs the fewest mbufs: a pool too small for it is too small for any.
    if (c.dataplane.mbufs != 0) {
        return check_mbuf_pool(c, 1);
    }
    return {};
}

std::vector<std::string> check_config_warnings(const std::string& path) {
    std::vector<std::string> out;
    const config_result loaded = load_config(path);
    if (loaded.config) {
        for (const start_warning& w : start_warnings(*loaded.config, "")) {
            out.push_back(w.event + ": " + w.detail);
        }
    }
    return out;
}

} // namespace sipredir::control
