// SPDX-License-Identifier: BSD-3-Clause
// IP address text forms, without the C library's locale and errno.
#include "ip_address.hpp"

#include "bytes.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace sipredir::net {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

// The decimal text of every octet value, left-aligned in 3 characters, and its length: a
// reply names its source address in text on every packet (Via's received, and the sent-by
// comparison), so the digits come from a table instead of divisions.
struct octet_text {
    std::array<char, 3> digits;
    std::uint8_t size;
};

constexpr std::array<octet_text, 256> octet_texts = [] {
    std::array<octet_text, 256> t{};
    for (unsigned v = 0; v < 256; ++v) {
        octet_text& o = t[v];
        if (v >= 100) {
            o.digits[o.size++] = static_cast<char>('0' + v / 100);
        }
        if (v >= 10) {
            o.digits[o.size++] = static_cast<char>('0' + (v / 10) % 10);
        }
        o.digits[o.size++] = static_cast<char>('0' + v % 10);
    }
    return t;
}();

std::size_t format_v4(const std::uint8_t* b, char* out) noexcept {
    std::size_t n = 0;
    for (int i = 0; i < 4; ++i) {
        const octet_text& t = octet_texts[b[i]];
        // Always 3 characters: those past t.size are overwritten by the '.' and the next octet,
        // or lie past the text returned (out has room for the longest form, max_ip_text).
        std::memcpy(out + n, t.digits.data(), 3);
        n += t.size;
        out[n++] = '.';
    }
    return n - 1;
}

bool parse_v4(std::string_view s, std::uint8_t* out) noexcept {
    int part = 0;
    unsigned value = 0;
    std::size_t digits = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == '.') {
            if (digits == 0 || part > 3) {
                return false;
            }
            out[part++] = static_cast<std::uint8_t>(value);
            value = 0;
            digits = 0;
            continue;
        }
        if (s[i] < '0' || s[i] > '9' || ++digits > 3) {
            return false;
        }
        value = value * 10 + static_cast<unsigned>(s[i] - '0');
        if (value > 255) {
            return false;
        }
    }
    return part == 4;
}

// h16 = 1*4HEXDIG.
bool parse_h16(std::string_view piece, std::uint16_t& out) noexcept {
    if (piece.empty() || piece.size() > 4) {
        return false;
    }
    unsigned g = 0;
    for (char c : piece) {
        const int h = hex_value(c);
        if (h < 0) {
            return false;
        }
        g = g << 4 | static_cast<unsigned>(h);
    }
    out = static_cast<std::uint16_t>(g);
    return true;
}

// The groups before and after "::" (gap: where it stands, or -1) into 16 octets.
void expand_groups(const std::uint16_t* groups, int count, int gap, std::uint8_t* out) noexcept {
    std::uint16_t full[8] = {};
    const int tail = gap < 0 ? 0 : count - gap;
    for (int k = 0; k < (gap < 0 ? count : gap); ++k) {
        full[k] = groups[k];
    }
    for (int k = 0; k < tail; ++k) {
        full[8 - tail + k] = groups[gap + k];
    }
    for (int k = 0; k < 8; ++k) {
        out[2 * k] = static_cast<std::uint8_t>(full[k] >> 8);
        out[2 * k + 1] = static_cast<std::uint8_t>(full[k]);
    }
}

// RFC 4291 §2.2 text forms: eight h16, one "::" for a run of zero groups, and an embedded IPv4
// address in place of the last two.
bool parse_v6(std::string_view s, std::uint8_t* out) noexcept {
    std::uint16_t groups[8] = {};
    int count = 0;
    int gap = -1; // index in groups where "::" stands
    std::size_t i = 0;
    if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    } else if (!s.empty() && s[0] == ':') {
        return false;
    }
    while (i < s.size()) {
        if (count == 8) {
            return false;
        }
        // An embedded IPv4 address takes the last two groups.
        const std::size_t next_colon = s.find(':', i);
        const std::string_view piece = s.substr(i, next_colon - i);
        if (next_colon == std::string_view::npos && piece.find('.') != std::string_view::npos) {
            std::uint8_t v4[4];
            if (count > 6 || !parse_v4(piece, v4)) {
                return false;
            }
            groups[count++] = static_cast<std::uint16_t>(v4[0] << 8 | v4[1]);
            groups[count++] = static_cast<std::uint16_t>(v4[2] << 8 | v4[3]);
            break;
        }
        if (!parse_h16(piece, groups[count++])) {
            return false;
        }
        i += piece.size();
        if (i == s.size()) {
            break;
        }
        // at ':'
        if (i + 1 < s.size() && s[i + 1] == ':') {
            if (gap >= 0) {
                return false;
            }
            gap = count;
            i += 2;
        } else if (i + 1 == s.size()) {
            return false; // trailing single ':'
        } else {
            ++i;
        }
    }
    if (gap < 0 ? count != 8 : count > 7) {
        return false;
    }
    expand_groups(groups, count, gap, out);
    return true;
}

} // namespace

std::size_t format_ip(const ip_address& ip, std::span<char, max_ip_text> out) noexcept {
    char* o = out.data();
    if (ip.family == ip_family::v4) {
        return format_v4(ip.bytes.data(), o);
    }
    // RFC 5952 §5: an IPv4-mapped address keeps its dotted tail.
    static constexpr std::uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(ip.bytes.begin(), ip.bytes.begin() + 12, mapped_prefix)) {
        constexpr std::string_view prefix = "::ffff:";
        prefix.copy(o, prefix.size());
        return prefix.size() + format_v4(ip.bytes.data() + 12, o + prefix.size());
    }
    std::uint16_t g[8];
    for (int k = 0; k < 8; ++k) {
        g[k] = static_cast<std::uint16_t>(ip.bytes[2 * k] << 8 | ip.bytes[2 * k + 1]);
    }
    // RFC 5952 §4.2: the longest run of zero groups (length >= 2), the first on a tie.
    int best = -1;
    int best_len = 1;
    for (int k = 0; k < 8;) {
        if (g[k] != 0) {
            ++k;
            continue;
        }
        int e = k;
        while (e < 8 && g[e] == 0) {
            ++e;
        }
        if (e - k > best_len) {
            best = k;
            best_len = e - k;
        }
        k = e;
    }
    std::size_t n = 0;
    for (int k = 0; k < 8; ++k) {
        if (k == best) {
            o[n++] = ':';
            if (k == 0) {
                o[n++] = ':';
            }
            k += best_len - 1;
            continue;
        }
        bool leading = true;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned nibble = (g[k] >> shift) & 0xf;
            if (leading && nibble == 0 && shift != 0) {
                continue;
            }
            leading = false;
            o[n++] = hex_digits[nibble];
        }
        if (k != 7) {
            o[n++] = ':';
        }
    }
    return n;
}

bool parse_ip(std::string_view text, ip_address& out) noexcept {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
        text = text.substr(1, text.size() - 2);
        out = ip_address{};
        out.family = ip_family::v6;
        return parse_v6(text, out.bytes.data());
    }
    out = ip_address{};
    if (text.find(':') != std::string_view::npos) {
        out.family = ip_family::v6;
        return parse_v6(text, out.bytes.data());
    }
    out.family = ip_family::v4;
    return parse_v4(text, out.bytes.data());
}

} // namespace sipredir::net
