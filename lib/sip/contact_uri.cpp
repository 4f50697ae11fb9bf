// SPDX-License-Identifier: BSD-3-Clause
// Contact composition: the request's user and URI parameters spliced into the backend's URI.
#include "contact_uri.hpp"

#include "chars.hpp"

#include <algorithm>
#include <cstring>

namespace sipredir::sip {
namespace {

// Writes pieces while they fit and counts them all, so a short buffer learns the size it needs.
class bounded {
public:
    explicit bounded(std::span<char> out) noexcept : _out(out) {}

    void put(std::string_view s) noexcept {
        // Not for an empty view: its data() (and a sizing call's out) may be null.
        if (!s.empty() && _size + s.size() <= _out.size()) {
            std::memcpy(_out.data() + _size, s.data(), s.size());
        }
        _size += s.size();
    }

    std::size_t size() const noexcept { return _size; }

private:
    std::span<char> _out;
    std::size_t _size = 0;
};

// The next parameter of a uri-parameters run (`rest` starts at a ';' or is empty): `whole` is
// "name[=value]" without its ';', `name` its name. Empty parameters (";;") are skipped.
bool next_param(std::string_view& rest, std::string_view& whole, std::string_view& name) noexcept {
    while (!rest.empty()) {
        if (rest.front() == ';') {
            rest.remove_prefix(1);
            continue;
        }
        // One pass for the '=' and the ';' (parameters are short: no memchr calls).
        std::size_t end = 0;
        std::size_t equals = std::string_view::npos;
        for (; end < rest.size() && rest[end] != ';'; ++end) {
            if (rest[end] == '=' && equals == std::string_view::npos) {
                equals = end;
            }
        }
        whole = rest.substr(0, end);
        rest.remove_prefix(end);
        name = whole.substr(0, equals);
        return true;
    }
    return false;
}

// RFC 3261 §19.1.4: URI parameter names compare case-insensitively.
bool same_name(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_lower(a[i]) != to_lower(b[i])) {
            return false;
        }
    }
    return true;
}

bool has_param(std::string_view params, std::string_view wanted) noexcept {
    std::string_view whole;
    std::string_view name;
    while (next_param(params, whole, name)) {
        if (same_name(name, wanted)) {
            return true;
        }
    }
    return false;
}

// "%" HEXDIG HEXDIG at s[i].
bool escape_at(std::string_view s, std::size_t i) noexcept {
    return i + 2 < s.size() && s[i] == '%' && is(s[i + 1], cc_hex) && is(s[i + 2], cc_hex);
}

// RFC 3261 §25.1: user = 1*( unreserved / escaped / user-unreserved ).
bool user_char(char c) noexcept {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return alnum || (c != '\0' && std::strchr("-_.!~*'()&=+$,;?/", c) != nullptr);
}

// RFC 3261 §19.1.6: the telephone-subscriber becomes the user part, with the characters the
// user grammar does not allow escaped (a tel URI's ':' '[' ']' may stand in its parameters).
void put_escaped_user(bounded& out, std::string_view s) noexcept {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (user_char(c)) {
            out.put({&s[i], 1});
        } else if (escape_at(s, i)) {
            out.put(s.substr(i, 3));
            i += 2;
        } else {
            const auto u = static_cast<unsigned char>(c);
            const char e[3] = {'%', hex[u >> 4], hex[u & 0xf]};
            out.put({e, 3});
        }
    }
}

// A parameter of the request the Contact keeps: not one the backend sets itself, and not one
// that would send the caller somewhere other than the backend (RFC 3261 §19.1.1: maddr
// overrides the host; transport names the caller's last hop, not the backend's).
bool keeps(std::string_view name, std::string_view backend_params) noexcept {
    return !same_name(name, "transport") && !same_name(name, "maddr")
           && !has_param(backend_params, name);
}

} // namespace

uri_view contact_source(const message_view& m, contact_user from) noexcept {
    uri_view u;
    switch (from) {
    case contact_user::request_uri:
        if (m.kind == message_kind::request && m.request_uri_status != uri_status::bad) {
            u = m.request_uri_parts;
        }
        break;
    case contact_user::to:
        if (!m.has_to || parse_uri(m.to.uri, u) == uri_status::bad) {
            u = uri_view{};
        }
        break;
    case contact_user::none:
        break;
    }
    if (u.scheme != uri_scheme::sip && u.scheme != uri_scheme::sips
        && u.scheme != uri_scheme::tel) {
        return uri_view{};
    }
    return u;
}

std::size_t
write_contact_uri(std::string_view backend, const uri_view& source, std::span<char> out) noexcept {
    bounded w(out);
    const std::size_t colon = backend.find(':');
    if (source.scheme == uri_scheme::other || colon == std::string_view::npos) {
        w.put(backend);
        return w.size();
    }
    // backend = prefix ("<sip:") hostport tail (";transport=udp>"); an IPv6 reference's
    // brackets hold neither ';' nor '>'.
    const std::string_view prefix = backend.substr(0, colon + 1);
    const std::string_view after = backend.substr(colon + 1);
    // A loop, not find_first_of: that calls memchr once per octet of the host.
    std::size_t host_end = 0;
    while (host_end < after.size() && after[host_end] != ';' && after[host_end] != '>') {
        ++host_end;
    }
    const std::string_view hostport = after.substr(0, host_end);
    const std::string_view tail = after.substr(host_end);
    const std::string_view backend_params =
            !tail.empty() && tail.back() == '>' ? tail.substr(0, tail.size() - 1) : tail;

    w.put(prefix);
    if (source.scheme == uri_scheme::tel) {
        // RFC 3261 §19.1.6: tel:+358-555-1234567;postd=pp22 becomes
        // sip:+358-555-1234567;postd=pp22@host;user=phone.
        put_escaped_user(w, source.user);
        put_escaped_user(w, source.params);
        w.put("@");
        w.put(hostport);
        if (keeps("user", backend_params)) {
            w.put(";user=phone");
        }
        w.put(tail);
        return w.size();
    }
    if (!source.user.empty()) {
        w.put(source.user);
        w.put("@");
    }
    w.put(hostport);
    std::string_view rest = source.params;
    std::string_view whole;
    std::string_view name;
    while (next_param(rest, whole, name)) {
        if (keeps(name, backend_params)) {
            w.put(";");
            w.put(whole);
        }
    }
    w.put(tail);
    return w.size();
}

bool valid_uri_params(std::string_view text) noexcept {
    // uri-parameters = *( ";" uri-parameter ); uri-parameter = pname [ "=" pvalue ] (every
    // named form of §19.1.1 is one of these); pname, pvalue = 1*paramchar.
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] != ';') {
            return false;
        }
        ++i;
        bool in_value = false;
        std::size_t run = 0;
        while (i < text.size() && text[i] != ';') {
            const char c = text[i];
            if (c == '=' && !in_value && run > 0) {
                in_value = true;
                run = 0;
                ++i;
                continue;
            }
            if (c == '%') {
                if (!escape_at(text, i)) {
                    return false;
                }
                i += 3;
                ++run;
                continue;
            }
            if (!is(c, cc_param)) {
                return false;
            }
            ++i;
            ++run;
        }
        if (run == 0) {
            return false;
        }
    }
    return true;
}

} // namespace sipredir::sip
