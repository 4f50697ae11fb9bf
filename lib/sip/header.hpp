// SPDX-License-Identifier: BSD-3-Clause
// Header names (long and compact forms) and a reader that walks header lines, folds included.
#pragma once

#include "fields.hpp"

#include <cstdint>
#include <string_view>

namespace sipredir::sip {

enum class header_kind : std::uint8_t {
    other,
    via,
    from,
    to,
    call_id,
    cseq,
    max_forwards,
    content_length,
    contact,
    route,
    require,
    proxy_require,
    supported,
    expires,
    user_agent,
    content_type,
    subject,
    content_encoding,
    event,
    allow_events,
    refer_to,
    session_expires,
    identity,
};

// `name` must be a token. Long names case-insensitively, and the compact forms of RFC 3261 §7.3.3
// (v f t i m l c k s e), RFC 6665 (o u), RFC 3515 (r), RFC 4028 (x) and RFC 8224 (y).
header_kind classify_header(std::string_view name) noexcept;

struct header_line {
    std::string_view name;  // as written
    std::string_view value; // LWS-trimmed; a folded value keeps its CRLF + WSP inside
    header_kind kind = header_kind::other;
    bool well_formed = true; // false: no colon, or the name is not a token
    bool folded = false;     // the line continued on another (RFC 3261 §7.3.1)
};

// Sets out.name to the line's name, which ends at `name_end`, and returns the colon of HCOLON
// (RFC 3261 §25.1: *( SP / HTAB ) ":" SWS) after it. nullptr when the name is empty or no colon
// follows: the line is then not well-formed and its value is the whole line.
inline const char* take_name_and_colon(
        const char* line, const char* name_end, const char* line_end, header_line& out
) noexcept {
    out.name = std::string_view(line, static_cast<std::size_t>(name_end - line));
    const char* colon = name_end;
    while (colon < line_end && (*colon == ' ' || *colon == '\t')) {
        ++colon;
    }
    if (out.name.empty() || colon >= line_end || *colon != ':') {
        out.well_formed = false;
        out.value = std::string_view(line, static_cast<std::size_t>(line_end - line));
        return nullptr;
    }
    return colon;
}

// Walks the header section starting at `begin`. Each header line ends at an LF that is not
// followed by SP or HT (RFC 3261 §7.3.1 folding); CRLF and bare LF are both accepted.
class header_reader {
public:
    enum class step : std::uint8_t {
        header,         // `out` holds the next line
        end_of_headers, // the empty line was read; position() is the first body octet
        unterminated,   // the bytes ended before the empty line
    };

    header_reader(const char* begin, const char* end) noexcept : _p(begin), _end(end) {}

    step next(header_line& out) noexcept;
    const char* position() const noexcept { return _p; }

private:
    const char* _p;
    const char* _end;
};

// Second pass for fields the fast path does not keep: the value of the first header of `kind`
// in a header section (message_view::headers), or an empty view with found = false.
struct found_header {
    std::string_view value;
    bool found = false;
};
found_header find_header(std::string_view headers, header_kind kind) noexcept;

// Second pass over list-valued headers (Contact, Route, Record-Route, Require, Supported, ...):
// calls f(value) for every comma-separated element of every line of `kind`, in order, elements
// LWS-trimmed, commas inside quotes and <> not splitting. Stops when f returns false. Returns
// false when an element leaves a quote or '<' open.
template <typename F>
bool for_each_header_value(std::string_view headers, header_kind kind, F&& f) noexcept;

template <typename F>
bool for_each_header_value(std::string_view headers, header_kind kind, F&& f) noexcept {
    header_reader reader(headers.data(), headers.data() + headers.size());
    header_line line;
    bool go_on = true;
    while (go_on && reader.next(line) == header_reader::step::header) {
        if (!line.well_formed || line.kind != kind) {
            continue;
        }
        const bool closed = for_each_list_element(line.value, [&](std::string_view v) noexcept {
            go_on = f(v);
            return go_on;
        });
        if (!closed) {
            return false;
        }
    }
    return true;
}

} // namespace sipredir::sip
