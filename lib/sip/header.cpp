// SPDX-License-Identifier: BSD-3-Clause
// Header line reader and header name classification.
#include "header.hpp"

#include "chars.hpp"
#include "find.hpp"
#include "scan.hpp"
#include "token_equal.hpp"

#include <cstring>

namespace sipredir::sip {

namespace {

// Length, first and last letter identify every name below but one pair at most; a single
// comparison then confirms it, instead of trying each name of the same length in turn.
constexpr std::uint32_t name_key(std::size_t size, char first, char last) {
    return static_cast<std::uint32_t>(size) << 16
           | static_cast<std::uint32_t>(static_cast<unsigned char>(to_lower(first))) << 8
           | static_cast<unsigned char>(to_lower(last));
}

constexpr std::uint32_t name_key(std::string_view lower) {
    return name_key(lower.size(), lower.front(), lower.back());
}

// `n` is a token (the reader checked it) of the same length as `lower` (name_key compared the
// lengths).
header_kind confirm(std::string_view n, std::string_view lower, header_kind kind) noexcept {
    return token_iequals(n, lower) ? kind : header_kind::other;
}

} // namespace

header_kind classify_header(std::string_view n) noexcept {
    if (n.empty()) {
        return header_kind::other;
    }
    using enum header_kind;
    switch (name_key(n.size(), n.front(), n.back())) {
    case name_key("v"):
        return via;
    case name_key("f"):
        return from;
    case name_key("t"):
        return to;
    case name_key("i"):
        return call_id;
    case name_key("m"):
        return contact;
    case name_key("l"):
        return content_length;
    case name_key("c"):
        return content_type;
    case name_key("k"):
        return supported;
    case name_key("s"):
        return subject;
    case name_key("e"):
        return content_encoding;
    case name_key("o"):
        return event;
    case name_key("u"):
        return allow_events;
    case name_key("r"):
        return refer_to;
    case name_key("x"):
        return session_expires;
    case name_key("y"):
        return identity;
    case name_key("via"):
        return confirm(n, "via", via);
    case name_key("from"):
        return confirm(n, "from", from);
    case name_key("to"):
        return confirm(n, "to", to);
    case name_key("call-id"):
        return confirm(n, "call-id", call_id);
    case name_key("cseq"):
        return confirm(n, "cseq", cseq);
    case name_key("max-forwards"):
        return confirm(n, "max-forwards", max_forwards);
    case name_key("content-length"):
        return confirm(n, "content-length", content_length);
    case name_key("contact"):
        return confirm(n, "contact", contact);
    case name_key("route"):
        return confirm(n, "route", route);
    case name_key("require"):
        return confirm(n, "require", require);
    case name_key("proxy-require"):
        return confirm(n, "proxy-require", proxy_require);
    case name_key("supported"):
        return confirm(n, "supported", supported);
    case name_key("expires"):
        return confirm(n, "expires", expires);
    case name_key("user-agent"):
        return confirm(n, "user-agent", user_agent);
    case name_key("content-type"):
        return confirm(n, "content-type", content_type);
    case name_key("subject"):
        return confirm(n, "subject", subject);
    case name_key("content-encoding"):
        return confirm(n, "content-encoding", content_encoding);
    case name_key("event"):
        return confirm(n, "event", event);
    case name_key("allow-events"):
        return confirm(n, "allow-events", allow_events);
    case name_key("refer-to"):
        return confirm(n, "refer-to", refer_to);
    case name_key("session-expires"):
        return confirm(n, "session-expires", session_expires);
    case name_key("identity"):
        return confirm(n, "identity", identity);
    default:
        return other;
    }
}

namespace {

// The LF that ends the line starting at `line`: the first one not followed by WSP; `end` when
// there is none (the octets past the datagram count as "not WSP"). `folded`: an LF was skipped.
const char* line_end_lf(const char* line, const char* end, bool& folded) noexcept {
    const char* search = line;
    while (search < end) {
        const char* lf = find_byte(search, end, '\n');
        if (lf == nullptr) {
            return end;
        }
        if (lf + 1 < end && (lf[1] == ' ' || lf[1] == '\t')) {
            search = lf + 1;
            folded = true;
            continue;
        }
        return lf;
    }
    return end;
}

// name HCOLON value from a line whose name ends at `name_end`.
void split_line(
        const char* line, const char* name_end, const char* line_end, header_line& out
) noexcept {
    const char* const colon = take_name_and_colon(line, name_end, line_end, out);
    if (colon == nullptr) {
        return;
    }
    out.value = scan::trim_lws(
            std::string_view(colon + 1, static_cast<std::size_t>(line_end - (colon + 1)))
    );
    out.kind = classify_header(out.name);
}

} // namespace

header_reader::step header_reader::next(header_line& out) noexcept {
    if (_p >= _end) {
        return step::unterminated;
    }
    if (*_p == '\n') {
        ++_p;
        return step::end_of_headers;
    }
    if (*_p == '\r') {
        if (_p + 1 >= _end) {
            return step::unterminated;
        }
        if (_p[1] == '\n') {
            _p += 2;
            return step::end_of_headers;
        }
    }
    const char* const line = _p;
    out = header_line{};
    const char* const eol = line_end_lf(line, _end, out.folded);
    _p = eol < _end ? eol + 1 : _end;
    const char* line_end = eol;
    if (line_end > line && line_end[-1] == '\r') {
        --line_end;
    }
    // When the line ended at an LF, that LF (no token character) stops the name scan, so the
    // loop needs no bounds test; a last line without LF takes the bounded scan.
    const char* name_end = line;
    if (eol < _end) {
        while (is(*name_end, cc_token)) {
            ++name_end;
        }
    } else {
        name_end = scan::skip_class(line, line_end, cc_token);
    }
    split_line(line, name_end, line_end, out);
    return step::header;
}

found_header find_header(std::string_view headers, header_kind kind) noexcept {
    header_reader reader(headers.data(), headers.data() + headers.size());
    header_line line;
    while (reader.next(line) == header_reader::step::header) {
        if (line.well_formed && line.kind == kind) {
            return {line.value, true};
        }
    }
    return {};
}

} // namespace sipredir::sip
