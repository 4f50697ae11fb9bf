// SPDX-License-Identifier: BSD-3-Clause
// A discrete-event model of callers, the redirect appliance and backend proxies, driving the real
// lib/balance snapshot builder and policies and, for policy race, the real race engine of
// src/control/race (as Katran's simulator runs the production code).
#pragma once

#include <balance/policy.hpp>
#include <control/race/race_engine.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace sipredir::sim {

struct scenario {
    balance::policy_kind policy = balance::policy_kind::proportional;
    bool fold_redirects = true; // false: "naive" — the estimate moves only with reports
    std::string label;

    double duration_s = 900;
    double warmup_s = 60;
    double offered = 0.9;             // of the backends' total capacity
    bool bursty = false;              // on/off modulated Poisson: 3x rate 25 % of the time
    double mean_holding_s = 30;       // call duration
    bool reports = true;              // false: backends report nothing (no agent)
    double report_interval_s = 1;     // backends report their load this often
    double report_delay_s = 0.05;     // and it arrives this late
    double publish_interval_s = 0.01; // control folds redirect counts and publishes
    double max_age_s = 5; // without a report this young, the estimate restarts every window
    // A fleet: arrivals spread evenly over the appliances (ECMP); every backend
    // reports to every appliance; each appliance folds its own redirects at every publication
    // and, with share_redirects, sends its new ones to every peer every exchange_interval_s.
    int appliances = 1;
    bool share_redirects = true;
    double exchange_interval_s = 0.1;
    // How the counts travel. mesh: each appliance sends to every peer directly, delivered at
    // once (a LAN hop is well under a millisecond). broker: NATS-like, each appliance publishes
    // once to a broker, which fans the message out; it reaches every other appliance
    // broker_delay_s after it was sent (sender to broker plus broker to receiver), each message a
    // delivery event of its own.
    enum class exchange_kind : std::uint8_t { mesh, broker };
    exchange_kind exchange = exchange_kind::mesh;
    double broker_delay_s = 0.002;
    // The send trigger of src/control/fleet: besides every exchange interval, an appliance sends
    // at once when its unsent redirects to one backend reach send_fraction of that backend's
    // spare calls (capacity x threshold - its estimate), no sooner than send_min_gap_s after its
    // previous send. 0: only the interval.
    double send_fraction = 0;
    double send_min_gap_s = 0.005;
    double probe_interval_s = 0.5;
    double probe_loss = 0.05;    // probability that a probe or its reply is lost
    int probe_failures_down = 2; // consecutive failures that take a backend down
    double base_setup_ms = 20;   // setup delay of an idle backend
    double threshold = 0.9;
    std::vector<std::uint32_t> capacities = {40, 60, 80, 80, 100, 120, 120, 150, 200, 250};
    int dies = 3; // this backend stops answering at die_at_s
    double die_at_s = 450;
    int slows = 7; // this backend's capacity halves at slow_at_s
    double slow_at_s = 650;
    std::uint64_t seed = 1;

    // Priority tiers: each backend's priority (empty: all 0) and the pool's tiers option. A
    // surge multiplies the arrival rate by surge_factor from surge_from_s to surge_to_s; the
    // result then counts each phase (before, during, after) apart.
    std::vector<std::uint32_t> priorities;
    bool tiers = false;
    double surge_from_s = -1;
    double surge_to_s = -1;
    double surge_factor = 1;

    // Policy race: timeout, coalescing and leg cap as configured (the production defaults).
    // A backend answers a leg after an M/M/1 sojourn time, exponential with mean
    // race_answer_ms / (1 - utilisation) — and over its capacity it answers 503. With
    // race_answer_scales, a backend's service time is inversely proportional to its capacity
    // (capacity is speed: one queue, a faster CPU); without, it is the same everywhere
    // (capacity is parallelism: more cores at the same speed).
    balance::race_config race;
    double race_answer_ms = 2;
    bool race_answer_scales = true;
};

struct result {
    std::string label;
    std::uint64_t arrivals = 0;
    std::uint64_t accepted = 0;
    std::uint64_t rejected_all_busy = 0;   // the appliance answered 503
    std::uint64_t rejected_by_backend = 0; // the backend was full (503 from it)
    std::uint64_t failed_dead = 0;         // sent to a backend that had died
    // Utilisation is active calls over the capacity a backend has at that moment (a slowed one
    // has half); dead backends are left out. "Steady" runs from warm-up to the first event.
    double max_over_mean = 0;         // of each backend's time-averaged utilisation, steady
    double instant_max_over_mean = 0; // per-second max/mean, averaged over steady seconds
    double peak_utilisation = 0;      // highest per-second utilisation of any backend, steady
    double time_unbalanced = 0; // share of seconds after warm-up: one >= threshold, one < 50 %
    double setup_p50_ms = 0;
    double setup_p99_ms = 0;
    // From arrival to the redirect: the race (0 for every other policy).
    double redirect_p50_ms = 0;
    double redirect_p99_ms = 0;
    control::race::engine_counters race;  // policy race: what the engine counted
    std::uint64_t exchange_messages = 0;  // fleet: count messages sent (each to every peer)
    std::uint64_t triggered_sends = 0;    // of which sent early by the send trigger
    std::vector<double> mean_utilisation; // per backend, steady window
    // Samples for the plots: one row per second, utilisation of each backend.
    std::vector<double> sample_times;
    std::vector<std::vector<double>> samples;
    std::vector<double> setup_ms; // every accepted call's setup delay, the redirect's included
    // With a surge: per phase (before, during, after), the arrivals, the 503s, the calls
    // redirected to each priority (indexed by priority), and each priority's utilisation summed
    // over the phase's one-second samples (active calls over the tier's capacity).
    struct phase {
        std::uint64_t arrivals = 0;
        std::uint64_t rejected = 0;
        std::vector<std::uint64_t> to_priority;
        std::vector<double> utilisation_sum;
        std::size_t samples = 0;
    };
    std::vector<phase> phases;
};

result run(const scenario& s);

} // namespace sipredir::sim
