// SPDX-License-Identifier: BSD-3-Clause
// Redirect sharing between the appliances of a fleet (docs/fleet.md). This appliance's
// own redirects are kept as running totals per backend and sent to every peer: the changed ones
// every interval, or at once when the unsent count to one backend passes a fraction of its spare
// capacity, and all of them every full interval (which repairs any loss). A peer's message is
// believed when it is well formed, signed with the fleet's key, sent within the clock window,
// from the address configured for the peer it names, and newer than the last one from that
// peer; its totals, against that peer's previous ones, give the redirects the peer issued since
// — which the load estimate folds like our own, at most a backend's capacity a second. Peers are
// kept per sender and forgotten when they go silent; the last (epoch, seq) of a forgotten peer
// is kept for the clock window, so that none of its messages can be replayed as new. No sockets
// and no clock: the caller passes times and datagrams, so the tests run on a fake clock.
#pragma once

#include "../enum_names.hpp"
#include "exchange_message.hpp"

#include <array>
#include <balance/pool_config.hpp>
#include <cstdint>
#include <map>
#include <net/ip_address.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sipredir::control::fleet {

struct fleet_peer {
    std::string name;        // its [fleet] name: what its messages say in from=
    net::ip_address address; // the only address they may come from
};

// Who sent a message, as its transport vouches for it: over the UDP mesh, the datagram's source
// address; over NATS, the appliance name in the subject it was published on, which the servers'
// subject permissions bind to that appliance's credentials (docs/fleet.md, "NATS security").
struct message_origin {
    message_origin(const net::ip_address& a) : address(a) {} // NOLINT: the mesh's, implicitly
    static message_origin publisher(std::string_view name) {
        message_origin o(net::ip_address{});
        o.by_subject = true;
        o.name = name;
        return o;
    }
    net::ip_address address;
    bool by_subject = false;
    std::string_view name; // by_subject: the subject's last token
};

struct exchange_settings {
    std::string self;                              // this appliance's name in the fleet
    signing_key key{};                             // the fleet's key
    std::int64_t window_ms = 5000;                 // |sender's ts - our wall clock| accepted
    std::int64_t interval_ns = 50'000'000;         // changed totals at most this often
    std::int64_t full_interval_ns = 1'000'000'000; // every total this often
    std::int64_t peer_timeout_ns = 3'000'000'000;  // a peer silent this long is forgotten
    double send_fraction = 0.05;                   // of a backend's spare calls: send at once
    std::int64_t min_gap_ns = 5'000'000;           // between two sends, whatever triggered them
    std::size_t max_peers = 256;
    std::vector<fleet_peer> peers{}; // the only names messages may come from
    // Over NATS without a list of peers: any name may speak, as long as it speaks on its own
    // subject (the servers' permissions are then the only binding).
    bool any_peer = false;
    // Per slot, as the backends given to configure(): the most redirects a peer's messages may
    // add to that backend a second (its capacity; a slot past the end: no cap).
    std::vector<std::uint32_t> capacity{};
    // Probing shared out: each backend is probed by this many members (probe_share.hpp); 0:
    // nothing shared, every appliance probes every backend.
    std::size_t probers = 0;
    // The probe interval: a shared result is fresh for twice this, and a backend without a
    // fresh one for that long is probed here again (the fallback).
    std::int64_t probe_interval_ns = 1'000'000'000;
};

// Who probes a backend, as this appliance sees it.
enum class probe_role : std::uint8_t {
    self,     // we are among its probers (or nothing is shared): we probe it and share results
    shared,   // others probe it: we take their results and send it no OPTIONS
    fallback, // others should, but no fresh result came for two intervals: we probe it
};

inline constexpr auto probe_role_table = std::to_array<enum_name<probe_role>>({
        {probe_role::self, "self"},
        {probe_role::shared, "shared"},
        {probe_role::fallback, "fallback"},
});
static_assert(covers_in_order(probe_role_table, probe_role::fallback));

constexpr std::string_view name_of(probe_role r) noexcept {
    return name_in(probe_role_table, r);
}

// What the fresh shared results for one backend say: down when every one says down, up when
// any says up, else unknown; the round trip, load and reduction from the newest.
struct shared_probe_view {
    health state = health::unknown;
    std::int64_t rtt_us = -1;
    std::int64_t load_permille = -1;
    std::uint32_t oc_percent = 0;
    std::int64_t at_ns = 0;  // when the newest arrived
    std::string_view from;   // its sender
    std::size_t results = 0; // fresh results taken into account
};

// A backend whose shared results are in use here, for the metrics.
struct shared_probe_age {
    std::uint16_t slot = 0;
    std::string peer; // the newest result's sender
    double age_seconds = 0;
};

enum class exchange_verdict : std::uint8_t {
    accepted,
    malformed,
    forged,   // wrong MAC
    stale,    // timestamp outside the window
    replayed, // an older epoch, or a sequence number not above the last one
    own,      // our own name: a loop, or two appliances configured with one name
    too_many_peers,
    unknown_peer, // a name not among the configured peers
    wrong_source, // a configured peer's name, from another address
};

inline constexpr auto exchange_verdict_table = std::to_array<enum_name<exchange_verdict>>({
        {exchange_verdict::accepted, "accepted"},
        {exchange_verdict::malformed, "malformed"},
        {exchange_verdict::forged, "forged"},
        {exchange_verdict::stale, "stale"},
        {exchange_verdict::replayed, "replayed"},
        {exchange_verdict::own, "own"},
        {exchange_verdict::too_many_peers, "too_many_peers"},
        {exchange_verdict::unknown_peer, "unknown_peer"},
        {exchange_verdict::wrong_source, "wrong_source"},
});
static_assert(covers_in_order(exchange_verdict_table, exchange_verdict::wrong_source));
inline constexpr std::size_t exchange_verdict_count = exchange_verdict_table.size();

constexpr std::string_view name_of(exchange_verdict v) noexcept {
    return name_in(exchange_verdict_table, v);
}

struct peer_status {
    std::string name;
    std::uint64_t epoch_ms = 0;
    std::uint64_t last_seq = 0;
    std::int64_t heard_ns = 0;
    std::uint64_t messages = 0;  // accepted
    std::uint64_t redirects = 0; // folded from it since it was first heard
};

struct exchange_counters {
    std::array<std::uint64_t, exchange_verdict_count> received{};
    std::uint64_t sent_messages = 0;
    std::uint64_t sends = 0;            // rounds of sending (each to every peer)
    std::uint64_t triggered_sends = 0;  // of which by the spare-capacity trigger
    std::uint64_t unknown_backends = 0; // totals for a name not configured here (a rollout)
    std::uint64_t went_back = 0;        // a total below the last one within an epoch (ignored)
    std::uint64_t peers_expired = 0;
    std::uint64_t restarts_seen = 0; // a known peer came back with a newer epoch
    // Redirects not folded: a total raised past what the backend's capacity allows since the
    // peer's last message (a forged or broken count must not fill a backend for everyone).
    std::uint64_t capped_redirects = 0;
    // Probing shared out: results (one backend's, in health=) sent, taken from accepted
    // messages, refused (with their message: forged, replayed, stale, ...; or from a peer that
    // is not among that backend's probers as we rank them), for a backend not configured here;
    // backends that fell back to our own probing, and the probes sent so.
    std::uint64_t health_sent = 0;
    std::uint64_t health_received = 0;
    std::uint64_t health_refused = 0;
    std::uint64_t health_unknown_backends = 0;
    std::uint64_t fallbacks = 0;
    std::uint64_t fallback_probes = 0;
};

class redirect_exchange {
public:
    // `backends`: the name of every slot ("" for a free slot). A backend that keeps its name
    // keeps its totals across a reconfiguration; peers are kept.
    void configure(
            const exchange_settings& settings,
            std::span<const std::string> backends,
            std::uint64_t epoch_ms
    );

    // This appliance's new redirects per slot.
    void add_own(std::span<const std::uint64_t> delta) noexcept;

    // Whether to send now; `spare_calls` per slot (capacity × threshold − estimated calls).
    bool due(std::int64_t now_ns, std::span<const double> spare_calls) const noexcept;
    // The messages for every peer, now; marks the totals in them sent.
    std::vector<std::string> take_messages(std::int64_t now_ns, std::int64_t wall_ms);

    // A peer's datagram from `from`. Accepted: the redirects it issued since its last message
    // are added to `delta` per slot (at most capacity × elapsed time for each).
    exchange_verdict
    admit(std::string_view datagram,
          const message_origin& from,
          std::int64_t wall_ms,
          std::int64_t now_ns,
          std::span<std::uint64_t> delta);
    // Forgets the peers silent past the timeout; their next message starts afresh, unless it
    // is older than the last one taken from them (kept for window_ms after they are forgotten).
    void expire(std::int64_t now_ns);

    std::int64_t next_event_ns() const noexcept;
    std::vector<peer_status> peers() const;
    const exchange_counters& counters() const noexcept { return _counters; }
    const exchange_settings& settings() const noexcept { return _settings; }
    std::uint64_t own_total(std::uint16_t slot) const noexcept {
        return slot < _own.size() ? _own[slot].total : 0;
    }

    // Probing shared out (settings().probers > 0). A result of our own probe of `slot` (its
    // name and at_ns ignored): sent with the next interval's message, or at once when it
    // turns the backend up or down.
    void own_probe_result(std::uint16_t slot, const health_entry& r) noexcept;
    // Brings every backend's role up to date: who probes it among us and the live peers, and
    // whether its shared results are fresh. True when a role changed.
    bool update_probe_roles(std::int64_t now_ns);
    probe_role role_of(std::uint16_t slot) const noexcept {
        return slot < _probe.size() ? _probe[slot].role : probe_role::self;
    }
    // The fresh shared results for `slot` (none: nullopt).
    std::optional<shared_probe_view> shared_probe(std::uint16_t slot, std::int64_t now_ns) const;
    // Who probes `slot`: the members ranked for it (as of the last update_probe_roles).
    std::vector<std::string_view> probers_of(std::uint16_t slot) const;
    void count_fallback_probes(std::uint64_t n) noexcept { _counters.fallback_probes += n; }

private:
    struct own_total_state {
        std::string name;
        std::uint64_t total = 0; // every redirect since our epoch
        std::uint64_t sent = 0;  // the total in our last message
    };
    struct shared_result {
        health_entry entry;     // its name is not kept
        std::int64_t at_ns = 0; // 0: none
    };
    struct peer_state {
        peer_status status;
        std::vector<std::uint64_t> totals; // per slot
        std::vector<bool> seen;            // per slot: a total is known
        std::vector<double> allowance;     // per slot: redirects it may still add
        std::vector<shared_result> health; // per slot: its last probe result
    };
    struct probe_share_state {
        probe_role role = probe_role::self;
        bool assigned = true;                // among the probers
        std::int64_t delegated_ns = 0;       // since when others probe it (0: we do)
        bool pending = false;                // own result not yet sent
        bool urgent = false;                 // ... that turned it up or down
        health_entry own;                    // our last result
        health sent_state = health::unknown; // in our last sent result
        // The others among its probers, as ranked at the last change of members: the only
        // peers whose results for it are believed, and the only ones looked at for them.
        std::vector<std::string> probers;
    };
    struct forgotten_peer {
        std::uint64_t epoch_ms = 0;
        std::uint64_t last_seq = 0;
        std::int64_t forgotten_ns = 0;
    };

    exchange_settings _settings;
    std::uint64_t _epoch_ms = 0;
    std::uint64_t _seq = 0;
    std::vector<own_total_state> _own;                        // per slot
    std::map<std::string, std::uint16_t, std::less<>> _slots; // backend name -> slot
    std::map<std::string, peer_state, std::less<>> _peers;
    std::map<std::string, forgotten_peer, std::less<>> _forgotten; // for window_ms
    std::int64_t _sent_ns = 0;                                     // last send (0: never)
    std::int64_t _full_sent_ns = 0;                                // last full send
    exchange_counters _counters;
    std::vector<probe_share_state> _probe; // per slot
    bool _members_changed = true;          // the probers must be chosen again

    bool triggered(std::span<const double> spare_calls) const noexcept;
    // The steps of admit(): the message read and checked, its sender's state found (or made),
    // the sender's allowance refilled, and its totals folded into `delta`.
    exchange_verdict check_message(
            std::string_view datagram,
            const message_origin& from,
            std::int64_t wall_ms,
            exchange_message& m
    ) const;
    exchange_verdict find_peer(const exchange_message& m, std::int64_t now_ns, peer_state*& out);
    peer_state& add_peer(const exchange_message& m, std::int64_t now_ns);
    void refill_allowance(peer_state& p, std::int64_t now_ns) const noexcept;
    void fold_totals(peer_state& p, std::string_view totals, std::span<std::uint64_t> delta);
    void fold_health(peer_state& p, std::string_view health, std::int64_t now_ns);
    std::vector<std::string_view> members() const;
    exchange_verdict check_sender(std::string_view name, const message_origin& from) const;
    double capacity_of(std::size_t slot) const noexcept;
};

} // namespace sipredir::control::fleet
