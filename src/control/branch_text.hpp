// SPDX-License-Identifier: BSD-3-Clause
// Our Via branches name what a response answers under a per-run nonce: "<prefix><nonce hex16>-..."
// (probes: options_probe; race legs: race/leg_messages). The pieces both write and read.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace sipredir::control {

inline std::string hex16(std::uint64_t v) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
    return text;
}

// Reads a decimal number up to `stop` (or to the end when stop is '\0') and consumes it and the
// stop; false when there is none or it does not fit.
template <typename T> bool take_number(std::string_view& s, char stop, T& out) noexcept {
    const std::size_t end = stop == '\0' ? s.size() : s.find(stop);
    if (end == std::string_view::npos || end == 0) {
        return false;
    }
    const auto [p, ec] = std::from_chars(s.data(), s.data() + end, out);
    if (ec != std::errc{} || p != s.data() + end) {
        return false;
    }
    s.remove_prefix(stop == '\0' ? end : end + 1);
    return true;
}

// Reads exactly 16 hex digits (hex16's output) from the start of `s`.
inline bool read_hex16(std::string_view s, std::uint64_t& out) noexcept {
    if (s.size() < 16) {
        return false;
    }
    const auto [p, ec] = std::from_chars(s.data(), s.data() + 16, out, 16);
    return ec == std::errc{} && p == s.data() + 16;
}

// Whether `s` is exactly the hex16 of `mac`: the MAC that ends our branches.
inline bool is_hex16_of(std::string_view s, std::uint64_t mac) noexcept {
    std::uint64_t got = 0;
    return s.size() == 16 && read_hex16(s, got) && got == mac;
}

// Consumes "<prefix><nonce hex16>-"; false when the branch is not this run's.
inline bool
take_branch_nonce(std::string_view& branch, std::string_view prefix, std::uint64_t nonce) noexcept {
    if (branch.size() < prefix.size() + 17 || branch.substr(0, prefix.size()) != prefix) {
        return false;
    }
    branch.remove_prefix(prefix.size());
    std::uint64_t got = 0;
    if (!read_hex16(branch, got) || got != nonce || branch[16] != '-') {
        return false;
    }
    branch.remove_prefix(17);
    return true;
}

} // namespace sipredir::control
