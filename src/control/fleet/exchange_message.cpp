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
        } else {
            return false;
        }
    }
    return !out.from.empty() && has_epoch && has_seq && has_ts && has_full && has_totals;
}

std::vector<std::string> write_exchange(
        const exchange_header& h, const std::vector<backend_total>& totals, const signing_key& key
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
    sign_line(m, key);
    out.push_back(std::move(m));
    return out;
}

} // namespace sipredir::control::fleet
