// SPDX-License-Identifier: BSD-3-Clause
// An immutable picture of every pool, built whole by the control thread and published with one
// pointer store: workers only read it, so every precomputation (ranking, tables, Contact bytes)
// happens here, off the fast path.
#pragma once

#include "pool_config.hpp"
#include "tables.hpp"

#include <base/siphash.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sipredir::rules {
class ruleset; // lib/rules: held here, matched by the pipeline
}

namespace sipredir::balance {

struct backend_view {
    std::uint16_t slot = 0;
    backend_state state = backend_state::unknown;
    std::uint32_t capacity = 0;
    std::uint32_t weight = 0;
    // SipHash of its name under the appliance identity's request_hash_key: its identity in the
    // Maglev table, the same on every appliance that shares the key, whatever the slot or
    // configured order.
    std::uint64_t name_hash = 0;
    double threshold = 0;
    double load = 0; // estimated utilisation: (reported calls + redirects since) / capacity
    // RFC 7339 overload control: of 65536 requests that pick this backend first, how many go
    // to the next in failover order instead (65536: all of them).
    std::uint32_t divert = 0;
    double rtt_ms = -1; // smoothed probe round trip; < 0: none yet
    // The backend's part of the Contact, with brackets and the pool's contact_params, no
    // user: the reply writer puts the request's user in (sip::write_contact_uri).
    std::string contact;
};

// What a policy chooses among — a whole pool, or one priority tier of it — and its tables.
struct choice_set {
    // Neither down nor draining: what load-agnostic policies (wrr, hash, random) choose from.
    std::vector<std::uint16_t> available;
    // Available and under threshold: what load-aware policies choose from, configured order.
    std::vector<std::uint16_t> eligible;
    // `eligible` in failover order: by ascending load (configured order among equals), or for
    // least-latency by ascending round trip (those without one last). `least_ties`: how many
    // share the lowest load; least-load is one draw among the first `least_ties`.
    std::vector<std::uint16_t> ranked;
    std::uint16_t least_ties = 0;
    // proportional: eligible, weighted by spare capacity; least-latency: the same, but only the
    // backends within the latency band of the fastest (all eligible while none has a round trip).
    alias_table spare;
    // Tables that depend only on which backends are available and their weights, shared with
    // the previous snapshot when those did not change (the Maglev table is 32 KiB); built only
    // for the policy that reads them (wrr, hash). Only the control thread copies or frees these
    // pointers; workers read through them.
    std::shared_ptr<const std::vector<std::uint16_t>> wrr_cycle; // available, by weight
    // Weighted, keyed by name_hash; entries index `available`.
    std::shared_ptr<const std::vector<std::uint16_t>> maglev;
};

// The backends of one priority in a pool with tiers on.
struct pool_tier : choice_set {
    std::uint32_t priority = 0;
};

// The pool's own choice_set spans all its backends; without tiers the policy chooses from it.
struct pool_snapshot : choice_set {
    std::string name;
    policy_kind policy = policy_kind::proportional;
    // What chooses in the workers' stead: the policy itself, or for a race pool its fallback
    // (never race). `refuses`: a race pool whose fallback is a 503.
    policy_kind chooser = policy_kind::proportional;
    bool refuses = false;
    hash_key key = hash_key::call_id;
    std::uint32_t retry_after = 0;
    std::uint8_t contacts = 1;
    contact_user contact_from = contact_user::request_uri;
    // Every available backend at or over its threshold (pool_saturated): replies for this pool
    // carry the appliance's RFC 7339 overload signal.
    bool saturated = false;
    std::vector<backend_view> backends; // configured order; every index below points here

    // Tiers on: one per priority among the backends, ascending (RFC 2782: lowest first), and
    // the pool's own spare and tables are left empty. `serving_tier` chooses: the first with an
    // eligible backend; when none has one, for wrr, hash and random (which ignore thresholds)
    // the first with an available one. `failover`: where further Contacts and RFC 7339
    // diversions go — the serving tier's failover order, then each following tier's.
    // Tiers off: `tiers` and `failover` are empty and the pool chooses from its own set.
    std::vector<pool_tier> tiers;
    std::uint16_t serving_tier = 0;
    std::vector<std::uint16_t> failover;
};

// RFC 7339 as a server: what the control plane asks of clients that offered overload control,
// decided from the workers' busy share, the NIC's missed frames and the pools' saturation.
struct overload_signal {
    std::uint8_t reduction = 0; // loss percent asked of clients, 1..100; 0: no indication
    bool everywhere = false;    // the appliance itself is overloaded: every pool's replies
    std::uint32_t validity_ms = 0;
    std::uint64_t seq_ms = 0; // oc-seq as milliseconds; it grows whenever the indication changes
};

// The appliance's own UDP services behind the exception path, as bits: which of them an
// address may reach (the workers' filter, src/pipeline/kernel_filter.hpp).
enum control_service : std::uint8_t {
    cs_probe = 1 << 0,   // answers to our OPTIONS probes: from backends
    cs_race = 1 << 1,    // answers to race legs: from backends
    cs_reports = 1 << 2, // pushed load reports: from backends (or their report_source)
    cs_fleet = 1 << 3,   // the fleet exchange: from the peers
};

struct control_peer {
    net::ip_address address;
    std::uint8_t services = 0; // control_service bits
};

// Orders control peers for a binary search: family, then octets.
inline bool peer_before(const net::ip_address& a, const net::ip_address& b) noexcept {
    if (a.family != b.family) {
        return a.family < b.family;
    }
    return a.bytes < b.bytes;
}

struct table_snapshot {
    std::uint64_t generation = 0;
    // Who may reach which of our control services, sorted by peer_before; one entry per address.
    std::vector<control_peer> control_peers;
    overload_signal overload;
    std::vector<pool_snapshot> pools;
    std::size_t default_pool = 0; // where requests go (sip.pool); a reload may move it
    // Routing and blocking rules (route rules name pools by index here); null: none. The same
    // compiled ruleset is shared by every snapshot until a reload brings another.
    std::shared_ptr<const rules::ruleset> rules;

    const pool_snapshot* find(std::string_view name) const noexcept {
        for (const auto& p : pools) {
            if (p.name == name) {
                return &p;
            }
        }
        return nullptr;
    }
};

// Utilisation the policies see: what the backend last reported plus every redirect issued to it
// since (each becomes a call there), over its capacity.
double estimated_load(const backend_config& config, const backend_facts& facts) noexcept;

// The backend's RFC 7339 reduction (percent) as a share of 65536.
std::uint32_t divert_share(double oc_reduction) noexcept;

// Every backend of the pool that is neither down nor draining is at or over its threshold, and
// there is at least one such backend (a pool all down is not overloaded: nobody is there to shed
// for).
bool pool_saturated(
        const pool_config& pool,
        std::span<const backend_config> configs,
        std::span<const backend_facts> facts
) noexcept;

// Maglev table size: a prime about 160 entries per backend at 100 backends.
inline constexpr std::size_t maglev_size = 16381;

// Builds one pool. `configs` and `facts` are indexed by slot; contacts are rendered here.
// `previous`, the same pool in the last snapshot if any, lends its wrr and Maglev tables when
// the available backends and their weights are unchanged. `name_key` keys the backends' name
// hashes (the appliance identity's request_hash_key: the same key gives every appliance the same
// hash table).
pool_snapshot build_pool_snapshot(
        const pool_config& pool,
        std::span<const backend_config> configs,
        std::span<const backend_facts> facts,
        const pool_snapshot* previous = nullptr,
        const siphash_key& name_key = {}
);

} // namespace sipredir::balance
