// SPDX-License-Identifier: BSD-3-Clause
// The load monitor: what the control plane knows about each backend, from
// the configuration (administrative state), the operator (drain), probing (health, RTT, load
// header, RFC 7339) and pushed reports, turned into the facts the table snapshot is built from.
// One thread (the control lcore) owns it; nothing here is shared with the workers.
#pragma once

#include "config.hpp"
#include "enum_names.hpp"
#include "probe/prober.hpp"
#include "report/report_gate.hpp"

#include <balance/pool_config.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sipredir::control {

enum class load_source : std::uint8_t {
    none,   // no figure yet, or it is older than load.max_age_ms: estimated from redirects
    probe,  // the load header of a probe reply
    report, // a pushed load report
};

inline constexpr auto load_source_table = std::to_array<enum_name<load_source>>({
        {load_source::none, "estimate"},
        {load_source::probe, "probe"},
        {load_source::report, "report"},
});
static_assert(covers_in_order(load_source_table, load_source::report));

constexpr std::string_view name_of(load_source s) noexcept {
    return name_in(load_source_table, s);
}

// What another appliance of the fleet found probing a backend for us (probing shared out,
// src/control/fleet/probe_share.hpp): taken instead of our own probing while set.
struct shared_probe {
    health state = health::unknown;
    double rtt_ms = -1;                  // -1: none
    std::optional<double> utilisation{}; // from its replies' load header
    double oc_reduction = 0;             // RFC 7339, percent
    std::int64_t at_ns = 0;              // when it arrived
    // When the state shown became this one (set by load_monitor::set_shared_probe): at_ns when
    // it differs from what was shown before, else the time that one was shown since.
    std::int64_t changed_at_ns = 0;
};

// One backend as `sipredirctl backends` and the metrics show it.
struct backend_status {
    std::uint16_t slot = 0;
    std::string name;
    std::string address;
    balance::backend_state state = balance::backend_state::unknown; // what the policies see
    balance::backend_state configured = balance::backend_state::up;
    bool drained = false; // by the operator
    health probed = health::unknown;
    double load = 0; // estimated utilisation, as the snapshot has it
    load_source source = load_source::none;
    double figure_age_ms = -1; // of the load figure in use; -1: none
    double rtt_ms = -1;        // -1: no reply yet
    double jitter_ms = -1;
    double oc_reduction = 0;
    double probe_changed_ms_ago = -1; // since probing last changed its verdict; -1: never
    std::uint64_t reports_accepted = 0;
    std::uint32_t capacity = 0;
};

class load_monitor {
public:
    load_monitor()
        : _probes(probe_settings{}), _facts(balance::max_backends), _shared(balance::max_backends) {
    }

    // Takes a configuration (at start, or an accepted reload, slots already assigned).
    // Backends that stay keep everything known about them; the operator's drains stay.
    void apply(const appliance_config& c, std::int64_t now_ns);

    prober& probes() noexcept { return _probes; }
    const prober& probes() const noexcept { return _probes; }
    report_gate& reports() noexcept { return _reports; }
    const report_gate& reports() const noexcept { return _reports; }

    // Another appliance's probe results for `slot` (nullopt: our own probing's again).
    void set_shared_probe(std::uint16_t slot, std::optional<shared_probe> s);
    const std::optional<shared_probe>& shared_probe_of(std::uint16_t slot) const noexcept {
        return _shared[slot];
    }

    // An accepted pushed report.
    void take(const taken_report& r, std::int64_t now_ns);

    // The operator's drain (true) or undrain (false) by backend name; false if no such backend.
    bool set_drained(const std::string& name, bool drained);

    // Folds new redirects in and brings every fact up to date; the result is indexed by slot.
    std::span<const balance::backend_facts>
    update(std::int64_t now_ns, std::span<const std::uint64_t> new_redirects);

    std::vector<backend_status> status(std::int64_t now_ns) const;
    // The facts as of the last update, by slot.
    std::span<const balance::backend_facts> facts() const noexcept { return _facts; }

private:
    struct live {
        bool drained = false;
        std::optional<double> reported; // utilisation from the last accepted report
        std::int64_t reported_at_ns = 0;
        std::int64_t figure_at_ns = 0; // of the figure in facts; 0: none taken
        load_source source = load_source::none;
    };

    const appliance_config* _config = nullptr; // the running one, owned by the caller
    prober _probes;
    report_gate _reports;
    std::vector<balance::backend_facts> _facts;       // by slot
    std::vector<live> _live;                          // by slot
    std::vector<std::optional<shared_probe>> _shared; // by slot
    std::vector<bool> _present;                       // by slot: configured now
};

} // namespace sipredir::control
