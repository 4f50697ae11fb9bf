// SPDX-License-Identifier: BSD-3-Clause
#include "config_reader.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace sipredir::control::toml_read {

std::uint32_t line_of(const toml::node& n) {
    return static_cast<std::uint32_t>(n.source().begin.line);
}

[[noreturn]] void refuse(const toml::node& at, std::string message) {
    throw refusal{line_of(at), std::move(message)};
}

void only_keys(
        const toml::table& t, std::string_view where, std::initializer_list<std::string_view> known
) {
    only_keys(t, where, std::span<const std::string_view>(known.begin(), known.size()));
}

void only_keys(
        const toml::table& t, std::string_view where, std::span<const std::string_view> known
) {
    for (auto&& [key, value] : t) {
        if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
            std::string list;
            for (const std::string_view k : known) {
                list += list.empty() ? "" : ", ";
                list += k;
            }
            refuse(value,
                   "unknown key '" + std::string(key.str()) + "' in " + std::string(where)
                           + " (known: " + list + ")");
        }
    }
}

const toml::table* table_at(const toml::table& root, std::string_view name) {
    const toml::node* n = root.get(name);
    if (n == nullptr) {
        return nullptr;
    }
    if (!n->is_table()) {
        refuse(*n, "[" + std::string(name) + "] must be a table");
    }
    return n->as_table();
}

const toml::table* section_at(
        const toml::table& root,
        std::string_view name,
        std::initializer_list<std::string_view> known
) {
    const toml::table* t = table_at(root, name);
    if (t != nullptr) {
        std::string where = "[";
        where.append(name).append("]");
        only_keys(*t, where, known);
    }
    return t;
}

std::string string_value(const toml::node& n, std::string_view key) {
    if (!n.is_string()) {
        refuse(n, std::string(key) + " must be a string");
    }
    return n.as_string()->get();
}

std::int64_t
integer_value(const toml::node& n, std::string_view key, std::int64_t lo, std::int64_t hi) {
    if (!n.is_integer()) {
        refuse(n, std::string(key) + " must be an integer");
    }
    const std::int64_t v = n.as_integer()->get();
    if (v < lo || v > hi) {
        refuse(n,
               std::string(key) + " must be between " + std::to_string(lo) + " and "
                       + std::to_string(hi) + ", not " + std::to_string(v));
    }
    return v;
}

double number_value(const toml::node& n, std::string_view key, double lo, double hi) {
    if (!n.is_number()) {
        refuse(n, std::string(key) + " must be a number");
    }
    const double v = n.is_integer() ? static_cast<double>(n.as_integer()->get())
                                    : n.as_floating_point()->get();
    if (!(v > lo && v <= hi)) {
        std::ostringstream o;
        o << key << " must be above " << lo << " and at most " << hi << ", not " << v;
        refuse(n, o.str());
    }
    return v;
}

bool bool_value(const toml::node& n, std::string_view key) {
    if (!n.is_boolean()) {
        refuse(n, std::string(key) + " must be true or false");
    }
    return n.as_boolean()->get();
}

const toml::array& array_value(const toml::node& n, std::string_view key) {
    if (!n.is_array()) {
        refuse(n, std::string(key) + " must be an array");
    }
    return *n.as_array();
}

net::ip_address address_value(const toml::node& n, std::string_view key) {
    net::ip_address ip;
    const std::string text = string_value(n, key);
    if (!net::parse_ip(text, ip)) {
        refuse(n, std::string(key) + ": '" + text + "' is not an IPv4 or IPv6 address");
    }
    return ip;
}

net::ip_endpoint endpoint_of(const toml::node& n, std::string_view key, const std::string& text) {
    std::string_view host = text;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string::npos || (close + 1 < text.size() && text[close + 1] != ':')) {
            refuse(n, std::string(key) + ": '" + text + "' is not [IPv6]:port");
        }
        host = std::string_view(text).substr(0, close + 1);
        if (close + 1 < text.size()) {
            port = std::string_view(text).substr(close + 2);
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        const std::size_t colon = text.find(':');
        host = std::string_view(text).substr(0, colon);
        port = std::string_view(text).substr(colon + 1);
    }
    net::ip_endpoint e;
    e.port = 5060;
    if (!net::parse_ip(host, e.address)) {
        refuse(n, std::string(key) + ": '" + text + "' is not address[:port]");
    }
    if (!port.empty() || (host.size() < text.size())) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
            refuse(n, std::string(key) + ": '" + text + "' has no valid port (1-65535)");
        }
        e.port = static_cast<std::uint16_t>(value);
    }
    return e;
}

net::ip_endpoint endpoint_value(const toml::node& n, std::string_view key) {
    return endpoint_of(n, key, string_value(n, key));
}

std::string path_value(const toml::node& n, std::string_view key, const std::string& source) {
    std::string path = string_value(n, key);
    if (!path.empty() && path.front() != '/') {
        const std::size_t slash = source.rfind('/');
        if (slash != std::string::npos) {
            path = source.substr(0, slash + 1) + path;
        }
    }
    return path;
}

report_key key_file_value(const toml::node& n, std::string_view key, const std::string& source) {
    const std::string path = path_value(n, key, source);
    const key_file_result r = read_key_file(path);
    if (!r.key) {
        refuse(n, std::string(key) + ": " + r.error);
    }
    return *r.key;
}

std::uint32_t line_at(const toml::table& root, std::string_view table, std::string_view key) {
    const toml::node* at = root[table][key].node();
    if (at == nullptr) {
        at = root[table].node();
    }
    return at != nullptr ? line_of(*at) : 1;
}

bool listened(const appliance_config& c, std::uint16_t port) {
    return std::find(c.listen.ports.begin(), c.listen.ports.end(), port) != c.listen.ports.end();
}

void need_exception_path(
        const toml::table& root,
        const appliance_config& c,
        std::string_view section,
        std::string_view key,
        std::string_view use
) {
    if (c.exception.tap.empty()) {
        std::string message = "[";
        message.append(section).append("] needs the exception path ([exception] tap): ");
        message.append(use);
        throw refusal{line_at(root, section, key), std::move(message)};
    }
}

} // namespace sipredir::control::toml_read
