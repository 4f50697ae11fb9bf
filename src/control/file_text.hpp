// SPDX-License-Identifier: BSD-3-Clause
// Reading an operator's file (configuration, rules, keys) whole, bounded: only a regular file,
// at most `max_bytes`, so that a mistaken path (/dev/zero, a FIFO, a log gigabytes long) is a
// clear error instead of a hang or an exhausted memory.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace sipredir::control {

struct file_text {
    std::optional<std::string> text;
    std::string error; // "cannot be read", "is not a regular file", "is larger than N bytes"
};

file_text read_file_text(const std::string& path, std::size_t max_bytes);

} // namespace sipredir::control
