// SPDX-License-Identifier: BSD-3-Clause
#include "load_monitor.hpp"

#include "address_text.hpp"
#include "log.hpp"

#include <algorithm>
#include <balance/redirect_counters.hpp>
#include <balance/snapshot.hpp>

namespace sipredir::control {

void load_monitor::apply(const appliance_config& c, std::int64_t now_ns) {
    _config = &c;
    _live.resize(balance::max_backends);
    std::vector<bool> present(balance::max_backends, false);
    std::vector<probe_target> targets;
    std::vector<report_source> sources;
    for (const static_backend& b : c.backends) {
        present[b.slot] = true;
        if (_present.empty() || !_present[b.slot]) {
            _facts[b.slot] = balance::backend_facts{}; // a new backend in this slot
            _live[b.slot] = live{};
            _shared[b.slot].reset();
        }
        if (c.probe.enabled && b.state != balance::backend_state::down) {
            targets.push_back({b.slot, b.config.address});
        }
        if (c.reports.port != 0) {
            const report_key key = b.own_key ? *b.own_key : *c.reports.key;
            sources.push_back(
                    {b.slot, b.config.name, key, b.report_source.value_or(b.config.address.address)}
            );
        }
    }
    if (c.reports.port != 0 && c.reports.allow_shared_key) {
        // Allowed, but every load and reload says so: with one key, any backend (or any host
        // holding the key) can report its rivals full.
        std::size_t shared = 0;
        for (std::size_t i = 0; i < sources.size(); ++i) {
            shared += std::any_of(sources.begin(), sources.end(), [&](const report_source& o) {
                return &o != &sources[i] && o.key == sources[i].key;
            });
        }
        if (shared > 0) {
            log(log_level::warning,
                "shared_report_key",
                {{"backends", std::to_string(shared)},
                 {"risk", "each can sign reports as the others"}});
        }
    }
    _present = std::move(present);
    _probes.configure(c.probe.settings);
    _probes.set_targets(targets, now_ns);
    _reports.configure(c.reports.settings, sources);
}

void load_monitor::set_shared_probe(std::uint16_t slot, std::optional<shared_probe> s) {
    if (slot >= _shared.size()) {
        return;
    }
    if (s) {
        // `sipredirctl backends` says how long the state shown has held, whoever found it.
        const std::optional<shared_probe>& was = _shared[slot];
        const probe_record* own = _probes.record(slot);
        const health shown = was              ? was->state
                             : own != nullptr ? own->health.state
                                              : health::unknown;
        const std::int64_t since = was              ? was->changed_at_ns
                                   : own != nullptr ? own->health.changed_at_ns
                                                    : 0;
        s->changed_at_ns = s->state != shown ? s->at_ns : since;
    }
    _shared[slot] = s;
}

void load_monitor::take(const taken_report& r, std::int64_t now_ns) {
    if (r.slot < _live.size()) {
        _live[r.slot].reported = r.utilisation;
        _live[r.slot].reported_at_ns = now_ns;
    }
}

bool load_monitor::set_drained(const std::string& name, bool drained) {
    for (const static_backend& b : _config->backends) {
        if (b.config.name == name) {
            _live[b.slot].drained = drained;
            return true;
        }
    }
    return false;
}

std::span<const balance::backend_facts>
load_monitor::update(std::int64_t now_ns, std::span<const std::uint64_t> new_redirects) {
    balance::fold_redirects(_facts, new_redirects);
    const std::int64_t max_age_ns = static_cast<std::int64_t>(_config->load.max_age_ms) * 1'000'000;
    for (const static_backend& b : _config->backends) {
        balance::backend_facts& f = _facts[b.slot];
        live& l = _live[b.slot];
        const probe_record* p = _probes.record(b.slot);
        const std::optional<shared_probe>& s = _shared[b.slot];
        // State: the configuration's down or draining first, then the operator's drain, then
        // what probing found, here or by the appliance that probes it for us (unknown until it
        // found anything: usable, as configured).
        if (b.state != balance::backend_state::up) {
            f.state = b.state;
        } else if (l.drained) {
            f.state = balance::backend_state::draining;
        } else if (p == nullptr && !s) {
            f.state = balance::backend_state::up;
        } else {
            switch (s ? s->state : p->health.state) {
            case health::unknown:
                f.state = balance::backend_state::unknown;
                break;
            case health::up:
                f.state = balance::backend_state::up;
                break;
            case health::down:
                f.state = balance::backend_state::down;
                break;
            }
        }
        f.rtt_ms = p != nullptr && p->health.has_rtt ? p->health.rtt_ms : -1;
        f.oc_reduction = p != nullptr ? reduction_at(p->overload, now_ns) : 0;
        if (s) {
            f.rtt_ms = s->rtt_ms;
            f.oc_reduction = s->oc_reduction;
        }

        // Load: the newest figure, from a probe reply's header or a pushed report. A new figure
        // replaces the estimate (and the redirects counted since the last one).
        std::optional<double> figure;
        std::int64_t figure_at = 0;
        load_source source = load_source::none;
        if (p != nullptr && p->utilisation && p->utilisation_at_ns > figure_at) {
            figure = p->utilisation;
            figure_at = p->utilisation_at_ns;
            source = load_source::probe;
        }
        if (s && s->utilisation && s->at_ns > figure_at) {
            figure = s->utilisation;
            figure_at = s->at_ns;
            source = load_source::probe;
        }
        if (l.reported && l.reported_at_ns > figure_at) {
            figure = l.reported;
            figure_at = l.reported_at_ns;
            source = load_source::report;
        }
        if (figure && figure_at > l.figure_at_ns && now_ns - figure_at <= max_age_ns) {
            balance::take_report(f, *figure * b.config.capacity, figure_at);
            l.figure_at_ns = figure_at;
            l.source = source;
        } else if (now_ns - f.reported_at_ns > max_age_ns) {
            // Stale or never had one: the load is unknown. The estimate restarts from the
            // redirects of the current window (docs/configuration.md, [load]).
            balance::take_report(f, 0, now_ns);
            l.source = load_source::none;
        }
    }
    return _facts;
}

std::vector<backend_status> load_monitor::status(std::int64_t now_ns) const {
    std::vector<backend_status> out;
    for (const static_backend& b : _config->backends) {
        const balance::backend_facts& f = _facts[b.slot];
        const live& l = _live[b.slot];
        const probe_record* p = _probes.record(b.slot);
        backend_status s;
        s.slot = b.slot;
        s.name = b.config.name;
        s.address = endpoint_text(b.config.address);
        s.state = f.state;
        s.configured = b.state;
        s.drained = l.drained;
        const std::optional<shared_probe>& shared = _shared[b.slot];
        s.probed = shared ? shared->state : p != nullptr ? p->health.state : health::unknown;
        s.load = balance::estimated_load(b.config, f);
        s.source = l.source;
        s.figure_age_ms = l.source != load_source::none
                                  ? static_cast<double>(now_ns - l.figure_at_ns) / 1e6
                                  : -1;
        const std::int64_t changed_ns = shared         ? shared->changed_at_ns
                                        : p != nullptr ? p->health.changed_at_ns
                                                       : 0;
        if (changed_ns != 0) {
            s.probe_changed_ms_ago = static_cast<double>(now_ns - changed_ns) / 1e6;
        }
        if (p != nullptr && p->health.has_rtt) {
            s.rtt_ms = p->health.rtt_ms;
            s.jitter_ms = p->health.jitter_ms;
        }
        if (shared) {
            s.rtt_ms = shared->rtt_ms;
            s.jitter_ms = -1; // not shared
        }
        s.oc_reduction = f.oc_reduction;
        if (const report_gate::source_state* r = _reports.state_of(b.slot)) {
            s.reports_accepted = r->accepted;
        }
        s.capacity = b.config.capacity;
        out.push_back(std::move(s));
    }
    return out;
}

} // namespace sipredir::control
