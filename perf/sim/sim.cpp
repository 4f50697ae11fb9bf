// SPDX-License-Identifier: BSD-3-Clause
// Runs every policy through the same seeded scenario and prints how each balances.
//   sim [--duration S] [--scale K] [--publish-ms M] [--bursty] [--no-reports]
//       [--fleet [--exchange-ms M]] [--tiers] [--out DIR] [--check]
//       [--offered PERCENT] [--threshold PERCENT] [--report-ms M] [--steady] [--equal-capacities]
//       [--appliances N,N,...] [--fleet-policies P,P,...] [--broker [--broker-ms M]]
//       [--send-fraction F] [--own-counts] [--goal G]
// --fleet runs least-load and proportional on 1, 3 and 50 appliances instead, without the
// redirect fold, with each appliance folding only its own redirects, and with the redirects
// shared between the appliances every --exchange-ms (100). --appliances replaces 1, 3 and 50;
// --fleet-policies runs each named policy, counts shared, on each fleet size instead of those
// five variants, and ends with a policy x appliances table of per-second max/mean marked
// against --goal (1.10); with --own-counts nothing is shared. --broker sends the counts through a
// NATS-like broker (one publish, a fan-out reaching every peer --broker-ms, 2, later) instead of
// the direct mesh;
// --send-fraction adds the fleet exchange's send trigger (0.05 in the product; 0: off).
// --steady leaves out the backend that dies and the one that slows down; --equal-capacities
// gives every backend the mean capacity (give it after --scale).
// --tiers runs a primary site and an overflow site (priority 0 and 1, five backends each) in
// pools with tiers on, through a quiet phase, a surge past the primary's capacity and a quiet
// phase again, and prints where each phase's calls went.
// --out writes utilisation and setup-delay CSVs for perf/sim/plot.py; --check exits non-zero
// when a scenario loses a call from its accounting, or the race engine answers a caller other
// than exactly once (the smoke test in scripts/test.sh).
#include "model.hpp"

#include <algorithm>
#include <cctype>
#include <control/balance_names.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace sipredir;
using balance::policy_kind;

namespace {

// Primary and overflow sites of five backends each, equal capacity; the offered load is 60 % of
// the primary's capacity for the first and last third and 150 % of it in the middle third.
int run_tiers(sim::scenario base, std::uint32_t scale) {
    const std::uint32_t each = 100 * scale;
    base.capacities.assign(10, each);
    base.priorities = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
    base.dies = -1;
    base.slows = -1;
    base.offered = 0.3; // of both sites: 60 % of the primary
    base.surge_factor = 2.5;
    base.surge_from_s = base.duration_s / 3;
    base.surge_to_s = 2 * base.duration_s / 3;
    struct variant {
        const char* label;
        policy_kind policy;
        bool tiers;
    };
    const variant variants[] = {
            {"proportional, tiers", policy_kind::proportional, true},
            {"least-load, tiers", policy_kind::least_load, true},
            {"wrr, tiers", policy_kind::wrr, true},
            {"hash, tiers", policy_kind::hash, true},
            {"proportional, no tiers", policy_kind::proportional, false},
    };
    std::printf(
            "2 sites x 5 backends of %u calls, threshold %.1f, calls held %.0f s, "
            "snapshot every %.0f ms, reports every %.1f s; offered %.0f %% of the primary's "
            "capacity, %.0f %% from %.0f s to %.0f s\n\n",
            each,
            base.threshold,
            base.mean_holding_s,
            base.publish_interval_s * 1000,
            base.report_interval_s,
            base.offered * 2 * 100,
            base.offered * 2 * base.surge_factor * 100,
            base.surge_from_s,
            base.surge_to_s
    );
    std::printf("| pool | phase | calls/s | to primary | to overflow | 503 | primary util | "
                "overflow util |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
    const char* names[] = {"before", "surge", "after"};
    const double lengths[] = {
            base.surge_from_s,
            base.surge_to_s - base.surge_from_s,
            base.duration_s - base.surge_to_s};
    for (const variant& v : variants) {
        sim::scenario s = base;
        s.label = v.label;
        s.policy = v.policy;
        s.tiers = v.tiers;
        const sim::result r = sim::run(s);
        for (std::size_t k = 0; k < r.phases.size(); ++k) {
            const auto& p = r.phases[k];
            const double a = std::max<double>(1, static_cast<double>(p.arrivals));
            const double samples = std::max<double>(1, static_cast<double>(p.samples));
            std::printf(
                    "| %s | %s | %.0f | %.1f %% | %.1f %% | %.1f %% | %.0f %% | %.0f %% |\n",
                    v.label,
                    names[k],
                    static_cast<double>(p.arrivals) / lengths[k],
                    100 * static_cast<double>(p.to_priority[0]) / a,
                    100 * static_cast<double>(p.to_priority[1]) / a,
                    100 * static_cast<double>(p.rejected) / a,
                    100 * p.utilisation_sum[0] / samples,
                    100 * p.utilisation_sum[1] / samples
            );
        }
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    sim::scenario base;
    std::string out_dir;
    bool check = false;
    bool fleet = false;
    bool tiers = false;
    std::uint32_t scale = 1;
    std::vector<int> appliance_counts = {1, 3, 50};
    std::vector<std::string> fleet_policies;
    bool steady = false;
    bool own_counts = false;
    double goal = 1.10;
    // A comma-separated list's items.
    const auto split = [](const std::string& list) {
        std::vector<std::string> items;
        std::size_t from = 0;
        while (from <= list.size()) {
            const std::size_t comma = std::min(list.find(',', from), list.size());
            if (comma > from) {
                items.push_back(list.substr(from, comma - from));
            }
            from = comma + 1;
        }
        return items;
    };
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--duration" && i + 1 < argc) {
            base.duration_s = std::atof(argv[++i]);
        } else if (arg == "--scale" && i + 1 < argc) {
            // Capacities (and so the call rate) times K, utilisation unchanged.
            const auto k = static_cast<std::uint32_t>(std::atoi(argv[++i]));
            for (auto& c : base.capacities) {
                c *= k;
            }
            scale *= k;
        } else if (arg == "--publish-ms" && i + 1 < argc) {
            base.publish_interval_s = std::atof(argv[++i]) / 1000;
        } else if (arg == "--bursty") {
            base.bursty = true;
        } else if (arg == "--no-reports") {
            base.reports = false;
        } else if (arg == "--fleet") {
            fleet = true;
        } else if (arg == "--tiers") {
            tiers = true;
        } else if (arg == "--exchange-ms" && i + 1 < argc) {
            base.exchange_interval_s = std::atof(argv[++i]) / 1000;
        } else if (arg == "--offered" && i + 1 < argc) {
            base.offered = std::atof(argv[++i]) / 100;
        } else if (arg == "--report-ms" && i + 1 < argc) {
            base.report_interval_s = std::atof(argv[++i]) / 1000;
        } else if (arg == "--threshold" && i + 1 < argc) {
            base.threshold = std::atof(argv[++i]) / 100;
        } else if (arg == "--own-counts") {
            own_counts = true;
        } else if (arg == "--equal-capacities") {
            // Every backend the mean capacity: what load-agnostic, weight-agnostic policies
            // (random) need.
            double sum = 0;
            for (const auto c : base.capacities) {
                sum += c;
            }
            base.capacities.assign(
                    base.capacities.size(),
                    static_cast<std::uint32_t>(sum / static_cast<double>(base.capacities.size()))
            );
        } else if (arg == "--steady") {
            steady = true;
        } else if (arg == "--appliances" && i + 1 < argc) {
            appliance_counts.clear();
            for (const std::string& n : split(argv[++i])) {
                appliance_counts.push_back(std::max(1, std::atoi(n.c_str())));
            }
        } else if (arg == "--fleet-policies" && i + 1 < argc) {
            fleet_policies = split(argv[++i]);
        } else if (arg == "--broker") {
            base.exchange = sim::scenario::exchange_kind::broker;
        } else if (arg == "--broker-ms" && i + 1 < argc) {
            base.broker_delay_s = std::atof(argv[++i]) / 1000;
        } else if (arg == "--send-fraction" && i + 1 < argc) {
            base.send_fraction = std::atof(argv[++i]);
        } else if (arg == "--goal" && i + 1 < argc) {
            goal = std::atof(argv[++i]);
        } else if (arg == "--out" && i + 1 < argc) {
            out_dir = argv[++i];
        } else if (arg == "--check") {
            check = true;
        } else {
            std::fprintf(
                    stderr,
                    "usage: %s [--duration S] [--scale K] [--publish-ms M] [--bursty] "
                    "[--no-reports] [--fleet [--exchange-ms M]] [--tiers] [--out DIR] "
                    "[--check] [--offered PERCENT] [--threshold PERCENT] [--report-ms M] "
                    "[--steady] [--equal-capacities] "
                    "[--appliances N,...] [--fleet-policies P,...] [--broker [--broker-ms M]] "
                    "[--send-fraction F] [--own-counts] [--goal G]\n",
                    argv[0]
            );
            return 2;
        }
    }
    // Events scale with the run: a shorter run keeps the death and the slow-down inside it.
    base.die_at_s = base.duration_s * 0.5;
    base.slow_at_s = base.duration_s * 0.72;
    if (steady) {
        base.dies = -1;
        base.slows = -1;
        base.die_at_s = base.slow_at_s = base.duration_s + 1;
    }
    if (tiers) {
        return run_tiers(base, scale);
    }

    struct variant {
        const char* label;
        policy_kind policy;
        bool fold = true;
        std::uint32_t race_coalesce_ms = 0;
        bool race_answer_scales = true;
    };
    const variant variants[] = {
            {"least-load-naive", policy_kind::least_load, false},
            {"least-load", policy_kind::least_load},
            {"proportional", policy_kind::proportional},
            {"p2c", policy_kind::p2c},
            {"sequence", policy_kind::sequence},
            {"wrr", policy_kind::wrr},
            {"hash", policy_kind::hash},
            {"random", policy_kind::random},
            {"race", policy_kind::race},
            {"race-coalesce-20ms", policy_kind::race, true, 20},
            {"race-equal-answers", policy_kind::race, true, 0, false},
    };
    std::vector<sim::scenario> runs;
    if (!fleet) {
        for (const variant& v : variants) {
            sim::scenario s = base;
            s.label = v.label;
            s.policy = v.policy;
            s.fold_redirects = v.fold;
            s.race.coalesce_ms = v.race_coalesce_ms;
            s.race_answer_scales = v.race_answer_scales;
            runs.push_back(s);
        }
    } else {
        struct fleet_variant {
            const char* label;
            policy_kind policy;
            bool fold;
            bool share;
        };
        const fleet_variant fleet_variants[] = {
                {"least-load-naive", policy_kind::least_load, false, false},
                {"least-load, own counts", policy_kind::least_load, true, false},
                {"least-load, shared", policy_kind::least_load, true, true},
                {"proportional, own counts", policy_kind::proportional, true, false},
                {"proportional, shared", policy_kind::proportional, true, true},
        };
        std::vector<fleet_variant> chosen(std::begin(fleet_variants), std::end(fleet_variants));
        if (!fleet_policies.empty()) {
            chosen.clear();
            for (const std::string& name : fleet_policies) {
                // Race runs on one appliance only; the model times no probes for least-latency.
                const auto* it = std::find_if(
                        control::policy_kind_table.begin(),
                        control::policy_kind_table.end(),
                        [&](const auto& e) { return e.name == name; }
                );
                if (it == control::policy_kind_table.end() || it->value == policy_kind::race
                    || it->value == policy_kind::least_latency) {
                    std::fprintf(stderr, "%s: not a policy the fleet model runs\n", name.c_str());
                    return 2;
                }
                // The label outlives the loop: the names stay in fleet_policies.
                chosen.push_back({name.c_str(), it->value, true, !own_counts});
            }
        }
        for (const int appliances : appliance_counts) {
            for (const fleet_variant& v : chosen) {
                if (appliances == 1 && v.share && fleet_policies.empty()) {
                    continue; // nobody to share with: the same as own counts
                }
                sim::scenario s = base;
                s.label = std::string(v.label) + " (" + std::to_string(appliances) + ")";
                s.policy = v.policy;
                s.fold_redirects = v.fold;
                s.share_redirects = v.share;
                s.appliances = appliances;
                runs.push_back(s);
            }
        }
    }

    if (!out_dir.empty()) {
        std::filesystem::create_directories(out_dir);
    }
    double total = 0;
    for (auto c : base.capacities) {
        total += c;
    }
    std::printf(
            "%.0f calls/s, snapshot every %.0f ms, ",
            base.offered * total / base.mean_holding_s,
            base.publish_interval_s * 1000
    );
    std::printf(
            "%s arrivals, %.0f %% offered load, %zu backends (threshold %.0f %%), ",
            base.bursty ? "bursty" : "Poisson",
            base.offered * 100,
            base.capacities.size(),
            base.threshold * 100
    );
    if (base.reports) {
        std::printf(
                "reports every %.1f s (+%.0f ms), ",
                base.report_interval_s,
                base.report_delay_s * 1000
        );
    } else {
        std::printf("no load reports, ");
    }
    if (fleet) {
        std::printf(
                "appliances in brackets, redirects shared every %.0f ms ",
                base.exchange_interval_s * 1000
        );
        if (base.exchange == sim::scenario::exchange_kind::broker) {
            std::printf("through a broker (+%.1f ms), ", base.broker_delay_s * 1000);
        } else {
            std::printf("over the mesh, ");
        }
        if (base.send_fraction > 0) {
            std::printf(
                    "and at once past %.0f %% of a backend's spare calls (%.0f ms apart), ",
                    base.send_fraction * 100,
                    base.send_min_gap_s * 1000
            );
        }
    }
    if (steady) {
        std::printf("no backend dies or slows\n\n");
    } else {
        std::printf(
                "backend %d dies at %.0f s, backend %d halves at %.0f s\n\n",
                base.dies,
                base.die_at_s,
                base.slows,
                base.slow_at_s
        );
    }
    std::printf("| policy | max/mean, averaged util | max/mean, per second | peak util | time "
                "unbalanced | setup p50 / p99 ms | rejected: appliance / backend / dead | "
                "race: wait p50 / p99 ms, legs per call |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    int failures = 0;
    std::string race_rows; // the race engine's counters, printed after the table
    // --fleet-policies: per-second max/mean and count messages per appliance-second, by run.
    std::vector<double> ratios;
    std::vector<double> message_rates;
    for (const sim::scenario& s : runs) {
        const char* label = s.label.c_str();
        const sim::result r = sim::run(s);
        const double a = static_cast<double>(r.arrivals);
        std::printf(
                "| %s | %.3f | %.3f | %.0f %% | %.1f %% | %.0f / %.0f | %.2f %% / %.2f %% / %.2f "
                "%% ",
                label,
                r.max_over_mean,
                r.instant_max_over_mean,
                100 * r.peak_utilisation,
                100 * r.time_unbalanced,
                r.setup_p50_ms,
                r.setup_p99_ms,
                100 * r.rejected_all_busy / a,
                100 * r.rejected_by_backend / a,
                100 * r.failed_dead / a
        );
        if (s.policy == policy_kind::race) {
            const auto& c = r.race;
            const auto share = [&](std::uint64_t x) { return 100 * static_cast<double>(x) / a; };
            char row[256];
            std::snprintf(
                    row,
                    sizeof row,
                    "| %s | %.1f %% | %.1f %% | %.2f %% | %.2f %% | %.2f %% | %.2f %% | %.2f %% | "
                    "%.1f |\n",
                    label,
                    share(c.races),
                    share(c.coalesced),
                    share(c.won),
                    share(c.timed_out),
                    share(c.all_refused),
                    share(c.no_backend),
                    share(c.table_full),
                    static_cast<double>(c.legs_capped) / a
            );
            race_rows += row;
            std::printf(
                    "| %.1f / %.1f, %.1f |\n",
                    r.redirect_p50_ms,
                    r.redirect_p99_ms,
                    static_cast<double>(r.race.legs) / a
            );
        } else {
            std::printf("| – |\n");
        }
        ratios.push_back(r.instant_max_over_mean);
        message_rates.push_back(
                static_cast<double>(r.exchange_messages)
                / (s.duration_s * static_cast<double>(s.appliances))
        );
        const std::uint64_t accounted =
                r.accepted + r.rejected_all_busy + r.rejected_by_backend + r.failed_dead;
        if (check && s.policy == policy_kind::race
            && (r.race.requests != r.arrivals || r.race.answered != r.arrivals)) {
            std::fprintf(
                    stderr,
                    "%s: %llu arrivals, %llu handed to the race engine, %llu answered by it\n",
                    label,
                    static_cast<unsigned long long>(r.arrivals),
                    static_cast<unsigned long long>(r.race.requests),
                    static_cast<unsigned long long>(r.race.answered)
            );
            ++failures;
        }
        if (check && (r.arrivals == 0 || accounted != r.arrivals)) {
            std::fprintf(
                    stderr,
                    "%s: %llu arrivals, %llu accounted for\n",
                    label,
                    static_cast<unsigned long long>(r.arrivals),
                    static_cast<unsigned long long>(accounted)
            );
            ++failures;
        }
        if (!out_dir.empty()) {
            // File names: the label with anything but letters, digits and '-' as '_'.
            std::string name = s.label;
            for (char& c : name) {
                if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
                    c = '_';
                }
            }
            std::ofstream u(out_dir + "/utilisation_" + name + ".csv");
            u << "t";
            for (std::size_t b = 0; b < base.capacities.size(); ++b) {
                u << ",b" << b << "_cap" << base.capacities[b];
            }
            u << "\n";
            for (std::size_t k = 0; k < r.samples.size(); ++k) {
                u << r.sample_times[k];
                for (double x : r.samples[k]) {
                    u << "," << x;
                }
                u << "\n";
            }
            std::ofstream d(out_dir + "/setup_" + name + ".csv");
            for (double ms : r.setup_ms) {
                d << ms << "\n";
            }
            std::ofstream sum(out_dir + "/summary.csv", std::ios::app);
            sum << name << "," << r.max_over_mean << "," << r.instant_max_over_mean << ","
                << r.peak_utilisation << "," << r.time_unbalanced << "," << r.setup_p50_ms << ","
                << r.setup_p99_ms << ","
                << (r.rejected_all_busy + r.rejected_by_backend + r.failed_dead) / a << "\n";
        }
    }
    if (!race_rows.empty()) {
        std::printf(
                "\nThe race engine's counters, as shares of arrivals:\n\n| policy | raced | "
                "coalesced | won | timed out "
                "| all refused | no backend | table full | legs capped per arrival |\n"
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n%s",
                race_rows.c_str()
        );
    }
    if (fleet && !fleet_policies.empty()) {
        // Runs went appliance count by appliance count, each through the same policies.
        const std::size_t np = fleet_policies.size();
        std::printf(
                "\nPer-second max/mean (✓: at most %.2f); count messages per appliance "
                "per second in brackets:\n\n| policy |",
                goal
        );
        for (const int n : appliance_counts) {
            std::printf(" %d appliance%s |", n, n > 1 ? "s" : "");
        }
        std::printf("\n|---|");
        for (std::size_t k = 0; k < appliance_counts.size(); ++k) {
            std::printf("---:|");
        }
        std::printf("\n");
        for (std::size_t p = 0; p < np; ++p) {
            std::printf("| %s |", fleet_policies[p].c_str());
            for (std::size_t k = 0; k < appliance_counts.size(); ++k) {
                const double x = ratios[k * np + p];
                if (x == 0) {
                    std::printf(" –"); // no steady second: the run ended within the warm-up
                } else {
                    std::printf(" %.3f %s", x, x <= goal ? "✓" : "✗");
                }
                if (appliance_counts[k] > 1) {
                    std::printf(" (%.1f)", message_rates[k * np + p]);
                }
                std::printf(" |");
            }
            std::printf("\n");
        }
    }
    return failures == 0 ? 0 : 1;
}
