// SPDX-License-Identifier: BSD-3-Clause
// sipredir-loadgen: offers frames to another DPDK process at a fixed rate and counts what comes
// back, to measure goodput under overload (perf/overload.sh) and latency (perf/latency.sh).
// Port 0 is the source of frames (net_pcap with rx_pcap=...,infinite_rx=1), port 1 the target
// link (net_memif, client role; sipredir holds the server end). One lcore, paced by the TSC:
// every loop offers what the rate allows since the start, in bursts. A frame the target's ring
// has no room for is "refused": what a NIC would count as imissed. Replies are counted by the
// SIP status they carry.
//
// Latency: each frame is stamped with a sequence number and its send time (TSC) over the start
// of its Call-ID (src/loadgen/stamp.hpp), which the reply copies; each reply is matched to the
// frame it answers (same sequence number and TSC, answered once) and its round trip recorded in
// a fixed-size histogram. After the window, replies to the window's frames are awaited for up to
// 200 ms, so the last ones are timed too.
//
//   sipredir-loadgen EAL... -- --rate PPS --seconds S [--count N] [--warmup S] [--json FILE]
//   sipredir-loadgen --help | --version
//
// Prints one JSON object (also to --json): offered, refused, replies, replies_302, the window's
// length, the rates, the most the sender fell behind its schedule (sender_lag_us_max: the host
// stalled it), and the latency of the window's frames: timed (stamped and taken by the
// target), answered (matched replies), unmatched (replies naming no frame awaiting an answer),
// and latency_us percentiles. The window starts after --warmup seconds of the same load
// (default 1) and ends after --seconds or once --count frames were offered, whichever is first.
#include "loadgen/histogram.hpp"
#include "loadgen/stamp.hpp"

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
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>
#include <version.hpp>

namespace {

namespace lg = sipredir::loadgen;

constexpr std::uint16_t burst = 32;
constexpr std::uint16_t ring_size = 1024;
constexpr std::uint16_t source_port = 0;
constexpr std::uint16_t target_port = 1;

struct options {
    double rate = 0;
    double seconds = 0;
    double warmup = 1;
    std::uint64_t count = 0; // frames offered in the window; 0: no limit
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

// A whole number above 0: "1.5", "abc" or "12x" must not quietly become another count.
std::uint64_t whole_number(std::string_view flag, const char* text) {
    std::uint64_t v = 0;
    const std::string_view s(text);
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v == 0) {
        throw std::runtime_error(std::string(flag) + ": not a whole number above 0: " + text);
    }
    return v;
}

// The usage to `to` (stdout for --help, stderr for a wrong command line).
void usage(std::FILE* to) {
    std::fprintf(
            to,
            "usage: sipredir-loadgen [EAL options] -- --rate PPS --seconds S [--count N]\n"
            "          [--warmup S] [--json FILE]\n"
            "       sipredir-loadgen --help | --version\n"
            "  port 0: the frames (net_pcap, rx_pcap=FILE,infinite_rx=1); port 1: the target\n"
            "  (net_memif, client role). Prints one JSON object of counts and latencies.\n"
    );
}

// --help and --version anywhere on the command line, answered before EAL starts. -1 when
// neither is given, else the exit status.
int answer_without_eal(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view a(argv[i]);
        if (a == "--help" || a == "-h") {
            usage(stdout);
            return 0;
        }
        if (a == "--version") {
            std::printf(
                    "sipredir-loadgen %.*s\n",
                    static_cast<int>(sipredir::version.size()),
                    sipredir::version.data()
            );
            return 0;
        }
    }
    return -1;
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
        } else if (a == "--count") {
            o.count = whole_number(a, v);
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

std::span<std::uint8_t> bytes(rte_mbuf* m) {
    return {rte_pktmbuf_mtod(m, std::uint8_t*), m->data_len};
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
    // The most frames the sender was behind its schedule in the window: a sender that the host
    // stalled sends the backlog in bursts, which a steady source would not.
    std::uint64_t behind_max = 0;
};

// Stamps and reply matching. Sequence numbers count every frame stamped; the window's frames are
// those stamped while it was open, [window_first, window_end).
struct latency {
    // The TSC each sequence number was sent with, at seq % table_size; 0 once answered or when
    // the target refused the frame. A reply later than table_size frames counts as unmatched.
    static constexpr std::uint32_t table_size = 1U << 20;
    std::vector<std::uint64_t> sent = std::vector<std::uint64_t>(table_size);
    lg::latency_histogram histogram; // round trips of the window's frames, in TSC ticks
    std::uint32_t next_seq = 0;
    std::uint32_t window_first = 0;
    std::uint32_t window_end = 0;
    bool window_open = false;
    std::uint64_t timed = 0;     // the window's frames stamped and taken by the target
    std::uint64_t answered = 0;  // replies matched to one of them
    std::uint64_t unmatched = 0; // replies naming no frame awaiting an answer
    std::uint64_t unstamped = 0; // the window's frames with no Call-ID to stamp (not timed)

    bool in_window(std::uint32_t seq) const {
        return seq - window_first < window_end - window_first;
    }

    void match(const rte_mbuf* m, std::uint64_t now) {
        const auto s = lg::read_stamp({rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len});
        std::uint64_t* slot = s ? &sent[s->seq % table_size] : nullptr;
        if (slot == nullptr || *slot == 0 || *slot != s->tsc) {
            ++unmatched;
            return;
        }
        *slot = 0;
        if (in_window(s->seq)) {
            histogram.record(now - s->tsc);
            ++answered;
        }
    }
};

// Takes up to `want` frames from the source, stamps them and offers them to the target.
// Returns how many it took.
std::uint16_t offer(std::uint16_t want, bool counting, counts& c, latency& lat) {
    std::array<rte_mbuf*, burst> out{};
    std::array<std::size_t, burst> at{};
    const std::uint16_t n = rte_eth_rx_burst(source_port, 0, out.data(), want);
    for (std::uint16_t i = 0; i < n; ++i) {
        at[i] = lg::stamp_offset(bytes(out[i]));
    }
    if (counting && !lat.window_open) {
        lat.window_open = true;
        lat.window_first = lat.next_seq;
    }
    // One send time for the burst, read after the searches, just before the digits and the send.
    const std::uint64_t tsc = rte_rdtsc();
    const std::uint32_t first = lat.next_seq;
    for (std::uint16_t i = 0; i < n; ++i) {
        if (at[i] != 0) {
            lg::write_stamp(bytes(out[i]), at[i], {lat.next_seq++, tsc});
        }
    }
    if (counting) {
        lat.window_end = lat.next_seq;
    }
    const std::uint16_t sent = rte_eth_tx_burst(target_port, 0, out.data(), n);
    std::uint32_t seq = first;
    for (std::uint16_t i = 0; i < n; ++i) {
        if (at[i] == 0) {
            lat.unstamped += counting;
            continue;
        }
        lat.sent[seq++ % latency::table_size] = i < sent ? tsc : 0;
        lat.timed += counting && i < sent;
    }
    for (std::uint16_t i = sent; i < n; ++i) {
        rte_pktmbuf_free(out[i]);
    }
    if (counting) {
        c.offered += n;
        c.refused += n - sent;
    }
    return n;
}

// Takes the target's replies: counted when `counting`, matched to their frames always.
void collect(bool counting, counts& c, latency& lat) {
    std::array<rte_mbuf*, burst> in{};
    const std::uint16_t got = rte_eth_rx_burst(target_port, 0, in.data(), burst);
    if (got == 0) {
        return;
    }
    const std::uint64_t now = rte_rdtsc();
    for (std::uint16_t i = 0; i < got; ++i) {
        if (counting) {
            ++c.replies;
            c.replies_302 += status_of(in[i]) == 302;
        }
        lat.match(in[i], now);
        rte_pktmbuf_free(in[i]);
    }
}

// Offers `rate` frames per second until `until` (TSC) or until `count` frames (0: any number)
// were offered from `from` on; `c` counts only from `from` on. Then awaits the window's
// remaining replies for at most 200 ms. Returns when the window ended.
std::uint64_t
run(double rate,
    std::uint64_t count,
    std::uint64_t from,
    std::uint64_t until,
    std::uint64_t hz,
    counts& c,
    latency& lat) {
    const std::uint64_t start = rte_rdtsc();
    std::uint64_t offered_total = 0;
    std::uint64_t now = start;
    for (; now < until && (count == 0 || c.offered < count); now = rte_rdtsc()) {
        const bool counting = now >= from;
        const auto due = static_cast<std::uint64_t>(static_cast<double>(now - start) / hz * rate);
        if (due > offered_total) {
            if (counting) {
                c.behind_max = std::max(c.behind_max, due - offered_total);
            }
            std::uint64_t want = std::min<std::uint64_t>(burst, due - offered_total);
            if (counting && count != 0) {
                want = std::min(want, count - c.offered);
            }
            offered_total += offer(static_cast<std::uint16_t>(want), counting, c, lat);
        }
        collect(now >= from, c, lat);
    }
    const std::uint64_t end = now;
    const std::uint64_t drain_until = end + hz / 5;
    while (lat.answered < lat.timed && rte_rdtsc() < drain_until) {
        collect(false, c, lat);
    }
    return end;
}

// The run as one line of JSON.
std::string report(double rate, double s, std::uint64_t hz, const counts& c, const latency& lat) {
    const auto us = [&](std::uint64_t ticks) { return static_cast<double>(ticks) * 1e6 / hz; };
    const auto& h = lat.histogram;
    char text[1024];
    std::snprintf(
            text,
            sizeof text,
            "{\"rate\": %.0f, \"seconds\": %.3f, \"offered\": %lu, \"refused\": %lu, "
            "\"replies\": %lu, \"replies_302\": %lu, \"offered_pps\": %.0f, "
            "\"accepted_pps\": %.0f, \"goodput_pps\": %.0f, \"timed\": %lu, "
            "\"answered\": %lu, \"unmatched\": %lu, \"unstamped\": %lu, \"tsc_hz\": %lu, "
            "\"sender_lag_us_max\": %.1f, "
            "\"latency_us\": {\"p50\": %.2f, \"p90\": %.2f, \"p99\": %.2f, \"p999\": %.2f, "
            "\"max\": %.2f, \"mean\": %.2f}}\n",
            rate,
            s,
            c.offered,
            c.refused,
            c.replies,
            c.replies_302,
            c.offered / s,
            (c.offered - c.refused) / s,
            c.replies_302 / s,
            lat.timed,
            lat.answered,
            lat.unmatched,
            lat.unstamped,
            hz,
            static_cast<double>(c.behind_max) * 1e6 / rate,
            us(h.value_at(0.5)),
            us(h.value_at(0.9)),
            us(h.value_at(0.99)),
            us(h.value_at(0.999)),
            us(h.max()),
            h.mean() * 1e6 / hz
    );
    return text;
}

} // namespace

int main(int argc, char** argv) {
    if (const int rc = answer_without_eal(argc, argv); rc >= 0) {
        return rc;
    }
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
        auto lat = std::make_unique<latency>(); // 8 MiB table and the histogram: not the stack
        const std::uint64_t now = rte_rdtsc();
        const auto from = now + static_cast<std::uint64_t>(o.warmup * hz);
        const auto until = from + static_cast<std::uint64_t>(o.seconds * hz);
        const std::uint64_t end = run(o.rate, o.count, from, until, hz, c, *lat);
        const std::string text = report(o.rate, static_cast<double>(end - from) / hz, hz, c, *lat);
        std::fputs(text.c_str(), stdout);
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
