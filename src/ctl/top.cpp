// SPDX-License-Identifier: BSD-3-Clause
#include "top.hpp"

#include "client.hpp"
#include "tables.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>
#include <poll.h>
#include <termios.h>
#include <unistd.h>
#include <version.hpp>

namespace sipredir::ctl {

namespace {

using nlohmann::json;

double number(const json& v) {
    return v.is_number() ? v.get<double>() : 0;
}

std::string text(const json& v) {
    return v.is_string() ? v.get<std::string>() : std::string("-");
}

// Per second over the interval; "-" on the first screen.
std::string rate(double now, double before, double seconds, bool have_before) {
    if (!have_before || seconds <= 0) {
        return "-";
    }
    return fixed_text(json(std::max(0.0, now - before) / seconds), 0);
}

// The backends by name.
std::map<std::string, const json*> by_name(const json& answer, const char* list) {
    std::map<std::string, const json*> out;
    for (const json& b : field(answer, list)) {
        out[text(field(b, "name"))] = &b;
    }
    return out;
}

// p-th fraction of a log2 histogram (bucket i holds times up to 2 << i ns), as text.
std::string percentile(const std::vector<double>& buckets, double p) {
    double total = 0;
    for (const double n : buckets) {
        total += n;
    }
    if (total <= 0) {
        return "-";
    }
    double seen = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
        seen += buckets[i];
        if (seen >= p * total) {
            const double upper_ns = static_cast<double>(std::uint64_t{2} << i);
            return "<= " + fixed_text(json(upper_ns / 1000), upper_ns < 10'000 ? 1 : 0) + " us";
        }
    }
    return "-";
}

std::vector<double> histogram(const json& stats) {
    std::vector<double> out;
    for (const json& n : field(field(field(stats, "appliance"), "latency_ns"), "histogram_log2")) {
        out.push_back(number(n));
    }
    return out;
}

std::string header_lines(const top_sample& now, double seconds, const std::string& socket) {
    const json& a = field(now.stats, "appliance");
    std::string out = "sipredir top (" + std::string(sipredir::version) + ")  " + socket;
    out += "   refresh " + fixed_text(json(seconds), 1) + " s   q to quit\n";
    if (now.stats.is_null()) {
        return out + "\n  sipredir does not answer at " + socket + "\n";
    }
    out += "up " + fixed_text(field(a, "seconds"), 0) + " s   workers "
           + count_text(field(a, "workers")) + "   table generation "
           + count_text(field(now.stats, "table_generation")) + "   reloads "
           + count_text(field(field(now.stats, "reloads"), "applied")) + " applied, "
           + count_text(field(field(now.stats, "reloads"), "refused")) + " refused\n";
    return out;
}

// One row per worker: an idle one next to a busy one means the traffic does not spread (RSS).
std::string
per_worker_lines(const json& now, const json& before, double seconds, bool have_before) {
    if (!now.is_array() || now.empty()) {
        return "";
    }
    text_table t({"WORKER", "RX/s", "REPLIES/s", "DROPS/s", "BUSY%"});
    for (std::size_t w = 0; w < now.size(); ++w) {
        const json& n = now[w];
        const json& b = have_before && before.is_array() && w < before.size() ? before[w] : json();
        const bool have = b.is_object();
        const auto r = [&](const char* name) {
            return rate(number(field(n, name)), number(field(b, name)), seconds, have);
        };
        const double busy = number(field(n, "busy_seconds")) - number(field(b, "busy_seconds"));
        t.add({std::to_string(w),
               r("received_frames"),
               r("replies"),
               r("dropped"),
               have && seconds > 0 ? fixed_text(json(100 * std::max(0.0, busy) / seconds), 1) : "-"}
        );
    }
    return t.render();
}

std::string worker_lines(const top_sample* before, const top_sample& now, double seconds) {
    const json& a = field(now.stats, "appliance");
    const json& b = before != nullptr ? field(before->stats, "appliance") : json();
    const bool have = before != nullptr && b.is_object();
    const auto r = [&](const char* name) {
        return rate(number(field(a, name)), number(field(b, name)), seconds, have);
    };
    const double workers = std::max(1.0, number(field(a, "workers")));
    const std::string busy =
            have && seconds > 0 ? fixed_text(
                    json(100
                         * std::max(
                                 0.0,
                                 number(field(a, "busy_seconds")) - number(field(b, "busy_seconds"))
                         )
                         / (seconds * workers)),
                    1
            )
                                : "-";
    std::string out = "\nWORKERS   rx/s " + r("received_frames") + "   replies/s " + r("replies")
                      + "   drops/s " + r("dropped") + "   to kernel/s " + r("exception_frames")
                      + "   busy " + busy + " %\n";
    std::string codes;
    for (const auto& [code, n] : field(a, "replies_by_code").items()) {
        const double d = number(n) - number(field(field(b, "replies_by_code"), code.c_str()));
        if (have && d > 0) {
            codes += "  " + code + " " + fixed_text(json(d / seconds), 0) + "/s";
        }
    }
    out += "  replies by code:" + (codes.empty() ? std::string("  none") : codes) + "\n";
    std::string drops;
    for (const auto& [cause, n] : field(a, "dropped_by_cause").items()) {
        const double d = number(n) - number(field(field(b, "dropped_by_cause"), cause.c_str()));
        if (have ? d > 0 : number(n) > 0) {
            drops += "  " + cause + " "
                     + (have ? fixed_text(json(d / seconds), 0) + "/s" : count_text(n));
        }
    }
    out += "  drops by cause:" + (drops.empty() ? std::string("  none") : drops) + "\n";
    std::vector<double> h = histogram(now.stats);
    if (have) {
        const std::vector<double> old = histogram(before->stats);
        for (std::size_t i = 0; i < h.size() && i < old.size(); ++i) {
            h[i] = std::max(0.0, h[i] - old[i]);
        }
    }
    out += "  latency (RX to TX" + std::string(have ? ", this interval" : ", since start")
           + ")  p50 " + percentile(h, 0.50) + "   p99 " + percentile(h, 0.99) + "\n";
    return out + per_worker_lines(field(a, "per_worker"), field(b, "per_worker"), seconds, have);
}

std::string backend_lines(const top_sample* before, const top_sample& now, double seconds) {
    const auto old = before != nullptr ? by_name(before->backends, "backends")
                                       : std::map<std::string, const json*>{};
    double all = 0;
    for (const json& b : field(now.backends, "backends")) {
        const auto o = old.find(text(field(b, "name")));
        if (o != old.end()) {
            all += std::max(
                    0.0, number(field(b, "redirects")) - number(field(*o->second, "redirects"))
            );
        }
    }
    text_table t({"BACKEND", "STATE", "LOAD%", "RTT ms", "REDIRECTS/s", "SHARE%", "REDIRECTS"});
    for (const json& b : field(now.backends, "backends")) {
        const auto o = old.find(text(field(b, "name")));
        const bool have = o != old.end();
        const double d =
                have ? std::max(
                        0.0, number(field(b, "redirects")) - number(field(*o->second, "redirects"))
                )
                     : 0;
        std::string state = text(field(b, "state"));
        if (field(b, "drained").is_boolean() && field(b, "drained").get<bool>()) {
            state += " (drained)";
        }
        t.add({text(field(b, "name")),
               state,
               field(b, "load").is_number() ? fixed_text(json(number(field(b, "load")) * 100), 1)
                                            : "-",
               fixed_text(field(b, "rtt_ms"), 2),
               have && seconds > 0 ? fixed_text(json(d / seconds), 0) : "-",
               have && all > 0 ? fixed_text(json(100 * d / all), 1) : "-",
               count_text(field(b, "redirects"))});
    }
    std::string out = "\n";
    out += t.render();
    return out;
}

std::string fleet_lines(const top_sample* before, const top_sample& now, double seconds) {
    if (now.fleet.is_null()) {
        return "";
    }
    const auto old = before != nullptr ? by_name(before->fleet, "peers")
                                       : std::map<std::string, const json*>{};
    text_table t({"PEER", "HEARD ms AGO", "REDIRECTS/s", "REDIRECTS"});
    for (const json& p : field(now.fleet, "peers")) {
        const auto o = old.find(text(field(p, "name")));
        t.add({text(field(p, "name")),
               count_text(field(p, "heard_ms_ago")),
               o != old.end()
                       ? rate(number(field(p, "redirects")),
                              number(field(*o->second, "redirects")),
                              seconds,
                              true)
                       : "-",
               count_text(field(p, "redirects"))});
    }
    return "\nFLEET " + text(field(now.fleet, "name")) + ": "
           + count_text(json(field(now.fleet, "peers").size())) + " of "
           + count_text(field(now.fleet, "configured_peers")) + " peers heard\n" + t.render();
}

} // namespace

std::vector<std::string> events_between(const top_sample& before, const top_sample& now) {
    std::vector<std::string> out;
    const auto old = by_name(before.backends, "backends");
    for (const json& b : field(now.backends, "backends")) {
        const std::string name = text(field(b, "name"));
        const auto o = old.find(name);
        if (o == old.end()) {
            if (!before.backends.is_null()) {
                out.push_back("backend " + name + " added (" + text(field(b, "state")) + ")");
            }
            continue;
        }
        const std::string was = text(field(*o->second, "state"));
        const std::string is = text(field(b, "state"));
        if (was != is) {
            out.push_back("backend " + name + " " + was + " -> " + is);
        }
    }
    const auto current = by_name(now.backends, "backends");
    for (const auto& [name, b] : old) {
        if (!now.backends.is_null() && !current.contains(name)) {
            out.push_back("backend " + name + " removed");
        }
    }
    const json& r0 = field(before.stats, "reloads");
    const json& r1 = field(now.stats, "reloads");
    if (number(field(r1, "applied")) > number(field(r0, "applied")) && r0.is_object()) {
        out.push_back("configuration reloaded");
    }
    if (number(field(r1, "refused")) > number(field(r0, "refused")) && r0.is_object()) {
        out.push_back("a reload was refused (the running configuration stays)");
    }
    const auto peers0 = by_name(before.fleet, "peers");
    for (const json& p : field(now.fleet, "peers")) {
        const std::string name = text(field(p, "name"));
        if (!peers0.contains(name) && !before.fleet.is_null()) {
            out.push_back("fleet peer " + name + " heard");
        }
    }
    const auto peers1 = by_name(now.fleet, "peers");
    for (const auto& [name, p] : peers0) {
        if (!now.fleet.is_null() && !peers1.contains(name)) {
            out.push_back("fleet peer " + name + " lost");
        }
    }
    if (before.stats.is_null() != now.stats.is_null()) {
        out.push_back(now.stats.is_null() ? "sipredir stopped answering" : "sipredir answers");
    }
    return out;
}

std::string render_top(
        const top_sample* before,
        const top_sample& now,
        const std::deque<top_event>& events,
        const std::string& socket
) {
    const double seconds = before != nullptr ? now.at_s - before->at_s : 0;
    std::string out = header_lines(now, seconds, socket);
    if (!now.stats.is_null()) {
        out += worker_lines(before, now, seconds);
        out += backend_lines(before, now, seconds);
        out += fleet_lines(before, now, seconds);
    }
    out += "\nEVENTS\n";
    if (events.empty()) {
        out += "  none yet\n";
    }
    for (const top_event& e : events) {
        out += "  " + e.at + "  " + e.what + "\n";
    }
    return out;
}

namespace {

volatile std::sig_atomic_t interrupted = 0;

void on_signal(int) {
    interrupted = 1;
}

// The answer to `verb` when it is a JSON object saying "ok": true; else null.
json ask(const std::string& socket, const char* verb) {
    std::string reply;
    // Quiet: the screen says when the appliance does not answer; stderr would tear it.
    if (exchange(socket, std::string(verb) + "\n", reply, 2000, true) != 0) {
        return nullptr;
    }
    json answer = json::parse(reply, nullptr, false);
    const bool ok = !answer.is_discarded() && answer.is_object()
                    && answer.value("ok", json(false)).is_boolean() && answer.value("ok", false);
    return ok ? answer : json(nullptr);
}

top_sample take_sample(const std::string& socket, bool ask_fleet) {
    top_sample s;
    s.at_s = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
                     .count();
    s.stats = ask(socket, "stats");
    if (!s.stats.is_null()) {
        s.backends = ask(socket, "backends");
        if (ask_fleet) {
            s.fleet = ask(socket, "fleet");
        }
    }
    return s;
}

std::string clock_now() {
    const std::time_t t = std::time(nullptr);
    std::tm local{};
    localtime_r(&t, &local);
    char buf[16];
    std::strftime(buf, sizeof buf, "%H:%M:%S", &local);
    return buf;
}

// Keys read one at a time without echo while top runs (restored at the end), when stdin is a
// terminal.
class raw_keys {
public:
    raw_keys() {
        _tty = ::isatty(STDIN_FILENO) != 0 && ::tcgetattr(STDIN_FILENO, &_saved) == 0;
        if (_tty) {
            termios raw = _saved;
            raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
            raw.c_cc[VMIN] = 0;
            raw.c_cc[VTIME] = 0;
            ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        }
    }
    ~raw_keys() {
        if (_tty) {
            ::tcsetattr(STDIN_FILENO, TCSANOW, &_saved);
        }
    }
    raw_keys(const raw_keys&) = delete;
    raw_keys& operator=(const raw_keys&) = delete;

    // Waits up to `ms` for a key; true when it was q (or the input ended).
    bool quit_within(int ms) const {
        if (!_tty) {
            ::poll(nullptr, 0, ms);
            return false;
        }
        pollfd p{STDIN_FILENO, POLLIN, 0};
        if (::poll(&p, 1, ms) <= 0) {
            return false;
        }
        char c = 0;
        return ::read(STDIN_FILENO, &c, 1) <= 0 || c == 'q' || c == 'Q';
    }

private:
    bool _tty = false;
    termios _saved{};
};

} // namespace

int run_top(const std::string& socket, double interval_s, long count) {
    // Each ends the loop, so the terminal is restored on the way out. A closed pipe (top | head)
    // is seen as a failed write instead of killing the process with the terminal left raw.
    for (const int sig : {SIGINT, SIGTERM, SIGQUIT, SIGHUP}) {
        std::signal(sig, on_signal);
    }
    std::signal(SIGPIPE, SIG_IGN);
    const raw_keys keys;
    const bool screen = ::isatty(STDOUT_FILENO) != 0;
    std::deque<top_event> events;
    top_sample before;
    bool have_before = false;
    bool ask_fleet = true;
    bool answered = false; // the last screen's sample
    for (long shown = 0; interrupted == 0 && (count == 0 || shown < count); ++shown) {
        top_sample now = take_sample(socket, ask_fleet);
        ask_fleet = !now.fleet.is_null() || now.stats.is_null(); // no [fleet]: stop asking
        if (have_before) {
            for (std::string& e : events_between(before, now)) {
                events.push_back({clock_now(), std::move(e)});
            }
            while (events.size() > 8) {
                events.pop_front();
            }
        }
        const std::string page = render_top(have_before ? &before : nullptr, now, events, socket);
        // A terminal is redrawn in place; a pipe gets one page after another.
        std::fputs(screen ? "\x1b[H\x1b[2J" : "\f\n", stdout);
        std::fputs(page.c_str(), stdout);
        if (std::fflush(stdout) != 0) {
            break; // the reader went away
        }
        answered = !now.stats.is_null();
        before = std::move(now);
        have_before = true;
        if (count != 0 && shown + 1 >= count) {
            break;
        }
        if (keys.quit_within(static_cast<int>(interval_s * 1000))) {
            break;
        }
    }
    return answered ? 0 : 2; // 2, as for any command, when the appliance did not answer
}

} // namespace sipredir::ctl
