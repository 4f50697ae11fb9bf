// SPDX-License-Identifier: BSD-3-Clause
// URI parser: RFC 3261 §19.1.1 (sip/sips), RFC 3966 (tel, loosely), RFC 5118 (IPv6 references).
#include "uri.hpp"

#include "chars.hpp"

namespace sipredir::sip {
namespace {

bool all_of(std::string_view s, std::uint16_t classes) noexcept {
    for (char c : s) {
        if ((detail::char_table[static_cast<unsigned char>(c)] & classes) == 0) {
            return false;
        }
    }
    return true;
}

// Every '%' starts an escape of two hex digits. %00 is a valid escape (RFC 4475 §3.1.1.4); the
// view is never used as a C string, so it cannot end one early.
bool escapes_valid(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size()) {
                return false;
            }
            if (!is(s[i + 1], cc_hex) || !is(s[i + 2], cc_hex)) {
                return false;
            }
            i += 2;
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

uri_status parse_sip_uri(std::string_view rest, uri_view& out) noexcept {
    // userinfo: '@' cannot appear unescaped anywhere else in a SIP URI, so the first one ends it.
    const std::size_t at = rest.find('@');
    std::string_view hostpart = rest;
    if (at != std::string_view::npos) {
        const std::string_view userinfo = rest.substr(0, at);
        if (userinfo.empty() || !all_of(userinfo, cc_user) || !escapes_valid(userinfo)) {
            return uri_status::bad;
        }
        const std::size_t colon = userinfo.find(':');
        out.user = userinfo.substr(0, colon);
        if (colon != std::string_view::npos) {
            out.password = userinfo.substr(colon + 1);
        }
        if (out.user.empty()) {
            return uri_status::bad;
        }
        hostpart = rest.substr(at + 1);
    }
    if (hostpart.empty()) {
        return uri_status::bad;
    }
    std::size_t i = 0;
    if (hostpart[0] == '[') {
        const std::size_t close = hostpart.find(']');
        if (close == std::string_view::npos) {
            return uri_status::bad;
        }
        out.host = hostpart.substr(0, close + 1);
        if (!ipv6_reference_valid(out.host)) {
            return uri_status::bad;
        }
        i = close + 1;
    } else {
        while (i < hostpart.size() && is(hostpart[i], cc_host)) {
            ++i;
        }
        out.host = hostpart.substr(0, i);
        if (out.host.empty()) {
            return uri_status::bad;
        }
    }
    if (i < hostpart.size() && hostpart[i] == ':') {
        ++i;
        std::uint32_t port = 0;
        const std::size_t digits_start = i;
        while (i < hostpart.size() && is(hostpart[i], cc_digit) && i - digits_start < 6) {
            port = port * 10 + static_cast<std::uint32_t>(hostpart[i] - '0');
            ++i;
        }
        if (i == digits_start || port > 65535) {
            return uri_status::bad;
        }
        out.port = static_cast<std::uint16_t>(port);
        out.has_port = true;
    }
    if (i < hostpart.size() && hostpart[i] == ';') {
        const std::size_t q = hostpart.find('?', i);
        out.params = hostpart.substr(i, q == std::string_view::npos ? q : q - i);
        // uri-parameters: *( ";" pname [ "=" pvalue ] ), names and values of paramchars.
        for (char c : out.params) {
            if (c != ';' && c != '=' && !is(c, cc_param)) {
                return uri_status::bad;
            }
        }
        if (!escapes_valid(out.params)) {
            return uri_status::bad;
        }
        i = q == std::string_view::npos ? hostpart.size() : q;
    }
    if (i < hostpart.size() && hostpart[i] == '?') {
        out.headers = hostpart.substr(i + 1);
        for (char c : out.headers) {
            if (c != '&' && !is(c, cc_header)) {
                return uri_status::bad;
            }
        }
        return uri_status::has_headers;
    }
    return i == hostpart.size() ? uri_status::ok : uri_status::bad;
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
        || !all_of(scheme, cc_scheme) || !printable_ascii(text)) {
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
