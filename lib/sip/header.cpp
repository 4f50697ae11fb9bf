// SPDX-License-Identifier: BSD-3-Clause
// Header line reader and header name classification.
#include "header.hpp"

#include "chars.hpp"
#include "scan.hpp"

#include <cstring>

namespace sipredir::sip {

header_kind classify_header(std::string_view n) noexcept {
    switch (n.size()) {
    case 1:
        switch (to_lower(n[0])) {
        case 'v': return header_kind::via;
        case 'f': return header_kind::from;
        case 't': return header_kind::to;
        case 'i': return header_kind::call_id;
        case 'm': return header_kind::contact;
        case 'l': return header_kind::content_length;
        case 'c': return header_kind::content_type;
        case 'k': return header_kind::supported;
        case 's': return header_kind::subject;
        case 'e': return header_kind::content_encoding;
        case 'o': return header_kind::event;
        case 'u': return header_kind::allow_events;
        case 'r': return header_kind::refer_to;
        case 'x': return header_kind::session_expires;
        case 'y': return header_kind::identity;
        default: return header_kind::other;
        }
    case 2: return iequals(n, "to") ? header_kind::to : header_kind::other;
    case 3: return iequals(n, "via") ? header_kind::via : header_kind::other;
    case 4:
        if (iequals(n, "from")) {
            return header_kind::from;
        }
        return iequals(n, "cseq") ? header_kind::cseq : header_kind::other;
    case 5:
        if (iequals(n, "route")) {
            return header_kind::route;
        }
        return iequals(n, "event") ? header_kind::event : header_kind::other;
    case 7:
        if (iequals(n, "call-id")) {
            return header_kind::call_id;
        }
        if (iequals(n, "contact")) {
            return header_kind::contact;
        }
        if (iequals(n, "require")) {
            return header_kind::require;
        }
        if (iequals(n, "subject")) {
            return header_kind::subject;
        }
        return iequals(n, "expires") ? header_kind::expires : header_kind::other;
    case 8:
        if (iequals(n, "identity")) {
            return header_kind::identity;
        }
        return iequals(n, "refer-to") ? header_kind::refer_to : header_kind::other;
    case 9: return iequals(n, "supported") ? header_kind::supported : header_kind::other;
    case 10: return iequals(n, "user-agent") ? header_kind::user_agent : header_kind::other;
    case 12:
        if (iequals(n, "max-forwards")) {
            return header_kind::max_forwards;
        }
        if (iequals(n, "content-type")) {
            return header_kind::content_type;
        }
        return iequals(n, "allow-events") ? header_kind::allow_events : header_kind::other;
    case 13: return iequals(n, "proxy-require") ? header_kind::proxy_require : header_kind::other;
    case 14: return iequals(n, "content-length") ? header_kind::content_length : header_kind::other;
    case 15:
        if (iequals(n, "session-expires")) {
            return header_kind::session_expires;
        }
        return header_kind::other;
    case 16:
        return iequals(n, "content-encoding") ? header_kind::content_encoding : header_kind::other;
    default: return header_kind::other;
    }
}

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
    // The line ends at the first LF not followed by WSP; the octets past the datagram count as
    // "not WSP", so a last line without LF ends at the datagram's end.
    const char* eol = _end;
    const char* search = _p;
    while (search < _end) {
        const auto* lf = static_cast<const char*>(std::memchr(search, '\n', _end - search));
        if (lf == nullptr) {
            break;
        }
        if (lf + 1 < _end && (lf[1] == ' ' || lf[1] == '\t')) {
            search = lf + 1;
            continue;
        }
        eol = lf;
        break;
    }
    _p = eol < _end ? eol + 1 : _end;
    const char* line_end = eol;
    if (line_end > line && line_end[-1] == '\r') {
        --line_end;
    }

    out = header_line{};
    const char* name_end = scan::skip_class(line, line_end, cc_token);
    out.name = std::string_view(line, static_cast<std::size_t>(name_end - line));
    // HCOLON = *( SP / HTAB ) ":" SWS
    const char* colon = name_end;
    while (colon < line_end && (*colon == ' ' || *colon == '\t')) {
        ++colon;
    }
    if (out.name.empty() || colon >= line_end || *colon != ':') {
        out.well_formed = false;
        out.value = std::string_view(line, static_cast<std::size_t>(line_end - line));
        return step::header;
    }
    out.value = scan::trim_lws(
            std::string_view(colon + 1, static_cast<std::size_t>(line_end - (colon + 1)))
    );
    out.kind = classify_header(out.name);
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
