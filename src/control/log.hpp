// SPDX-License-Identifier: BSD-3-Clause
// Structured log lines for the control plane: `level=info event=backend_down backend=b1 ...` on
// stderr, one line each. Under systemd (JOURNAL_STREAM set) each line starts with its syslog
// priority (`<4>`), which journald turns into the entry's PRIORITY.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace sipredir::control {

enum class log_level : std::uint8_t { error, warning, info };

using log_field = std::pair<std::string_view, std::string>;

void log(log_level level, std::string_view event, std::initializer_list<log_field> fields = {});
// The same, with fields gathered at run time.
void log(log_level level, std::string_view event, std::span<const log_field> fields);

// The line log() writes, without the journald prefix (tests).
std::string
log_line(log_level level, std::string_view event, std::initializer_list<log_field> fields);

} // namespace sipredir::control
