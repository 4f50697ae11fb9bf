// SPDX-License-Identifier: BSD-3-Clause
#include "log.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>
#include <sys/uio.h>
// sd_journal_sendv would add CODE_FILE, CODE_LINE and CODE_FUNC, always this file's: nothing an
// operator can use.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>

namespace sipredir::control {

namespace {

const char* name_of(log_level l) {
    switch (l) {
    case log_level::error:
        return "error";
    case log_level::warning:
        return "warning";
    case log_level::info:
        return "info";
    }
    return "?";
}

int priority_of(log_level l) {
    switch (l) {
    case log_level::error:
        return 3;
    case log_level::warning:
        return 4;
    case log_level::info:
        return 6;
    }
    return 6;
}

// Values with spaces, quotes or '=' are quoted, with '"' and '\' escaped; line breaks become \n.
void append_value(std::string& out, std::string_view v) {
    const bool plain = !v.empty() && v.find_first_of(" \"=\\\t\r\n") == std::string_view::npos;
    if (plain) {
        out += v;
        return;
    }
    out += '"';
    for (const char c : v) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n' || c == '\r') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    out += '"';
}

std::string
fields_line(log_level level, std::string_view event, std::span<const log_field> fields) {
    std::string line = "level=";
    line += name_of(level);
    line += " event=";
    append_value(line, event);
    for (const auto& [key, value] : fields) {
        line += ' ';
        line += key;
        line += '=';
        append_value(line, value);
    }
    return line;
}

// The journal's field names (systemd.journal-fields(7)) and ours above: a field of an event
// that maps to one of these is renamed rather than allowed to replace it.
constexpr std::string_view reserved_names[] = {
        "MESSAGE",
        "MESSAGE_ID",
        "PRIORITY",
        "EVENT",
        "CODE_FILE",
        "CODE_LINE",
        "CODE_FUNC",
        "ERRNO",
        "INVOCATION_ID",
        "USER_INVOCATION_ID",
        "SYSLOG_FACILITY",
        "SYSLOG_IDENTIFIER",
        "SYSLOG_PID",
        "SYSLOG_TIMESTAMP",
        "SYSLOG_RAW",
        "DOCUMENTATION",
        "TID",
        "UNIT",
        "USER_UNIT",
};

// systemd.journal-fields(7): names are capitals, digits and '_', start with a letter (a leading
// '_' is journald's own), at most 64 characters.
std::string journal_name(std::string_view key) {
    constexpr std::size_t max_name = 64;
    std::string name;
    for (const char c : key) {
        if (c >= 'a' && c <= 'z') {
            name += static_cast<char>(c - 'a' + 'A');
        } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            name += c;
        } else {
            name += '_';
        }
    }
    const bool reserved = std::find(std::begin(reserved_names), std::end(reserved_names), name)
                          != std::end(reserved_names);
    if (reserved || name.empty() || !(name[0] >= 'A' && name[0] <= 'Z')) {
        name = "SIPREDIR_" + name;
    }
    name.resize(std::min(name.size(), max_name));
    return name;
}

// Whether stderr is the journal, decided once: a child's stderr redirected elsewhere keeps
// JOURNAL_STREAM but no longer matches it.
bool stderr_is_journal() {
    struct stat st {};
    if (::fstat(STDERR_FILENO, &st) != 0) {
        return false;
    }
    return names_journal_stream(
            std::getenv("JOURNAL_STREAM"),
            static_cast<std::uint64_t>(st.st_dev),
            static_cast<std::uint64_t>(st.st_ino)
    );
}

// Sends the entry; false when journald did not take it.
bool send_to_journal(const std::vector<std::string>& entry) {
    std::vector<iovec> parts;
    parts.reserve(entry.size());
    for (const std::string& f : entry) {
        parts.push_back({const_cast<char*>(f.data()), f.size()});
    }
    return sd_journal_sendv(parts.data(), static_cast<int>(parts.size())) >= 0;
}

} // namespace

std::vector<std::string> journal_fields(
        std::string_view identifier,
        log_level level,
        std::string_view event,
        std::span<const log_field> fields
) {
    std::vector<std::string> out;
    out.reserve(4 + fields.size());
    out.push_back("MESSAGE=" + fields_line(level, event, fields));
    out.push_back("PRIORITY=" + std::to_string(priority_of(level)));
    out.push_back("SYSLOG_IDENTIFIER=" + std::string(identifier));
    out.push_back("EVENT=" + std::string(event));
    for (const auto& [key, value] : fields) {
        out.push_back(journal_name(key) + "=" + value);
    }
    return out;
}

bool names_journal_stream(const char* value, std::uint64_t device, std::uint64_t inode) noexcept {
    if (value == nullptr) {
        return false;
    }
    const std::string_view text(value);
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        return false;
    }
    std::uint64_t d = 0;
    std::uint64_t i = 0;
    const char* end = text.data() + text.size();
    const auto [d_end, d_ec] = std::from_chars(text.data(), text.data() + colon, d);
    const auto [i_end, i_ec] = std::from_chars(text.data() + colon + 1, end, i);
    return colon > 0 && d_ec == std::errc{} && d_end == text.data() + colon && i_ec == std::errc{}
           && i_end == end && colon + 1 < text.size() && d == device && i == inode;
}

std::string
log_line(log_level level, std::string_view event, std::initializer_list<log_field> fields) {
    return fields_line(level, event, {fields.begin(), fields.size()});
}

void log(log_level level, std::string_view event, std::initializer_list<log_field> fields) {
    log(level, event, std::span<const log_field>(fields.begin(), fields.size()));
}

void log(log_level level, std::string_view event, std::span<const log_field> fields) {
    static const bool journal = stderr_is_journal();
    if (journal) {
        if (send_to_journal(journal_fields(program_invocation_short_name, level, event, fields))) {
            return;
        }
        // journald refused the entry (its socket is gone): the line on stderr, which the
        // journal still reads, with its priority.
        std::fprintf(
                stderr, "<%d>%s\n", priority_of(level), fields_line(level, event, fields).c_str()
        );
        return;
    }
    std::fprintf(stderr, "sipredir: %s\n", fields_line(level, event, fields).c_str());
}

} // namespace sipredir::control
