// SPDX-License-Identifier: BSD-3-Clause
// The pieces every section reader of the configuration is written with: typed values of TOML
// nodes, each refusing a bad one with the node's line, and the refusal config.cpp turns into
// `file:line: what is wrong`. For the readers (config.cpp and each feature's *_config.cpp) only.
#pragma once

#include "config.hpp"
#include "enum_names.hpp"

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipredir::control::toml_read {

// A refusal, thrown inside the reader and turned into `file:line: message` at its edge.
struct refusal {
    refusal(std::uint32_t at, std::string what, std::string in = {}, bool complete = false)
        : line(at), message(std::move(what)), file(std::move(in)), whole(complete) {}
    std::uint32_t line;
    std::string message;
    std::string file; // empty: the configuration file itself
    bool whole;       // `message` already says file:line
};

std::uint32_t line_of(const toml::node& n);
[[noreturn]] void refuse(const toml::node& at, std::string message);
// Every key of `t` must be one of `known`: a misspelt key is an error, not a silent default.
void only_keys(
        const toml::table& t, std::string_view where, std::initializer_list<std::string_view> known
);
void only_keys(
        const toml::table& t, std::string_view where, std::span<const std::string_view> known
);
// Null when the file has no [name]; refused when it is not a table.
const toml::table* table_at(const toml::table& root, std::string_view name);
// [name], every key of it one of `known` (as only_keys); null when the file has none.
const toml::table* section_at(
        const toml::table& root,
        std::string_view name,
        std::initializer_list<std::string_view> known
);
// The line of [table] key, else of [table], else 1.
std::uint32_t line_at(const toml::table& root, std::string_view table, std::string_view key);
// Whether the fast path answers `port` (one of listen.ports).
bool listened(const appliance_config& c, std::uint16_t port);
// A control socket on the appliance's address is a kernel socket on the TAP: refused at
// [section] key when there is no exception path, saying what the socket is for (`use`).
void need_exception_path(
        const toml::table& root,
        const appliance_config& c,
        std::string_view section,
        std::string_view key,
        std::string_view use
);

// Each of these returns n's value or refuses it, naming `key`.
std::string string_value(const toml::node& n, std::string_view key);
std::int64_t
integer_value(const toml::node& n, std::string_view key, std::int64_t lo, std::int64_t hi);
double number_value(const toml::node& n, std::string_view key, double lo, double hi); // (lo, hi]
bool bool_value(const toml::node& n, std::string_view key);
const toml::array& array_value(const toml::node& n, std::string_view key);
net::ip_address address_value(const toml::node& n, std::string_view key);
// "198.18.1.1:5060", "[2001:db8::1]:5062", or an address alone (port 5060); `text` is n's
// value, or the part of it that names the endpoint.
net::ip_endpoint endpoint_of(const toml::node& n, std::string_view key, const std::string& text);
net::ip_endpoint endpoint_value(const toml::node& n, std::string_view key);
// A file named in the configuration, relative to the configuration's own directory.
std::string path_value(const toml::node& n, std::string_view key, const std::string& source);
report_key key_file_value(const toml::node& n, std::string_view key, const std::string& source);

// A reader for read_key / list_value: an integer in [lo, hi], as T.
template <typename T> auto ranged(std::int64_t lo, std::int64_t hi) {
    return [lo, hi](const toml::node& n, std::string_view k) {
        return static_cast<T>(integer_value(n, k, lo, hi));
    };
}

// As ranged, but 0 too: "let the appliance choose".
template <typename T> auto zero_or_ranged(std::int64_t lo, std::int64_t hi) {
    return [lo, hi](const toml::node& n, std::string_view k) {
        if (n.is_integer() && n.as_integer()->get() == 0) {
            return T{0};
        }
        if (!n.is_integer()) {
            refuse(n, std::string(k) + " must be an integer");
        }
        const std::int64_t v = n.as_integer()->get();
        if (v < lo || v > hi) {
            refuse(n,
                   std::string(k) + " must be 0 (sized at start) or between " + std::to_string(lo)
                           + " and " + std::to_string(hi) + ", not " + std::to_string(v));
        }
        return static_cast<T>(v);
    };
}

// t's `key`, when present, read into `out` by read(node, key).
template <typename T, typename Read>
void read_key(const toml::table& t, std::string_view key, T& out, Read read) {
    if (const toml::node* n = t.get(key)) {
        out = read(*n, key);
    }
}

// A string naming one of `choices` (an enum's whole table, or the values a key allows).
template <typename Enum>
Enum one_of(const toml::node& n, std::string_view key, std::span<const enum_name<Enum>> choices) {
    const std::string v = string_value(n, key);
    std::string list;
    for (const enum_name<Enum>& c : choices) {
        if (c.name == v) {
            return c.value;
        }
        list += list.empty() ? "" : ", ";
        list += c.name;
    }
    refuse(n, std::string(key) + " must be one of " + list + ", not '" + v + "'");
}

template <typename Enum>
Enum one_of(
        const toml::node& n,
        std::string_view key,
        std::initializer_list<std::pair<std::string_view, Enum>> choices
) {
    std::vector<enum_name<Enum>> named;
    for (const auto& [name, value] : choices) {
        named.push_back({value, name});
    }
    return one_of<Enum>(n, key, std::span<const enum_name<Enum>>(named));
}

template <typename T, typename Read>
std::vector<T> list_value(const toml::node& n, std::string_view key, Read read) {
    std::vector<T> out;
    for (const toml::node& item : array_value(n, key)) {
        out.push_back(read(item, key));
    }
    return out;
}

} // namespace sipredir::control::toml_read
