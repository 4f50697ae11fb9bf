// SPDX-License-Identifier: BSD-3-Clause
#include "race_engine.hpp"

#include <algorithm>
#include <limits>
#include <sip/parser.hpp>

namespace sipredir::control::race {

std::vector<named_counter> listed(const engine_counters& c) {
    return {
            {"requests", c.requests},
            {"races", c.races},
            {"coalesced", c.coalesced},
            {"won", c.won},
            {"timed_out", c.timed_out},
            {"all_refused", c.all_refused},
            {"no_backend", c.no_backend},
            {"table_full", c.table_full},
            {"too_large", c.too_large},
            {"unreadable", c.unreadable},
            {"not_race", c.not_race},
            {"answered", c.answered},
            {"answer_failed", c.answer_failed},
            {"legs", c.legs},
            {"legs_capped", c.legs_capped},
            {"legs_over_max", c.legs_over_max},
            {"send_failed", c.send_failed},
            {"cancels", c.cancels},
            {"acks", c.acks},
            {"byes", c.byes},
            {"late_answers", c.late_answers},
            {"refused_answers", c.refused_answers},
            {"stray", c.stray},
            {"end_answers", c.end_answers},
            {"legs_abandoned", c.legs_abandoned},
    };
}

engine::engine(engine_settings settings, leg_origin origin)
    : _settings(settings), _origin(std::move(origin)) {
    _races.resize(_settings.table_size);
    _waiters.resize(_settings.table_size);
    _active.reserve(_settings.table_size);
    for (std::uint32_t i = _settings.table_size; i-- > 0;) {
        _free_races.push_back(i);
        _free_waiters.push_back(i);
    }
}

void engine::set_pools(std::vector<pool_view> pools) {
    _pools = std::move(pools);
    _coalescing.resize(_pools.size());
}

pipeline::race_decision engine::fallback(std::uint16_t pool) const noexcept {
    return {.pool = pool};
}

bool engine::answer(
        pipeline::held_request& request, const pipeline::race_decision& d, const engine_outputs& out
) {
    const bool sent = out.answer && out.answer(request, d);
    ++(sent ? _counters.answered : _counters.answer_failed);
    return sent;
}

void engine::send(
        const net::ip_endpoint& to,
        const std::string& request,
        std::uint64_t& counter,
        const engine_outputs& out
) {
    if (out.send && out.send(to, request)) {
        ++counter;
    } else {
        ++_counters.send_failed;
    }
}

bool engine::take_leg_token(std::uint16_t slot, std::uint32_t rate, std::int64_t now_ns) noexcept {
    if (rate == 0) {
        return true;
    }
    leg_bucket& b = _buckets[slot];
    // A tenth of a second's worth may go at once: a burst of races after a quiet spell.
    const double cap = std::max(1.0, rate / 10.0);
    if (!b.started) {
        b = {.started = true, .tokens = cap, .at_ns = now_ns};
    }
    b.tokens = std::min(cap, b.tokens + static_cast<double>(now_ns - b.at_ns) * rate / 1e9);
    b.at_ns = now_ns;
    if (b.tokens < 1) {
        return false;
    }
    b.tokens -= 1;
    return true;
}

void engine::submit(
        std::span<const std::uint8_t> frame,
        std::uint16_t pool,
        std::int64_t now_ns,
        const engine_outputs& out
) {
    ++_counters.requests;
    // The one parse on this core: a race's legs are made from it, and the answer goes on from
    // it (pipeline::answer_held).
    if (!_incoming.hold(frame)) {
        ++_counters.unreadable;
        return;
    }
    if (pool >= _pools.size() || !_pools[pool].races) {
        ++_counters.not_race;
        answer(_incoming, fallback(pool), out);
        return;
    }
    if (frame.size() > _settings.max_frame) {
        ++_counters.too_large;
        answer(_incoming, fallback(pool), out);
        return;
    }
    const std::int64_t window_ns = std::int64_t{_pools[pool].config.coalesce_ms} * 1'000'000;
    if (window_ns > 0 && coalesce(pool, window_ns, now_ns, out)) {
        return;
    }
    if (_free_races.empty() || _free_waiters.empty()) {
        ++_counters.table_full;
        pipeline::race_decision d = fallback(pool);
        d.refuse = !_settings.full_reply_fallback;
        answer(_incoming, d, out);
        return;
    }
    if (!_incoming.raceable()) {
        ++_counters.unreadable;
        return;
    }
    const std::uint32_t race = start(pool, _incoming.message(), now_ns, out);
    if (race == none) {
        ++_counters.no_backend;
        answer(_incoming, fallback(pool), out);
        return;
    }
    wait_on(race, pool);
    if (window_ns > 0) {
        coalescing& c = _coalescing[pool];
        c.open_race = race;
        c.open_generation = _races[race].generation;
    }
}

bool engine::coalesce(
        std::uint16_t pool, std::int64_t window_ns, std::int64_t now_ns, const engine_outputs& out
) {
    const coalescing& c = _coalescing[pool];
    if (c.has_recent && now_ns - c.recent_ns < window_ns) {
        ++_counters.coalesced;
        answer(_incoming, {.pool = pool, .has_winner = true, .winner_slot = c.recent_slot}, out);
        return true;
    }
    if (c.open_race == none) {
        return false;
    }
    const race_entry& r = _races[c.open_race];
    if (r.used && r.generation == c.open_generation && !r.decided
        && now_ns - r.started_ns < window_ns && r.waiters < _settings.max_waiters
        && !_free_waiters.empty()) {
        ++_counters.coalesced;
        wait_on(c.open_race, pool);
        return true;
    }
    return false;
}

std::uint32_t engine::start(
        std::uint16_t pool,
        const sip::message_view& m,
        std::int64_t now_ns,
        const engine_outputs& out
) {
    const pool_view& pv = _pools[pool];
    const std::uint32_t index = _free_races.back();
    race_entry& r = _races[index];
    r.method = pv.config.method;
    // Only an INVITE can be raced as one: other methods (and an INVITE no leg can be made
    // from) race with OPTIONS.
    if (r.method == balance::race_method::invite
        && (m.request_method != sip::method::invite
            || !make_invite_template(_origin, m, r.invite, pv.config.max_body))) {
        r.method = balance::race_method::options;
    }
    choose_legs(r, pv, now_ns);
    if (r.legs.empty()) {
        return none;
    }
    _free_races.pop_back();
    r.used = true;
    ++r.generation;
    r.pool = pool;
    r.started_ns = now_ns;
    r.deadline_ns = now_ns + std::int64_t{pv.config.timeout_ms} * 1'000'000;
    r.forget_ns = 0;
    r.decided = false;
    r.first_waiter = r.last_waiter = none;
    r.waiters = 0;
    r.active_at = static_cast<std::uint32_t>(_active.size());
    _active.push_back(index);
    ++_counters.races;
    send_legs(index, pv, out);
    return index;
}

void engine::choose_legs(race_entry& r, const pool_view& pv, std::int64_t now_ns) {
    r.legs.clear();
    for (const race_backend& b : pv.live) {
        if (r.legs.size() >= pv.config.max_legs) {
            ++_counters.legs_over_max;
            continue;
        }
        if (!take_leg_token(b.slot, pv.config.max_legs_per_second, now_ns)) {
            ++_counters.legs_capped;
            continue;
        }
        r.legs.push_back({.slot = b.slot, .address = b.address});
    }
}

void engine::send_legs(std::uint32_t index, const pool_view& pv, const engine_outputs& out) {
    race_entry& r = _races[index];
    const leg_style style{.leg = pv.config.leg, .header = pv.config.leg_header};
    for (std::size_t i = 0; i < r.legs.size(); ++i) {
        leg& l = r.legs[i];
        const leg_id id{
                .race = index, .generation = r.generation, .leg = static_cast<std::uint16_t>(i)};
        const std::string request = r.method == balance::race_method::invite
                                            ? write_invite_leg(_origin, r.invite, id, style)
                                            : write_options_leg(_origin, l.address, id, style);
        const std::uint64_t before = _counters.legs;
        send(l.address, request, _counters.legs, out);
        if (_counters.legs == before) {
            l.state = leg_state::done; // never sent: nothing to wait for or finish
        }
    }
}

void engine::wait_on(std::uint32_t race, std::uint16_t pool) {
    const std::uint32_t index = _free_waiters.back();
    _free_waiters.pop_back();
    waiter& w = _waiters[index];
    w.used = true;
    w.pool = pool;
    w.next = none;
    std::swap(w.request, _incoming);
    race_entry& r = _races[race];
    if (r.last_waiter == none) {
        r.first_waiter = index;
    } else {
        _waiters[r.last_waiter].next = index;
    }
    r.last_waiter = index;
    ++r.waiters;
}

void engine::decide(
        std::uint32_t race, const leg* winner, std::int64_t now_ns, const engine_outputs& out
) {
    race_entry& r = _races[race];
    r.decided = true;
    const std::int64_t timeout_ns = r.deadline_ns - r.started_ns;
    // INVITE legs are followed until CANCEL and ACK are done; OPTIONS legs only long enough to
    // tell a late answer from a stray one.
    r.forget_ns = r.method == balance::race_method::invite
                          ? r.started_ns + _settings.leg_linger_ns
                          : std::max(now_ns, r.started_ns + 5 * timeout_ns);
    pipeline::race_decision d = fallback(r.pool);
    if (winner != nullptr) {
        d.has_winner = true;
        d.winner_slot = winner->slot;
        ++_counters.won;
        ++_counters.won_by_slot[winner->slot];
        if (r.pool < _coalescing.size()) {
            coalescing& c = _coalescing[r.pool];
            c.has_recent = true;
            c.recent_slot = winner->slot;
            c.recent_ns = now_ns;
        }
    }
    if (r.pool < _coalescing.size() && _coalescing[r.pool].open_race == race) {
        _coalescing[r.pool].open_race = none;
    }
    for (std::uint32_t w = r.first_waiter; w != none;) {
        waiter& x = _waiters[w];
        answer(x.request, d, out);
        const std::uint32_t next = x.next;
        x.used = false;
        _free_waiters.push_back(w);
        w = next;
    }
    r.first_waiter = r.last_waiter = none;
    r.waiters = 0;
    if (r.method != balance::race_method::invite) {
        return;
    }
    // RFC 3261 §9.1: a CANCEL only once the leg has a provisional response; the winner's leg is
    // cancelled too, because the caller now sends its own INVITE there.
    for (std::uint16_t i = 0; i < r.legs.size(); ++i) {
        leg& l = r.legs[i];
        if (l.state == leg_state::proceeding && !l.cancelled) {
            l.cancelled = true;
            send(l.address,
                 write_cancel(
                         _origin, r.invite, {.race = race, .generation = r.generation, .leg = i}
                 ),
                 _counters.cancels,
                 out);
        }
    }
}

void engine::on_datagram(
        std::string_view datagram,
        const net::ip_endpoint& source,
        std::int64_t now_ns,
        const engine_outputs& out
) {
    sip::message_view m;
    const sip::parse_result p = sip::parse(datagram, m);
    leg_id id;
    if (p.status != sip::parse_status::ok || m.kind != sip::message_kind::response
        || !m.top_via_readable || !m.top_via.has_branch
        || !read_leg_branch(m.top_via.branch, _origin, id) || id.race >= _races.size()) {
        ++_counters.stray;
        return;
    }
    race_entry& r = _races[id.race];
    if (!r.used || r.generation != id.generation || id.leg >= r.legs.size()
        || !(r.legs[id.leg].address.address == source.address)) {
        ++_counters.stray;
        return;
    }
    // The responses to our CANCEL, ACK and BYE end nothing we follow.
    if (id.request != leg_request::invite_or_options || m.cseq_method_text == "CANCEL") {
        ++_counters.end_answers;
        return;
    }
    on_leg_response(r, id.race, r.legs[id.leg], m, now_ns, out);
    if (r.used && !r.decided && finished(r)) {
        ++_counters.all_refused; // every leg is done and none won
        decide(id.race, nullptr, now_ns, out);
    }
    if (r.used && r.decided && finished(r)) {
        release(id.race);
    }
}

void engine::on_leg_response(
        race_entry& r,
        std::uint32_t index,
        leg& l,
        const sip::message_view& m,
        std::int64_t now_ns,
        const engine_outputs& out
) {
    const std::uint16_t code = m.status_code;
    const bool first = !l.answered;
    l.answered = true;
    if (first && r.decided) {
        ++_counters.late_answers;
    }
    if (first && code >= 500) {
        ++_counters.refused_answers;
    }
    const bool invite = r.method == balance::race_method::invite;
    // A backend that refuses (5xx, 6xx) is not taken; for OPTIONS a provisional is no answer.
    const bool wins =
            !r.decided && l.state != leg_state::done && code < 500 && code >= (invite ? 100 : 200);
    const leg_id id{
            .race = index,
            .generation = r.generation,
            .leg = static_cast<std::uint16_t>(&l - r.legs.data())};
    if (!invite) {
        if (code >= 200) {
            l.state = leg_state::done;
        }
        if (wins) {
            decide(index, &l, now_ns, out);
        }
        return;
    }
    if (code < 200) {
        if (l.state == leg_state::calling) {
            l.state = leg_state::proceeding;
        }
        if (wins) {
            decide(index, &l, now_ns, out); // cancels this leg with the others
        } else if (r.decided && l.state == leg_state::proceeding && !l.cancelled) {
            l.cancelled = true;
            send(l.address, write_cancel(_origin, r.invite, id), _counters.cancels, out);
        }
        return;
    }
    finish_invite_leg(r, l, id, m, out);
    if (wins) {
        decide(index, &l, now_ns, out);
    }
}

void engine::finish_invite_leg(
        const race_entry& r,
        leg& l,
        const leg_id& id,
        const sip::message_view& m,
        const engine_outputs& out
) {
    // A final response, or its retransmission (each gets its ACK again, §17.1.1.2).
    const std::string_view to = m.has_to ? m.to.value : std::string_view(r.invite.to);
    if (m.status_code < 300) {
        const std::string_view target = contact_uri(m.first_contact);
        send(l.address, write_2xx_ack(_origin, r.invite, id, to, target), _counters.acks, out);
        if (l.state != leg_state::done) {
            send(l.address, write_bye(_origin, r.invite, id, to, target), _counters.byes, out);
        }
    } else {
        send(l.address, write_ack(_origin, r.invite, id, to), _counters.acks, out);
    }
    l.state = leg_state::done;
}

bool engine::finished(const race_entry& r) const noexcept {
    return std::all_of(r.legs.begin(), r.legs.end(), [](const leg& l) {
        return l.state == leg_state::done;
    });
}

void engine::release(std::uint32_t race) {
    race_entry& r = _races[race];
    r.used = false;
    r.legs.clear();
    const std::uint32_t at = r.active_at;
    _active[at] = _active.back();
    _races[_active[at]].active_at = at;
    _active.pop_back();
    _free_races.push_back(race);
}

void engine::expire(std::int64_t now_ns, const engine_outputs& out) {
    for (std::size_t i = _active.size(); i-- > 0;) {
        const std::uint32_t index = _active[i];
        race_entry& r = _races[index];
        if (!r.decided && now_ns >= r.deadline_ns) {
            ++_counters.timed_out;
            decide(index, nullptr, now_ns, out);
        }
        if (r.decided && (finished(r) || now_ns >= r.forget_ns)) {
            _counters.legs_abandoned += static_cast<std::uint64_t>(std::count_if(
                    r.legs.begin(),
                    r.legs.end(),
                    [](const leg& l) { return l.state != leg_state::done; }
            ));
            release(index); // moves the last active one here: already visited
        }
    }
}

void engine::flush(const engine_outputs& out) {
    for (const std::uint32_t index : _active) {
        if (!_races[index].decided) {
            decide(index, nullptr, _races[index].deadline_ns, out);
        }
    }
}

std::int64_t engine::next_event_ns() const noexcept {
    std::int64_t next = std::numeric_limits<std::int64_t>::max();
    for (const std::uint32_t index : _active) {
        const race_entry& r = _races[index];
        next = std::min(next, r.decided ? r.forget_ns : r.deadline_ns);
    }
    return next;
}

} // namespace sipredir::control::race
