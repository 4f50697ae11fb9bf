// SPDX-License-Identifier: BSD-3-Clause
// URI parser: RFC 3261 §19.1.1 (sip/sips), RFC 3966 (tel, loosely), RFC 5118 (IPv6 references).
#include "uri.hpp"

#include "chars.hpp"
#include "class_run.hpp"
#include "scan.hpp"

#include <cstring>

namespace sipredir::sip {
namespace {

using scan::between;

bool all_of(std::string_view s, std::uint16_t classes) noexcept {
    for (char c : s) {
        if ((detail::char_table[static_cast<unsigned char>(c)] & classes) == 0) {
            return false;
        }
    }
    return true;
}

bool printable_ascii(std::string_view s) noexcept {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f) {
            return false;
        }
    }
    return true;
}

// IPv6reference = "[" IPv6address "]". RFC 5118 §4.10 asks to accept the three-colon form that
// RFC 3261's ABNF allowed, so this checks the alphabet and shape, not the exact grammar.
bool ipv6_reference_valid(std::string_view ref) noexcept {
    if (ref.size() < 4 || ref.front() != '[' || ref.back() != ']') {
        return false;
    }
    const std::string_view inside = ref.substr(1, ref.size() - 2);
    std::size_t colons = 0;
    for (char c : inside) {
        if (!is(c, cc_ipv6)) {
            return false;
        }
        colons += c == ':';
    }
    return colons >= 2 && inside.size() <= 45;
}

// "%" HEXDIG HEXDIG at p; %00 is a valid escape (RFC 4475 §3.1.1.4): the views are never used
// as C strings, so it cannot end one early.
bool escape_at(const char* p, const char* end) noexcept {
    return end - p >= 3 && is(p[1], cc_hex) && is(p[2], cc_hex);
}

// A run of T's octets and "%" HEXDIG HEXDIG escapes from p; nullptr at a bad escape.
template <const run::nibble_tables& T>
const char* skip_escaped(const char* p, const char* end, const char* floor) noexcept {
    for (;;) {
        p = run::skip<T>(p, end, floor);
        if (p >= end || *p != '%') {
            return p;
        }
        if (!escape_at(p, end)) {
            return nullptr;
        }
        p += 3;
    }
}

// userinfo: '@' cannot appear unescaped anywhere else in a SIP URI, so a run of user characters
// ending at '@' is the userinfo; otherwise there is none and the host starts at `begin`. Returns
// where the host starts, or nullptr.
const char* take_userinfo(const char* begin, const char* end, uri_view& out) noexcept {
    const char* const p = skip_escaped<run::user>(begin, end, begin);
    if (p == nullptr) {
        return nullptr;
    }
    if (p == end || *p != '@') {
        return begin;
    }
    // An escape is hex digits, so the first ':' of the run is the password's.
    const auto* colon = static_cast<const char*>(std::memchr(begin, ':', p - begin));
    const char* user_end = colon != nullptr ? colon : p;
    if (user_end == begin) {
        return nullptr;
    }
    out.user = between(begin, user_end);
    if (colon != nullptr) {
        out.password = between(colon + 1, p);
    }
    return p + 1;
}

// host = hostname / IPv4address / IPv6reference. Returns where it ends, or nullptr.
const char* take_host(const char* p, const char* end, const char* floor, uri_view& out) noexcept {
    if (p < end && *p == '[') {
        const auto* close = static_cast<const char*>(std::memchr(p, ']', end - p));
        if (close == nullptr) {
            return nullptr;
        }
        out.host = between(p, close + 1);
        return ipv6_reference_valid(out.host) ? close + 1 : nullptr;
    }
    const char* const host_end = run::skip<run::host>(p, end, floor);
    out.host = between(p, host_end);
    return out.host.empty() ? nullptr : host_end;
}

// [ ":" port ] at p. Returns where it ends, or nullptr.
const char* take_port(const char* p, const char* end, uri_view& out) noexcept {
    if (p == end || *p != ':') {
        return p;
    }
    ++p;
    std::uint32_t port = 0;
    const char* digits = p;
    while (p < end && is(*p, cc_digit) && p - digits < 6) {
        port = port * 10 + static_cast<std::uint32_t>(*p - '0');
        ++p;
    }
    if (p == digits || port > 65535) {
        return nullptr;
    }
    out.port = static_cast<std::uint16_t>(port);
    out.has_port = true;
    return p;
}

// uri-parameters = *( ";" pname [ "=" pvalue ] ), names and values of paramchars. Returns where
// they end (at the end or a '?'), or nullptr.
const char* take_params(const char* p, const char* end, const char* floor, uri_view& out) noexcept {
    if (p == end || *p != ';') {
        return p;
    }
    const char* const params_end = skip_escaped<run::uri_param>(p, end, floor);
    if (params_end == nullptr || (params_end < end && *params_end != '?')) {
        return nullptr;
    }
    out.params = between(p, params_end);
    return params_end;
}

// One pass: userinfo, host, port, parameters, headers; escapes are checked where they stand.
uri_status parse_sip_uri(std::string_view rest, uri_view& out) noexcept {
    const char* const begin = rest.data();
    const char* const end = begin + rest.size();
    const char* p = take_userinfo(begin, end, out);
    if (p != nullptr) {
        p = take_host(p, end, begin, out);
    }
    if (p != nullptr) {
        p = take_port(p, end, out);
    }
    if (p != nullptr) {
        p = take_params(p, end, begin, out);
    }
    if (p == nullptr) {
        return uri_status::bad;
    }
    if (p < end && *p == '?') {
        out.headers = between(p + 1, end);
        for (char c : out.headers) {
            if (c != '&' && !is(c, cc_header)) {
                return uri_status::bad;
            }
        }
        return uri_status::has_headers;
    }
    return p == end ? uri_status::ok : uri_status::bad;
}

} // namespace

uri_status parse_uri(std::string_view text, uri_view& out) noexcept {
    out = uri_view{};
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
        return uri_status::bad;
    }
    const std::string_view scheme = text.substr(0, colon);
    const char first = scheme[0];
    if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z'))
        || !all_of(scheme, cc_scheme)) {
        return uri_status::bad;
    }
    out.scheme_text = scheme;
    const std::string_view rest = text.substr(colon + 1);
    if (iequals(scheme, "sip")) {
        out.scheme = uri_scheme::sip;
        return parse_sip_uri(rest, out);
    }
    if (iequals(scheme, "sips")) {
        out.scheme = uri_scheme::sips;
        return parse_sip_uri(rest, out);
    }
    // The sip scanner above admits only its own classes; the others get a printable check.
    if (!printable_ascii(rest)) {
        return uri_status::bad;
    }
    if (iequals(scheme, "tel")) {
        out.scheme = uri_scheme::tel;
        const std::size_t semi = rest.find(';');
        out.user = rest.substr(0, semi);
        if (semi != std::string_view::npos) {
            out.params = rest.substr(semi);
        }
        return out.user.empty() ? uri_status::bad : uri_status::ok;
    }
    return uri_status::ok;
}

} // namespace sipredir::sip
