// SPDX-License-Identifier: BSD-3-Clause
// The cache-line size that shared counters and slots align to, so that two writers never share
// a line.
#pragma once

#include <cstddef>

namespace sipredir::sync {

inline constexpr std::size_t cache_line = 64;

} // namespace sipredir::sync
