// SPDX-License-Identifier: BSD-3-Clause
// Names of an enum's values: one constexpr table per enum, `{value, name}` in value order, so
// that `name_of` is a lookup and every list of all the values (metrics labels, JSON) walks the
// table.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace sipredir::control {

template <typename Enum> struct enum_name {
    Enum value;
    std::string_view name;
};

// True when entry i holds the value i, for every i, and the last entry holds `last`: the table
// covers every value of the enum, in order (use in a static_assert beside the table).
template <typename Enum, std::size_t N>
constexpr bool covers_in_order(const std::array<enum_name<Enum>, N>& table, Enum last) {
    for (std::size_t i = 0; i < N; ++i) {
        if (static_cast<std::size_t>(table[i].value) != i) {
            return false;
        }
    }
    return N > 0 && table[N - 1].value == last;
}

// The name of `v` in `table`; "?" for a value past the table (a cast from a bad number).
template <typename Enum, std::size_t N>
constexpr std::string_view name_in(const std::array<enum_name<Enum>, N>& table, Enum v) noexcept {
    const auto i = static_cast<std::size_t>(v);
    return i < N ? table[i].name : std::string_view("?");
}

} // namespace sipredir::control
