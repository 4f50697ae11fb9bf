// SPDX-License-Identifier: BSD-3-Clause
#include "exchange_message.hpp"

namespace sipredir::control::fleet {

namespace {
constexpr std::string_view magic = "SRFX/1 ";
// " mac=" and 64 hex digits.
constexpr std::size_t mac_text = 5 + 64;
} // namespace

bool read_total(std::string_view entry, std::string_view& name, std::uint64_t& total) noexcept {
    const std::size_t colon = entry.find(':');
    if (colon == std::string_view::npos) {
        return false;
    }
    name = entry.substr(0, colon);
    return valid_name(name) && read_u64_field(entry.substr(colon + 1), total);
}

namespace {

// The next ':'-separated part of `rest`, advancing it past the colon.
std::string_view next_part(std::string_view& rest) noexcept {
    const std::size_t colon = rest.find(':');
    const std::string_view part = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    return part;
}

// A number up to `max`, or '-' for none (-1).
bool read_optional(std::string_view s, std::int64_t max, std::int64_t& out) noexcept {
    if (s == "-") {
        out = -1;
        return true;
    }
    std::uint64_t n = 0;
    if (!read_u64_field(s, n) || n > static_cast<std::uint64_t>(max)) {
        return false;
    }
    out = static_cast<std::int64_t>(n);
    return true;
}

} // namespace

bool read_health(std::string_view entry, health_entry& out) noexcept {
    out = health_entry{};
    std::string_view rest = entry;
    out.name = next_part(rest);
    const std::string_view state = next_part(rest);
    const std::string_view rtt = next_part(rest);
    const std::string_view load = next_part(rest);
    const std::string_view oc = rest;
    if (!valid_name(out.name) || oc.find(':') != std::string_view::npos) {
        return false;
    }
    const health* h = nullptr;
    for (const enum_name<health>& n : health_table) {
        if (n.name == state) {
            h = &n.value;
        }
    }
    std::uint64_t percent = 0;
    if (h == nullptr || !read_optional(rtt, max_rtt_us, out.rtt_us)
        || !read_optional(load, max_load_permille, out.load_permille)
        || !read_u64_field(oc, percent) || percent > 100) {
        return false;
    }
    out.state = *h;
    out.oc_percent = static_cast<std::uint32_t>(percent);
    return true;
}

void append_health(std::string& out, const health_entry& e) {
    out += e.name;
    out += ':';
    out += name_of(e.state);
    out += ':';
    out += e.rtt_us < 0 ? "-" : std::to_string(e.rtt_us);
    out += ':';
    out += e.load_permille < 0 ? "-" : std::to_string(e.load_permille);
    out += ':';
    out += std::to_string(e.oc_percent);
}

bool parse_exchange(std::string_view d, exchange_message& out) noexcept {
    out = exchange_message{};
    if (!split_signed_line(d, magic, max_exchange_size, out.line)) {
        return false;
    }
    std::string_view rest = out.line.fields;
    bool has_epoch = false;
    bool has_seq = false;
    bool has_ts = false;
    bool has_full = false;
    bool has_totals = false;
    bool has_health = false;
    while (!rest.empty()) {
        std::string_view key;
        std::string_view value;
        if (!next_field(rest, key, value)) {
            return false;
        }
        if (key == "from" && out.from.empty() && valid_name(value)) {
            out.from = value;
        } else if (key == "epoch" && !has_epoch && read_u64_field(value, out.epoch_ms)) {
            has_epoch = true;
        } else if (key == "seq" && !has_seq && read_u64_field(value, out.seq)) {
            has_seq = true;
        } else if (key == "ts" && !has_ts && read_u64_field(value, out.ts_ms)) {
            has_ts = true;
        } else if (key == "full" && !has_full && (value == "0" || value == "1")) {
            out.full = value == "1";
            has_full = true;
        } else if (key == "totals" && !has_totals && for_each_total(value, [](std::string_view, std::uint64_t) {
                   })) {
            // Every entry must read: a message is taken whole or not at all.
            out.totals = value;
            has_totals = true;
        } else if (key == "health" && !has_health && !value.empty() && for_each_health(value, [](const health_entry&) {
                   })) {
            out.health = value;
            has_health = true;
        } else {
            return false;
        }
    }
    return !out.from.empty() && has_epoch && has_seq && has_ts && has_full && has_totals;
}

std::vector<std::string> write_exchange(
        const exchange_header& h,
        const std::vector<backend_total>& totals,
        const signing_key& key,
        const std::vector<health_entry>& health
) {
    std::vector<std::string> out;
    std::uint64_t seq = h.first_seq;
    const auto start = [&] {
        std::string m(magic);
        m += "from=";
        m += h.from;
        m += " epoch=";
        m += std::to_string(h.epoch_ms);
        m += " seq=";
        m += std::to_string(seq++);
        m += " ts=";
        m += std::to_string(h.ts_ms);
        m += h.full ? " full=1" : " full=0";
        m += " totals=";
        return m;
    };
    std::string m = start();
    bool empty = true;
    for (const auto& [name, total] : totals) {
        std::string entry(name);
        entry += ':';
        entry += std::to_string(total);
        if (!empty && m.size() + 1 + entry.size() + mac_text > max_exchange_size) {
            sign_line(m, key);
            out.push_back(std::move(m));
            m = start();
            empty = true;
        }
        if (!empty) {
            m += ',';
        }
        m += entry;
        empty = false;
    }
    // The probe results after the totals, in the same message while they fit.
    bool first_health = true;
    for (const health_entry& e : health) {
        std::string entry;
        append_health(entry, e);
        const std::size_t head = first_health ? std::string_view(" health=").size() : 1;
        if (m.size() + head + entry.size() + mac_text > max_exchange_size) {
            sign_line(m, key);
            out.push_back(std::move(m));
            m = start();
            first_health = true;
        }
        m += first_health ? " health=" : ",";
        m += entry;
        first_health = false;
    }
    sign_line(m, key);
    out.push_back(std::move(m));
    return out;
}

} // namespace sipredir::control::fleet
