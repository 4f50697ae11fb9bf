// SPDX-License-Identifier: BSD-3-Clause
#include "probe_config_reader.hpp"

#include <algorithm>
#include <charconv>

namespace sipredir::control {

using namespace toml_read;

namespace {

// Probing: [probe] enables it; every key has a default.
// A header name: letters, digits, "-", "_" and ".".
std::string header_name_value(const toml::node& n, std::string_view key) {
    std::string v = string_value(n, key);
    for (const char ch : v) {
        const bool token = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
                           || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
        if (!token) {
            refuse(n, "load_header must be a header name (letters, digits, - _ .)");
        }
    }
    return v;
}

// One alive_codes item: a code (200) or a range ("200-299"), within 100-699.
code_range alive_code_value(const toml::node& item) {
    code_range r;
    if (item.is_integer()) {
        r.first = r.last = static_cast<std::uint16_t>(integer_value(item, "alive_codes", 100, 699));
        return r;
    }
    const std::string text = string_value(item, "alive_codes");
    unsigned a = 0;
    unsigned b = 0;
    const char* p = text.data();
    const char* end = text.data() + text.size();
    auto [q, ec] = std::from_chars(p, end, a);
    b = a;
    if (ec == std::errc{} && q != end && *q == '-') {
        const auto [q2, ec2] = std::from_chars(q + 1, end, b);
        q = ec2 == std::errc{} ? q2 : p;
    }
    if (ec != std::errc{} || q != end || a < 100 || b > 699 || a > b) {
        refuse(item, "alive_codes: '" + text + "' is not a code or a range like \"200-299\"");
    }
    r.first = static_cast<std::uint16_t>(a);
    r.last = static_cast<std::uint16_t>(b);
    return r;
}

std::vector<code_range> alive_codes_value(const toml::node& n) {
    std::vector<code_range> codes;
    for (const toml::node& item : array_value(n, "alive_codes")) {
        codes.push_back(alive_code_value(item));
    }
    if (codes.empty()) {
        refuse(n, "alive_codes must name at least one code");
    }
    return codes;
}

} // namespace

void read_probe(const toml::table& root, probe_config& p) {
    const toml::table* t = section_at(
            root,
            "probe",
            {"interval_ms",
             "timeout_ms",
             "down_after",
             "up_after",
             "alive_codes",
             "source_port",
             "load_header",
             "load_format"}
    );
    if (t == nullptr) {
        return;
    }
    p.enabled = true;
    probe_settings& s = p.settings;
    std::int64_t interval_ms = s.interval_ns / 1'000'000;
    std::int64_t timeout_ms = s.timeout_ns / 1'000'000;
    read_key(*t, "interval_ms", interval_ms, ranged<std::int64_t>(50, 3'600'000));
    if (t->get("timeout_ms") == nullptr) {
        timeout_ms = std::min(timeout_ms, interval_ms * 2 / 5);
    }
    read_key(*t, "timeout_ms", timeout_ms, ranged<std::int64_t>(10, 3'600'000));
    if (timeout_ms > interval_ms) {
        refuse(*t->get("timeout_ms"), "timeout_ms must not exceed interval_ms");
    }
    s.interval_ns = interval_ms * 1'000'000;
    s.timeout_ns = timeout_ms * 1'000'000;
    read_key(*t, "down_after", s.policy.down_after, ranged<std::uint32_t>(1, 100));
    read_key(*t, "up_after", s.policy.up_after, ranged<std::uint32_t>(1, 100));
    read_key(*t, "source_port", p.source_port, ranged<std::uint16_t>(1, 65535));
    read_key(*t, "load_header", s.load_header, header_name_value);
    read_key(*t, "load_format", s.format, [](const toml::node& n, std::string_view k) {
        return one_of<load_format>(
                n,
                k,
                {{"percent", load_format::percent}, {"calls-capacity", load_format::calls_capacity}}
        );
    });
    if (const toml::node* n = t->get("alive_codes")) {
        s.alive_codes = alive_codes_value(*n);
    }
}

void check_probe_socket(const toml::table& root, const appliance_config& c) {
    if (!c.probe.enabled) {
        return;
    }
    need_exception_path(
            root, c, "probe", "", "probes use a kernel socket on the appliance's address"
    );
    if (listened(c, c.probe.source_port)) {
        throw refusal{
                line_at(root, "probe", "source_port"),
                "source_port must not be one of listen.ports (the fast path answers those)"};
    }
}

} // namespace sipredir::control
