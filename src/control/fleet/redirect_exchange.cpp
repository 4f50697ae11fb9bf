// SPDX-License-Identifier: BSD-3-Clause
#include "redirect_exchange.hpp"

#include "probe_share.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sipredir::control::fleet {

void redirect_exchange::configure(
        const exchange_settings& settings,
        std::span<const std::string> backends,
        std::uint64_t epoch_ms
) {
    _settings = settings;
    // Our epoch is our start: a reconfiguration must not look like a restart to the peers.
    if (_epoch_ms == 0) {
        _epoch_ms = epoch_ms;
    }
    std::vector<own_total_state> own(backends.size());
    std::map<std::string, std::uint16_t, std::less<>> slots;
    bool same_slots = _own.size() == backends.size();
    for (std::size_t i = 0; i < backends.size(); ++i) {
        own[i].name = backends[i];
        if (i < _own.size() && _own[i].name != backends[i]) {
            same_slots = false;
        }
        if (backends[i].empty()) {
            continue;
        }
        slots.emplace(backends[i], static_cast<std::uint16_t>(i));
        // A backend that keeps its name keeps its totals, wherever its slot is now.
        if (const auto old = _slots.find(backends[i]); old != _slots.end()) {
            own[i].total = _own[old->second].total;
            own[i].sent = _own[old->second].sent;
        }
    }
    _own = std::move(own);
    _slots = std::move(slots);
    for (auto& [name, p] : _peers) {
        if (!same_slots) {
            // Slots moved: every peer's next totals are a new baseline (one interval's counts
            // from each are not folded).
            p.seen.assign(_own.size(), false);
            p.health.assign(_own.size(), {});
        }
        p.totals.resize(_own.size(), 0);
        p.seen.resize(_own.size(), false);
        p.allowance.resize(_own.size(), 0.0);
        p.health.resize(_own.size());
    }
    if (!same_slots) {
        _probe.assign(_own.size(), {});
    }
    _members_changed = true; // the backends, or k, may have changed
}

double redirect_exchange::capacity_of(std::size_t slot) const noexcept {
    return slot < _settings.capacity.size() ? static_cast<double>(_settings.capacity[slot])
                                            : std::numeric_limits<double>::infinity();
}

// A message names its sender; only the address configured for that name may send it (or, over
// NATS, only that name's own subject carry it), so an appliance (or a host holding the fleet's
// key) cannot speak for another.
exchange_verdict
redirect_exchange::check_sender(std::string_view name, const message_origin& from) const {
    if (from.by_subject && from.name != name) {
        return exchange_verdict::wrong_source;
    }
    for (const fleet_peer& p : _settings.peers) {
        if (p.name == name) {
            return from.by_subject || p.address == from.address ? exchange_verdict::accepted
                                                                : exchange_verdict::wrong_source;
        }
    }
    return from.by_subject && _settings.any_peer ? exchange_verdict::accepted
                                                 : exchange_verdict::unknown_peer;
}

void redirect_exchange::add_own(std::span<const std::uint64_t> delta) noexcept {
    for (std::size_t i = 0; i < delta.size() && i < _own.size(); ++i) {
        _own[i].total += delta[i];
    }
}

bool redirect_exchange::triggered(std::span<const double> spare_calls) const noexcept {
    for (std::size_t i = 0; i < _own.size(); ++i) {
        const std::uint64_t unsent = _own[i].total - _own[i].sent;
        if (unsent == 0) {
            continue;
        }
        const double spare = i < spare_calls.size() ? std::max(spare_calls[i], 0.0) : 0.0;
        if (static_cast<double>(unsent) >= _settings.send_fraction * spare) {
            return true;
        }
    }
    return false;
}

bool redirect_exchange::due(std::int64_t now_ns, std::span<const double> spare_calls)
        const noexcept {
    if (_sent_ns != 0 && now_ns - _sent_ns < _settings.min_gap_ns) {
        return false;
    }
    if (_full_sent_ns == 0 || now_ns - _full_sent_ns >= _settings.full_interval_ns) {
        return true;
    }
    // A prober's result that turns a backend up or down goes at once (docs: every appliance
    // takes a shared down within one exchange interval).
    if (std::any_of(_probe.begin(), _probe.end(), [](const probe_share_state& p) {
            return p.urgent;
        })) {
        return true;
    }
    const bool changed =
            std::any_of(
                    _own.begin(),
                    _own.end(),
                    [](const own_total_state& o) { return o.total != o.sent; }
            )
            || std::any_of(_probe.begin(), _probe.end(), [](const probe_share_state& p) {
                   return p.pending;
               });
    return changed && (now_ns - _sent_ns >= _settings.interval_ns || triggered(spare_calls));
}

std::vector<std::string>
redirect_exchange::take_messages(std::int64_t now_ns, std::int64_t wall_ms) {
    const bool full = _full_sent_ns == 0 || now_ns - _full_sent_ns >= _settings.full_interval_ns;
    std::vector<backend_total> totals;
    for (own_total_state& o : _own) {
        if (!o.name.empty() && (full || o.total != o.sent)) {
            totals.emplace_back(o.name, o.total);
            o.sent = o.total;
        }
    }
    std::vector<health_entry> health;
    for (std::size_t i = 0; i < _probe.size() && i < _own.size(); ++i) {
        probe_share_state& p = _probe[i];
        if (p.pending && !_own[i].name.empty()) {
            health.push_back(p.own);
            health.back().name = _own[i].name;
            p.sent_state = p.own.state;
        }
        p.pending = false;
        p.urgent = false;
    }
    if (!full && totals.empty() && health.empty()) {
        return {};
    }
    if (!full && _sent_ns != 0 && now_ns - _sent_ns < _settings.interval_ns) {
        ++_counters.triggered_sends;
    }
    std::vector<std::string> out = write_exchange(
            {.from = _settings.self,
             .epoch_ms = _epoch_ms,
             .first_seq = _seq + 1,
             .ts_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(wall_ms, 0)),
             .full = full},
            totals,
            _settings.key,
            health
    );
    _counters.health_sent += health.size();
    _seq += out.size();
    _sent_ns = now_ns;
    if (full) {
        _full_sent_ns = now_ns;
    }
    ++_counters.sends;
    _counters.sent_messages += out.size();
    return out;
}

namespace {

// Whether `m` is no newer than the message (epoch_ms, seq) already taken from its sender.
bool older_than(const exchange_message& m, std::uint64_t epoch_ms, std::uint64_t seq) noexcept {
    return m.epoch_ms < epoch_ms || (m.epoch_ms == epoch_ms && m.seq <= seq);
}

} // namespace

exchange_verdict redirect_exchange::admit(
        std::string_view datagram,
        const message_origin& from,
        std::int64_t wall_ms,
        std::int64_t now_ns,
        std::span<std::uint64_t> delta
) {
    exchange_message m;
    exchange_verdict v = check_message(datagram, from, wall_ms, m);
    peer_state* p = nullptr;
    if (v == exchange_verdict::accepted) {
        v = find_peer(m, now_ns, p);
    }
    if (v == exchange_verdict::accepted) {
        refill_allowance(*p, now_ns);
        fold_totals(*p, m.totals, delta);
        fold_health(*p, m.health, now_ns);
        p->status.last_seq = m.seq;
        p->status.heard_ns = now_ns;
        ++p->status.messages;
    } else if (v != exchange_verdict::malformed) {
        // Probe results are believed exactly as far as the counts beside them.
        for_each_health(m.health, [&](const health_entry&) { ++_counters.health_refused; });
    }
    ++_counters.received[static_cast<std::size_t>(v)];
    return v;
}

exchange_verdict redirect_exchange::check_message(
        std::string_view datagram,
        const message_origin& from,
        std::int64_t wall_ms,
        exchange_message& m
) const {
    if (!parse_exchange(datagram, m)) {
        return exchange_verdict::malformed;
    }
    if (!signature_valid(m.line, _settings.key)) {
        return exchange_verdict::forged;
    }
    const auto ts = static_cast<std::int64_t>(std::min<std::uint64_t>(
            m.ts_ms, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
    ));
    if (ts > wall_ms + _settings.window_ms || ts < wall_ms - _settings.window_ms) {
        return exchange_verdict::stale;
    }
    if (m.from == _settings.self) {
        return exchange_verdict::own;
    }
    return check_sender(m.from, from);
}

exchange_verdict
redirect_exchange::find_peer(const exchange_message& m, std::int64_t now_ns, peer_state*& out) {
    auto it = _peers.find(m.from);
    if (it == _peers.end()) {
        // A peer forgotten within the clock window: its old messages are still inside the
        // window, and must not pass for a new life's first (a baseline the next replay adds to).
        const auto gone = _forgotten.find(m.from);
        if (gone != _forgotten.end()
            && older_than(m, gone->second.epoch_ms, gone->second.last_seq)) {
            return exchange_verdict::replayed;
        }
        if (_peers.size() >= _settings.max_peers) {
            return exchange_verdict::too_many_peers;
        }
        if (gone != _forgotten.end()) {
            _forgotten.erase(gone);
        }
        out = &add_peer(m, now_ns);
        return exchange_verdict::accepted;
    }
    peer_status& s = it->second.status;
    if (older_than(m, s.epoch_ms, s.last_seq)) {
        return exchange_verdict::replayed;
    }
    if (m.epoch_ms > s.epoch_ms) {
        // It restarted: its totals count from 0 again, so all of them are new redirects.
        ++_counters.restarts_seen;
        s.epoch_ms = m.epoch_ms;
        it->second.totals.assign(_own.size(), 0);
        it->second.seen.assign(_own.size(), true);
    }
    out = &it->second;
    return exchange_verdict::accepted;
}

redirect_exchange::peer_state&
redirect_exchange::add_peer(const exchange_message& m, std::int64_t now_ns) {
    peer_state fresh;
    fresh.status.name = std::string(m.from);
    fresh.status.epoch_ms = m.epoch_ms;
    fresh.totals.assign(_own.size(), 0);
    fresh.seen.assign(_own.size(), false); // first sight: its totals are a baseline
    fresh.allowance.resize(_own.size());
    for (std::size_t i = 0; i < _own.size(); ++i) {
        fresh.allowance[i] = capacity_of(i); // a second's worth to begin with
    }
    fresh.status.heard_ns = now_ns;
    fresh.health.resize(_own.size());
    _members_changed = true;
    return _peers.emplace(fresh.status.name, std::move(fresh)).first->second;
}

void redirect_exchange::refill_allowance(peer_state& p, std::int64_t now_ns) const noexcept {
    // What each backend's total may rise by: its capacity a second since the peer's last
    // message, up to one second's worth (a backend sized for `capacity` concurrent calls
    // cannot start more than that many a second if its calls last a second or more).
    const double elapsed_s =
            now_ns > p.status.heard_ns ? static_cast<double>(now_ns - p.status.heard_ns) / 1e9 : 0;
    for (std::size_t i = 0; i < p.allowance.size(); ++i) {
        const double cap = capacity_of(i);
        p.allowance[i] = std::isinf(cap) ? cap : std::min(cap, p.allowance[i] + cap * elapsed_s);
    }
}

void redirect_exchange::fold_totals(
        peer_state& p, std::string_view totals, std::span<std::uint64_t> delta
) {
    for_each_total(totals, [&](std::string_view name, std::uint64_t total) {
        const auto slot = _slots.find(name);
        if (slot == _slots.end()) {
            ++_counters.unknown_backends;
            return;
        }
        const std::uint16_t i = slot->second;
        if (!p.seen[i]) {
            p.seen[i] = true;
            p.totals[i] = total;
        } else if (total < p.totals[i]) {
            ++_counters.went_back;
        } else {
            std::uint64_t n = total - p.totals[i];
            if (static_cast<double>(n) > p.allowance[i]) {
                const auto allowed = static_cast<std::uint64_t>(p.allowance[i]);
                _counters.capped_redirects += n - allowed;
                n = allowed;
            }
            p.allowance[i] -= static_cast<double>(n);
            if (i < delta.size()) {
                delta[i] += n;
            }
            p.status.redirects += n;
            p.totals[i] = total;
        }
    });
}

void redirect_exchange::fold_health(peer_state& p, std::string_view health, std::int64_t now_ns) {
    for_each_health(health, [&](const health_entry& e) {
        const auto slot = _slots.find(e.name);
        if (slot == _slots.end()) {
            ++_counters.health_unknown_backends;
            return;
        }
        // Believed only from the backend's probers as we rank them: a peer holding the key
        // cannot keep a backend up (or down) for everyone by speaking for backends it was not
        // given. While two appliances' views of the members differ, this may refuse a real
        // prober's result for a moment; we then probe the backend ourselves (fallback).
        const std::vector<std::string>* probers =
                slot->second < _probe.size() ? &_probe[slot->second].probers : nullptr;
        if (probers == nullptr
            || std::find(probers->begin(), probers->end(), p.status.name) == probers->end()) {
            ++_counters.health_refused;
            return;
        }
        ++_counters.health_received;
        p.health[slot->second] = {e, now_ns};
        p.health[slot->second].entry.name = {}; // the datagram's text is gone after admit()
    });
}

void redirect_exchange::own_probe_result(std::uint16_t slot, const health_entry& r) noexcept {
    if (_settings.probers == 0 || slot >= _probe.size()) {
        return;
    }
    probe_share_state& p = _probe[slot];
    p.own = r;
    p.own.name = {};
    p.pending = true;
    // Up or down is news for every appliance now; unknown (not probed yet) is not.
    if (r.state != p.sent_state && r.state != health::unknown) {
        p.urgent = true;
    }
}

std::vector<std::string_view> redirect_exchange::members() const {
    std::vector<std::string_view> m{_settings.self};
    for (const auto& [name, p] : _peers) {
        m.push_back(name);
    }
    return m;
}

bool redirect_exchange::update_probe_roles(std::int64_t now_ns) {
    std::vector<std::string_view> m;
    const bool choose = _members_changed;
    if (choose) {
        m = members();
        _members_changed = false;
    }
    // Fresh for two probe intervals: a prober sends a result at least every interval plus a
    // timeout, so one lost message does not take a backend from its probers.
    const std::int64_t fresh_ns = 2 * _settings.probe_interval_ns;
    bool changed = false;
    for (std::size_t i = 0; i < _probe.size() && i < _own.size(); ++i) {
        probe_share_state& p = _probe[i];
        if (_own[i].name.empty()) {
            continue;
        }
        if (choose) {
            p.assigned = _settings.probers == 0
                         || probes(_own[i].name, _settings.self, m, _settings.probers);
            p.probers.clear();
            if (_settings.probers != 0) {
                for (std::string_view name :
                     fleet::probers_of(_own[i].name, m, _settings.probers)) {
                    if (name != _settings.self) {
                        p.probers.emplace_back(name);
                    }
                }
            }
        }
        probe_role role = probe_role::self;
        if (p.assigned) {
            p.delegated_ns = 0;
        } else {
            if (p.delegated_ns == 0) {
                p.delegated_ns = now_ns;
            }
            std::int64_t newest = 0;
            for (const std::string& name : p.probers) {
                const auto peer = _peers.find(name);
                if (peer != _peers.end() && i < peer->second.health.size()) {
                    newest = std::max(newest, peer->second.health[i].at_ns);
                }
            }
            // No fresh result for two intervals (since the newest, or since others took the
            // backend over): nobody probes it for us, so we do.
            role = now_ns - std::max(newest, p.delegated_ns) > fresh_ns ? probe_role::fallback
                                                                        : probe_role::shared;
        }
        if (role != p.role) {
            if (role == probe_role::fallback) {
                ++_counters.fallbacks;
            }
            p.role = role;
            changed = true;
        }
    }
    return changed;
}

std::optional<shared_probe_view>
redirect_exchange::shared_probe(std::uint16_t slot, std::int64_t now_ns) const {
    const std::int64_t fresh_ns = 2 * _settings.probe_interval_ns;
    shared_probe_view v;
    bool any_up = false;
    bool all_down = true;
    if (slot >= _probe.size()) {
        return std::nullopt;
    }
    for (const std::string& name : _probe[slot].probers) {
        const auto peer = _peers.find(name);
        if (peer == _peers.end() || slot >= peer->second.health.size()) {
            continue;
        }
        const peer_state& p = peer->second;
        const shared_result& r = p.health[slot];
        if (r.at_ns == 0 || now_ns - r.at_ns > fresh_ns) {
            continue;
        }
        ++v.results;
        any_up = any_up || r.entry.state == health::up;
        all_down = all_down && r.entry.state == health::down;
        if (r.at_ns >= v.at_ns) {
            v.rtt_us = r.entry.rtt_us;
            v.load_permille = r.entry.load_permille;
            v.oc_percent = r.entry.oc_percent;
            v.at_ns = r.at_ns;
            v.from = name;
        }
    }
    if (v.results == 0) {
        return std::nullopt;
    }
    v.state = any_up ? health::up : all_down ? health::down : health::unknown;
    return v;
}

std::vector<std::string_view> redirect_exchange::probers_of(std::uint16_t slot) const {
    if (slot >= _own.size() || _own[slot].name.empty()) {
        return {};
    }
    return fleet::probers_of(_own[slot].name, members(), _settings.probers);
}

void redirect_exchange::expire(std::int64_t now_ns) {
    const std::int64_t window_ns = _settings.window_ms * 1'000'000;
    std::erase_if(_forgotten, [&](const auto& entry) {
        return now_ns - entry.second.forgotten_ns > window_ns;
    });
    std::erase_if(_peers, [&](const auto& entry) {
        const peer_status& s = entry.second.status;
        const bool silent = now_ns - s.heard_ns > _settings.peer_timeout_ns;
        if (silent) {
            ++_counters.peers_expired;
            _members_changed = true;
            _forgotten[entry.first] = {s.epoch_ms, s.last_seq, now_ns};
        }
        return silent;
    });
}

std::int64_t redirect_exchange::next_event_ns() const noexcept {
    std::int64_t next = _full_sent_ns + _settings.full_interval_ns;
    next = std::min(next, _sent_ns + _settings.interval_ns);
    for (const auto& [name, p] : _peers) {
        next = std::min(next, p.status.heard_ns + _settings.peer_timeout_ns + 1);
    }
    return next;
}

std::vector<peer_status> redirect_exchange::peers() const {
    std::vector<peer_status> out;
    for (const auto& [name, p] : _peers) {
        out.push_back(p.status);
    }
    return out;
}

} // namespace sipredir::control::fleet
