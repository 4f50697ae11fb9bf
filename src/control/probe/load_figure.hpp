// SPDX-License-Identifier: BSD-3-Clause
// A backend's load as it writes it in a header of its replies to our probes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sipredir::control {

enum class load_format : std::uint8_t {
    percent,        // "42" or "42.5": utilisation in percent (over 100: overbooked)
    calls_capacity, // "calls=42;capacity=100" (either order; ';' ',' or spaces between)
};

// Utilisation (1.0 = full), or nothing when the value does not follow the format. Accepts up
// to 10 times capacity; anything larger is taken for a mistake.
std::optional<double> read_load_figure(std::string_view value, load_format format) noexcept;

} // namespace sipredir::control
