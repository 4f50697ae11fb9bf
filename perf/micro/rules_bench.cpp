// SPDX-License-Identifier: BSD-3-Clause
// Rule matching per INVITE with 1, 100 and 1,000 rules, beside the reference measured in the
// same run: parsing the same INVITE (the work every request costs anyway). The rules are what a
// carrier writes: number-prefix routes on the Request-URI user, one domain rule, and the scanner
// User-Agent regex; the INVITE matches none of them, so every database is scanned to the end.
// perf/run_rules.sh runs it with repetitions and prints ratios of medians.
#include "messages.hpp"
#include "statistics.hpp"

#include <benchmark/benchmark.h>

#include <rules/ruleset.hpp>
#include <sip/parser.hpp>
#include <string>
#include <vector>

namespace sipredir::perf {
namespace {

std::shared_ptr<rules::ruleset> ruleset_of(std::size_t count) {
    std::vector<rules::rule> list;
    rules::rule scanner;
    scanner.name = "scanners";
    scanner.where = rules::field::header;
    scanner.header = "User-Agent";
    scanner.how = rules::match_kind::regex;
    scanner.pattern = "friendly-scanner|sipvicious|sipcli|VaxSIPUserAgent|iWar|SIPBomber";
    scanner.caseless = true;
    scanner.then = rules::action::drop;
    list.push_back(scanner);
    if (count > 1) {
        rules::rule domain;
        domain.name = "domain";
        domain.where = rules::field::request_uri_host;
        domain.how = rules::match_kind::exact;
        domain.pattern = "blocked.example";
        domain.caseless = true;
        domain.then = rules::action::reject;
        list.push_back(domain);
    }
    for (std::size_t i = list.size(); i < count; ++i) {
        // +1NNNN...: number ranges none of which the INVITE's +49... falls in.
        std::string prefix = std::to_string(200 + i);
        prefix.insert(prefix.begin(), {'+', '1'});
        list.push_back({
                .name = "range",
                .where = rules::field::request_uri_user,
                .header = {},
                .how = rules::match_kind::prefix,
                .pattern = std::move(prefix),
                .caseless = false,
                .then = rules::action::route,
                .pool = 0,
                .line = 0,
                .source = {},
        });
    }
    auto compiled = rules::compile(std::move(list));
    if (!compiled.rules || !compiled.rules->allocate_scratch(1)) {
        return nullptr;
    }
    return compiled.rules;
}

void reference_parse_invite(benchmark::State& state) {
    sip::message_view m;
    for (auto _ : state) {
        benchmark::DoNotOptimize(invite_800.data());
        benchmark::DoNotOptimize(sip::parse(invite_800, m));
        benchmark::DoNotOptimize(m);
    }
}

void match_rules(benchmark::State& state) {
    const auto set = ruleset_of(static_cast<std::size_t>(state.range(0)));
    if (!set) {
        state.SkipWithError("rules do not compile");
        return;
    }
    sip::message_view m;
    sip::parse(invite_800, m);
    for (auto _ : state) {
        benchmark::DoNotOptimize(m);
        const rules::decision d = set->match(m, 0);
        benchmark::DoNotOptimize(d);
    }
    if (set->match(m, 0).matched != nullptr) {
        state.SkipWithError("the INVITE matched a rule; the benchmark wants a full scan");
    }
}

BENCHMARK(reference_parse_invite)->Apply(add_statistics);
BENCHMARK(match_rules)->ArgName("rules")->Arg(1)->Arg(100)->Arg(1000)->Apply(add_statistics);

} // namespace
} // namespace sipredir::perf

BENCHMARK_MAIN();
