// SPDX-License-Identifier: BSD-3-Clause
// Case-insensitive comparison of a token (a header or parameter name, RFC 3261 §25.1) with a
// lower-case name of letters, digits and '-', by whole words instead of octet by octet.
#pragma once

#include "chars.hpp"

#include <cstdint>
#include <cstring>
#include <string_view>

namespace sipredir::sip {

namespace detail {

template <typename Word> Word load_word(const char* p) noexcept {
    Word w;
    std::memcpy(&w, p, sizeof w);
    return w;
}

// Both ends of `n` and `lower` as two overlapping words, n's octets with bit 5 set.
template <typename Word> bool ends_equal(std::string_view n, std::string_view lower) noexcept {
    constexpr Word case_bits = static_cast<Word>(0x2020202020202020ULL);
    const std::size_t last = n.size() - sizeof(Word);
    return (load_word<Word>(n.data()) | case_bits) == load_word<Word>(lower.data())
           && (load_word<Word>(n.data() + last) | case_bits)
                      == load_word<Word>(lower.data() + last);
}

} // namespace detail

// `token` holds only token characters (the caller's grammar checked it); `lower` only a-z, 0-9
// and '-'. For token octets, c | 0x20 equals a lower-case letter only for that letter in either
// case, a digit only for that digit (0x10-0x19 are no token characters), and '-' only for '-'
// (0x0d is none either). Two overlapping word loads cover every length from 2 to 16.
inline bool token_iequals(std::string_view token, std::string_view lower) noexcept {
    if (token.size() != lower.size()) {
        return false;
    }
    if (lower.size() >= 8) {
        return lower.size() <= 16 ? detail::ends_equal<std::uint64_t>(token, lower)
                                  : iequals(token, lower);
    }
    if (lower.size() >= 4) {
        return detail::ends_equal<std::uint32_t>(token, lower);
    }
    if (lower.size() >= 2) {
        return detail::ends_equal<std::uint16_t>(token, lower);
    }
    return iequals(token, lower);
}

} // namespace sipredir::sip
