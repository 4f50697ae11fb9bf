// SPDX-License-Identifier: BSD-3-Clause
// Cost of choosing a backend per request, per policy, including the load of the snapshot
// pointer and of the chosen backend's Contact bytes, beside a reference measured in the same
// run: one random draw, one multiply-shift index and one Contact load, the least any choice does.
#include "statistics.hpp"

#include <benchmark/benchmark.h>

#include <balance/load_table.hpp>
#include <balance/policy.hpp>
#include <string>
#include <vector>

namespace sipredir::balance {
namespace {

constexpr std::size_t backends = 10;

// A published table with one pool of ten heterogeneous backends under `policy`.
std::unique_ptr<load_table> table_for(policy_kind policy) {
    std::vector<backend_config> configs(backends);
    std::vector<backend_facts> facts(backends);
    pool_config pool;
    pool.name = "bench";
    pool.policy = policy;
    for (std::size_t i = 0; i < backends; ++i) {
        configs[i].address = {
                net::ip_address::v4(198, 18, 1, static_cast<std::uint8_t>(i + 1)), 5060};
        configs[i].capacity = static_cast<std::uint32_t>(100 * (1 + i % 4));
        configs[i].weight = static_cast<std::uint32_t>(1 + i % 3);
        facts[i].state = backend_state::up;
        facts[i].reported_calls = static_cast<double>(configs[i].capacity) * 0.1 * (i % 7);
        pool.backends.push_back(static_cast<std::uint16_t>(i));
    }
    auto snapshot = std::make_unique<table_snapshot>();
    snapshot->pools.push_back(build_pool_snapshot(pool, configs, facts));
    auto table = std::make_unique<load_table>(1);
    std::unique_ptr<const table_snapshot> next = std::move(snapshot);
    table->publish(next);
    table->domain().online(0);
    return table;
}

void reference_random_index(benchmark::State& state) {
    auto table = table_for(policy_kind::random);
    xorshift64 rng(1);
    for (auto _ : state) {
        const pool_snapshot& p = table->acquire()->pools[0];
        const auto i =
                static_cast<std::size_t>(((rng.next() & 0xffffffffULL) * p.backends.size()) >> 32);
        benchmark::DoNotOptimize(p.backends[i].contact.data());
    }
    table->domain().offline(0);
}

void choose_policy(benchmark::State& state) {
    const auto policy = static_cast<policy_kind>(state.range(0));
    auto table = table_for(policy);
    xorshift64 rng(1);
    std::uint64_t sequence = 0;
    for (auto _ : state) {
        const pool_snapshot& p = table->acquire()->pools[0];
        const std::uint64_t r = rng.next();
        const selection s = choose(p, {r, r * 0x9e3779b97f4a7c15ULL, sequence++});
        benchmark::DoNotOptimize(p.backends[s.picks[0]].contact.data());
    }
    table->domain().offline(0);
}

void configure(benchmark::internal::Benchmark* b) {
    b->ArgName("policy");
    for (int p = 0; p <= static_cast<int>(policy_kind::least_latency); ++p) {
        b->Arg(p);
    }
}

BENCHMARK(reference_random_index)->Apply(perf::add_statistics);
BENCHMARK(choose_policy)->Apply(configure)->Apply(perf::add_statistics);

} // namespace
} // namespace sipredir::balance

BENCHMARK_MAIN();
