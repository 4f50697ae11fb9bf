// SPDX-License-Identifier: BSD-3-Clause
#include "signed_text.hpp"

#include <sodium.h>

#include <charconv>
#include <net/bytes.hpp>

namespace sipredir::control {

static_assert(signing_key_size == crypto_auth_KEYBYTES);
static_assert(sizeof(signed_mac) == crypto_auth_BYTES);

namespace {
constexpr std::string_view mac_key = " mac=";
constexpr std::size_t max_name = 64;
} // namespace

template <std::size_t N>
bool read_hex_bytes(std::string_view hex, std::array<std::uint8_t, N>& out) noexcept {
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
template bool read_hex_bytes<32>(std::string_view, std::array<std::uint8_t, 32>&) noexcept;

bool split_signed_line(
        std::string_view d, std::string_view magic, std::size_t max_size, signed_line& out
) noexcept {
    out = signed_line{};
    if (!d.empty() && d.back() == '\n') {
        d.remove_suffix(1);
    }
    if (d.size() > max_size || d.substr(0, magic.size()) != magic) {
        return false;
    }
    const std::size_t mac_at = d.rfind(mac_key);
    // " mac=" may overlap the magic's own space ("SRLR/1 mac=..."): the fields lie between.
    if (mac_at == std::string_view::npos || mac_at < magic.size()
        || !read_hex_bytes(d.substr(mac_at + mac_key.size()), out.mac)) {
        return false;
    }
    out.signed_part = d.substr(0, mac_at);
    out.fields = out.signed_part.substr(magic.size());
    return true;
}

bool signature_valid(const signed_line& l, const signing_key& key) noexcept {
    return crypto_auth_verify(
                   l.mac.data(),
                   reinterpret_cast<const unsigned char*>(l.signed_part.data()),
                   l.signed_part.size(),
                   key.data()
           )
           == 0;
}

void sign_line(std::string& line, const signing_key& key) {
    signed_mac mac{};
    crypto_auth(
            mac.data(), reinterpret_cast<const unsigned char*>(line.data()), line.size(), key.data()
    );
    line += mac_key;
    static constexpr char digits[] = "0123456789abcdef";
    for (const std::uint8_t b : mac) {
        line += digits[b >> 4];
        line += digits[b & 15];
    }
}

bool read_u64_field(std::string_view s, std::uint64_t& out) noexcept {
    if (s.empty() || s.size() > 20) {
        return false;
    }
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
}

bool valid_name(std::string_view s) noexcept {
    if (s.empty() || s.size() > max_name) {
        return false;
    }
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '-' || c == '_' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool next_field(std::string_view& rest, std::string_view& key, std::string_view& value) noexcept {
    const std::size_t end = rest.find(' ');
    const std::string_view item = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
        return false;
    }
    key = item.substr(0, eq);
    value = item.substr(eq + 1);
    return true;
}

} // namespace sipredir::control
