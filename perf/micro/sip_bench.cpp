// SPDX-License-Identifier: BSD-3-Clause
// Parse and write costs per message, each beside a reference over the same bytes measured in the
// same run: a memchr walk over every line (the least a parser must do to find its headers).
// perf/run_micro.sh runs it with repetitions and prints ratios of medians.
#include "messages.hpp"
#include "operations.hpp"
#include "statistics.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <sip/parser.hpp>
#include <sip/reply_writer.hpp>
#include <sip/stage1.hpp>
#include <sip/verdict.hpp>
#include <vector>

// Counts heap allocations so that each benchmark reports allocs per operation (must be 0).
// new and delete are replaced together over malloc/free; GCC cannot see that the pair matches.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<std::uint64_t> allocations{0};
}
void* operator new(std::size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        return p;
    }
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}

namespace sipredir::perf {
namespace {

using namespace sip;

// Heap allocations of `op` per call, counted over calls made outside the timed loop (the
// framework's own bookkeeping inside the loop would otherwise be counted too).
template <typename Op> void report_allocations(benchmark::State& state, Op&& op) {
    constexpr int calls = 1000;
    const std::uint64_t before = allocations.load();
    for (int i = 0; i < calls; ++i) {
        op();
    }
    state.counters["allocs/op"] = static_cast<double>(allocations.load() - before) / calls;
}

std::string_view message_for(benchmark::State& state) {
    return state.range(0) == 0 ? invite_800 : options_short;
}

void reference_memchr_lines(benchmark::State& state) {
    const std::string_view msg = message_for(state);
    const auto op = [msg] {
        benchmark::DoNotOptimize(msg.data());
        benchmark::DoNotOptimize(memchr_lines(msg));
    };
    report_allocations(state, op);
    for (auto _ : state) {
        op();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
}

void parse_message(benchmark::State& state) {
    const std::string_view msg = message_for(state);
    message_view m;
    const auto op = [msg, &m] {
        benchmark::DoNotOptimize(msg.data());
        const parse_result r = parse(msg, m);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(m);
    };
    report_allocations(state, op);
    for (auto _ : state) {
        op();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
    if (parse(msg, m).status != parse_status::ok) {
        state.SkipWithError("message does not parse");
    }
}

// parse_message with stage 1's kernel forced to one variant (0 SSSE3, 1 AVX2, 2 AVX-512BW), so
// the variants compare within one run; skipped where this CPU lacks one.
void parse_by_stage1_variant(benchmark::State& state) {
    const auto v = static_cast<stage1::variant>(state.range(1));
    const stage1::variant chosen = stage1::active();
    if (!stage1::select(v)) {
        state.SkipWithError("this CPU lacks the variant");
        return;
    }
    parse_message(state);
    stage1::select(chosen);
}

// Verdict and reply for an already parsed message: a 302 with one Contact for the INVITE, the
// 200 for OPTIONS.
void decide_and_write(benchmark::State& state) {
    const std::string_view msg = message_for(state);
    message_view m;
    parse(msg, m);
    char out[2048];
    const auto op = [&] {
        benchmark::DoNotOptimize(m);
        benchmark::DoNotOptimize(write_answer(m, out));
        benchmark::ClobberMemory();
    };
    report_allocations(state, op);
    for (auto _ : state) {
        op();
    }
}

void configure(benchmark::internal::Benchmark* b) {
    b->ArgName("options")->Arg(0)->Arg(1);
    add_statistics(b);
}

BENCHMARK(reference_memchr_lines)->Apply(configure);
BENCHMARK(parse_message)->Apply(configure);
BENCHMARK(decide_and_write)->Apply(configure);
BENCHMARK(parse_by_stage1_variant)
        ->ArgNames({"options", "variant"})
        ->ArgsProduct({{0, 1}, {0, 1, 2}})
        ->Apply(add_statistics);

} // namespace
} // namespace sipredir::perf

BENCHMARK_MAIN();
