// SPDX-License-Identifier: BSD-3-Clause
#include "management_config_reader.hpp"

namespace sipredir::control {

using namespace toml_read;

void read_management(const toml::table& root, management_config& m) {
    const toml::table* t = section_at(root, "management", {"socket", "metrics", "state_file"});
    if (t == nullptr) {
        return;
    }
    read_key(*t, "socket", m.socket, [](const toml::node& n, std::string_view k) {
        std::string v = string_value(n, k);
        if (v.size() >= 100) {
            refuse(n, "socket: a UNIX socket path is at most 99 characters");
        }
        return v;
    });
    read_key(*t, "state_file", m.state_file, string_value);
    if (const toml::node* n = t->get("metrics")) {
        if (!string_value(*n, "metrics").empty()) {
            m.metrics = endpoint_value(*n, "metrics");
        }
    }
}

} // namespace sipredir::control
