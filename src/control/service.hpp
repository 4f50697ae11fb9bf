// SPDX-License-Identifier: BSD-3-Clause
// A control-plane service: a feature (probing, reports, races, the fleet, management) as the
// control loop sees it: its descriptors to poll, what it does when they are ready and when its
// timers are due, and its part of the operator's answers. The loop runs a list of them and
// knows none by name; what they share is a control_context the loop owns and lends to each.
#pragma once

#include "config.hpp"
#include "json_writer.hpp"
#include "load_monitor.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "overload/server_overload.hpp"
#include "pool_redirect_totals.hpp"
#include "sockets.hpp"

#include <algorithm>
#include <balance/snapshot.hpp>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <pipeline/held_request.hpp>
#include <pipeline/worker_stats.hpp>
#include <poll.h>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include <version.hpp>

namespace sipredir::control {

struct plane_hooks {
    // New redirects per slot since the last call (max_backends entries).
    std::function<std::vector<std::uint64_t>()> take_redirects;
    // Every redirect issued to a slot so far.
    std::function<std::uint64_t(std::uint16_t)> redirect_total;
    // Every 302 sent for a pool (by its index in the configuration) so far.
    std::function<std::uint64_t(std::size_t)> pool_redirect_total;
    // The port's and the exception path's counters. Absent: no data plane (tests, tools).
    std::function<dataplane_counters()> dataplane;
    // Publishes a table built from `config` and `facts`, carrying `overload`; false when it had
    // to decline (it is tried again at the next round).
    std::function<
            bool(const appliance_config&,
                 std::span<const balance::backend_facts>,
                 const balance::overload_signal& overload)>
            publish;
    // The workers' counters, summed.
    std::function<pipeline::stats_totals()> totals;
    // Each worker's busy time so far (ns), and the frames the NIC missed so far: what the
    // appliance's own RFC 7339 overload is decided from. Absent: never overloaded by them.
    std::function<std::vector<std::uint64_t>()> busy_ns;
    std::function<std::uint64_t()> imissed;
    // The appliance's statistics as JSON (the same as --stats-json).
    std::function<std::string()> stats_json;
    // Answers a raced request (held as received, parsed) as decided; false when it could not.
    std::function<bool(pipeline::held_request&, const pipeline::race_decision&)> answer_race;
    // Counts one redirect to a slot that the control plane itself named (a query), with the
    // workers' redirects: the next take_redirects includes it.
    std::function<void(std::uint16_t)> count_redirect;
    // How many workers run (the status systemd shows).
    std::uint32_t workers = 0;
};

inline constexpr std::string_view version_text = sipredir::version_text;

class service;

// What a service may ask of the loop that runs it.
class control_loop {
public:
    // Takes the workers' new redirects into control_context::own_redirects and hands them to
    // every service (service::on_own_redirects).
    virtual void collect_redirects() = 0;
    // Folds the redirects into the facts and publishes a table now.
    virtual void publish(std::int64_t now) = 0;
    // Reads the configuration file again. Empty on success, else `file:line: what is wrong`
    // (the running configuration stays).
    virtual std::string reload() = 0;
    // Changes backends through the API (runtime_changes.hpp: set, add, remove), persisted in
    // [management] state_file and published; `who` is logged with it. Empty on success, else
    // what is wrong (the running configuration stays).
    virtual std::string change_backends(std::string_view words, std::string_view who) = 0;

protected:
    ~control_loop() = default;
};

// The state the services share. Owned by the loop; one thread (the control lcore).
struct control_context {
    control_context(std::string config_path, appliance_config initial, plane_hooks h);

    const appliance_config& config() const noexcept { return *running; }
    // Monotonic, relative to the context's creation, so that 0 means "never" in the facts.
    std::int64_t now_ns() const noexcept;

    std::string path;                          // the file a reload reads
    std::unique_ptr<appliance_config> running; // replaced whole by a reload
    plane_hooks hooks;
    load_monitor monitor;
    control_counters counters;
    // Redirects not yet folded into the facts, per slot: our workers' (taken from their
    // counters by control_loop::collect_redirects) and the fleet peers'.
    std::vector<std::uint64_t> own_redirects;
    std::vector<std::uint64_t> peer_redirects;
    bool dirty = true;                        // facts changed: publish without waiting
    server_overload overload;                 // the appliance's own RFC 7339 trigger
    balance::overload_signal overload_signal; // the last one published (reduction 0: none)
    std::int64_t epoch_ns = 0;
    control_loop* loop = nullptr;        // set by the loop before any service runs
    pool_redirect_totals pool_redirects; // 302s per pool by name over reloads
    // Who asked the command being answered ("uid 0, pid 42"), set by the management
    // service around each answer, for the log of what was changed by whom.
    std::string requester;
    std::span<const std::unique_ptr<service>> services; // every service, in the loop's order
};

// One feature of the control plane. Every member has a default that does nothing, so a
// service says only what it does.
class service {
public:
    virtual ~service() = default;

    // Opens the sockets the configuration asks for. Throws std::runtime_error.
    virtual void open() {}
    // Its part of the control_plane_started log line.
    virtual void describe(std::vector<log_field>& fields) const { (void)fields; }
    // Appends the descriptors to poll and the events wanted.
    virtual void watch(std::vector<pollfd>& fds) const { (void)fds; }
    // Every round after the poll, with the entries watch appended (revents 0: not ready).
    virtual void on_polled(std::span<const pollfd> mine, std::int64_t now) {
        (void)mine;
        (void)now;
    }
    // Every round, after a due reload: what its timers ask.
    virtual void on_tick(std::int64_t now) { (void)now; }
    // When on_tick next has something to do.
    virtual std::int64_t next_due_ns() const { return std::numeric_limits<std::int64_t>::max(); }
    // The workers' redirects since the last collection, by slot.
    virtual void on_own_redirects(std::span<const std::uint64_t> delta) { (void)delta; }
    // The facts about to be published, by slot.
    virtual void on_facts(std::span<const balance::backend_facts> facts) { (void)facts; }
    // After a reload was taken: control_context::config() is the new configuration.
    virtual void on_reload() {}
    // The section of its own a reload from `running` to `next` would change and only a restart
    // can, or "".
    virtual std::string_view
    restart_only_change(const appliance_config& running, const appliance_config& next) const {
        (void)running;
        (void)next;
        return "";
    }
    // A sipredirctl verb it answers: the JSON reply; nullopt: not one of its verbs.
    virtual std::optional<std::string> command(std::string_view verb, std::string_view arg) {
        (void)verb;
        (void)arg;
        return std::nullopt;
    }
    // Its members of `sipredirctl stats`' object.
    virtual void write_stats(object_writer& o, std::string& out) const {
        (void)o;
        (void)out;
    }
    // Its part of the metrics.
    virtual void fill_metrics(metrics_input& in) { (void)in; }
    // At exit, after the workers stopped.
    virtual void finish() {}
};

// A service whose traffic is datagrams on one UDP socket (probing, reports, races, the fleet):
// the socket is polled while open, and each round it is ready its datagrams are read.
class datagram_service : public service {
public:
    void watch(std::vector<pollfd>& fds) const final;
    void on_polled(std::span<const pollfd> mine, std::int64_t now) final;

protected:
    explicit datagram_service(control_context& c) : _c(c) {}
    // The socket is ready: takes what waits on it (read_datagrams) at `now`.
    virtual void read_round(std::int64_t now) = 0;

    control_context& _c;
    socket_fd _socket; // open while the configuration asks for it
};

// Builds one service; the loop's list is of these.
using service_maker = std::unique_ptr<service> (*)(control_context&);

// How many datagrams a service takes from its socket in one round: bounds a round under a flood.
inline constexpr std::size_t max_datagrams_per_round = 256;

// Sends one datagram without blocking; true when all of it went.
bool send_datagram(const socket_fd& s, const net::ip_endpoint& to, std::string_view d);

// Hands take(datagram, source) what waits on `s`, at most max_datagrams_per_round of them. A
// datagram longer than `max_size` is handed over empty.
template <typename Take>
void read_datagrams(const socket_fd& s, Take take, std::size_t max_size = 65536) {
    char buf[65536];
    const std::size_t room = std::min(max_size, sizeof buf);
    for (std::size_t n = 0; n < max_datagrams_per_round; ++n) {
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        const ssize_t got = ::recvfrom(
                s.get(),
                buf,
                room,
                MSG_DONTWAIT | MSG_TRUNC,
                reinterpret_cast<sockaddr*>(&from),
                &len
        );
        if (got < 0) {
            return;
        }
        // MSG_TRUNC gives the datagram's real length, so that a cut one is not taken as whole.
        const auto size = static_cast<std::size_t>(got);
        take(size > room ? std::string_view{} : std::string_view(buf, size), from_sockaddr(from));
    }
}

// Whether any of `fds` is ready.
inline bool any_ready(std::span<const pollfd> fds) {
    for (const pollfd& p : fds) {
        if (p.revents != 0) {
            return true;
        }
    }
    return false;
}

// The wall clock in ms (signed messages carry it).
std::int64_t wall_ms();

// {"ok": false, "error": message}, a line.
std::string error_json(std::string_view message);

} // namespace sipredir::control
