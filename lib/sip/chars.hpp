// SPDX-License-Identifier: BSD-3-Clause
// Byte classes of the RFC 3261 grammar as 256-entry tables, one bit per class.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace sipredir::sip {

enum char_class : std::uint16_t {
    cc_token = 1 << 0, // token: alphanum - . ! % * _ + ` ' ~
    cc_word = 1 << 1,  // word (Call-ID): token chars and ( ) < > : \ " / [ ] ? { }
    cc_digit = 1 << 2,
    cc_hex = 1 << 3,
    cc_user = 1 << 4,   // user / password chars of a SIP URI (unreserved, escaped, & = + $ , ; ? /)
    cc_host = 1 << 5,   // hostname / IPv4address: alphanum - .
    cc_param = 1 << 6,  // paramchar: unreserved, escaped, [ ] / : & + $
    cc_header = 1 << 7, // hname / hvalue chars of URI headers
    cc_wsp = 1 << 8,    // SP HT
    cc_ipv6 = 1 << 9,   // hex digits : .
    cc_scheme = 1 << 10,  // scheme: alphanum + - .
    cc_call_id = 1 << 11, // word chars and '@'
};

namespace detail {

constexpr bool in(std::string_view set, unsigned char c) {
    for (char s : set) {
        if (static_cast<unsigned char>(s) == c) {
            return true;
        }
    }
    return false;
}

constexpr std::array<std::uint16_t, 256> make_char_table() {
    std::array<std::uint16_t, 256> t{};
    for (unsigned c = 0; c < 256; ++c) {
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        const bool digit = c >= '0' && c <= '9';
        const bool alnum = alpha || digit;
        const bool mark = in("-_.!~*'()", c);
        const bool unreserved = alnum || mark;
        std::uint16_t v = 0;
        if (alnum || in("-.!%*_+`'~", c)) {
            v |= cc_token;
        }
        if (alnum || in("-.!%*_+`'~()<>:\\\"/[]?{}", c)) {
            v |= cc_word;
        }
        if (digit) {
            v |= cc_digit;
        }
        if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
            v |= cc_hex;
        }
        if (unreserved || in("%&=+$,;?/:", c)) {
            v |= cc_user;
        }
        if (alnum || in("-.", c)) {
            v |= cc_host;
        }
        if (unreserved || in("%[]/:&+$", c)) {
            v |= cc_param;
        }
        if (unreserved || in("%[]/?:+$=&", c)) {
            v |= cc_header;
        }
        if (c == ' ' || c == '\t') {
            v |= cc_wsp;
        }
        if ((v & cc_hex) || c == ':' || c == '.') {
            v |= cc_ipv6;
        }
        if (alnum || in("+-.", c)) {
            v |= cc_scheme;
        }
        if ((v & cc_word) || c == '@') {
            v |= cc_call_id;
        }
        t[c] = v;
    }
    return t;
}

inline constexpr std::array<std::uint16_t, 256> char_table = make_char_table();

} // namespace detail

constexpr bool is(char c, char_class cls) {
    return (detail::char_table[static_cast<unsigned char>(c)] & cls) != 0;
}

constexpr char to_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

// ASCII case-insensitive equality; `lower` must already be lower case.
constexpr bool iequals(std::string_view s, std::string_view lower) {
    if (s.size() != lower.size()) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (to_lower(s[i]) != lower[i]) {
            return false;
        }
    }
    return true;
}

// A control octet (NUL, ESC, DEL, ...) inside a header value: outside the grammar of every
// field a reply copies (RFC 3261 §25.1), and never to be echoed. HTAB is whitespace; CR and LF
// are line structure (a fold's CRLF sits inside a folded value), left to the header splitter and
// the field grammars.
constexpr bool is_control_octet(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t' && u != '\r' && u != '\n') || u == 0x7f;
}

// Whether `s` holds a control octet. Eight octets at a time (SWAR): a chunk with no octet below
// 0x20 and no DEL is passed in a dozen instructions; only a chunk holding one (usually a fold's
// CR LF or a tab) is looked at octet by octet. The copied fields are a few hundred octets in all.
inline bool has_control_octet(std::string_view s) noexcept {
    if (s.size() < 8) {
        for (const char c : s) {
            if (is_control_octet(c)) {
                return true;
            }
        }
        return false;
    }
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = ones * 0x80;
    const char* const last = s.data() + s.size() - 8;
    // Chunks at 0, 8, 16, ... and a last one ending at the end (overlapping its predecessor).
    for (const char* p = s.data();; p = p + 8 < last ? p + 8 : last) {
        std::uint64_t x = 0;
        std::memcpy(&x, p, 8);
        const std::uint64_t below_space = (x - ones * 0x20) & ~x & highs; // any octet < 0x20
        const std::uint64_t d = x ^ (ones * 0x7f);
        const std::uint64_t del = (d - ones) & ~d & highs; // any octet == 0x7f
        if ((below_space | del) != 0) {
            for (int i = 0; i < 8; ++i) {
                if (is_control_octet(p[i])) {
                    return true;
                }
            }
        }
        if (p == last) {
            return false;
        }
    }
}

// The same for a quoted-string, where a quoted-pair may escape any octet but CR and LF
// (RFC 3261 §25.1; RFC 4475 §3.1.1.3 escapes a NUL, a BEL and a DEL, and expects them echoed).
inline bool has_bare_control_octet_quoted(std::string_view quoted) noexcept {
    for (std::size_t i = 0; i < quoted.size(); ++i) {
        if (quoted[i] == '\\') {
            ++i;
        } else if (is_control_octet(quoted[i])) {
            return true;
        }
    }
    return false;
}

} // namespace sipredir::sip
