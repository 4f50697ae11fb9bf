// SPDX-License-Identifier: BSD-3-Clause
#include "fragment_id.hpp"

#include <chrono>
#include <sys/random.h>

namespace sipredir::pipeline {

std::uint32_t random_fragment_id_start() noexcept {
    std::uint32_t id = 0;
    if (::getrandom(&id, sizeof id, 0) == static_cast<ssize_t>(sizeof id)) {
        return id;
    }
    // No entropy source (a very old kernel): the clock, which at least differs by worker and
    // by start.
    const auto t = std::chrono::steady_clock::now().time_since_epoch().count();
    return static_cast<std::uint32_t>(t ^ (t >> 32));
}

} // namespace sipredir::pipeline
