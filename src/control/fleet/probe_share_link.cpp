// SPDX-License-Identifier: BSD-3-Clause
#include "probe_share_link.hpp"

#include <algorithm>
#include <cmath>

namespace sipredir::control {

namespace {

std::int64_t clamped(double v, std::int64_t max) {
    return std::clamp<std::int64_t>(std::llround(v), 0, max);
}

// One of our probe results as the exchange sends it; the load only when this result brought a
// new figure.
fleet::health_entry entry_of(const probe_record& r, std::int64_t& load_at_ns, std::int64_t now) {
    fleet::health_entry e;
    e.state = r.health.state;
    e.rtt_us = r.health.has_rtt ? clamped(r.health.rtt_ms * 1000, fleet::max_rtt_us) : -1;
    if (r.utilisation && r.utilisation_at_ns != load_at_ns) {
        e.load_permille = clamped(*r.utilisation * 1000, fleet::max_load_permille);
        load_at_ns = r.utilisation_at_ns;
    }
    e.oc_percent = static_cast<std::uint32_t>(clamped(reduction_at(r.overload, now), 100));
    return e;
}

shared_probe taken(const fleet::shared_probe_view& v) {
    shared_probe s;
    s.state = v.state;
    s.rtt_ms = v.rtt_us < 0 ? -1 : static_cast<double>(v.rtt_us) / 1000;
    if (v.load_permille >= 0) {
        s.utilisation = static_cast<double>(v.load_permille) / 1000;
    }
    s.oc_reduction = v.oc_percent;
    s.at_ns = v.at_ns;
    return s;
}

} // namespace

void probe_share_link::tick(fleet::redirect_exchange& x, control_context& c, std::int64_t now) {
    if (!c.config().probe.enabled || x.settings().probers == 0) {
        // Every appliance probes every backend, as without a fleet; after a reload that turned
        // sharing off, our own probing takes every backend back.
        if (!_slots.empty()) {
            for (const static_backend& b : c.config().backends) {
                c.monitor.probes().set_paused(b.slot, false);
                c.monitor.set_shared_probe(b.slot, std::nullopt);
            }
            _slots.clear();
            c.dirty = true;
        }
        _roles.clear();
        return;
    }
    _slots.resize(balance::max_backends);
    _roles.assign(balance::max_backends, fleet::probe_role::self);
    x.update_probe_roles(now);
    prober& probes = c.monitor.probes();
    for (const static_backend& b : c.config().backends) {
        const probe_record* r = probes.record(b.slot);
        if (r == nullptr) {
            continue; // not probed: configured down
        }
        slot_state& st = _slots[b.slot];
        const fleet::probe_role role = x.role_of(b.slot);
        _roles[b.slot] = role;
        const std::uint64_t results =
                r->health.alive_replies + r->health.other_replies + r->health.timeouts;
        const bool new_result = results != st.results;
        if (role == fleet::probe_role::self && new_result) {
            x.own_probe_result(b.slot, entry_of(*r, st.load_at_ns, now));
        }
        if (role == fleet::probe_role::fallback) {
            // A record made afresh (its address changed) counts from 0 again.
            x.count_fallback_probes(r->sent >= st.sent ? r->sent - st.sent : r->sent);
        }
        st.results = results;
        st.sent = r->sent;
        probes.set_paused(b.slot, role == fleet::probe_role::shared);

        // Taking a backend back (its prober left, or its results stopped): the others' last
        // word stands until our own first result, not a verdict of ours from long ago.
        if (st.role == fleet::probe_role::shared && role != fleet::probe_role::shared) {
            st.await_own = true;
        }
        if (new_result || role == fleet::probe_role::shared) {
            st.await_own = false;
        }
        st.role = role;
        std::optional<shared_probe> s;
        std::string_view from;
        const std::optional<shared_probe>& old = c.monitor.shared_probe_of(b.slot);
        if (role == fleet::probe_role::shared || st.await_own) {
            if (const auto v = x.shared_probe(b.slot, now)) {
                s = taken(*v);
                from = v->from;
            } else if (st.await_own) {
                // Fallen back because the results stopped: their last word, however old, is
                // still better than our own verdict from before we paused.
                s = old;
            }
        }
        const health before = old ? old->state : r->health.state;
        const health after = s ? s->state : r->health.state;
        c.monitor.set_shared_probe(b.slot, s);
        if (before != after) {
            c.dirty = true; // published now: a shared down takes effect at once
            if (s && after != health::unknown) {
                log(after == health::up ? log_level::info : log_level::warning,
                    after == health::up ? "backend_up" : "backend_down",
                    {{"backend", b.config.name}, {"probed_by", std::string(from)}});
            }
        }
    }
}

std::span<const fleet::shared_probe_age> probe_share_link::shared_ages(
        const fleet::redirect_exchange& x, const control_context& c, std::int64_t now
) {
    _ages.clear();
    for (const static_backend& b :
         _roles.empty() ? std::vector<static_backend>{} : c.config().backends) {
        if (!c.monitor.shared_probe_of(b.slot)) {
            continue;
        }
        if (const auto v = x.shared_probe(b.slot, now)) {
            _ages.push_back(
                    {b.slot, std::string(v->from), static_cast<double>(now - v->at_ns) / 1e9}
            );
        }
    }
    return _ages;
}

void probe_share_link::write_status(
        const fleet::redirect_exchange& x,
        const control_context& c,
        object_writer& o,
        std::string& out,
        std::int64_t now
) const {
    const bool sharing = c.config().probe.enabled && x.settings().probers != 0;
    o.field("probers", std::uint64_t{sharing ? x.settings().probers : 0});
    o.key("probing");
    out += "[";
    bool first = true;
    for (const static_backend& b : sharing ? c.config().backends : std::vector<static_backend>{}) {
        out += first ? "\n  " : ",\n  ";
        first = false;
        object_writer w(out, 2);
        w.field("backend", b.config.name);
        w.field("role", name_of(x.role_of(b.slot)));
        std::string probers;
        for (std::string_view p : x.probers_of(b.slot)) {
            probers += probers.empty() ? "" : ",";
            probers += p;
        }
        w.field("probers", probers);
        const auto v = x.shared_probe(b.slot, now);
        w.field("shared_from", v ? v->from : std::string_view{});
        w.field("shared_age_ms", v ? static_cast<double>(now - v->at_ns) / 1e6 : -1.0);
        w.field("shared_state", v ? name_of(v->state) : std::string_view{});
        w.close();
    }
    out += first ? "]" : "\n]";
    const fleet::exchange_counters& n = x.counters();
    o.key("probe_results");
    object_writer r(out, 1);
    r.field("sent", n.health_sent);
    r.field("received", n.health_received);
    r.field("refused", n.health_refused);
    r.field("unknown_backends", n.health_unknown_backends);
    r.close();
    o.field("fallbacks", n.fallbacks);
    o.field("fallback_probes", n.fallback_probes);
}

} // namespace sipredir::control
