// SPDX-License-Identifier: BSD-3-Clause
// The live race, run on the control core: a request a worker handed over
// (disposition::to_race) sends one leg to every live backend of its pool; the first backend to
// answer is taken as the least loaded and the caller is redirected to it; the other legs are
// finished as RFC 3261 asks (INVITE legs: CANCEL once provisional, ACK to non-2xx finals, ACK
// and BYE to a 2xx). No race: the pool's fallback answers. The table is bounded (races and
// waiting requests), each race has a deadline, and every outcome is counted. No sockets and no
// clock here: the caller passes the time and the two outputs, so tests run on a fake clock.
#pragma once

#include "leg_messages.hpp"

#include <array>
#include <balance/pool_config.hpp>
#include <cstdint>
#include <functional>
#include <net/ip_address.hpp>
#include <pipeline/held_request.hpp>
#include <span>
#include <string_view>
#include <vector>

namespace sipredir::control::race {

struct engine_settings {
    std::uint32_t table_size = 4096;            // races at once; also requests waiting on them
    std::int64_t leg_linger_ns = 4'000'000'000; // INVITE legs are followed this long
    bool full_reply_fallback = false; // table full: the pool's fallback answers (else 503)
    std::size_t max_frame = 9216;     // larger requests are answered by the fallback at once
    std::uint32_t max_waiters = 256;  // requests sharing one race (coalescing)
};

// A pool as the engine sees it: its race settings and the backends a race may ask.
struct race_backend {
    std::uint16_t slot = 0;
    net::ip_endpoint address;
};
struct pool_view {
    bool races = false; // policy race
    balance::race_config config;
    std::vector<race_backend> live; // neither down nor draining, configured order
};

struct engine_outputs {
    // Sends a leg's request; false when the socket did not take it.
    std::function<bool(const net::ip_endpoint&, std::string_view)> send;
    // Answers a caller: its request, held as the worker handed it over (parsed once, when it
    // came), and how to answer it. False when the answer could not be sent (counted).
    std::function<bool(pipeline::held_request&, const pipeline::race_decision&)> answer;
};

struct engine_counters {
    std::uint64_t requests = 0;    // handed over by the workers
    std::uint64_t races = 0;       // races started
    std::uint64_t coalesced = 0;   // requests answered by another request's race
    std::uint64_t won = 0;         // races with a winner
    std::uint64_t timed_out = 0;   // races nobody won in time: the fallback answered
    std::uint64_t all_refused = 0; // every leg answered 5xx/6xx or failed: the fallback answered
    std::uint64_t no_backend = 0;  // no live backend, or none under its leg cap: fallback
    std::uint64_t table_full = 0;  // no room for the race or the request: [race] when_full
    std::uint64_t too_large = 0;   // requests over max_frame: fallback at once
    std::uint64_t unreadable = 0;  // handed-over frames that are not UDP, or a race's request
                                   // without From or To (not expected: the worker checked)
    std::uint64_t not_race = 0;    // the pool stopped racing (a reload): its policy answered
    std::uint64_t answered = 0;    // callers answered (302 or 503)
    std::uint64_t answer_failed = 0;
    std::uint64_t legs = 0;          // leg requests sent (OPTIONS or INVITE)
    std::uint64_t legs_capped = 0;   // legs not sent: the backend was over its leg rate
    std::uint64_t legs_over_max = 0; // live backends not raced: the race had race_max_legs
    std::uint64_t send_failed = 0;
    std::uint64_t cancels = 0;
    std::uint64_t acks = 0;
    std::uint64_t byes = 0;            // a leg answered 2xx after all: ACK + BYE
    std::uint64_t late_answers = 0;    // a leg's first response after its race was decided
    std::uint64_t refused_answers = 0; // 5xx/6xx: that backend is not taken
    std::uint64_t stray = 0;           // responses to no current leg (or not SIP)
    std::uint64_t end_answers = 0;     // responses to our CANCEL or BYE: taken, end nothing
    std::uint64_t legs_abandoned = 0;  // legs still open when their race's linger ended
    std::array<std::uint64_t, balance::max_backends> won_by_slot{};
};

// The counters by name, for the statistics JSON and the metrics (won_by_slot aside).
struct named_counter {
    std::string_view name;
    std::uint64_t value = 0;
};
std::vector<named_counter> listed(const engine_counters& c);

class engine {
public:
    engine(engine_settings settings, leg_origin origin);

    // The pools, by the index the workers give (a publication or reload replaces them).
    void set_pools(std::vector<pool_view> pools);

    // A request a worker routed to `pool`: the whole frame, copied and parsed here, once.
    void
    submit(std::span<const std::uint8_t> frame,
           std::uint16_t pool,
           std::int64_t now_ns,
           const engine_outputs& out);
    // A datagram on the race socket.
    void on_datagram(
            std::string_view datagram,
            const net::ip_endpoint& source,
            std::int64_t now_ns,
            const engine_outputs& out
    );
    // Deadlines: undecided races past their timeout are answered by the fallback; decided
    // races past their linger are forgotten (their open legs counted abandoned).
    void expire(std::int64_t now_ns, const engine_outputs& out);
    // At exit: every waiting request is answered by its pool's fallback.
    void flush(const engine_outputs& out);

    // The earliest deadline (INT64_MAX: none).
    std::int64_t next_event_ns() const noexcept;
    std::size_t active_races() const noexcept { return _active.size(); }
    std::size_t waiting() const noexcept { return _waiters.size() - _free_waiters.size(); }
    const engine_counters& counters() const noexcept { return _counters; }
    const leg_origin& origin() const noexcept { return _origin; }

private:
    enum class leg_state : std::uint8_t { calling, proceeding, done };
    struct leg {
        std::uint16_t slot = 0;
        net::ip_endpoint address;
        leg_state state = leg_state::calling;
        bool cancelled = false;
        bool answered = false;
    };
    static constexpr std::uint32_t none = UINT32_MAX;
    struct race_entry {
        bool used = false;
        std::uint32_t generation = 0;
        std::uint32_t active_at = 0; // its place in _active
        std::uint16_t pool = 0;
        balance::race_method method = balance::race_method::options;
        std::int64_t started_ns = 0;
        std::int64_t deadline_ns = 0; // undecided: when the fallback answers
        std::int64_t forget_ns = 0;   // decided: when its legs stop being followed
        bool decided = false;
        std::uint32_t first_waiter = none;
        std::uint32_t last_waiter = none;
        std::uint32_t waiters = 0;
        std::vector<leg> legs;
        invite_template invite; // method invite
    };
    struct waiter {
        bool used = false;
        std::uint16_t pool = 0;
        std::uint32_t next = none;
        pipeline::held_request request;
    };
    struct coalescing {
        std::uint32_t open_race = none; // undecided race new requests may join
        std::uint32_t open_generation = 0;
        bool has_recent = false; // a race decided with a winner, and when
        std::uint16_t recent_slot = 0;
        std::int64_t recent_ns = 0;
    };
    struct leg_bucket {
        bool started = false; // a backend's first race finds its bucket full
        double tokens = 0;
        std::int64_t at_ns = 0;
    };

    engine_settings _settings;
    leg_origin _origin;
    std::vector<pool_view> _pools;
    std::vector<coalescing> _coalescing; // per pool
    std::vector<race_entry> _races;
    std::vector<std::uint32_t> _free_races;
    std::vector<std::uint32_t> _active; // used races, unordered
    std::vector<waiter> _waiters;
    std::vector<std::uint32_t> _free_waiters;
    std::array<leg_bucket, balance::max_backends> _buckets{};
    engine_counters _counters;

    // The request submit holds, before it is answered at once or waits on a race (swapped with
    // a free waiter's, so that their rooms are reused).
    pipeline::held_request _incoming;

    bool
    answer(pipeline::held_request& request,
           const pipeline::race_decision& d,
           const engine_outputs& out);
    pipeline::race_decision fallback(std::uint16_t pool) const noexcept;
    bool take_leg_token(std::uint16_t slot, std::uint32_t rate, std::int64_t now_ns) noexcept;
    std::uint32_t
    start(std::uint16_t pool,
          const sip::message_view& m,
          std::int64_t now_ns,
          const engine_outputs& out);
    // Answers _incoming from the pool's recent winner, or queues it on the pool's open race,
    // when one is within the coalescing window; false when the request needs a race of its own.
    bool coalesce(
            std::uint16_t pool,
            std::int64_t window_ns,
            std::int64_t now_ns,
            const engine_outputs& out
    );
    // start()'s steps: the backends the race asks (each within its limits), then the legs sent.
    void choose_legs(race_entry& r, const pool_view& pv, std::int64_t now_ns);
    void send_legs(std::uint32_t index, const pool_view& pv, const engine_outputs& out);
    // _incoming waits on `race`.
    void wait_on(std::uint32_t race, std::uint16_t pool);
    void
    decide(std::uint32_t race, const leg* winner, std::int64_t now_ns, const engine_outputs& out);
    void on_leg_response(
            race_entry& r,
            std::uint32_t index,
            leg& l,
            const sip::message_view& m,
            std::int64_t now_ns,
            const engine_outputs& out
    );
    // An INVITE leg's final response: ACKed (a 2xx one also ended with a BYE), the leg done.
    void finish_invite_leg(
            const race_entry& r,
            leg& l,
            const leg_id& id,
            const sip::message_view& m,
            const engine_outputs& out
    );
    void
    send(const net::ip_endpoint& to,
         const std::string& request,
         std::uint64_t& counter,
         const engine_outputs& out);
    void release(std::uint32_t race);
    bool finished(const race_entry& r) const noexcept;
};

} // namespace sipredir::control::race
