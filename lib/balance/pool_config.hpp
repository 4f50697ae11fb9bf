// SPDX-License-Identifier: BSD-3-Clause
// What the control plane knows about backends and pools: configuration and live facts.
#pragma once

#include <cstdint>
#include <net/ip_address.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sipredir::balance {

// Counters, Contact slots and tables are indexed by a backend's slot: a number the control plane
// gives each backend identity and keeps across reloads.
inline constexpr std::size_t max_backends = 256;
inline constexpr std::size_t max_contacts = 8;
// Pools are indexed by their place in the configuration, which holds at most this many.
inline constexpr std::size_t max_pools = 64;

enum class backend_state : std::uint8_t {
    up,
    down,
    draining, // no new redirects; existing calls finish
    unknown,  // not probed yet, or its load figure is stale: usable, but without a load
};

enum class transport : std::uint8_t { udp, tcp, tls };

enum class policy_kind : std::uint8_t {
    least_load,   // lowest utilisation; ties broken at random
    proportional, // in proportion to spare capacity: least-load without herding
    p2c,          // the lower of two random choices
    sequence,     // the first in order under its threshold
    wrr,          // smooth weighted round robin
    hash,         // consistent (Maglev) on a request key
    random,
    // The load monitor also times its probes: among eligible backends, those whose smoothed
    // probe round trip is within the pool's latency band of the fastest share in proportion to
    // spare capacity. A proxy that answers slowly is far away or congested.
    least_latency,
    // A live race. The control core asks every live backend at once and the first
    // to answer is taken as the least loaded (src/control/race). In the workers and when a race
    // has no winner, the pool's race fallback policy chooses.
    race,
};

// How a race pool asks its backends (docs/race.md).
enum class race_method : std::uint8_t {
    options, // an OPTIONS per backend: nothing to cancel, late replies are absorbed
    invite,  // the caller's INVITE as a new client transaction per backend, then CANCELled
};

// What keeps an INVITE leg from ringing a phone.
enum class race_leg : std::uint8_t {
    max_forwards_0, // Max-Forwards: 0, so a proxy answers 483 itself (RFC 3261 §16.3)
    header,         // a configured header the backends answer locally; Max-Forwards decremented
    forward,        // nothing: the backend may forward it (behind an explicit option only)
};

struct race_config {
    race_method method = race_method::options;
    // When the race has no winner (timeout, no live backend, probe cap): this policy chooses,
    // or with refuse_fallback, the caller gets a 503.
    policy_kind fallback = policy_kind::least_load;
    bool refuse_fallback = false;
    std::uint32_t timeout_ms = 200;
    // Requests within this window of a race's start share its result (0: every request races).
    std::uint32_t coalesce_ms = 0;
    // Legs per backend per second at most, over all of this pool's races (0: no cap).
    std::uint32_t max_legs_per_second = 1000;
    // Legs per race at most: the first live backends in the pool's order (each leg is a request
    // to a backend, so one request to a large pool must not become hundreds).
    std::uint16_t max_legs = 8;
    // INVITE legs carry the caller's body only when it is application/sdp and at most this
    // long; any other body is not relayed to every backend.
    std::uint32_t max_body = 4096;
    race_leg leg = race_leg::max_forwards_0;
    std::string leg_header; // race_leg::header: "Name: value", added to each leg
    friend bool operator==(const race_config&, const race_config&) = default;
};

enum class hash_key : std::uint8_t {
    call_id,
    from_user,
    request_uri_user,
    to_user,
    source_ip, // the request's source address (not its port)
};

// Whose user a pool's Contacts carry (sip::contact_user in the reply writer).
enum class contact_user : std::uint8_t {
    request_uri, // the Request-URI's user and URI parameters: whom the caller dialled
    to,          // the To URI's
    none,        // none: the backend's URI alone
};

struct backend_config {
    std::string name;
    net::ip_endpoint address;
    transport proto = transport::udp;
    std::uint32_t weight = 1;
    std::uint32_t capacity = 100; // concurrent calls it is sized for
    double threshold = 0.9;       // utilisation at which it counts as too busy
    // RFC 2782's priority: with a pool's tiers on, lower numbers are preferred and higher ones
    // take requests only while every lower tier is busy or down.
    std::uint32_t priority = 0;
};

struct pool_config {
    std::string name;
    policy_kind policy = policy_kind::proportional;
    hash_key key = hash_key::call_id;
    std::vector<std::uint16_t> backends; // slots, in configured (sequence) order
    std::uint32_t retry_after = 5;       // seconds, on the 503 when all are busy
    std::uint8_t contacts = 1;           // Contacts per 302, 1..max_contacts
    double latency_band_ms = 5;          // least-latency: how much slower than the fastest counts
    race_config race;                    // policy race only
    contact_user contact_from = contact_user::request_uri;
    std::string contact_params; // ";name[=value]..." appended to every Contact URI; valid
    // Tier by tier: the policy chooses among the backends of the lowest priority that has an
    // eligible one, and the next tier takes over only while that whole tier is busy or down.
    bool tiers = false;
};

// The live facts of one backend, owned by the control thread.
struct backend_facts {
    backend_state state = backend_state::unknown;
    double reported_calls = 0;                // from the last load report or probe
    std::int64_t reported_at_ns = 0;          // when that report arrived
    std::uint64_t redirects_since_report = 0; // folded from the workers' counters
    double rtt_ms = -1;                       // EWMA of probe round trips; < 0: none yet
    // RFC 7339 loss algorithm: the percentage (0..100) of new requests the backend asked to be
    // diverted elsewhere, while its oc-validity lasts.
    double oc_reduction = 0;
};

// The backend's part of a Contact, with no user: "<sip:198.18.1.1:5060;transport=udp>",
// "<sip:[2001:db8::1]:5060;transport=tcp>", "<sips:...;transport=tcp>" for TLS. `params`
// (";name[=value]...", already valid) follow the transport.
std::string
render_contact(const net::ip_endpoint& address, transport proto, std::string_view params = {});

} // namespace sipredir::balance
