// SPDX-License-Identifier: BSD-3-Clause
// sipredir-agent: runs beside a SIP proxy and pushes its load to sipredir as signed reports
// (docs/operations.md, "Pushed load reports"), to every appliance of a fleet (docs/fleet.md).
//
//   sipredir-agent --backend NAME --key-file PATH --to ADDRESS:PORT [--to ADDRESS:PORT ...]
//                  (--command CMD | --file PATH | --kamailio | --opensips)
//                  [--capacity CALLS] [--interval-ms MS] [--sample-ms MS] [--change PERCENT]
//                  [--count N]
//   sipredir-agent --help | --version
//
// It reads the load every --sample-ms (default: the interval) and sends a report every
// --interval-ms, or at once when the load moved by --change percentage points (default 10)
// since the last report — but never two reports closer than half the interval, which keeps
// it within the appliance's default rate of 20 reports per second at a 100 ms interval.
//
// The load comes from a command's output or a file's first line (a percentage, or
// "calls=N;capacity=M"), or from the proxy's own statistics: Kamailio's active dialogs
// (`kamcmd stats.get_statistics dialog:active_dialogs`) or OpenSIPS' (`opensips-cli -x mi
// get_statistics active_dialogs`), over --capacity. A source that cannot be read sends nothing
// that round (and says so): sipredir then treats the load as unknown once it is stale.
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <control/address_text.hpp>
#include <control/log.hpp>
#include <control/probe/load_figure.hpp>
#include <control/report/load_report.hpp>
#include <control/sockets.hpp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <version.hpp>

namespace {

using namespace sipredir;
using namespace sipredir::control;

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) {
    g_stop.store(true);
}

struct options {
    std::string backend;
    std::string key_file;
    std::vector<net::ip_endpoint> to;
    std::string command;
    std::string file;
    std::uint64_t capacity = 0;
    std::uint32_t interval_ms = 1000;
    std::uint32_t sample_ms = 0; // 0: the interval
    double change_points = 10;   // percentage points that send at once
    std::uint64_t count = 0;     // reports; 0: until SIGTERM
};

// The usage to `to` (stdout for --help, stderr for a wrong command line).
int usage(std::FILE* to = stderr) {
    std::fprintf(
            to,
            "usage: sipredir-agent --backend NAME --key-file PATH --to ADDRESS:PORT [--to ...]\n"
            "         (--command CMD | --file PATH | --kamailio | --opensips)\n"
            "         [--capacity CALLS] [--interval-ms MS] [--sample-ms MS] [--change PERCENT]\n"
            "         [--count N]\n"
            "       sipredir-agent --help | --version\n"
    );
    return 2;
}

std::optional<net::ip_endpoint> endpoint(std::string_view text) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    net::ip_endpoint e;
    unsigned port = 0;
    const std::string_view p = text.substr(colon + 1);
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (!net::parse_ip(host, e.address) || ec != std::errc{} || end != p.data() + p.size()
        || port == 0 || port > 65535) {
        return std::nullopt;
    }
    e.port = static_cast<std::uint16_t>(port);
    return e;
}

std::string run(const std::string& command) {
    std::string out;
    FILE* p = ::popen(command.c_str(), "r");
    if (p == nullptr) {
        return out;
    }
    char buf[512];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0 && out.size() < 65536) {
        out.append(buf, n);
    }
    ::pclose(p);
    return out;
}

// The first whole number after `key` in the text (kamcmd: "dialog:active_dialogs = 12";
// opensips-cli: "\"dialog:active_dialogs\": 12").
std::optional<std::uint64_t> number_after(const std::string& text, std::string_view key) {
    const std::size_t at = text.find(key);
    if (at == std::string::npos) {
        return std::nullopt;
    }
    std::size_t i = at + key.size();
    while (i < text.size() && (text[i] < '0' || text[i] > '9')) {
        if (text[i] == '\n') {
            return std::nullopt;
        }
        ++i;
    }
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), v);
    if (ec != std::errc{} || end == text.data() + i) {
        return std::nullopt;
    }
    return v;
}

// Utilisation (1 = full), or nothing (logged).
std::optional<report_fields> read_load(const options& o) {
    std::string text;
    if (!o.file.empty()) {
        std::ifstream in(o.file);
        std::getline(in, text);
    } else {
        text = run(o.command);
    }
    report_fields f;
    if (o.capacity != 0) {
        if (const auto calls = number_after(text, "active_dialogs")) {
            f.calls = calls;
            f.capacity = o.capacity;
            return f;
        }
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    if (const auto u = read_load_figure(text, load_format::percent)) {
        f.load_percent = *u * 100;
        return f;
    }
    if (const auto u = read_load_figure(text, load_format::calls_capacity)) {
        f.load_percent = *u * 100;
        return f;
    }
    log(log_level::warning,
        "load_unreadable",
        {{"source", o.file.empty() ? o.command : o.file}, {"read", text.substr(0, 80)}});
    return std::nullopt;
}

std::uint64_t wall_us() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000
           + static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
}

// A whole number in [min, max] for `flag`, or nothing (said on stderr): "abc", "12x" or an
// empty value must not quietly become 0.
template <typename T>
std::optional<T> whole_number(const char* flag, std::string_view text, T min, T max) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || v < min
        || v > max) {
        std::fprintf(
                stderr,
                "sipredir-agent: %s needs a whole number from %llu to %llu, not '%.*s'\n",
                flag,
                static_cast<unsigned long long>(min),
                static_cast<unsigned long long>(max),
                static_cast<int>(text.size()),
                text.data()
        );
        return std::nullopt;
    }
    return static_cast<T>(v);
}

// One flag and its value (argv[i + 1], consumed) into `o`; false when either is wrong.
bool read_flag(int argc, char** argv, int& i, options& o) {
    const std::string_view a = argv[i];
    const auto value = [&]() -> std::string_view { return i + 1 < argc ? argv[++i] : ""; };
    const auto number = [&]<typename T>(T& out, T min, T max) {
        const char* const flag = argv[i];
        const std::optional<T> v = whole_number<T>(flag, value(), min, max);
        out = v.value_or(out);
        return v.has_value();
    };
    if (a == "--backend") {
        o.backend = value();
    } else if (a == "--key-file") {
        o.key_file = value();
    } else if (a == "--to") {
        const auto e = endpoint(value());
        if (!e) {
            std::fprintf(stderr, "sipredir-agent: --to needs ADDRESS:PORT\n");
            return false;
        }
        o.to.push_back(*e);
    } else if (a == "--command") {
        o.command = value();
    } else if (a == "--file") {
        o.file = value();
    } else if (a == "--kamailio") {
        o.command = "kamcmd stats.get_statistics dialog:active_dialogs 2>/dev/null";
    } else if (a == "--opensips") {
        o.command = "opensips-cli -x mi get_statistics active_dialogs 2>/dev/null";
    } else if (a == "--capacity") {
        return number(o.capacity, std::uint64_t{1}, std::uint64_t{1} << 40);
    } else if (a == "--interval-ms") {
        return number(o.interval_ms, 1U, 3'600'000U);
    } else if (a == "--sample-ms") {
        return number(o.sample_ms, 0U, 3'600'000U); // 0: the interval
    } else if (a == "--change") {
        const std::string text(value());
        char* end = nullptr;
        o.change_points = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || !(o.change_points > 0) || o.change_points > 100) {
            std::fprintf(
                    stderr,
                    "sipredir-agent: --change needs a percentage above 0, not '%s'\n",
                    text.c_str()
            );
            return false;
        }
    } else if (a == "--count") {
        return number(o.count, std::uint64_t{0}, ~std::uint64_t{0});
    } else {
        usage();
        return false;
    }
    return true;
}

// The command line, checked as a whole; 0 when it is good, else the exit status.
// -1 after --help or --version (exit 0).
int read_options(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return -1;
        }
        if (std::strcmp(argv[i], "--version") == 0) {
            std::printf("sipredir-agent %.*s\n", static_cast<int>(version.size()), version.data());
            return -1;
        }
        if (!read_flag(argc, argv, i, o)) {
            return 2;
        }
    }
    if (o.sample_ms == 0) {
        o.sample_ms = o.interval_ms;
    }
    if (o.backend.empty() || o.key_file.empty() || o.to.empty()
        || (o.command.empty() == o.file.empty()) || o.sample_ms > o.interval_ms) {
        return usage();
    }
    if (o.command.find("active_dialogs") != std::string::npos && o.capacity == 0) {
        std::fprintf(stderr, "sipredir-agent: --kamailio and --opensips need --capacity\n");
        return 2;
    }
    return 0;
}

// One UDP socket per address family among the appliances.
struct report_sockets {
    socket_fd v4;
    socket_fd v6;

    explicit report_sockets(const std::vector<net::ip_endpoint>& to) {
        for (const net::ip_endpoint& e : to) {
            socket_fd& fd = of(e);
            if (!fd) {
                net::ip_endpoint local{};
                local.address.family = e.address.family;
                fd = open_udp(local, true);
            }
        }
    }
    socket_fd& of(const net::ip_endpoint& e) {
        return e.address.family == net::ip_family::v4 ? v4 : v6;
    }

    void send(const std::vector<net::ip_endpoint>& to, std::string_view d) {
        for (const net::ip_endpoint& e : to) {
            sockaddr_storage sa{};
            const socklen_t len = to_sockaddr(e, sa);
            if (::sendto(
                        of(e).get(),
                        d.data(),
                        d.size(),
                        0,
                        reinterpret_cast<const sockaddr*>(&sa),
                        len
                )
                < 0) {
                log(log_level::warning,
                    "send_failed",
                    {{"to", endpoint_text(e)}, {"error", std::strerror(errno)}});
            }
        }
    }
};

void log_start(const options& o) {
    std::string targets;
    for (const net::ip_endpoint& to : o.to) {
        targets += targets.empty() ? "" : ",";
        targets += endpoint_text(to);
    }
    log(log_level::info,
        "agent_started",
        {{"backend", o.backend},
         {"to", targets},
         {"interval_ms", std::to_string(o.interval_ms)},
         {"sample_ms", std::to_string(o.sample_ms)}});
}

// Samples every --sample-ms; reports every interval, or at once on a large enough move (but
// not sooner than half an interval after the last report).
void report_until_stopped(const options& o, const report_key& key, report_sockets& sockets) {
    using clock = std::chrono::steady_clock;
    const auto interval = std::chrono::milliseconds(o.interval_ms);
    std::uint64_t sent = 0;
    std::optional<double> last_percent;
    clock::time_point last_sent{};
    auto next_sample = clock::now();
    while (!g_stop.load() && (o.count == 0 || sent < o.count)) {
        const auto now = clock::now();
        if (std::optional<report_fields> f = read_load(o)) {
            const double percent = f->load_percent ? *f->load_percent
                                                   : 100.0 * static_cast<double>(*f->calls)
                                                             / static_cast<double>(*f->capacity);
            const bool periodic = !last_percent || now - last_sent >= interval;
            const bool moved = last_percent && std::abs(percent - *last_percent) >= o.change_points
                               && now - last_sent >= interval / 2;
            if (periodic || moved) {
                f->backend = o.backend;
                // Wall-clock microseconds: grows across restarts of the agent, so sipredir's
                // replay check never mistakes a new agent's reports for old ones.
                f->seq = wall_us();
                f->ts_ms = f->seq / 1000;
                sockets.send(o.to, write_report(*f, key));
                last_percent = percent;
                last_sent = now;
                ++sent;
            }
        }
        next_sample += std::chrono::milliseconds(o.sample_ms);
        std::this_thread::sleep_until(next_sample);
    }
}

} // namespace

int main(int argc, char** argv) {
    options o;
    if (const int rc = read_options(argc, argv, o); rc != 0) {
        return rc < 0 ? 0 : rc;
    }
    const key_file_result key = read_key_file(o.key_file);
    if (!key.key) {
        std::fprintf(stderr, "sipredir-agent: %s\n", key.error.c_str());
        return 1;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    report_sockets sockets(o.to);
    log_start(o);
    report_until_stopped(o, *key.key, sockets);
    return 0;
}
