// SPDX-License-Identifier: BSD-3-Clause
// SIP request methods known by name; any other token is a valid extension method (`unknown`).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sipredir::sip {

enum class method : std::uint8_t {
    unknown,
    invite,
    ack,
    options,
    bye,
    cancel,
    register_,
    subscribe,
    notify,
    refer,
    message,
    info,
    prack,
    update,
    publish,
};

inline constexpr std::size_t method_count = 15;

inline constexpr std::array<std::string_view, method_count> method_names = {
        "",
        "INVITE",
        "ACK",
        "OPTIONS",
        "BYE",
        "CANCEL",
        "REGISTER",
        "SUBSCRIBE",
        "NOTIFY",
        "REFER",
        "MESSAGE",
        "INFO",
        "PRACK",
        "UPDATE",
        "PUBLISH",
};

constexpr std::string_view name_of(method m) {
    return method_names[static_cast<std::size_t>(m)];
}

// RFC 3261 §7.1: method names are case-sensitive, so "invite" is an extension method.
constexpr method method_from_token(std::string_view token) {
    for (std::size_t i = 1; i < method_count; ++i) {
        if (method_names[i] == token) {
            return static_cast<method>(i);
        }
    }
    return method::unknown;
}

// A set of methods as a bit mask, bit i for method(i); `unknown` stands for every extension.
using method_set = std::uint32_t;

constexpr method_set bit(method m) {
    return method_set{1} << static_cast<unsigned>(m);
}

} // namespace sipredir::sip
