// SPDX-License-Identifier: BSD-3-Clause
#include "query_args.hpp"

#include <algorithm>

namespace sipredir::control {

namespace {

// `count=true` or `count=false`; anything else is refused.
bool read_count(std::string_view value, query_args& out) {
    if (value == "true" || value == "false") {
        out.count = value == "true";
        return true;
    }
    out.error = "count must be true or false, not '" + std::string(value) + "'";
    return false;
}

// Splits `text` at `separator`, calling f(piece) for each non-empty piece until f says stop.
template <typename F> void for_each_piece(std::string_view text, char separator, F&& f) {
    while (!text.empty()) {
        const std::size_t at = text.find(separator);
        const std::string_view piece = text.substr(0, at);
        if (!piece.empty() && !f(piece)) {
            return;
        }
        text = at == std::string_view::npos ? std::string_view{} : text.substr(at + 1);
    }
}

} // namespace

query_args query_args_from_words(std::string_view words) {
    query_args out;
    for_each_piece(words, ' ', [&](std::string_view word) {
        if (word.starts_with("--")) {
            word.remove_prefix(2);
        }
        if (word.starts_with("count=")) {
            return read_count(word.substr(6), out);
        }
        if (!out.pool.empty()) {
            out.error = "query takes one pool name, and count=false to only look";
            return false;
        }
        out.pool = word;
        return true;
    });
    return out;
}

query_args query_args_from_target(std::string_view target) {
    query_args out;
    const std::size_t question = target.find('?');
    if (question == std::string_view::npos) {
        return out;
    }
    for_each_piece(target.substr(question + 1), '&', [&](std::string_view parameter) {
        // Iterators, not find(): GCC's LTO takes find's npos for a length here and warns
        // (-Wstringop-overread).
        const auto equals = std::find(parameter.begin(), parameter.end(), '=');
        const std::string_view name(parameter.begin(), equals);
        const std::string_view value = equals == parameter.end()
                                               ? std::string_view{}
                                               : std::string_view(equals + 1, parameter.end());
        if (name == "pool") {
            out.pool = value;
            return true;
        }
        if (name == "count") {
            return read_count(value, out);
        }
        out.error = "unknown query parameter '" + std::string(name) + "' (pool, count)";
        return false;
    });
    return out;
}

} // namespace sipredir::control
