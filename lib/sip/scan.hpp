// SPDX-License-Identifier: BSD-3-Clause
// Small cursor helpers over one header value: linear whitespace with folding, tokens, numbers.
// Every function takes [p, end) and never reads at or past end.
#pragma once

#include "chars.hpp"

#include <cstdint>
#include <string_view>

namespace sipredir::sip::scan {

// RFC 3261 §25.1: LWS = [*WSP CRLF] 1*WSP. A CR or LF counts only inside a fold (CRLF or a bare
// LF, followed by SP or HT); a bare CR is not whitespace, so it cannot hide inside a field that
// a reply copies.
inline const char* skip_lws(const char* p, const char* end) noexcept {
    // Most calls stand on a visible octet: one compare answers them (SP, HT, CR and LF are all
    // at or below 0x20).
    if (p >= end || static_cast<unsigned char>(*p) > 0x20) {
        return p;
    }
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t')) {
            ++p;
        }
        const char* fold = p;
        if (fold < end && *fold == '\r') {
            ++fold;
        }
        if (fold < end && *fold == '\n' && fold + 1 < end && (fold[1] == ' ' || fold[1] == '\t')) {
            p = fold + 1;
            continue;
        }
        return p;
    }
}

// The view from b up to e (e >= b, both in one buffer).
inline std::string_view between(const char* b, const char* e) noexcept {
    return {b, static_cast<std::size_t>(e - b)};
}

inline const char* skip_class(const char* p, const char* end, char_class cls) noexcept {
    while (p < end && is(*p, cls)) {
        ++p;
    }
    return p;
}

inline bool is_lws(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// The value with leading and trailing LWS removed.
inline std::string_view trim_lws(std::string_view v) noexcept {
    std::size_t b = 0;
    std::size_t e = v.size();
    while (b < e && is_lws(v[b])) {
        ++b;
    }
    while (e > b && is_lws(v[e - 1])) {
        --e;
    }
    return v.substr(b, e - b);
}

// A quoted-string starting at p (which must point at '"'). Returns the position after the
// closing quote, or nullptr when the string is not closed before end. RFC 3261 §25.1:
// quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F); qdtext excludes '"' and '\'.
inline const char* skip_quoted(const char* p, const char* end) noexcept {
    ++p;
    while (p < end) {
        const char c = *p;
        if (c == '"') {
            return p + 1;
        }
        if (c == '\\') {
            if (p + 1 >= end || p[1] == '\r' || p[1] == '\n') {
                return nullptr;
            }
            p += 2;
            continue;
        }
        ++p;
    }
    return nullptr;
}

// Unsigned decimal of at least one digit. Values past `limit` saturate at limit + 1 (so the
// caller sees "too large" without overflow, however many digits arrive).
struct number {
    const char* next = nullptr; // nullptr: no digit at p
    std::uint64_t value = 0;
};

inline number parse_decimal(const char* p, const char* end, std::uint64_t limit) noexcept {
    number n;
    const char* start = p;
    std::uint64_t v = 0;
    while (p < end && is(*p, cc_digit)) {
        if (v <= limit) {
            v = v * 10 + static_cast<std::uint64_t>(*p - '0');
        }
        ++p;
    }
    if (p == start) {
        return n;
    }
    n.next = p;
    n.value = v > limit ? limit + 1 : v;
    return n;
}

} // namespace sipredir::sip::scan
