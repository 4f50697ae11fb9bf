// SPDX-License-Identifier: BSD-3-Clause
#include "log.hpp"

#include <cstdio>
#include <cstdlib>

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

} // namespace

std::string
log_line(log_level level, std::string_view event, std::initializer_list<log_field> fields) {
    return fields_line(level, event, {fields.begin(), fields.size()});
}

void log(log_level level, std::string_view event, std::initializer_list<log_field> fields) {
    log(level, event, std::span<const log_field>(fields.begin(), fields.size()));
}

void log(log_level level, std::string_view event, std::span<const log_field> fields) {
    static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
    const std::string line = fields_line(level, event, fields);
    if (journal) {
        std::fprintf(stderr, "<%d>%s\n", priority_of(level), line.c_str());
    } else {
        std::fprintf(stderr, "sipredir: %s\n", line.c_str());
    }
}

} // namespace sipredir::control
