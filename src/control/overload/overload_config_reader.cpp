// SPDX-License-Identifier: BSD-3-Clause
#include "overload_config_reader.hpp"

namespace sipredir::control {

using namespace toml_read;

void read_overload(const toml::table& root, overload_settings& o) {
    const toml::table* t = section_at(
            root,
            "overload",
            {"enabled", "busy_share", "imissed_per_second", "reduction", "validity_ms"}
    );
    if (t == nullptr) {
        return;
    }
    read_key(*t, "enabled", o.enabled, bool_value);
    read_key(*t, "busy_share", o.busy_share, [](const toml::node& n, std::string_view k) {
        return number_value(n, k, 0.0, 1.0);
    });
    read_key(
            *t,
            "imissed_per_second",
            o.imissed_per_second,
            [](const toml::node& n, std::string_view k) {
                const bool zero = (n.is_integer() && n.as_integer()->get() == 0)
                                  || (n.is_floating_point() && n.as_floating_point()->get() == 0.0);
                return zero ? 0.0 : number_value(n, k, 0.0, 1e9); // 0: not a trigger
            }
    );
    // RFC 7339 loss algorithm: oc is the percentage to shed; 0 would ask for nothing.
    read_key(*t, "reduction", o.reduction, ranged<std::uint8_t>(1, 100));
    // oc-validity 0 would end overload control at once (§5.2): a live indication needs more.
    read_key(*t, "validity_ms", o.validity_ms, ranged<std::uint32_t>(1, 86'400'000));
}

} // namespace sipredir::control
