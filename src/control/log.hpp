// SPDX-License-Identifier: BSD-3-Clause
// Structured log lines for the control plane: `level=info event=backend_down backend=b1 ...` on
// stderr, one line each. When stderr is the journal (JOURNAL_STREAM names its device and inode,
// as systemd.exec(5) documents), each event goes to journald as fields instead: the line as
// MESSAGE, PRIORITY, EVENT=backend_down, BACKEND=b1, ..., so that `journalctl EVENT=...` finds
// it.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipredir::control {

enum class log_level : std::uint8_t { error, warning, info };

using log_field = std::pair<std::string_view, std::string>;

void log(log_level level, std::string_view event, std::initializer_list<log_field> fields = {});
// The same, with fields gathered at run time.
void log(log_level level, std::string_view event, std::span<const log_field> fields);

// The line log() writes, without the journald prefix (tests).
std::string
log_line(log_level level, std::string_view event, std::initializer_list<log_field> fields);

// The journal entry log() sends for an event (sd_journal_sendv(3)), each "NAME=value":
// MESSAGE= the line log_line gives, PRIORITY= its syslog priority, SYSLOG_IDENTIFIER=
// `identifier`, EVENT= the event, then each field under its name in capitals, characters other
// than letters, digits and '_' made '_' (config_revision: CONFIG_REVISION). A name journald
// keeps for itself, or one of those above, or one that does not start with a letter, gets the
// prefix SIPREDIR_; names are cut at journald's 64 characters. Values are as given: the journal
// keeps any byte.
std::vector<std::string> journal_fields(
        std::string_view identifier,
        log_level level,
        std::string_view event,
        std::span<const log_field> fields
);

// Whether JOURNAL_STREAM (`value`, null when unset) names the stream whose device and inode are
// `device` and `inode`: "DEVICE:INODE" in decimal, as systemd sets it for a service's stderr.
bool names_journal_stream(const char* value, std::uint64_t device, std::uint64_t inode) noexcept;

} // namespace sipredir::control
