// SPDX-License-Identifier: BSD-3-Clause
// A routing or blocking rule as the operator writes it: which part of a request, how it must
// match, and what happens then.
#pragma once

#include <cstdint>
#include <string>

namespace sipredir::rules {

enum class field : std::uint8_t {
    request_uri_user, // the Request-URI's user part (a number, for most carriers)
    request_uri_host, // the Request-URI's host: the domain called
    from_user,        // the From URI's user part
    header,           // the value of a named header (every line of that name)
};

enum class match_kind : std::uint8_t {
    prefix,   // the value starts with the literal
    exact,    // the value is the literal
    contains, // the literal appears in the value
    regex,    // Hyperscan's PCRE subset, unanchored unless the pattern anchors itself
};

enum class action : std::uint8_t {
    route,  // redirect to `pool` instead of the default pool
    drop,   // no answer (counted): what a scanner should get
    reject, // 403 Forbidden
};

struct rule {
    std::string name; // for logs and errors
    field where = field::request_uri_user;
    std::string header; // field::header: the header's name (long form; compact forms match too)
    match_kind how = match_kind::prefix;
    std::string pattern;
    bool caseless = false;
    action then = action::route;
    std::uint16_t pool = 0; // route: the pool's index in the configuration (and the snapshot)
    std::uint32_t line = 0; // where it was written, for errors
    std::string source;     // the file it was written in
};

} // namespace sipredir::rules
