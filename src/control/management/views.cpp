// SPDX-License-Identifier: BSD-3-Clause
#include "views.hpp"

#include "../balance_names.hpp"
#include "../snapshot_builder.hpp"

#include <sodium.h>

#include <algorithm>
#include <balance/policy.hpp>
#include <balance/redirect_counters.hpp>
#include <sip/stage1.hpp>

namespace sipredir::control {

namespace {

std::unique_ptr<const balance::table_snapshot> current_tables(control_context& c) {
    // The facts as of now, built whole; off the fast path, for the operator's questions. The
    // redirects publication has not folded yet are added to a copy, so that a query sees those
    // counted since, the queries' own included.
    c.loop->collect_redirects();
    const std::span<const balance::backend_facts> now = c.monitor.update(c.now_ns(), {});
    std::vector<balance::backend_facts> facts(now.begin(), now.end());
    std::vector<std::uint64_t> pending(c.own_redirects.size(), 0);
    for (std::size_t i = 0; i < pending.size(); ++i) {
        pending[i] = c.own_redirects[i] + c.peer_redirects[i];
    }
    balance::fold_redirects(facts, pending);
    return build_tables(c.config(), facts, 0, nullptr);
}

// A pool's backends as a JSON array: each one's name, state, load, threshold, eligibility.
void write_table(const control_context& c, const balance::pool_snapshot& pool, std::string& out) {
    out += "[";
    bool first = true;
    for (const balance::backend_view& b : pool.backends) {
        const static_backend* sb = c.config().backend_in(b.slot);
        out += first ? "\n  " : ",\n  ";
        first = false;
        object_writer w(out, 2);
        w.field("name", sb != nullptr ? sb->config.name : std::string("?"));
        w.field("state", name_of(b.state));
        w.field("load", b.load);
        w.field("threshold", b.threshold);
        w.field("eligible",
                std::find(pool.eligible.begin(), pool.eligible.end(), &b - pool.backends.data())
                        != pool.eligible.end());
        w.close();
    }
    out += "\n  ]";
}

} // namespace

std::string version_json(const control_context& c) {
    std::string out;
    object_writer o(out, 0);
    o.field("ok", true);
    o.field("version", version_text);
    o.field("config_revision", c.config().revision);
    o.close();
    return out + "\n";
}

std::string stats_json(const control_context& c) {
    std::string out;
    object_writer o(out, 0);
    o.field("ok", true);
    o.key("appliance") += c.hooks.stats_json ? c.hooks.stats_json() : std::string("{}");
    while (!out.empty() && out.back() == '\n') {
        out.pop_back();
    }
    // Named as in the metrics: sipredir_reloads_total{result}, sipredir_table_generation.
    o.key("reloads");
    object_writer reloads(out, 2);
    reloads.field("applied", c.counters.reloads);
    reloads.field("refused", c.counters.reloads_failed);
    reloads.close();
    o.field("table_generation", c.counters.generation);
    o.key("management_closed");
    object_writer closed(out, 2);
    closed.field("evicted", c.counters.management_evicted);
    closed.field("idle", c.counters.management_idle);
    closed.field("too_large", c.counters.management_too_large);
    closed.close();
    for (const std::unique_ptr<service>& s : c.services) {
        s->write_stats(o, out);
    }
    o.close();
    return out + "\n";
}

std::string backends_json(const control_context& c) {
    const std::int64_t now = c.now_ns();
    std::string out;
    object_writer o(out, 0);
    o.field("ok", true);
    o.key("backends");
    out += "[";
    bool first = true;
    for (const backend_status& s : c.monitor.status(now)) {
        out += first ? "\n  " : ",\n  ";
        first = false;
        object_writer b(out, 2);
        b.field("name", s.name);
        b.field("address", s.address);
        b.field("state", name_of(s.state));
        b.field("configured", name_of(s.configured));
        b.field("drained", s.drained);
        b.field("probe", name_of(s.probed));
        b.field("probe_changed_ms_ago", s.probe_changed_ms_ago);
        b.field("load", s.load);
        b.field("load_source", name_of(s.source));
        b.field("load_age_ms", s.figure_age_ms);
        b.field("rtt_ms", s.rtt_ms);
        b.field("jitter_ms", s.jitter_ms);
        b.field("overload_reduction", s.oc_reduction);
        b.field("capacity", std::uint64_t{s.capacity});
        b.field("reports_accepted", s.reports_accepted);
        b.field("redirects",
                c.hooks.redirect_total ? c.hooks.redirect_total(s.slot) : std::uint64_t{0});
        b.close();
    }
    out += "\n  ]";
    o.close();
    return out + "\n";
}

std::string pools_json(control_context& c) {
    const auto tables = current_tables(c);
    std::string out;
    object_writer o(out, 0);
    o.field("ok", true);
    o.field("default", c.config().pools[c.config().pool_index].name);
    o.key("pools");
    out += "[";
    bool first = true;
    for (const balance::pool_snapshot& p : tables->pools) {
        out += first ? "\n  " : ",\n  ";
        first = false;
        object_writer w(out, 2);
        w.field("name", p.name);
        w.field("policy", name_of(p.policy));
        w.field("contacts", std::uint64_t{p.contacts});
        w.field("contact_user", name_of(p.contact_from));
        w.field("retry_after", std::uint64_t{p.retry_after});
        // Tiers on: how many, and the priority that takes requests now.
        w.field("tiers", std::uint64_t{p.tiers.size()});
        if (!p.tiers.empty()) {
            w.field("serving_priority", std::uint64_t{p.tiers[p.serving_tier].priority});
        }
        w.field("backends", std::uint64_t{p.backends.size()});
        w.field("available", std::uint64_t{p.available.size()});
        w.field("eligible", std::uint64_t{p.eligible.size()});
        w.close();
    }
    out += "\n  ]";
    o.close();
    return out + "\n";
}

std::string query_json(control_context& c, const query_args& args) {
    if (!args.error.empty()) {
        return error_json(args.error);
    }
    const auto tables = current_tables(c);
    const balance::pool_snapshot* pool =
            args.pool.empty() ? &tables->pools[c.config().pool_index] : tables->find(args.pool);
    if (pool == nullptr) {
        return error_json("no pool named '" + args.pool + "'");
    }
    balance::choice_inputs in;
    randombytes_buf(&in.random, sizeof in.random);
    randombytes_buf(&in.key_hash, sizeof in.key_hash);
    in.sequence = in.random;
    const balance::selection s = balance::choose(*pool, in);
    // A proxy that routes by query sends its caller to the backends named, as a 302 would: they
    // count as redirects, or every query between two publications names the same backend. The
    // table below is the one the choice was made from.
    const bool counted = args.count && c.hooks.count_redirect;
    for (std::uint8_t i = 0; counted && i < s.count; ++i) {
        c.hooks.count_redirect(pool->backends[s.picks[i]].slot);
    }
    std::string out;
    object_writer o(out, 0);
    o.field("ok", true);
    o.field("pool", pool->name);
    o.field("policy", name_of(pool->policy));
    o.field("counted", counted && s.count > 0);
    o.key("choice");
    out += "[";
    for (std::uint8_t i = 0; i < s.count; ++i) {
        const balance::backend_view& b = pool->backends[s.picks[i]];
        const static_backend* sb = c.config().backend_in(b.slot);
        out += i == 0 ? "" : ", ";
        out += quoted(sb != nullptr ? sb->config.name : "?");
    }
    out += "]";
    if (s.count == 0) {
        o.field("retry_after", std::uint64_t{pool->retry_after});
    }
    o.key("table");
    write_table(c, *pool, out);
    o.close();
    return out + "\n";
}

std::string metrics_text(control_context& c) {
    const pipeline::stats_totals totals =
            c.hooks.totals ? c.hooks.totals() : pipeline::stats_totals{};
    const std::vector<backend_status> backends = c.monitor.status(c.now_ns());
    std::vector<std::uint64_t> redirects(balance::max_backends, 0);
    for (const backend_status& b : backends) {
        redirects[b.slot] = c.hooks.redirect_total ? c.hooks.redirect_total(b.slot) : 0;
    }
    std::vector<pool_redirects> pools;
    for (std::size_t i = 0; i < c.config().pools.size(); ++i) {
        const std::string& name = c.config().pools[i].name;
        pools.push_back(
                {.name = name,
                 .total = c.hooks.pool_redirect_total
                                  ? c.pool_redirects.total(i, name, c.hooks.pool_redirect_total)
                                  : 0}
        );
    }
    metrics_input in;
    in.totals = &totals;
    in.pools = pools;
    in.backends = backends;
    in.redirects = redirects;
    in.control = c.counters;
    in.config_revision = c.config().revision;
    in.overload = c.overload_signal;
    in.overload_read = c.overload.readings();
    if (c.hooks.dataplane) {
        in.dataplane = c.hooks.dataplane();
    }
    in.stage1_kernel = sip::stage1::name_of(sip::stage1::active());
    for (const std::unique_ptr<service>& s : c.services) {
        s->fill_metrics(in);
    }
    return prometheus_text(in);
}

} // namespace sipredir::control
