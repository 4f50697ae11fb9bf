// SPDX-License-Identifier: BSD-3-Clause
// The arguments of a query (which backend a pool would name now), from sipredirctl's line or the
// HTTP endpoint's target.
#pragma once

#include <string>
#include <string_view>

namespace sipredir::control {

struct query_args {
    std::string pool;  // empty: the default pool ([sip] pool)
    bool count = true; // the answer counts as a redirect to the backends it names
    std::string error; // not empty: the arguments were refused, and why
};

// sipredirctl: `query [POOL] [count=false]` after the verb, words separated by spaces; the flag
// may also be written `--count=false` (and `count=true`).
query_args query_args_from_words(std::string_view words);

// HTTP: the request target `/query?pool=NAME&count=false` (both parameters optional).
query_args query_args_from_target(std::string_view target);

} // namespace sipredir::control
