// SPDX-License-Identifier: BSD-3-Clause
// `sipredirctl top`: a live view of a running appliance, refreshed like top(1): backends (state,
// load, RTT, redirects/s, share), the workers (frames/s, replies/s, drops by cause, busy share),
// latency over the last interval, fleet peers, and the events seen between refreshes. The
// screen is a pure function of two samples of the appliance's answers, tested without one.
#pragma once

#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sipredir::ctl {

// The appliance's answers at one moment (null where it did not answer with "ok": true).
struct top_sample {
    double at_s = 0; // monotonic clock
    nlohmann::json stats;
    nlohmann::json backends;
    nlohmann::json fleet; // null without [fleet]
};

struct top_event {
    std::string at; // wall clock, HH:MM:SS
    std::string what;
};

// What changed between two samples, as events: backend state and drain changes, reloads applied
// or refused, fleet peers heard for the first time or gone quiet.
std::vector<std::string> events_between(const top_sample& before, const top_sample& now);

// The screen for `now`, with rates over the interval since `before` (null: the first sample,
// no rates yet). `events`: the latest last.
std::string render_top(
        const top_sample* before,
        const top_sample& now,
        const std::deque<top_event>& events,
        const std::string& socket
);

// The live loop: a sample every `interval_s` seconds until `q` or an interrupt, or after
// `count` screens (0: no limit). Returns the exit status.
int run_top(const std::string& socket, double interval_s, long count);

} // namespace sipredir::ctl
