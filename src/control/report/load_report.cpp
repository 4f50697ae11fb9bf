// SPDX-License-Identifier: BSD-3-Clause
#include "load_report.hpp"

#include "../file_text.hpp"

#include <sodium.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <net/bytes.hpp>

namespace sipredir::control {

static_assert(report_key_size == crypto_auth_KEYBYTES);
static_assert(sizeof(load_report::mac) == crypto_auth_BYTES);

namespace {

constexpr std::string_view magic = "SRLR/1 ";
constexpr std::string_view mac_key = " mac=";

template <std::size_t N>
bool read_hex(std::string_view hex, std::array<std::uint8_t, N>& out) noexcept {
    if (hex.size() != 2 * N) {
        return false;
    }
    for (std::size_t i = 0; i < N; ++i) {
        const int hi = net::hex_value(hex[2 * i]);
        const int lo = net::hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return true;
}

bool read_u64(std::string_view s, std::uint64_t& out) noexcept {
    if (s.empty() || s.size() > 20) {
        return false;
    }
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
}

bool read_percent(std::string_view s, double& out) noexcept {
    if (s.empty() || s.size() > 12 || s.front() == '-' || s.front() == '+') {
        return false;
    }
    const auto [p, ec] =
            std::from_chars(s.data(), s.data() + s.size(), out, std::chars_format::fixed);
    return ec == std::errc{} && p == s.data() + s.size() && out >= 0 && out <= 1000;
}

bool name_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
           || c == '_' || c == '.';
}

} // namespace

std::optional<double> load_report::utilisation() const noexcept {
    if (calls && capacity && *capacity > 0) {
        return static_cast<double>(*calls) / static_cast<double>(*capacity);
    }
    if (load_percent) {
        return *load_percent / 100.0;
    }
    return std::nullopt;
}

bool parse_report(std::string_view d, load_report& out) noexcept {
    out = load_report{};
    // One line; a trailing newline is tolerated.
    if (!d.empty() && d.back() == '\n') {
        d.remove_suffix(1);
    }
    if (d.size() > max_report_size || d.substr(0, magic.size()) != magic) {
        return false;
    }
    const std::size_t mac_at = d.rfind(mac_key);
    // " mac=" may overlap the magic's own space ("SRLR/1 mac=..."): the fields lie between.
    if (mac_at == std::string_view::npos || mac_at < magic.size()
        || !read_hex(d.substr(mac_at + mac_key.size()), out.mac)) {
        return false;
    }
    out.signed_part = d.substr(0, mac_at);
    std::string_view rest = out.signed_part.substr(magic.size());
    bool has_seq = false;
    bool has_ts = false;
    while (!rest.empty()) {
        const std::size_t end = rest.find(' ');
        const std::string_view item = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
        const std::size_t eq = item.find('=');
        if (eq == std::string_view::npos) {
            return false;
        }
        const std::string_view key = item.substr(0, eq);
        const std::string_view value = item.substr(eq + 1);
        std::uint64_t n = 0;
        double percent = 0;
        if (key == "backend" && out.backend.empty() && !value.empty()
            && value.size() <= max_backend_name) {
            for (const char c : value) {
                if (!name_char(c)) {
                    return false;
                }
            }
            out.backend = value;
        } else if (key == "seq" && !has_seq && read_u64(value, out.seq)) {
            has_seq = true;
        } else if (key == "ts" && !has_ts && read_u64(value, out.ts_ms)) {
            has_ts = true;
        } else if (key == "load" && !out.load_percent && read_percent(value, percent)) {
            out.load_percent = percent;
        } else if (key == "calls" && !out.calls && read_u64(value, n)) {
            out.calls = n;
        } else if (key == "capacity" && !out.capacity && read_u64(value, n) && n > 0) {
            out.capacity = n;
        } else {
            return false; // unknown, repeated or unreadable: version 1 has nothing optional else
        }
    }
    return !out.backend.empty() && has_seq && has_ts && out.utilisation().has_value();
}

bool report_authentic(const load_report& r, const report_key& key) noexcept {
    return crypto_auth_verify(
                   r.mac.data(),
                   reinterpret_cast<const unsigned char*>(r.signed_part.data()),
                   r.signed_part.size(),
                   key.data()
           )
           == 0;
}

std::string write_report(const report_fields& f, const report_key& key) {
    std::string s(magic);
    s += "backend=" + f.backend + " seq=" + std::to_string(f.seq)
         + " ts=" + std::to_string(f.ts_ms);
    if (f.calls) {
        s += " calls=" + std::to_string(*f.calls);
    }
    if (f.capacity) {
        s += " capacity=" + std::to_string(*f.capacity);
    }
    if (f.load_percent) {
        char text[32];
        std::snprintf(text, sizeof text, "%.2f", *f.load_percent);
        s += " load=";
        s += text;
    }
    std::array<std::uint8_t, crypto_auth_BYTES> mac{};
    crypto_auth(mac.data(), reinterpret_cast<const unsigned char*>(s.data()), s.size(), key.data());
    s += mac_key;
    static constexpr char digits[] = "0123456789abcdef";
    for (const std::uint8_t b : mac) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

std::optional<report_key> parse_key_hex(std::string_view hex) noexcept {
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) {
        hex.remove_suffix(1);
    }
    report_key k{};
    if (!read_hex(hex, k)) {
        return std::nullopt;
    }
    return k;
}

key_file_result read_key_file(const std::string& path) {
    key_file_result r;
    const file_text f = read_file_text(path, 4096);
    if (!f.text) {
        r.error = "the key file '" + path + "' " + f.error;
        return r;
    }
    const std::string line = f.text->substr(0, f.text->find('\n'));
    r.key = parse_key_hex(line);
    if (!r.key) {
        r.error = "the key file '" + path + "' must hold 64 hex digits on its first line";
    }
    return r;
}

} // namespace sipredir::control
