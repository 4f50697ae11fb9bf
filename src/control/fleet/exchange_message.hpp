// SPDX-License-Identifier: BSD-3-Clause
// The fleet's redirect exchange, periodic and spontaneous: each appliance sends its peers its
// own running totals of redirects per backend, one UDP datagram of signed text (docs/fleet.md):
//
//   SRFX/1 from=sr-a epoch=1732300000000 seq=42 ts=1732300000123 full=0 totals=p1:1200,p2:77
//   mac=<hex>
//
// Totals, never deltas: a lost message costs nothing but time, because the next one carries
// the newer totals. epoch is the sender's start (wall ms), so that a restarted sender's totals
// starting again from 0 are told from a replay; seq grows within an epoch. full=1 marks a
// message (or one of several) carrying every backend; the others carry the changed ones only.
//
// With probing shared out (src/control/fleet/probe_share.hpp), an optional field after the
// totals carries the sender's own probe results, one entry per backend:
//
//   health=p1:up:1520:430:0,p2:down:-:-:0
//
// name:state:rtt_us:load_permille:oc — state up, down or unknown; the smoothed round trip in
// microseconds ('-': none yet); the utilisation the replies' load header gave, in permille
// ('-': none in this result); the RFC 7339 reduction in force, percent 0-100.
#pragma once

#include "../probe/health.hpp"
#include "../report/signed_text.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipredir::control::fleet {

inline constexpr std::size_t max_exchange_size = 1400; // one datagram, no IP fragments

struct exchange_message {
    std::string_view from;
    std::uint64_t epoch_ms = 0;
    std::uint64_t seq = 0;
    std::uint64_t ts_ms = 0;
    bool full = false;
    std::string_view totals; // "name:n,name:n" (possibly empty), checked
    std::string_view health; // "name:state:rtt:load:oc,..." (empty: none), checked
    signed_line line;
};

// One probe result in health=.
struct health_entry {
    std::string_view name;
    health state = health::unknown;
    std::int64_t rtt_us = -1;        // -1: none
    std::int64_t load_permille = -1; // -1: none
    std::uint32_t oc_percent = 0;    // 0..100
};
inline constexpr std::int64_t max_rtt_us = 60'000'000;       // a minute: more is not a round trip
inline constexpr std::int64_t max_load_permille = 1'000'000; // 1000 x capacity

// False when `datagram` is not a well-formed SRFX/1 message. Never allocates.
bool parse_exchange(std::string_view datagram, exchange_message& out) noexcept;

// Calls f(name, total) for each entry of "name:n,name:n" in order; false (at once) at an entry
// that does not read, or a trailing comma. A parsed message's totals always read.
template <class F> bool for_each_total(std::string_view totals, F&& f);

struct exchange_header {
    std::string from;
    std::uint64_t epoch_ms = 0;
    std::uint64_t first_seq = 0; // the messages take first_seq, first_seq + 1, ...
    std::uint64_t ts_ms = 0;
    bool full = false;
};
using backend_total = std::pair<std::string_view, std::uint64_t>;

// The totals, then the probe results, as signed messages of at most max_exchange_size bytes
// each (one when both are empty: a full message with no backend still says "alive").
std::vector<std::string> write_exchange(
        const exchange_header& h,
        const std::vector<backend_total>& totals,
        const signing_key& key,
        const std::vector<health_entry>& health = {}
);

// Calls f(entry) for each entry of health= in order; false (at once) at an entry that does not
// read, or a trailing comma. A parsed message's health always reads.
template <class F> bool for_each_health(std::string_view health, F&& f);

// ---

bool read_total(std::string_view entry, std::string_view& name, std::uint64_t& total) noexcept;
bool read_health(std::string_view entry, health_entry& out) noexcept;
void append_health(std::string& out, const health_entry& e);

template <class F> bool for_each_health(std::string_view health, F&& f) {
    while (!health.empty()) {
        const std::size_t comma = health.find(',');
        health_entry e;
        if (!read_health(health.substr(0, comma), e)
            || (comma != std::string_view::npos && comma + 1 == health.size())) {
            return false;
        }
        f(e);
        health = comma == std::string_view::npos ? std::string_view{} : health.substr(comma + 1);
    }
    return true;
}

template <class F> bool for_each_total(std::string_view totals, F&& f) {
    while (!totals.empty()) {
        const std::size_t comma = totals.find(',');
        std::string_view name;
        std::uint64_t total = 0;
        if (!read_total(totals.substr(0, comma), name, total)
            || (comma != std::string_view::npos && comma + 1 == totals.size())) {
            return false;
        }
        f(name, total);
        totals = comma == std::string_view::npos ? std::string_view{} : totals.substr(comma + 1);
    }
    return true;
}

} // namespace sipredir::control::fleet
