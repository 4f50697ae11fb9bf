// SPDX-License-Identifier: BSD-3-Clause
#include "tables.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace sipredir::ctl {

namespace {

using nlohmann::json;

// A number, or "-" standing for one not known.
bool numeric(std::string_view cell) {
    if (cell == "-") {
        return true;
    }
    const std::size_t digit = !cell.empty() && cell.front() == '-' ? 1 : 0;
    return cell.size() > digit && std::isdigit(static_cast<unsigned char>(cell[digit])) != 0;
}

std::string text_of(const json& v) {
    if (v.is_string()) {
        return v.get<std::string>();
    }
    if (v.is_boolean()) {
        return v.get<bool>() ? "yes" : "no";
    }
    return v.is_null() ? "-" : v.dump();
}

std::string version_view(const json& a) {
    std::string out = text_of(field(a, "version"));
    const std::string revision = text_of(field(a, "config_revision"));
    if (!revision.empty() && revision != "-") {
        out += " (configuration " + revision + ")";
    }
    return out + "\n";
}

std::string backends_view(const json& a) {
    text_table t(
            {"BACKEND",
             "STATE",
             "PROBE",
             "LOAD%",
             "SOURCE",
             "AGE ms",
             "RTT ms",
             "JITTER",
             "CAPACITY",
             "REDIRECTS",
             "ADDRESS"}
    );
    for (const json& b : field(a, "backends")) {
        std::string state = text_of(field(b, "state"));
        if (field(b, "drained").is_boolean() && field(b, "drained").get<bool>()) {
            state += " (drained)";
        }
        const json& load = field(b, "load");
        t.add({text_of(field(b, "name")),
               state,
               text_of(field(b, "probe")),
               load.is_number() ? fixed_text(load.get<double>() * 100, 1) : "-",
               text_of(field(b, "load_source")),
               fixed_text(field(b, "load_age_ms"), 0),
               fixed_text(field(b, "rtt_ms"), 2),
               fixed_text(field(b, "jitter_ms"), 2),
               count_text(field(b, "capacity")),
               count_text(field(b, "redirects")),
               text_of(field(b, "address"))});
    }
    return t.render();
}

std::string pools_view(const json& a) {
    const std::string fallback = text_of(field(a, "default"));
    text_table t({"POOL", "POLICY", "CONTACTS", "BACKENDS", "AVAILABLE", "ELIGIBLE", "RETRY"});
    for (const json& p : field(a, "pools")) {
        const std::string name = text_of(field(p, "name"));
        t.add({name == fallback ? name + " *" : name,
               text_of(field(p, "policy")),
               count_text(field(p, "contacts")),
               count_text(field(p, "backends")),
               count_text(field(p, "available")),
               count_text(field(p, "eligible")),
               count_text(field(p, "retry_after")) + " s"});
    }
    return t.render() + "* the default pool\n";
}

std::string fleet_view(const json& a) {
    std::string out = "fleet " + text_of(field(a, "name")) + ": "
                      + count_text(field(a, "configured_peers")) + " peers configured\n";
    if (const json& transport = field(a, "transport"); transport.is_string()) {
        const json& c = field(a, "transport_counters");
        out += "transport " + text_of(transport) + "\n  published "
               + count_text(field(c, "published")) + ", not sent "
               + count_text(field(c, "publish_failed")) + ", received "
               + count_text(field(c, "received")) + ", dropped " + count_text(field(c, "dropped"))
               + ", disconnects " + count_text(field(c, "disconnects")) + ", reconnects "
               + count_text(field(c, "reconnects")) + "\n";
    }
    text_table t({"PEER", "HEARD ms AGO", "MESSAGES", "REDIRECTS", "LAST SEQ"});
    for (const json& p : field(a, "peers")) {
        t.add({text_of(field(p, "name")),
               count_text(field(p, "heard_ms_ago")),
               count_text(field(p, "messages")),
               count_text(field(p, "redirects")),
               count_text(field(p, "last_seq"))});
    }
    out += t.render();
    // Probing shared out: who probes each backend, and the shared result in use.
    const json& probing = field(a, "probing");
    if (probing.is_array() && !probing.empty()) {
        text_table p({"BACKEND", "PROBED BY", "PROBERS", "SHARED FROM", "STATE", "AGE ms"});
        for (const json& b : probing) {
            const std::string from = text_of(field(b, "shared_from"));
            p.add({text_of(field(b, "backend")),
                   text_of(field(b, "role")),
                   text_of(field(b, "probers")),
                   from.empty() ? "-" : from,
                   from.empty() ? "-" : text_of(field(b, "shared_state")),
                   from.empty() ? "-" : fixed_text(field(b, "shared_age_ms"), 0)});
        }
        out += "\n" + p.render();
    }
    return out;
}

// "302: 1,000  200: 12" from a {code: count} object, the zero ones left out.
std::string nonzero_list(const json& counts) {
    std::string out;
    if (!counts.is_object()) {
        return out;
    }
    for (const auto& [key, value] : counts.items()) {
        if (value.is_number_unsigned() && value.get<std::uint64_t>() != 0) {
            out += (out.empty() ? "" : "  ") + key + ": " + count_text(value);
        }
    }
    return out.empty() ? "none" : out;
}

std::string stats_view(const json& answer) {
    const json& a = field(answer, "appliance");
    std::string out;
    out += "workers " + count_text(field(a, "workers")) + ", up "
           + fixed_text(field(a, "seconds"), 0) + " s\n";
    out += "received  " + count_text(field(a, "received_frames")) + "\n";
    out += "replies   " + count_text(field(a, "replies")) + "   ("
           + nonzero_list(field(a, "replies_by_code")) + ")\n";
    out += "absorbed  " + count_text(field(a, "absorbed")) + "   to kernel "
           + count_text(field(a, "exception_frames")) + "   to races "
           + count_text(field(a, "race_handoffs")) + "\n";
    out += "dropped   " + count_text(field(a, "dropped")) + "   ("
           + nonzero_list(field(a, "dropped_by_cause")) + ")\n";
    const json& latency = field(a, "latency_ns");
    out += "latency   p50 " + count_text(field(latency, "p50")) + " ns, p99 "
           + count_text(field(latency, "p99")) + " ns\n";
    out += "busy      " + fixed_text(field(a, "busy_seconds"), 3) + " s\n";
    const json& reloads = field(answer, "reloads");
    out += "reloads   " + count_text(field(reloads, "applied")) + " applied, "
           + count_text(field(reloads, "refused")) + " refused; table generation "
           + count_text(field(answer, "table_generation")) + "\n";
    const json& port = field(a, "port");
    if (port.is_object()) {
        out += "port      imissed " + count_text(field(port, "imissed")) + ", ierrors "
               + count_text(field(port, "ierrors")) + ", rx_nombuf "
               + count_text(field(port, "rx_nombuf")) + "\n";
    }
    text_table t({"BACKEND", "REDIRECTS"});
    for (const auto& [name, value] : field(a, "redirects_by_backend").items()) {
        t.add({name, count_text(value)});
    }
    return out + t.render();
}

std::string query_view(const json& a) {
    std::string out =
            "pool " + text_of(field(a, "pool")) + " (" + text_of(field(a, "policy")) + "): ";
    const json& choice = field(a, "choice");
    if (!choice.is_array() || choice.empty()) {
        return out + "no backend; a 503 with Retry-After " + count_text(field(a, "retry_after"))
               + "\n";
    }
    for (std::size_t i = 0; i < choice.size(); ++i) {
        out += (i == 0 ? "" : ", ") + text_of(choice[i]);
    }
    const json& counted = field(a, "counted");
    return out + (counted.is_boolean() && counted.get<bool>() ? " (counted)\n" : "\n");
}

} // namespace

const json& field(const json& object, const char* name) {
    static const json none;
    if (!object.is_object()) {
        return none;
    }
    const auto it = object.find(name);
    return it == object.end() ? none : *it;
}

std::string text_table::render() const {
    std::vector<std::size_t> widths;
    for (const auto& row : _rows) {
        widths.resize(std::max(widths.size(), row.size()), 0);
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    std::string out;
    for (std::size_t r = 0; r < _rows.size(); ++r) {
        std::string line;
        for (std::size_t i = 0; i < _rows[r].size(); ++i) {
            const std::string& cell = _rows[r][i];
            const std::string pad(widths[i] - cell.size(), ' ');
            line += i == 0 ? "" : "  ";
            line += r > 0 && numeric(cell) ? pad + cell : cell + pad;
        }
        while (!line.empty() && line.back() == ' ') {
            line.pop_back();
        }
        out += line + "\n";
    }
    return out;
}

std::string grouped(std::uint64_t n) {
    const std::string digits = std::to_string(n);
    std::string out;
    out.reserve(digits.size() + digits.size() / 3);
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i != 0 && (digits.size() - i) % 3 == 0) {
            out.push_back(',');
        }
        out.push_back(digits[i]);
    }
    return out;
}

std::string count_text(const json& v) {
    if (v.is_number_unsigned()) {
        return grouped(v.get<std::uint64_t>());
    }
    if (v.is_number() && v.get<double>() >= 0) {
        return grouped(static_cast<std::uint64_t>(v.get<double>() + 0.5));
    }
    return "-";
}

std::string fixed_text(const json& v, int decimals) {
    if (!v.is_number() || v.get<double>() < 0) {
        return "-";
    }
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v.get<double>());
    return buf;
}

std::string human_view(std::string_view verb, const json& answer) {
    if (verb == "version") {
        return version_view(answer);
    }
    if (verb == "backends") {
        return backends_view(answer);
    }
    if (verb == "pools") {
        return pools_view(answer);
    }
    if (verb == "fleet") {
        return fleet_view(answer);
    }
    if (verb == "stats") {
        return stats_view(answer);
    }
    if (verb == "query") {
        return query_view(answer);
    }
    if (verb == "drain" || verb == "undrain") {
        const char* key = verb == "drain" ? "drained" : "undrained";
        return text_of(field(answer, key)) + " " + key + "; table generation "
               + count_text(field(answer, "generation")) + "\n";
    }
    if (verb == "backend") {
        return "changed: " + text_of(field(answer, "changed")) + "; "
               + count_text(field(answer, "backends")) + " backends; table generation "
               + count_text(field(answer, "generation")) + "\n";
    }
    if (verb == "reload") {
        return "reloaded " + text_of(field(answer, "reloaded")) + ": "
               + count_text(field(answer, "backends")) + " backends; table generation "
               + count_text(field(answer, "generation")) + "\n";
    }
    return answer.dump(2) + "\n";
}

} // namespace sipredir::ctl
