// SPDX-License-Identifier: BSD-3-Clause
// sipredir: answers SIP requests with 302 (or 503) naming the least-loaded backend, on DPDK.
//
//   sipredir [EAL options] -- --config FILE [--duration SECONDS] [--stats-json FILE]
//                             [--exit-when-idle MS]
//   sipredir --check-config FILE | --version | --help
//
// --check-config reads and compiles the configuration as a reload would, without EAL (no
// hugepages, no root): exit 0, or `file:line: what is wrong` on stderr and exit 1. The
// application's options are checked before EAL starts too.
//
// The main lcore is the control plane (configuration, table publication, exception path,
// statistics); every other lcore is a worker with its own RX/TX queue pair.
#include "app.hpp"
#include "exception_path.hpp"
#include "port.hpp"
#include "race_path.hpp"
#include "telemetry.hpp"
#include "worker.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_pdump.h>
#include <rte_ring.h>

#include <charconv>
#include <chrono>
#include <control/check_config.hpp>
#include <control/exit_stats.hpp>
#include <control/log.hpp>
#include <control/mbuf_budget.hpp>
#include <control/plane.hpp>
#include <control/snapshot_builder.hpp>
#include <control/start_warnings.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <getopt.h>
#include <numa.h>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>
#include <version.hpp>

namespace {

using namespace sipredir;
using clock_type = std::chrono::steady_clock;

struct options {
    std::string config;
    double duration = 0; // seconds; 0: until SIGINT / SIGTERM
    std::string stats_json;
    std::uint32_t exit_when_idle_ms = 0; // 0: never
};

// A configuration refused once the lcores are known: printed as it is (`file:line: ...`).
struct config_refused : std::runtime_error {
    using std::runtime_error::runtime_error;
};

app::appliance* g_app = nullptr;   // for the signal handlers
control::plane* g_plane = nullptr; // for SIGHUP

extern "C" void on_signal(int) {
    if (g_app != nullptr) {
        g_app->stop.store(true, std::memory_order_relaxed);
    }
}

extern "C" void on_hangup(int) {
    if (g_plane != nullptr) {
        g_plane->request_reload(); // a lock-free atomic store: safe in a handler
    }
}

// The usage to `to` (stdout for --help, stderr for a wrong command line).
void usage(std::FILE* to, const char* program) {
    std::fprintf(
            to,
            "usage: %s [EAL options] -- --config FILE [--duration SECONDS]\n"
            "          [--stats-json FILE] [--exit-when-idle MS]\n"
            "       %s --check-config FILE | --version | --help\n"
            "  --config FILE        the TOML configuration (docs/configuration.md)\n"
            "  --duration SECONDS   stop after this long (default: at SIGINT/SIGTERM)\n"
            "  --stats-json FILE    also write the final statistics (JSON) here\n"
            "  --exit-when-idle MS  stop once no frame arrived for MS ms after the first\n"
            "                       (replaying a pcap)\n"
            "  --check-config FILE  read and compile FILE as a reload would, without EAL; exit\n"
            "                       0, or print file:line: what is wrong and exit 1\n"
            "EAL options: DPDK's, e.g. -l 0,1 -a 0000:01:00.0 (DPDK's EAL parameters guide).\n",
            program,
            program
    );
}

// A positive number of seconds: "abc", "5s", "nan", "inf" or 0 must not pass as a duration.
bool seconds_value(std::string_view text, double& out) {
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !(v > 0)
        || v > 1e9) {
        return false;
    }
    out = v;
    return true;
}

// A whole number of milliseconds up to a day: "abc", "-1" or "12x" must not become a number.
bool milliseconds_value(std::string_view text, std::uint32_t& out) {
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || v > 86'400'000) {
        return false;
    }
    out = v;
    return true;
}

bool parse_options(int argc, char** argv, options& o) {
    static const option long_options[] = {
            {"config", required_argument, nullptr, 'c'},
            {"duration", required_argument, nullptr, 'd'},
            {"stats-json", required_argument, nullptr, 's'},
            {"exit-when-idle", required_argument, nullptr, 'i'},
            {"help", no_argument, nullptr, 'h'},
            {nullptr, 0, nullptr, 0},
    };
    optind = 1;
    int c = 0;
    while ((c = getopt_long(argc, argv, "", long_options, nullptr)) != -1) {
        switch (c) {
        case 'c':
            o.config = optarg;
            break;
        case 'd':
            if (!seconds_value(optarg, o.duration)) {
                std::fprintf(
                        stderr,
                        "sipredir: --duration needs a number of seconds above 0, not '%s'\n",
                        optarg
                );
                return false;
            }
            break;
        case 's':
            o.stats_json = optarg;
            break;
        case 'i':
            if (!milliseconds_value(optarg, o.exit_when_idle_ms)) {
                std::fprintf(
                        stderr,
                        "sipredir: --exit-when-idle needs a whole number of ms from 0 to "
                        "86400000, not '%s'\n",
                        optarg
                );
                return false;
            }
            break;
        default:
            usage(stderr, argv[0]);
            return false;
        }
    }
    if (optind < argc) {
        std::fprintf(stderr, "sipredir: unexpected argument '%s'\n", argv[optind]);
        return false;
    }
    if (o.config.empty()) {
        std::fprintf(stderr, "sipredir: --config FILE is required\n");
        usage(stderr, argv[0]);
        return false;
    }
    return true;
}

// --version, --help and --check-config FILE, anywhere on the command line: answered before EAL
// starts, so that they need no hugepages, no NIC and no root. -1 when none is given, else the
// exit status.
int answer_without_eal(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--version") {
            std::printf(
                    "%.*s\n",
                    static_cast<int>(control::version_text.size()),
                    control::version_text.data()
            );
            return 0;
        }
        if (a == "--help" || a == "-h") {
            usage(stdout, argv[0]);
            return 0;
        }
        if (a == "--check-config") {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "sipredir: --check-config needs a FILE\n");
                return 2;
            }
            const std::string error = control::check_config(argv[i + 1]);
            if (!error.empty()) {
                std::fprintf(stderr, "%s\n", error.c_str());
                return 1;
            }
            std::printf("%s: ok\n", argv[i + 1]);
            for (const std::string& w : control::check_config_warnings(argv[i + 1])) {
                std::fprintf(stderr, "sipredir: warning: %s\n", w.c_str());
            }
            return 0;
        }
    }
    return -1;
}

// The application's options, after EAL's and their "--", checked before EAL starts: a wrong one
// costs no hugepage set-up. False (said on stderr) when they are wrong.
bool parse_application_options(int argc, char** argv, options& o) {
    int dashes = 1;
    while (dashes < argc && std::string_view(argv[dashes]) != "--") {
        ++dashes;
    }
    if (dashes == argc) {
        std::fprintf(stderr, "sipredir: give the EAL options, then --, then --config FILE\n");
        usage(stderr, argv[0]);
        return false;
    }
    // getopt_long reorders what it is given: a copy, so that EAL still sees the command line.
    std::vector<char*> args{argv[0]};
    args.insert(args.end(), argv + dashes + 1, argv + argc);
    return parse_options(static_cast<int>(args.size()), args.data(), o);
}

std::uint16_t first_port() {
    std::uint16_t id = 0;
    RTE_ETH_FOREACH_DEV(id) {
        return id;
    }
    throw std::runtime_error("no ethdev port: give a NIC or a --vdev (net_af_packet, net_tap, "
                             "net_pcap, net_null)");
}

void warn_about_numa(const app::appliance& a) {
    if (numa_available() < 0) {
        return;
    }
    for (const app::worker_slot& w : a.workers) {
        const int node =
                numa_node_of_cpu(static_cast<int>(rte_lcore_to_cpu_id(static_cast<int>(w.lcore))));
        if (node >= 0 && node != a.data.socket) {
            std::fprintf(
                    stderr,
                    "sipredir: warning: worker lcore %u is on NUMA node %d, port %u on %d: "
                    "every frame crosses the interconnect\n",
                    w.lcore,
                    node,
                    a.data.id,
                    a.data.socket
            );
        }
    }
}

bool publish(
        app::appliance& a,
        const control::appliance_config& config,
        std::span<const balance::backend_facts> facts,
        const balance::overload_signal& overload = {}
) {
    // Each worker matches rules with its own Hyperscan scratch, made here before the ruleset is
    // published (once per ruleset: it keeps them).
    if (config.rules && !config.rules->allocate_scratch(a.workers.size())) {
        control::log(control::log_level::error, "rules_scratch_failed");
        return false;
    }
    const std::uint64_t generation = a.generation.load(std::memory_order_relaxed) + 1;
    auto next = control::build_tables(config, facts, generation, a.table->acquire(), overload);
    const bool published = a.table->publish(next);
    if (published) {
        a.generation.store(generation, std::memory_order_relaxed);
    }
    a.table->reclaim();
    return published;
}

rte_ring* make_ring(const std::string& name, const app::appliance& a, unsigned size) {
    rte_ring* r = rte_ring_create(name.c_str(), size, a.data.socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (r == nullptr) {
        throw std::runtime_error("cannot create the exception ring " + name);
    }
    return r;
}

// The port's own counters (rte_eth_stats); nothing when the port cannot give them.
std::optional<control::port_counters> read_port(const app::appliance& a) {
    rte_eth_stats port{};
    if (rte_eth_stats_get(a.data.id, &port) != 0) {
        return std::nullopt;
    }
    return control::port_counters{
            .ipackets = port.ipackets,
            .opackets = port.opackets,
            .imissed = port.imissed,
            .ierrors = port.ierrors,
            .oerrors = port.oerrors,
            .rx_nombuf = port.rx_nombuf,
    };
}

control::dataplane_counters read_dataplane(const app::appliance& a) {
    return {
            .port = read_port(a),
            .tap_written = a.to_kernel.load(),
            .tap_dropped = a.to_kernel_dropped.load(),
            .from_kernel_dropped = a.from_kernel_dropped.load(),
    };
}

// From the running configuration (after reloads), whose backends name the slots.
std::string final_report(const app::appliance& a, const control::plane& plane, double seconds) {
    const control::appliance_config& config = plane.config();
    control::run_summary run;
    run.race = plane.races() != nullptr ? &plane.races()->counters() : nullptr;
    run.seconds = seconds;
    run.workers = static_cast<std::uint32_t>(a.workers.size());
    for (const control::static_backend& b : config.backends) {
        run.backend_names.push_back(b.config.name);
        run.redirects.push_back(a.redirects->total(b.slot));
        run.race_wins.push_back(run.race != nullptr ? run.race->won_by_slot[b.slot] : 0);
    }
    run.exception_to_kernel = a.to_kernel.load();
    run.exception_to_kernel_dropped = a.to_kernel_dropped.load();
    const pipeline::stats_totals t = pipeline::sum(a.all_stats());
    run.exception_from_kernel = t.from_kernel_sent;
    run.exception_dropped = a.from_kernel_dropped.load() + t.from_kernel_tx_full;
    run.port = read_port(a).value_or(control::port_counters{});
    for (const pipeline::worker_stats& w : a.all_stats()) {
        std::uint64_t dropped = 0;
        for (const pipeline::counter& c : w.dropped) {
            dropped += c.get();
        }
        run.per_worker.push_back(
                {.rx = w.rx.get(),
                 .replied = w.replied.get(),
                 .dropped = dropped,
                 .busy_ns = w.busy_ns.get()}
        );
    }
    return control::stats_json(t, run);
}

std::size_t count_workers() {
    const std::size_t workers = rte_lcore_count() - 1;
    if (workers == 0) {
        throw std::runtime_error("give at least two lcores (e.g. -l 0,1): the main lcore runs "
                                 "the control plane, each other lcore a worker");
    }
    if (workers > sync::max_readers) {
        throw std::runtime_error("at most " + std::to_string(sync::max_readers) + " workers");
    }
    return workers;
}

// The pool must cover every place an mbuf can wait at once, or RX runs dry under load. Left to
// us (mbufs = 0), it is sized for the workers there are.
void size_mbuf_pool(app::appliance& a, std::size_t workers) {
    if (a.config.dataplane.mbufs == 0) {
        a.config.dataplane.mbufs =
                control::sized_mbuf_pool(a.config, static_cast<std::uint32_t>(workers));
        a.config.dataplane.mbufs_sized = true;
        if (a.config.dataplane.mbufs == 0) {
            throw config_refused(
                    a.config.source + ": no pool below 2^24 mbufs covers " + std::to_string(workers)
                    + " workers (docs/operations.md)"
            );
        }
        std::fprintf(
                stderr,
                "sipredir: mbufs = %u, sized for %zu worker%s (docs/operations.md)\n",
                a.config.dataplane.mbufs,
                workers,
                workers == 1 ? "" : "s"
        );
    }
    if (const std::string refused =
                control::check_mbuf_pool(a.config, static_cast<std::uint32_t>(workers));
        !refused.empty()) {
        throw config_refused(refused);
    }
}

// The shared tables, one slot per worker lcore, the data port and the appliance's identity
// (its MAC from the port).
void start_dataplane(app::appliance& a, std::size_t workers) {
    a.table = std::make_unique<balance::load_table>(workers);
    // One more for the control lcore, which answers raced requests.
    a.redirects = std::make_unique<balance::redirect_counters>(workers + 1);
    a.stats = std::make_unique<pipeline::worker_stats[]>(workers);
    unsigned lcore = 0;
    RTE_LCORE_FOREACH_WORKER(lcore) {
        a.workers.push_back({.lcore = lcore, .queue = static_cast<std::uint16_t>(a.workers.size())}
        );
    }
    // The control lcore sends the kernel's frames on a TX queue of its own, after the workers'.
    a.data = app::start_port(
            first_port(),
            static_cast<std::uint16_t>(workers),
            static_cast<std::uint16_t>(workers),
            a.config,
            a.config.listen.promiscuous,
            "data_pool"
    );
    rte_ether_addr mac{};
    rte_eth_macaddr_get(a.data.id, &mac);
    std::copy(std::begin(mac.addr_bytes), std::end(mac.addr_bytes), a.own_mac.begin());
    a.identity = control::make_identity(a.config, a.own_mac);
    a.identity.udp_checksum_in_software = !a.data.udp_checksum_offload;
    warn_about_numa(a);
}

// The TAP and each worker's rings to the kernel, when the configuration has an exception path;
// the race rings when a pool races (the configuration then requires the exception path: the
// legs' socket is the kernel's, and worker 0's from_kernel ring carries their answers).
void start_side_paths(app::appliance& a, std::size_t workers) {
    if (!a.config.exception.tap.empty()) {
        a.tap = app::start_tap(a.config, a.own_mac);
        for (std::size_t w = 0; w < workers; ++w) {
            a.workers[w].to_kernel =
                    make_ring("to_kernel_" + std::to_string(w), a, a.config.exception.ring_size);
            a.workers[w].to_kernel_urgent = make_ring(
                    "to_kernel_urgent_" + std::to_string(w), a, control::urgent_ring_size
            );
        }
        a.workers[0].from_kernel = make_ring("from_kernel", a, a.config.exception.ring_size);
    }
    if (a.config.any_race_pool()) {
        app::create_race_rings(a);
    }
}

// What the control plane reads from and hands to the data plane. `plane` is set once the plane
// exists: only the plane itself calls stats_json.
control::plane_hooks plane_hooks_for(
        app::appliance& a,
        app::race_path& race_path,
        const control::plane* const& plane,
        clock_type::time_point start,
        std::size_t workers
) {
    return {
            .take_redirects = [&a] { return a.redirects->take_new(); },
            .redirect_total = [&a](std::uint16_t slot) { return a.redirects->total(slot); },
            .pool_redirect_total = [&a](std::size_t pool) { return a.redirects->pool_total(pool); },
            .dataplane = [&a] { return read_dataplane(a); },
            .publish = [&a](const control::appliance_config& c,
                            std::span<const balance::backend_facts> f,
                            const balance::overload_signal& o) { return publish(a, c, f, o); },
            .totals = [&a] { return pipeline::sum(a.all_stats()); },
            .busy_ns =
                    [&a] {
                        std::vector<std::uint64_t> busy;
                        for (const pipeline::worker_stats& w : a.all_stats()) {
                            busy.push_back(w.busy_ns.get());
                        }
                        return busy;
                    },
            .imissed = [&a] { return read_port(a).value_or(control::port_counters{}).imissed; },
            .stats_json =
                    [&a, &plane, start] {
                        const std::chrono::duration<double> t = clock_type::now() - start;
                        return final_report(a, *plane, t.count());
                    },
            .answer_race = [&race_path](
                                   pipeline::held_request& request, const pipeline::race_decision& d
                           ) { return race_path.answer(request, d); },
            // The control lcore's own counters, which its race answers count on too.
            .count_redirect = [&a, workers](std::uint16_t slot
                              ) { a.redirects->of(workers).add(slot, 1); },
            .workers = static_cast<std::uint32_t>(workers),
    };
}

void launch_workers(app::appliance& a, std::vector<app::worker_launch>& launches) {
    for (std::size_t w = 0; w < launches.size(); ++w) {
        launches[w] = {.app = &a, .index = w};
        if (rte_eal_remote_launch(app::worker_main, &launches[w], a.workers[w].lcore) != 0) {
            a.stop.store(true);
            rte_eal_mp_wait_lcore();
            throw std::runtime_error(
                    "cannot launch a worker on lcore " + std::to_string(a.workers[w].lcore)
            );
        }
    }
}

// One log line for each thing the configuration may get wrong on this machine.
void warn_at_start(const app::appliance& a) {
    rte_eth_dev_info info{};
    rte_eth_dev_info_get(a.data.id, &info);
    const std::string_view driver = info.driver_name != nullptr ? info.driver_name : "";
    for (const control::start_warning& w : control::start_warnings(a.config, driver)) {
        control::log(control::log_level::warning, w.event, {{"detail", w.detail}});
    }
}

void print_ready(const app::appliance& a) {
    rte_eth_dev_info info{};
    rte_eth_dev_info_get(a.data.id, &info);
    const std::array<std::uint8_t, 6>& mac = a.own_mac;
    std::printf(
            "sipredir: port %u (%s) %02x:%02x:%02x:%02x:%02x:%02x, %zu worker%s, RSS %s, "
            "UDP checksum %s, exception path %s\n",
            a.data.id,
            info.driver_name,
            mac[0],
            mac[1],
            mac[2],
            mac[3],
            mac[4],
            mac[5],
            a.workers.size(),
            a.workers.size() == 1 ? "" : "s",
            a.data.rss ? "on" : "off",
            a.data.udp_checksum_offload ? "offloaded" : "software",
            a.config.exception.tap.empty() ? "none" : a.config.exception.tap.c_str()
    );
    std::printf("sipredir: ready\n");
    std::fflush(stdout);
}

// The control lcore's loop, until a signal, --duration, or --exit-when-idle.
void run_control(
        app::appliance& a,
        control::plane& plane,
        app::race_path& race_path,
        const options& o,
        clock_type::time_point start
) {
    auto last_rx_change = start;
    std::uint64_t last_rx = 0;
    while (!a.stop.load(std::memory_order_relaxed)) {
        const unsigned moved = app::pump_exception_path(a) + race_path.pump(plane);
        // Probes, reports, sipredirctl, metrics, reloads and publication; waits in ppoll for up
        // to 200 us when the exception path is idle.
        plane.run_once(std::chrono::microseconds(moved == 0 ? 200 : 0));
        const auto now = clock_type::now();
        const std::chrono::duration<double> elapsed = now - start;
        if (o.duration > 0 && elapsed.count() >= o.duration) {
            return;
        }
        if (o.exit_when_idle_ms != 0) {
            const std::uint64_t rx = pipeline::sum(a.all_stats()).rx;
            if (rx != last_rx) {
                last_rx = rx;
                last_rx_change = now;
            } else if (rx != 0 && now - last_rx_change >= std::chrono::milliseconds(o.exit_when_idle_ms)) {
                return;
            }
        }
    }
}

// Stops the workers, answers what still waits, and writes the final statistics. 1 when a worker
// failed or the statistics could not be written.
int shut_down(
        app::appliance& a,
        control::plane& plane,
        app::race_path& race_path,
        const options& o,
        clock_type::time_point start
) {
    plane.stopping();
    a.stop.store(true);
    int rc = 0;
    unsigned l = 0;
    RTE_LCORE_FOREACH_WORKER(l) {
        if (rte_eal_wait_lcore(l) != 0) {
            rc = 1;
        }
    }
    // Raced requests still queued or waiting: handed over and answered, each counted by the race
    // engine as an answer it could not send (the workers have stopped).
    race_path.pump(plane);
    plane.finish_races();
    app::drain_exception_rings(a);
    const std::chrono::duration<double> ran = clock_type::now() - start;
    const std::string report = final_report(a, plane, ran.count());
    std::fputs(control::one_line(report).c_str(), stdout);
    std::fflush(stdout);
    if (!o.stats_json.empty()) {
        std::ofstream out(o.stats_json);
        out << report;
        if (!out) {
            std::fprintf(stderr, "sipredir: cannot write %s\n", o.stats_json.c_str());
            rc = 1;
        }
    }
    return rc;
}

int serve(app::appliance& a, const options& o) {
    const std::size_t workers = count_workers();
    size_mbuf_pool(a, workers);
    start_dataplane(a, workers);
    start_side_paths(a, workers);
    warn_at_start(a);
    app::race_path race_path(a, workers);

    // The first table, before any worker runs; the control plane keeps it current from then on.
    publish(a, a.config, control::initial_facts(a.config));
    const auto start = clock_type::now();
    const control::plane* plane_for_hooks = nullptr;
    control::plane plane(
            o.config, a.config, plane_hooks_for(a, race_path, plane_for_hooks, start, workers)
    );
    plane_for_hooks = &plane;
    g_plane = &plane;
    plane.open();
    std::signal(SIGHUP, on_hangup);
    if (rte_pdump_init() != 0) {
        std::fprintf(stderr, "sipredir: warning: pdump unavailable: dpdk-dumpcap cannot attach\n");
    }
    app::register_telemetry(a);
    std::vector<app::worker_launch> launches(workers);
    launch_workers(a, launches);
    print_ready(a);

    run_control(a, plane, race_path, o, start);
    std::signal(SIGHUP, SIG_IGN);
    g_plane = nullptr;
    const int rc = shut_down(a, plane, race_path, o, start);
    rte_pdump_uninit();
    app::stop_port(a.tap);
    app::stop_port(a.data);
    return rc;
}

} // namespace

int main(int argc, char** argv) {
    if (const int rc = answer_without_eal(argc, argv); rc >= 0) {
        return rc;
    }
    options o;
    if (!parse_application_options(argc, argv, o)) {
        return 2;
    }
    if (rte_eal_init(argc, argv) < 0) {
        std::fprintf(stderr, "sipredir: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    control::config_result loaded = control::load_config(o.config);
    if (!loaded.config) {
        std::fprintf(stderr, "%s\n", loaded.error.message.c_str());
        rte_eal_cleanup();
        return 1;
    }
    int rc = 1;
    {
        auto a = std::make_unique<app::appliance>();
        a->config = std::move(*loaded.config);
        g_app = a.get();
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        try {
            rc = serve(*a, o);
        } catch (const config_refused& e) {
            std::fprintf(stderr, "%s\n", e.what());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "sipredir: %s\n", e.what());
            a->stop.store(true);
            rte_eal_mp_wait_lcore();
        }
        // The appliance outlives nothing but the telemetry thread, which EAL cleanup stops.
        rte_eal_cleanup();
        g_app = nullptr;
    }
    return rc;
}
