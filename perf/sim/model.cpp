// SPDX-License-Identifier: BSD-3-Clause
// The event loop. Time is in seconds; every random draw comes from one seeded generator, so a
// scenario gives the same result on every run and machine.
#include "model.hpp"

// The caller's request frames are built as the unit tests build theirs.
#include "../../tests/unit/net/frame_builder.hpp"

#include <algorithm>
#include <balance/redirect_counters.hpp>
#include <cmath>
#include <control/race/race_engine.hpp>
#include <memory>
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
    exchange, // an appliance sends its new redirects to its peers (value 1: sent by the trigger)
    exchange_deliver, // the broker's copy of a message reaches the peers (value: its index)
    burst_toggle,
    die,
    slow,
    race_response, // a leg's answer reaches the appliance (value: its index in in_flight)
    race_expire,   // a race's deadline (value: in ns, exactly)
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

std::int64_t to_ns(double t) {
    return std::llround(t * 1e9);
}

// The first line of `name` in a leg request, CRLF included ("" when absent).
std::string_view header_line(std::string_view message, std::string_view name) {
    std::string key = "\r\n";
    key += name;
    key += ": ";
    const std::size_t at = message.find(key);
    if (at == std::string_view::npos) {
        return {};
    }
    const std::size_t end = message.find("\r\n", at + key.size());
    return message.substr(at + 2, end == std::string_view::npos ? 0 : end + 2 - (at + 2));
}

// A backend's final response to a leg: the leg's Via, From, Call-ID and CSeq echoed, a To tag
// added (RFC 3261 §8.2.6.2).
std::string leg_response(std::string_view leg, int code, std::string_view reason) {
    std::string r = "SIP/2.0 ";
    r += std::to_string(code);
    r += ' ';
    r += reason;
    r += "\r\n";
    for (const std::string_view name : {"Via", "From", "Call-ID", "CSeq"}) {
        r += header_line(leg, name);
    }
    const std::string_view to = header_line(leg, "To");
    r += to.substr(0, to.size() >= 2 ? to.size() - 2 : 0);
    r += ";tag=sim\r\nContent-Length: 0\r\n\r\n";
    return r;
}

// The caller's INVITE, numbered by its Call-ID so that an answer finds its arrival again.
constexpr std::string_view call_id_prefix = "Call-ID: sim-";

std::vector<std::uint8_t> caller_frame(std::uint64_t id) {
    std::string m = "INVITE sip:alice@198.18.0.1 SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 198.18.0.2:5061;branch=z9hG4bKsim";
    m += std::to_string(id);
    m += "\r\nMax-Forwards: 70\r\n"
         "From: <sip:bob@198.18.0.2>;tag=c\r\n"
         "To: <sip:alice@198.18.0.1>\r\n";
    m += call_id_prefix;
    m += std::to_string(id);
    m += "\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    return net::test::build_frame({}, m);
}

std::uint64_t caller_id(std::span<const std::uint8_t> frame) {
    const std::string_view text(reinterpret_cast<const char*>(frame.data()), frame.size());
    const std::size_t at = text.find(call_id_prefix);
    if (at == std::string_view::npos) {
        return UINT64_MAX;
    }
    std::uint64_t id = 0;
    for (std::size_t i = at + call_id_prefix.size();
         i < text.size() && text[i] >= '0' && text[i] <= '9';
         ++i) {
        id = id * 10 + static_cast<std::uint64_t>(text[i] - '0');
    }
    return id;
}

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
    // What each appliance knows: its facts, its snapshot, and its own redirects not yet folded
    // (pending) or not yet sent to the peers (unsent).
    struct appliance_state {
        std::vector<backend_facts> facts;
        pool_snapshot snapshot;
        std::vector<std::uint64_t> pending;
        std::vector<std::uint64_t> unsent;
        double last_sent = -1;
        bool trigger_pending = false; // a triggered send is in the event queue
    };
    const auto appliances = static_cast<std::size_t>(std::max(1, s.appliances));
    const bool exchanging = appliances > 1 && s.share_redirects && s.fold_redirects;
    std::vector<backend_facts> initial_facts(n);
    std::vector<backend_model> backends(n);
    pool_config pool;
    pool.name = "sim";
    pool.policy = s.policy;
    pool.race = s.race;
    pool.tiers = s.tiers;
    double total_capacity = 0;
    for (std::size_t i = 0; i < n; ++i) {
        configs[i].address = {
                net::ip_address::v4(198, 18, 1, static_cast<std::uint8_t>(i + 1)), 5060};
        configs[i].capacity = s.capacities[i];
        configs[i].threshold = s.threshold;
        configs[i].weight = s.capacities[i]; // wrr weights follow capacity, as an operator would
        configs[i].name = "b" + std::to_string(i);
        configs[i].priority = s.priorities.empty() ? 0 : s.priorities[i];
        initial_facts[i].state = backend_state::up;
        backends[i].capacity = s.capacities[i];
        pool.backends.push_back(static_cast<std::uint16_t>(i));
        total_capacity += s.capacities[i];
    }
    std::vector<appliance_state> fleet(appliances);
    for (appliance_state& a : fleet) {
        a.facts = initial_facts;
        a.snapshot = build_pool_snapshot(pool, configs, a.facts);
        a.pending.assign(n, 0);
        a.unsent.assign(n, 0);
    }

    // Little's law: rate x holding time = offered calls in progress.
    const double mean_rate = s.offered * total_capacity / s.mean_holding_s;
    // Bursty: 3x the base rate for 25 % of the time, the base rate otherwise, same mean.
    const double base_rate = s.bursty ? mean_rate / 1.5 : mean_rate;
    const double peak_rate = s.bursty ? 3 * base_rate : base_rate;
    bool in_burst = false;
    // Candidates arrive at the highest rate there will be; thinning keeps the current one.
    const bool surging = s.surge_from_s >= 0;
    const double top_rate = peak_rate * std::max(1.0, s.surge_factor);
    const auto phase_at = [&](double t) -> std::size_t {
        return t < s.surge_from_s ? 0 : t < s.surge_to_s ? 1 : 2;
    };
    std::uint32_t top_priority = 0;
    for (const backend_config& c : configs) {
        top_priority = std::max(top_priority, c.priority);
    }
    const double reference_capacity = total_capacity / static_cast<double>(n);

    std::priority_queue<event, std::vector<event>, std::greater<>> events;
    events.push({exponential(1 / top_rate), event_kind::arrival});
    events.push({0, event_kind::publish});
    events.push({0, event_kind::probe});
    events.push({0, event_kind::sample});
    for (std::size_t i = 0; i < n && s.reports; ++i) {
        // Reports are not synchronised: each backend starts at its own phase.
        events.push(
                {uniform(rng) * s.report_interval_s, event_kind::report_sample, static_cast<int>(i)}
        );
    }
    for (std::size_t a = 0; a < appliances && exchanging; ++a) {
        events.push(
                {uniform(rng) * s.exchange_interval_s, event_kind::exchange, static_cast<int>(a)}
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
    if (surging) {
        r.phases.resize(3);
        for (result::phase& p : r.phases) {
            p.to_priority.assign(top_priority + 1, 0);
            p.utilisation_sum.assign(top_priority + 1, 0);
        }
    }
    std::uint64_t sequence = 0;
    std::vector<double> utilisation_sum(n, 0);
    std::size_t steady_samples = 0;
    std::size_t counted_samples = 0;
    std::size_t unbalanced_samples = 0;
    double instant_ratio_sum = 0;
    double now = 0;
    std::vector<double> redirect_ms;

    std::vector<std::vector<std::uint64_t>> in_transit; // broker: messages on their way
    std::vector<std::uint32_t> free_transit;
    // The send trigger: appliance `a`'s unsent redirects to `b` against `b`'s spare calls as `a`
    // estimates them (src/control/fleet/fleet_service.cpp).
    const auto check_trigger = [&](std::size_t a, std::size_t b) {
        appliance_state& st = fleet[a];
        if (st.trigger_pending) {
            return;
        }
        const double load = estimated_load(configs[b], st.facts[b])
                            + static_cast<double>(st.pending[b]) / configs[b].capacity;
        const double spare = std::max((configs[b].threshold - load) * configs[b].capacity, 0.0);
        if (static_cast<double>(st.unsent[b]) < s.send_fraction * spare) {
            return;
        }
        st.trigger_pending = true;
        const double at = st.last_sent < 0 ? now : std::max(now, st.last_sent + s.send_min_gap_s);
        events.push({at, event_kind::exchange, static_cast<int>(a), 1});
    };
    // Appliance `a` sends its unsent redirects: over the mesh, or published through the broker.
    const auto send_counts = [&](std::size_t a) {
        appliance_state& sender = fleet[a];
        if (std::all_of(sender.unsent.begin(), sender.unsent.end(), [](std::uint64_t x) {
                return x == 0;
            })) {
            return false; // nothing changed: no message (a full round adds nothing here)
        }
        ++r.exchange_messages;
        sender.last_sent = now;
        if (s.exchange == scenario::exchange_kind::mesh) {
            // Delivery on a LAN takes well under a millisecond: the peers fold the counts now.
            for (std::size_t p = 0; p < appliances; ++p) {
                if (p != a) {
                    fold_redirects(fleet[p].facts, sender.unsent);
                }
            }
        } else {
            // One publication; the broker's copies arrive broker_delay_s later.
            std::uint32_t slot = 0;
            if (free_transit.empty()) {
                slot = static_cast<std::uint32_t>(in_transit.size());
                in_transit.push_back(sender.unsent);
            } else {
                slot = free_transit.back();
                free_transit.pop_back();
                in_transit[slot] = sender.unsent;
            }
            events.push(
                    {now + s.broker_delay_s,
                     event_kind::exchange_deliver,
                     static_cast<int>(a),
                     static_cast<double>(slot)}
            );
        }
        std::fill(sender.unsent.begin(), sender.unsent.end(), 0);
        return true;
    };

    // The redirect appliance `a` gave a call that arrived at `arrived` names backend `b` at
    // `now` (-1: a 503).
    const auto place_call = [&](double arrived, int b, std::size_t a) {
        const double waited_ms = (now - arrived) * 1000;
        if (s.policy == policy_kind::race) {
            redirect_ms.push_back(waited_ms);
        }
        if (surging) {
            result::phase& p = r.phases[phase_at(now)];
            ++(b < 0 ? p.rejected : p.to_priority[configs[b].priority]);
        }
        if (b < 0) {
            ++r.rejected_all_busy;
            return;
        }
        ++fleet[a].pending[b];
        ++fleet[a].unsent[b];
        if (exchanging && s.send_fraction > 0) {
            check_trigger(a, static_cast<std::size_t>(b));
        }
        backend_model& m = backends[b];
        if (!m.alive) {
            ++r.failed_dead;
            return;
        }
        if (m.active >= m.capacity) {
            ++r.rejected_by_backend;
            return;
        }
        ++m.active;
        ++r.accepted;
        // M/M/1-like response time: the busier the proxy, the slower its call setup.
        const double rho = std::min(m.active / m.capacity, 0.99);
        r.setup_ms.push_back(waited_ms + s.base_setup_ms / (1 - rho));
        events.push({now + exponential(s.mean_holding_s), event_kind::call_end, b});
    };
    const auto policy_pick = [&](std::size_t a) {
        const pool_snapshot& snapshot = fleet[a].snapshot;
        const selection sel = choose(snapshot, {rng(), rng(), sequence++});
        return sel.count == 0 ? -1 : static_cast<int>(snapshot.backends[sel.picks[0]].slot);
    };
    // Policy race runs on one appliance (sim.cpp refuses a racing fleet).
    std::vector<backend_facts>& facts = fleet[0].facts;

    // Policy race: the production engine, its legs answered by the backend models.
    std::unique_ptr<control::race::engine> race;
    std::vector<double> arrived_at;     // by caller id
    std::vector<std::string> in_flight; // leg responses on their way
    std::vector<std::uint32_t> free_flight;
    const control::race::engine_outputs race_out{
            .send =
                    [&](const net::ip_endpoint& to, std::string_view text) {
                        const std::size_t b = to.address.bytes[3] - 1U;
                        const bool invite = text.starts_with("INVITE ");
                        if (!(invite || text.starts_with("OPTIONS ")) || b >= n
                            || !backends[b].alive) {
                            return true; // CANCEL, ACK, BYE; or a dead backend: silence
                        }
                        const backend_model& m = backends[b];
                        const double rho = std::min(m.active / m.capacity, 0.99);
                        const double service_ms =
                                s.race_answer_ms
                                * (s.race_answer_scales ? reference_capacity / m.capacity : 1.0);
                        std::string answer =
                                m.active >= m.capacity
                                        ? leg_response(text, 503, "Service Unavailable")
                                : invite ? leg_response(text, 483, "Too Many Hops")
                                         : leg_response(text, 200, "OK");
                        std::uint32_t slot = 0;
                        if (free_flight.empty()) {
                            slot = static_cast<std::uint32_t>(in_flight.size());
                            in_flight.push_back(std::move(answer));
                        } else {
                            slot = free_flight.back();
                            free_flight.pop_back();
                            in_flight[slot] = std::move(answer);
                        }
                        events.push(
                                {now + exponential(service_ms / (1 - rho) / 1000),
                                 event_kind::race_response,
                                 static_cast<int>(b),
                                 static_cast<double>(slot)}
                        );
                        return true;
                    },
            .answer =
                    [&](pipeline::held_request& request, const pipeline::race_decision& d) {
                        const std::uint64_t id = caller_id(request.frame());
                        if (id >= arrived_at.size()) {
                            return false;
                        }
                        int b = -1;
                        if (d.has_winner && facts[d.winner_slot].state != backend_state::down) {
                            b = d.winner_slot;
                        } else if (!d.refuse) {
                            b = policy_pick(0); // the pool's race fallback
                        }
                        place_call(arrived_at[id], b, 0);
                        return true;
                    },
    };
    const auto set_race_pools = [&] {
        control::race::pool_view v;
        v.races = true;
        v.config = s.race;
        for (std::size_t i = 0; i < n; ++i) {
            if (facts[i].state != backend_state::down) {
                v.live.push_back(
                        {.slot = static_cast<std::uint16_t>(i), .address = configs[i].address}
                );
            }
        }
        std::vector<control::race::pool_view> pools;
        pools.push_back(std::move(v));
        race->set_pools(std::move(pools));
    };
    if (s.policy == policy_kind::race) {
        race = std::make_unique<control::race::engine>(
                control::race::engine_settings{},
                control::race::leg_origin{
                        .local = {net::ip_address::v4(198, 18, 0, 1), 5064},
                        .nonce = rng(),
                        .user_agent = "sipredir-sim",
                }
        );
        set_race_pools();
    }

    while (!events.empty()) {
        const event e = events.top();
        events.pop();
        if (e.at > s.duration_s) {
            break;
        }
        now = e.at;
        switch (e.kind) {
        case event_kind::arrival: {
            events.push({e.at + exponential(1 / top_rate), event_kind::arrival});
            // Thinning: a candidate at the top rate is a call with probability rate / top.
            const double rate = (in_burst ? peak_rate : base_rate)
                                * (surging && phase_at(e.at) == 1 ? s.surge_factor : 1.0);
            if (uniform(rng) * top_rate > rate) {
                break;
            }
            ++r.arrivals;
            if (surging) {
                ++r.phases[phase_at(e.at)].arrivals;
            }
            if (!race) {
                // ECMP: an even spread (no draw for one appliance, so its runs stay as they were).
                const std::size_t a = appliances > 1 ? rng() % appliances : 0;
                place_call(e.at, policy_pick(a), a);
                break;
            }
            // The engine answers at once (coalesced, fallback) or when its race is decided; the
            // race's deadline is an event of its own.
            const std::uint64_t id = arrived_at.size();
            arrived_at.push_back(e.at);
            const std::int64_t now_ns = to_ns(e.at);
            race->submit(caller_frame(id), 0, now_ns, race_out);
            const std::int64_t timeout_ns = std::int64_t{s.race.timeout_ms} * 1'000'000;
            events.push(
                    {e.at + static_cast<double>(timeout_ns) / 1e9,
                     event_kind::race_expire,
                     -1,
                     static_cast<double>(now_ns + timeout_ns)}
            );
            break;
        }
        case event_kind::race_response: {
            // Out of in_flight first: the engine's sends may add to it while it reads this.
            const auto slot = static_cast<std::uint32_t>(e.value);
            const std::string response = std::move(in_flight[slot]);
            free_flight.push_back(slot);
            race->on_datagram(response, configs[e.backend].address, to_ns(e.at), race_out);
            break;
        }
        case event_kind::race_expire:
            // Exactly at the deadline: the event's time in seconds may round a nanosecond short.
            race->expire(std::max(to_ns(e.at), static_cast<std::int64_t>(e.value)), race_out);
            break;
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
            for (appliance_state& a : fleet) {
                take_report(
                        a.facts[e.backend],
                        e.value * configs[e.backend].capacity,
                        static_cast<std::int64_t>(e.at * 1e9)
                );
            }
            break;
        case event_kind::exchange: {
            const auto a = static_cast<std::size_t>(e.backend);
            if (e.value != 0) {
                fleet[a].trigger_pending = false;
                r.triggered_sends += send_counts(a);
                break;
            }
            send_counts(a);
            events.push({e.at + s.exchange_interval_s, event_kind::exchange, e.backend});
            break;
        }
        case event_kind::exchange_deliver: {
            const auto slot = static_cast<std::uint32_t>(e.value);
            for (std::size_t p = 0; p < appliances; ++p) {
                if (p != static_cast<std::size_t>(e.backend)) {
                    fold_redirects(fleet[p].facts, in_transit[slot]);
                }
            }
            free_transit.push_back(slot);
            break;
        }
        case event_kind::publish:
            for (appliance_state& a : fleet) {
                if (s.fold_redirects) {
                    fold_redirects(a.facts, a.pending);
                }
                std::fill(a.pending.begin(), a.pending.end(), 0);
                for (backend_facts& f : a.facts) {
                    // No report younger than max_age: the estimate restarts from this window's
                    // redirects, as src/control/load_monitor does.
                    if (e.at - static_cast<double>(f.reported_at_ns) / 1e9 > s.max_age_s) {
                        take_report(f, 0, to_ns(e.at));
                    }
                }
                a.snapshot = build_pool_snapshot(pool, configs, a.facts, &a.snapshot);
            }
            if (race) {
                set_race_pools();
            }
            events.push({e.at + s.publish_interval_s, event_kind::publish});
            break;
        case event_kind::probe:
            for (std::size_t i = 0; i < n; ++i) {
                const bool answered = backends[i].alive && uniform(rng) >= s.probe_loss;
                // Every appliance probes; they see the same loss here.
                if (answered) {
                    backends[i].probe_failures = 0;
                    for (appliance_state& a : fleet) {
                        a.facts[i].state = backend_state::up;
                    }
                } else if (++backends[i].probe_failures >= s.probe_failures_down) {
                    for (appliance_state& a : fleet) {
                        a.facts[i].state = backend_state::down;
                    }
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
            if (surging) {
                result::phase& p = r.phases[phase_at(e.at)];
                std::vector<double> active(top_priority + 1, 0);
                std::vector<double> capacity(top_priority + 1, 0);
                for (std::size_t i = 0; i < n; ++i) {
                    active[configs[i].priority] += backends[i].active;
                    capacity[configs[i].priority] += backends[i].capacity;
                }
                for (std::size_t t = 0; t <= top_priority; ++t) {
                    p.utilisation_sum[t] += capacity[t] > 0 ? active[t] / capacity[t] : 0;
                }
                ++p.samples;
            }
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

    if (race) {
        // Races still open at the end: their callers are answered by the fallback.
        now = s.duration_s;
        race->flush(race_out);
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
    r.redirect_p50_ms = percentile(redirect_ms, 0.5);
    r.redirect_p99_ms = percentile(redirect_ms, 0.99);
    if (race) {
        r.race = race->counters();
    }
    return r;
}

} // namespace sipredir::sim
