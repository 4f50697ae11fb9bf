// SPDX-License-Identifier: BSD-3-Clause
// The event loop. Time is in seconds; every random draw comes from one seeded generator, so a
// scenario gives the same result on every run and machine.
#include "model.hpp"

#include <algorithm>
#include <balance/redirect_counters.hpp>
#include <cmath>
#include <numeric>
#include <queue>
#include <random>

namespace sipredir::sim {
namespace {

using namespace balance;

enum class event_kind : std::uint8_t {
    arrival,
    call_end,
    report_sample,
    report_deliver,
    publish,
    probe,
    sample,
    burst_toggle,
    die,
    slow,
};

struct event {
    double at;
    event_kind kind;
    int backend = -1;
    double value = 0;
    bool operator>(const event& o) const { return at > o.at; }
};

struct backend_model {
    std::uint32_t active = 0;
    double capacity = 0; // effective: halves when it slows down
    bool alive = true;
    int probe_failures = 0;
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) {
        return 0;
    }
    const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

} // namespace

result run(const scenario& s) {
    std::mt19937_64 rng(s.seed);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    auto exponential = [&](double mean) { return -mean * std::log(1.0 - uniform(rng)); };

    const std::size_t n = s.capacities.size();
    std::vector<backend_config> configs(n);
    std::vector<backend_facts> facts(n);
    std::vector<backend_model> backends(n);
    pool_config pool;
    pool.name = "sim";
    pool.policy = s.policy;
    double total_capacity = 0;
    for (std::size_t i = 0; i < n; ++i) {
        configs[i].address = {
                net::ip_address::v4(198, 18, 1, static_cast<std::uint8_t>(i + 1)), 5060};
        configs[i].capacity = s.capacities[i];
        configs[i].threshold = s.threshold;
        configs[i].weight = s.capacities[i]; // wrr weights follow capacity, as an operator would
        facts[i].state = backend_state::up;
        backends[i].capacity = s.capacities[i];
        pool.backends.push_back(static_cast<std::uint16_t>(i));
        total_capacity += s.capacities[i];
    }
    pool_snapshot snapshot = build_pool_snapshot(pool, configs, facts);
    std::vector<std::uint64_t> pending(n, 0);

    // Little's law: rate x holding time = offered calls in progress.
    const double mean_rate = s.offered * total_capacity / s.mean_holding_s;
    // Bursty: 3x the base rate for 25 % of the time, the base rate otherwise, same mean.
    const double base_rate = s.bursty ? mean_rate / 1.5 : mean_rate;
    const double peak_rate = s.bursty ? 3 * base_rate : base_rate;
    bool in_burst = false;

    std::priority_queue<event, std::vector<event>, std::greater<>> events;
    events.push({exponential(1 / peak_rate), event_kind::arrival});
    events.push({0, event_kind::publish});
    events.push({0, event_kind::probe});
    events.push({0, event_kind::sample});
    for (std::size_t i = 0; i < n; ++i) {
        // Reports are not synchronised: each backend starts at its own phase.
        events.push(
                {uniform(rng) * s.report_interval_s, event_kind::report_sample, static_cast<int>(i)}
        );
    }
    if (s.bursty) {
        events.push({exponential(15), event_kind::burst_toggle});
    }
    if (s.dies >= 0) {
        events.push({s.die_at_s, event_kind::die, s.dies});
    }
    if (s.slows >= 0) {
        events.push({s.slow_at_s, event_kind::slow, s.slows});
    }

    result r;
    r.label = s.label;
    std::uint64_t sequence = 0;
    std::vector<double> utilisation_sum(n, 0);
    std::size_t steady_samples = 0;
    std::size_t counted_samples = 0;
    std::size_t unbalanced_samples = 0;
    double instant_ratio_sum = 0;

    while (!events.empty()) {
        const event e = events.top();
        events.pop();
        if (e.at > s.duration_s) {
            break;
        }
        switch (e.kind) {
        case event_kind::arrival: {
            events.push({e.at + exponential(1 / peak_rate), event_kind::arrival});
            // Thinning: a candidate at the peak rate is a call with probability rate / peak.
            const double rate = in_burst ? peak_rate : base_rate;
            if (uniform(rng) * peak_rate > rate) {
                break;
            }
            ++r.arrivals;
            const selection sel = choose(snapshot, {rng(), rng(), sequence++});
            if (sel.count == 0) {
                ++r.rejected_all_busy;
                break;
            }
            const std::uint16_t b = snapshot.backends[sel.picks[0]].slot;
            ++pending[b];
            backend_model& m = backends[b];
            if (!m.alive) {
                ++r.failed_dead;
                break;
            }
            if (m.active >= m.capacity) {
                ++r.rejected_by_backend;
                break;
            }
            ++m.active;
            ++r.accepted;
            // M/M/1-like response time: the busier the proxy, the slower its call setup.
            const double rho = std::min(m.active / m.capacity, 0.99);
            r.setup_ms.push_back(s.base_setup_ms / (1 - rho));
            events.push({e.at + exponential(s.mean_holding_s), event_kind::call_end, b});
            break;
        }
        case event_kind::call_end:
            if (backends[e.backend].active > 0) {
                --backends[e.backend].active;
            }
            break;
        case event_kind::report_sample: {
            backend_model& m = backends[e.backend];
            events.push({e.at + s.report_interval_s, event_kind::report_sample, e.backend});
            if (m.alive) {
                events.push(
                        {e.at + s.report_delay_s,
                         event_kind::report_deliver,
                         e.backend,
                         m.active / m.capacity}
                );
            }
            break;
        }
        case event_kind::report_deliver:
            // The backend reports utilisation; control keeps it as calls of configured capacity.
            take_report(
                    facts[e.backend],
                    e.value * configs[e.backend].capacity,
                    static_cast<std::int64_t>(e.at * 1e9)
            );
            break;
        case event_kind::publish:
            if (s.fold_redirects) {
                fold_redirects(facts, pending);
            }
            std::fill(pending.begin(), pending.end(), 0);
            snapshot = build_pool_snapshot(pool, configs, facts, &snapshot);
            events.push({e.at + s.publish_interval_s, event_kind::publish});
            break;
        case event_kind::probe:
            for (std::size_t i = 0; i < n; ++i) {
                const bool answered = backends[i].alive && uniform(rng) >= s.probe_loss;
                if (answered) {
                    backends[i].probe_failures = 0;
                    facts[i].state = backend_state::up;
                } else if (++backends[i].probe_failures >= s.probe_failures_down) {
                    facts[i].state = backend_state::down;
                }
            }
            events.push({e.at + s.probe_interval_s, event_kind::probe});
            break;
        case event_kind::sample: {
            std::vector<double> u(n, 0);
            double lowest = 1e9;
            double highest = 0;
            double sum = 0;
            std::size_t alive = 0;
            for (std::size_t i = 0; i < n; ++i) {
                if (!backends[i].alive) {
                    continue;
                }
                u[i] = backends[i].active / backends[i].capacity;
                lowest = std::min(lowest, u[i]);
                highest = std::max(highest, u[i]);
                sum += u[i];
                ++alive;
            }
            r.sample_times.push_back(e.at);
            r.samples.push_back(u);
            if (e.at >= s.warmup_s) {
                ++counted_samples;
                unbalanced_samples += highest >= s.threshold && lowest < 0.5;
                if (e.at < std::min(s.die_at_s, s.slow_at_s)) {
                    ++steady_samples;
                    for (std::size_t i = 0; i < n; ++i) {
                        utilisation_sum[i] += u[i];
                    }
                    instant_ratio_sum += sum > 0 ? highest / (sum / alive) : 0;
                    r.peak_utilisation = std::max(r.peak_utilisation, highest);
                }
            }
            events.push({e.at + 1, event_kind::sample});
            break;
        }
        case event_kind::burst_toggle:
            in_burst = !in_burst;
            events.push({e.at + exponential(in_burst ? 5 : 15), event_kind::burst_toggle});
            break;
        case event_kind::die:
            backends[e.backend].alive = false;
            backends[e.backend].active = 0; // its calls are lost with it
            break;
        case event_kind::slow:
            backends[e.backend].capacity /= 2;
            break;
        }
    }

    r.mean_utilisation.resize(n);
    double mean = 0;
    double most = 0;
    for (std::size_t i = 0; i < n; ++i) {
        r.mean_utilisation[i] = steady_samples ? utilisation_sum[i] / steady_samples : 0;
        mean += r.mean_utilisation[i];
        most = std::max(most, r.mean_utilisation[i]);
    }
    mean /= static_cast<double>(n);
    r.max_over_mean = mean > 0 ? most / mean : 0;
    r.instant_max_over_mean = steady_samples ? instant_ratio_sum / steady_samples : 0;
    r.time_unbalanced =
            counted_samples ? static_cast<double>(unbalanced_samples) / counted_samples : 0;
    r.setup_p50_ms = percentile(r.setup_ms, 0.5);
    r.setup_p99_ms = percentile(r.setup_ms, 0.99);
    return r;
}

} // namespace sipredir::sim
