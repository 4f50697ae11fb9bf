// SPDX-License-Identifier: BSD-3-Clause
// When to probe which backend, and what the answers mean: one OPTIONS per backend per interval,
// staggered across it; an unanswered probe counts as a failure after the timeout and, while a
// backend that was not down is failing, the next probe goes at once rather than an interval
// later, so that a dead backend is out within interval + down_after x timeout. No sockets here:
// the caller sends what send_due() hands it and feeds back what arrives.
#pragma once

#include "health.hpp"
#include "load_figure.hpp"
#include "options_probe.hpp"
#include "overload_control.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipredir::control {

struct code_range {
    std::uint16_t first = 200;
    std::uint16_t last = 299;
    friend bool operator==(const code_range&, const code_range&) = default;
};

struct probe_settings {
    std::int64_t interval_ns = 1'000'000'000;
    std::int64_t timeout_ns = 400'000'000;
    health_policy policy;
    std::vector<code_range> alive_codes{{200, 299}};
    std::string load_header; // empty: the replies carry no load
    load_format format = load_format::percent;
};

struct probe_target {
    std::uint16_t slot = 0;
    net::ip_endpoint address;
};

// What probing knows about one backend.
struct probe_record {
    net::ip_endpoint address;
    health_record health;
    overload_state overload;
    std::optional<double> utilisation; // from the load header of the last reply that had one
    std::int64_t utilisation_at_ns = 0;
    std::uint64_t sent = 0;
    std::uint64_t bad_load = 0; // load header present but unreadable
    // schedule
    std::uint32_t seq = 0;
    bool outstanding = false;
    std::int64_t sent_at_ns = 0;
    std::int64_t next_send_ns = 0;
    bool paused = false; // another appliance probes it for us (probing shared out)
};

struct probe_counters {
    std::uint64_t sent = 0;
    std::uint64_t send_failed = 0;
    std::uint64_t replies = 0;
    std::uint64_t late = 0;     // to a probe already timed out, or repeated
    std::uint64_t not_sip = 0;  // datagrams on the probe socket that are no SIP response
    std::uint64_t not_ours = 0; // responses to nothing we sent, or from the wrong address
};

// Each probe counter under the one name the outputs give it (Prometheus' result label,
// sipredirctl stats' key).
struct probe_counter_info {
    std::uint64_t probe_counters::*field;
    std::string_view result;
};

inline constexpr auto probe_counter_table = std::to_array<probe_counter_info>({
        {&probe_counters::sent, "sent"},
        {&probe_counters::send_failed, "send_failed"},
        {&probe_counters::replies, "replied"},
        {&probe_counters::late, "late"},
        {&probe_counters::not_sip, "not_sip"},
        {&probe_counters::not_ours, "not_ours"},
});
static_assert(sizeof(probe_counters) == probe_counter_table.size() * sizeof(std::uint64_t));

class prober {
public:
    explicit prober(probe_settings settings) : _settings(std::move(settings)) {
        lower_load_header();
    }

    const probe_settings& settings() const noexcept { return _settings; }
    // Replaces the settings (a reload); schedules and records stay.
    void configure(probe_settings settings);

    // The backends to probe. Records of slots that stay (same slot, same address) are kept;
    // new ones start unknown, with first probes spread over one interval from `now_ns`.
    void set_targets(std::span<const probe_target> targets, std::int64_t now_ns);

    // Calls send(slot, address, request) for every probe due; a false return counts as a
    // failed send (and a failure for the backend's health, at its timeout).
    void send_due(
            const probe_origin& origin,
            std::int64_t now_ns,
            const std::function<bool(std::uint16_t, const net::ip_endpoint&, std::string_view)>&
                    send
    );

    // A datagram from `source` on the probe socket. Returns the slot whose health changed.
    std::optional<std::uint16_t> on_datagram(
            std::string_view datagram,
            const net::ip_endpoint& source,
            const probe_origin& origin,
            std::int64_t now_ns
    );

    // Stops (or resumes) sending to `slot`: a fleet member probes it and shares the results. A
    // probe already sent still times out; a resumed backend is probed at once if it is due.
    void set_paused(std::uint16_t slot, bool paused) noexcept;

    // Probes unanswered after the timeout; calls changed(slot) for each backend whose health
    // changed.
    void expire(std::int64_t now_ns, const std::function<void(std::uint16_t)>& changed);

    // The earliest time something is due (a send or a timeout); INT64_MAX with no targets.
    std::int64_t next_event_ns() const noexcept;

    const probe_record* record(std::uint16_t slot) const noexcept;
    const probe_counters& counters() const noexcept { return _counters; }
    bool alive_code(std::uint16_t code) const noexcept;

private:
    probe_settings _settings;
    std::string _load_header_lower; // what replies are matched against
    std::vector<std::pair<std::uint16_t, probe_record>> _records; // by slot, ascending
    probe_counters _counters;

    probe_record* find(std::uint16_t slot) noexcept;
    void lower_load_header();
};

} // namespace sipredir::control
