// SPDX-License-Identifier: BSD-3-Clause
#include "load_figure.hpp"

#include <charconv>
#include <cstddef>
#include <sip/chars.hpp>

namespace sipredir::control {

namespace {

constexpr double max_utilisation = 10.0;

bool is_space(char c) noexcept {
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

// A whole non-negative decimal number ("42", "42.5"); nothing else around it.
std::optional<double> number(std::string_view s) noexcept {
    s = trim(s);
    if (s.empty() || s.size() > 24 || s.front() == '-' || s.front() == '+') {
        return std::nullopt;
    }
    double v = 0;
    const auto [end, ec] =
            std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::fixed);
    if (ec != std::errc{} || end != s.data() + s.size() || !(v >= 0)) {
        return std::nullopt;
    }
    return v;
}

std::optional<double> calls_over_capacity(std::string_view value) noexcept {
    std::optional<double> calls;
    std::optional<double> capacity;
    while (!value.empty()) {
        const std::size_t end = value.find_first_of(";, \t");
        const std::string_view item = value.substr(0, end);
        value = end == std::string_view::npos ? std::string_view{} : value.substr(end + 1);
        if (item.empty()) {
            continue;
        }
        const std::size_t eq = item.find('=');
        if (eq == std::string_view::npos) {
            return std::nullopt;
        }
        const std::string_view key = item.substr(0, eq);
        const std::optional<double> v = number(item.substr(eq + 1));
        if (!v) {
            return std::nullopt;
        }
        if (sip::iequals(key, "calls")) {
            calls = v;
        } else if (sip::iequals(key, "capacity")) {
            capacity = v;
        } // other keys: room for more figures later
    }
    if (!calls || !capacity || *capacity <= 0) {
        return std::nullopt;
    }
    return *calls / *capacity;
}

} // namespace

std::optional<double> read_load_figure(std::string_view value, load_format format) noexcept {
    std::optional<double> u;
    switch (format) {
    case load_format::percent:
        if (const std::optional<double> v = number(value)) {
            u = *v / 100.0;
        }
        break;
    case load_format::calls_capacity:
        u = calls_over_capacity(value);
        break;
    }
    if (u && *u > max_utilisation) {
        return std::nullopt;
    }
    return u;
}

} // namespace sipredir::control
