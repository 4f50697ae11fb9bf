// SPDX-License-Identifier: BSD-3-Clause
// Runs the worker's pipeline over a pcap's frames, N frames in bursts of 32 as the DPDK worker
// does (every frame classified, then each request answered, counts tallied per burst), for
// instruction counting under callgrind: perf/worker_instructions.sh runs it at N and at 0 frames
// and divides the difference by N, which leaves start-up (configuration, pcap reading) out.
// Each frame is copied into a 2 kB buffer first, as the NIC would into an mbuf.
//   worker_ops CONFIG PCAP N
#include <algorithm>
#include <array>
#include <balance/load_table.hpp>
#include <control/config.hpp>
#include <control/snapshot_builder.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <pipeline/handle_frame.hpp>
#include <pipeline/stages.hpp>
#include <pipeline/worker_stats.hpp>
#include <vector>

using namespace sipredir;

namespace {

constexpr std::size_t burst = 32;
constexpr std::size_t room_size = 2048;

// A classic little-endian pcap's frames.
std::vector<std::vector<std::uint8_t>> read_pcap(const char* path) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<std::uint8_t> data{std::istreambuf_iterator<char>(in), {}};
    std::vector<std::vector<std::uint8_t>> frames;
    std::size_t at = 24;
    while (at + 16 <= data.size()) {
        std::uint32_t caplen = 0;
        std::memcpy(&caplen, data.data() + at + 8, 4);
        at += 16;
        if (at + caplen > data.size()) {
            break;
        }
        frames.emplace_back(data.begin() + at, data.begin() + at + caplen);
        at += caplen;
    }
    return frames;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s CONFIG PCAP N\n", argv[0]);
        return 2;
    }
    auto loaded = control::load_config(argv[1]);
    if (!loaded.config) {
        std::fprintf(stderr, "%s\n", loaded.error.message.c_str());
        return 1;
    }
    const control::appliance_config& config = *loaded.config;
    const pipeline::identity s =
            control::make_identity(config, {0x02, 0x70, 0x63, 0x61, 0x70, 0x00});
    const auto tables = control::build_tables(config, control::initial_facts(config), 1, nullptr);
    const auto frames = read_pcap(argv[2]);
    const long n = std::strtol(argv[3], nullptr, 10);
    if (frames.empty()) {
        std::fprintf(stderr, "%s: no frames\n", argv[2]);
        return 1;
    }

    balance::redirect_counters redirects{1};
    std::vector<char> scratch(65536);
    pipeline::worker_state state;
    state.redirects = &redirects.of(0);
    state.scratch = scratch;
    auto stats = std::make_unique<pipeline::worker_stats>();
    std::vector<std::vector<std::uint8_t>> rooms(burst, std::vector<std::uint8_t>(room_size));
    std::array<std::size_t, burst> sizes{};
    std::array<pipeline::handled, burst> classified{};
    std::array<net::frame_view, burst> views{};

    std::size_t next = 0;
    for (long done = 0; done < n;) {
        const std::size_t count = std::min<std::size_t>(burst, static_cast<std::size_t>(n - done));
        stats->rx.add(count);
        pipeline::burst_tally tally;
        for (std::size_t i = 0; i < count; ++i) {
            const std::vector<std::uint8_t>& f = frames[next];
            next = next + 1 == frames.size() ? 0 : next + 1;
            std::memcpy(rooms[i].data(), f.data(), f.size());
            sizes[i] = f.size();
            classified[i] = pipeline::classify(
                    s, tables.get(), state, std::span(rooms[i]).first(f.size()), s.checks, views[i]
            );
        }
        for (std::size_t i = 0; i < count; ++i) {
            if (classified[i].what == pipeline::disposition::replied) {
                classified[i] = pipeline::answer(
                        s,
                        tables.get(),
                        state,
                        views[i],
                        classified[i].source_limited,
                        rooms[i],
                        sizes[i]
                );
            }
            tally.record(classified[i]);
        }
        tally.add_to(*stats);
        done += static_cast<long>(count);
    }
    const pipeline::stats_totals t = pipeline::sum({stats.get(), 1});
    std::printf("frames %ld replied %llu\n", n, static_cast<unsigned long long>(t.replied));
    return t.balanced() ? 0 : 1;
}
