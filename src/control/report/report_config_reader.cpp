// SPDX-License-Identifier: BSD-3-Clause
#include "report_config_reader.hpp"

namespace sipredir::control {

using namespace toml_read;

void read_reports(const toml::table& root, reports_config& r, const std::string& source) {
    const toml::table* t = section_at(
            root,
            "reports",
            {"port", "key_file", "allow_shared_report_key", "window_ms", "rate", "burst"}
    );
    if (t == nullptr) {
        return;
    }
    if (t->get("port") == nullptr) {
        refuse(*t, "[reports] needs port: the UDP port load reports arrive on");
    }
    read_key(*t, "port", r.port, ranged<std::uint16_t>(1, 65535));
    if (const toml::node* n = t->get("key_file")) {
        r.key = key_file_value(*n, "key_file", source);
    }
    read_key(*t, "allow_shared_report_key", r.allow_shared_key, bool_value);
    read_key(*t, "window_ms", r.settings.window_ms, ranged<std::int64_t>(100, 3'600'000));
    read_key(*t, "rate", r.settings.rate, [](const toml::node& n, std::string_view k) {
        return number_value(n, k, 0.0, 100000.0);
    });
    read_key(*t, "burst", r.settings.burst, [](const toml::node& n, std::string_view k) {
        return number_value(n, k, 0.0, 100000.0);
    });
    if (r.settings.burst < 1) {
        refuse(*t->get("burst"), "burst must be at least 1");
    }
}

namespace {

// Which backends sign their reports with one key, as a phrase ("backends 'b1' and 'b2' share a
// report key"); "" when each has its own or the configuration allows sharing.
std::string shared_report_key(const appliance_config& c) {
    if (c.reports.allow_shared_key) {
        return "";
    }
    for (std::size_t i = 0; i < c.backends.size(); ++i) {
        const report_key* a = c.backends[i].own_key ? &*c.backends[i].own_key : &*c.reports.key;
        for (std::size_t j = i + 1; j < c.backends.size(); ++j) {
            const report_key* b = c.backends[j].own_key ? &*c.backends[j].own_key : &*c.reports.key;
            if (*a == *b) {
                return "backends '" + c.backends[i].config.name + "' and '"
                       + c.backends[j].config.name + "' share a report key";
            }
        }
    }
    return "";
}

} // namespace

void check_report_socket(const toml::table& root, const appliance_config& c) {
    if (c.reports.port == 0) {
        return;
    }
    need_exception_path(root, c, "reports", "port", "reports arrive on a kernel socket");
    if (listened(c, c.reports.port) || (c.probe.enabled && c.reports.port == c.probe.source_port)) {
        throw refusal{
                line_at(root, "reports", "port"),
                "port must differ from listen.ports and probe.source_port"};
    }
    for (const static_backend& b : c.backends) {
        if (!b.own_key && !c.reports.key) {
            throw refusal{
                    line_at(root, "reports", "port"),
                    "backend '" + b.config.name
                            + "' has no key for its reports: give reports.key_file or its "
                              "report_key_file"};
        }
    }
    if (const std::string shared = shared_report_key(c); !shared.empty()) {
        throw refusal{
                line_at(root, "reports", "key_file"),
                shared
                        + ": any of them could sign as the others; give each [[backend]] "
                          "its own report_key_file, or set allow_shared_report_key = true"};
    }
}

} // namespace sipredir::control
