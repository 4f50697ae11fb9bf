// SPDX-License-Identifier: BSD-3-Clause
// sipredir-loadgen: offers frames to another DPDK process at a fixed rate and counts what comes
// back, to measure goodput under overload (perf/overload.sh). Port 0 is the source of frames
// (net_pcap with rx_pcap=...,infinite_rx=1), port 1 the target link (net_memif, client role;
// sipredir holds the server end). One lcore, paced by the TSC: every loop offers what the rate
// allows since the start, in bursts. A frame the target's ring has no room for is "refused":
// what a NIC would count as imissed. Replies are counted by the SIP status they carry.
//
//   sipredir-loadgen EAL... -- --rate PPS --seconds S [--warmup S] [--json FILE]
//
// Prints one JSON object (also to --json): offered, refused, replies, replies_302, the window's
// length, and the rates. The window starts after --warmup seconds of the same load (default 1).
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

constexpr std::uint16_t burst = 32;
constexpr std::uint16_t ring_size = 1024;
constexpr std::uint16_t source_port = 0;
constexpr std::uint16_t target_port = 1;

struct options {
    double rate = 0;
    double seconds = 0;
    double warmup = 1;
    std::string json;
};

double number(std::string_view flag, const char* text) {
    double v = 0;
    const std::string_view s(text);
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || !(v > 0)) {
        throw std::runtime_error(std::string(flag) + ": not a positive number: " + text);
    }
    return v;
}

options parse_options(int argc, char** argv) {
    options o;
    for (int i = 0; i < argc; ++i) {
        const std::string_view a(argv[i]);
        if (i + 1 >= argc) {
            throw std::runtime_error(std::string(a) + ": needs a value");
        }
        const char* v = argv[++i];
        if (a == "--rate") {
            o.rate = number(a, v);
        } else if (a == "--seconds") {
            o.seconds = number(a, v);
        } else if (a == "--warmup") {
            o.warmup = number(a, v);
        } else if (a == "--json") {
            o.json = v;
        } else {
            throw std::runtime_error("unknown option " + std::string(a));
        }
    }
    if (o.rate == 0 || o.seconds == 0) {
        throw std::runtime_error("--rate and --seconds are required");
    }
    return o;
}

void start_port(std::uint16_t port, rte_mempool* pool) {
    const rte_eth_conf conf{};
    if (rte_eth_dev_configure(port, 1, 1, &conf) != 0
        || rte_eth_rx_queue_setup(port, 0, ring_size, rte_eth_dev_socket_id(port), nullptr, pool)
                   != 0
        || rte_eth_tx_queue_setup(port, 0, ring_size, rte_eth_dev_socket_id(port), nullptr) != 0
        || rte_eth_dev_start(port) != 0) {
        throw std::runtime_error("port " + std::to_string(port) + ": cannot be started");
    }
}

// memif is up once the other process has connected: a bounded wait for that condition.
void await_link(std::uint16_t port, std::uint64_t hz) {
    const std::uint64_t deadline = rte_rdtsc() + 30 * hz;
    rte_eth_link link{};
    while (rte_rdtsc() < deadline) {
        if (rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == RTE_ETH_LINK_UP) {
            return;
        }
        rte_delay_ms(10);
    }
    throw std::runtime_error("target link not up after 30 s: is the other end running?");
}

// The SIP status code of a reply frame (Ethernet, IPv4 without options, UDP), or 0.
unsigned status_of(const rte_mbuf* m) {
    constexpr std::size_t payload = 14 + 20 + 8;
    const auto* p = rte_pktmbuf_mtod(m, const char*);
    if (m->data_len < payload + 12 || std::memcmp(p + payload, "SIP/2.0 ", 8) != 0) {
        return 0;
    }
    unsigned code = 0;
    std::from_chars(p + payload + 8, p + payload + 11, code);
    return code;
}

struct counts {
    std::uint64_t offered = 0; // frames handed to the target's ring or refused by it
    std::uint64_t refused = 0; // no room in the target's ring
    std::uint64_t replies = 0;
    std::uint64_t replies_302 = 0;
};

// Offers `rate` frames per second until `until` (TSC); `c` counts only from `from` on.
void run(double rate, std::uint64_t from, std::uint64_t until, std::uint64_t hz, counts& c) {
    std::array<rte_mbuf*, burst> out{};
    std::array<rte_mbuf*, burst> in{};
    const std::uint64_t start = rte_rdtsc();
    std::uint64_t offered_total = 0;
    for (std::uint64_t now = start; now < until; now = rte_rdtsc()) {
        const bool counting = now >= from;
        const auto due = static_cast<std::uint64_t>(static_cast<double>(now - start) / hz * rate);
        if (due > offered_total) {
            const auto want =
                    static_cast<std::uint16_t>(std::min<std::uint64_t>(burst, due - offered_total));
            const std::uint16_t n = rte_eth_rx_burst(source_port, 0, out.data(), want);
            const std::uint16_t sent = rte_eth_tx_burst(target_port, 0, out.data(), n);
            for (std::uint16_t i = sent; i < n; ++i) {
                rte_pktmbuf_free(out[i]);
            }
            offered_total += n;
            if (counting) {
                c.offered += n;
                c.refused += n - sent;
            }
        }
        const std::uint16_t got = rte_eth_rx_burst(target_port, 0, in.data(), burst);
        for (std::uint16_t i = 0; i < got; ++i) {
            if (counting) {
                ++c.replies;
                c.replies_302 += status_of(in[i]) == 302;
            }
            rte_pktmbuf_free(in[i]);
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    const int eal = rte_eal_init(argc, argv);
    if (eal < 0) {
        std::fprintf(stderr, "sipredir-loadgen: EAL initialisation failed\n");
        return 2;
    }
    try {
        const options o = parse_options(argc - eal - 1, argv + eal + 1);
        if (rte_eth_dev_count_avail() != 2) {
            throw std::runtime_error(
                    "needs two ports: 0 the frames (net_pcap), 1 the target (net_memif)"
            );
        }
        rte_mempool* pool = rte_pktmbuf_pool_create(
                "loadgen", 32767, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id()
        );
        if (pool == nullptr) {
            throw std::runtime_error("no memory for the mbuf pool");
        }
        start_port(source_port, pool);
        start_port(target_port, pool);
        const std::uint64_t hz = rte_get_tsc_hz();
        await_link(target_port, hz);
        counts c;
        const std::uint64_t now = rte_rdtsc();
        const auto from = now + static_cast<std::uint64_t>(o.warmup * hz);
        const auto until = from + static_cast<std::uint64_t>(o.seconds * hz);
        run(o.rate, from, until, hz, c);
        const double s = static_cast<double>(until - from) / hz;
        char text[512];
        std::snprintf(
                text,
                sizeof text,
                "{\"rate\": %.0f, \"seconds\": %.3f, \"offered\": %lu, \"refused\": %lu, "
                "\"replies\": %lu, \"replies_302\": %lu, \"offered_pps\": %.0f, "
                "\"accepted_pps\": %.0f, \"goodput_pps\": %.0f}\n",
                o.rate,
                s,
                c.offered,
                c.refused,
                c.replies,
                c.replies_302,
                c.offered / s,
                (c.offered - c.refused) / s,
                c.replies_302 / s
        );
        std::fputs(text, stdout);
        if (!o.json.empty()) {
            std::ofstream(o.json) << text;
        }
        rte_eth_dev_stop(target_port);
        rte_eth_dev_stop(source_port);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sipredir-loadgen: %s\n", e.what());
        rte_eal_cleanup();
        return 1;
    }
    rte_eal_cleanup();
    return 0;
}
