// SPDX-License-Identifier: BSD-3-Clause
// A fuzz target's invariant: abort (libFuzzer saves the input as a crash) when it does not hold.
#pragma once

#include <cstdlib>

namespace sipredir::fuzz {

inline void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

} // namespace sipredir::fuzz
