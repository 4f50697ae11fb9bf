// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target: a rule pattern and a request. The input's first line is a regular
// expression (also used as a literal), the rest a SIP datagram matched against the rules on
// every field. Invariants: compile refuses or accepts without crashing; matching never crashes,
// reads past the datagram (ASan, exact-size copy) or returns a rule that is not in the set.
#include "require.hpp"

#include <rules/ruleset.hpp>
#include <sip/parser.hpp>
#include <string>
#include <vector>

using namespace sipredir;
using namespace sipredir::rules;

namespace {

using sipredir::fuzz::require;

rule make(field where, match_kind how, std::string pattern, std::string header = "") {
    rule r;
    r.name = "f";
    r.where = where;
    r.how = how;
    r.pattern = std::move(pattern);
    r.header = std::move(header);
    r.then = action::drop;
    r.source = "fuzz";
    return r;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t newline = input.find('\n');
    if (newline == std::string_view::npos || newline > 200) {
        return 0;
    }
    const std::string pattern(input.substr(0, newline));
    std::vector<std::uint8_t> datagram(data + newline + 1, data + size);

    std::vector<rule> rules = {
            make(field::request_uri_user, match_kind::prefix, pattern),
            make(field::request_uri_host, match_kind::exact, pattern),
            make(field::from_user, match_kind::contains, pattern),
            make(field::header, match_kind::regex, pattern, "User-Agent"),
            make(field::header, match_kind::regex, pattern, "Subject"),
            make(field::header, match_kind::contains, pattern, "X-Custom"),
    };
    compile_result compiled = compile(rules);
    if (!compiled.rules) {
        // A regex Hyperscan refuses: the literal kinds alone must still compile.
        rules.resize(3);
        compiled = compile(rules);
        require(compiled.rules != nullptr || pattern.empty());
        if (!compiled.rules) {
            return 0;
        }
    }
    require(compiled.rules->allocate_scratch(1));
    sip::message_view m;
    sip::parse(std::span<const std::uint8_t>(datagram), m);
    const decision d = compiled.rules->match(m, 0);
    if (d.matched != nullptr) {
        const auto& all = compiled.rules->rules();
        require(d.matched >= all.data() && d.matched < all.data() + all.size());
    }
    return 0;
}
