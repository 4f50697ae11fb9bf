// SPDX-License-Identifier: BSD-3-Clause
// 302s per pool by the pool's name, over reloads. The workers count by the pool's place in the
// configuration (lib/balance/redirect_counters.hpp), and a reload that inserts, removes or
// reorders pools changes which name a place has. Before each reload the control plane credits
// what every place counted so far to the name it had, so a pool's total follows its name.
// (A worker still on the previous table for the moment of its switch counts one burst under
// the new layout.)
#pragma once

#include <balance/pool_config.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace sipredir::control {

class pool_redirect_totals {
public:
    // The workers' count at a place so far.
    using place_count = std::function<std::uint64_t(std::size_t)>;

    // The total of the pool at place `place` named `name`.
    std::uint64_t
    total(std::size_t place, const std::string& name, const place_count& count) const {
        const auto earlier = _by_name.find(name);
        const std::uint64_t credited = earlier == _by_name.end() ? 0 : earlier->second;
        const std::uint64_t now = place < balance::max_pools ? count(place) : 0;
        return credited + (now - _base[place < balance::max_pools ? place : 0]);
    }

    // Before the pools named `names` (in place order) are replaced.
    void rebase(const std::vector<std::string>& names, const place_count& count) {
        for (std::size_t place = 0; place < balance::max_pools; ++place) {
            const std::uint64_t now = count(place);
            if (place < names.size()) {
                _by_name[names[place]] += now - _base[place];
            }
            _base[place] = now;
        }
    }

private:
    std::map<std::string, std::uint64_t> _by_name; // credited at earlier reloads
    std::vector<std::uint64_t> _base = std::vector<std::uint64_t>(balance::max_pools, 0);
};

} // namespace sipredir::control
