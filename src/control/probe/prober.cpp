// SPDX-License-Identifier: BSD-3-Clause
#include "prober.hpp"

#include <climits>

#include <algorithm>
#include <sip/chars.hpp>

namespace sipredir::control {

void prober::configure(probe_settings settings) {
    _settings = std::move(settings);
    lower_load_header();
}

void prober::lower_load_header() {
    _load_header_lower = _settings.load_header;
    for (char& c : _load_header_lower) {
        c = sip::to_lower(c);
    }
}

void prober::set_targets(std::span<const probe_target> targets, std::int64_t now_ns) {
    std::vector<std::pair<std::uint16_t, probe_record>> next;
    next.reserve(targets.size());
    std::size_t fresh = 0;
    for (const probe_target& t : targets) {
        const probe_record* old = find(t.slot);
        if (old != nullptr && old->address.address == t.address.address
            && old->address.port == t.address.port) {
            next.emplace_back(t.slot, *old);
            continue;
        }
        probe_record r;
        r.address = t.address;
        // Spread first probes over one interval: a hundred backends are not probed at once.
        r.next_send_ns = now_ns
                         + static_cast<std::int64_t>(
                                 static_cast<double>(_settings.interval_ns)
                                 * static_cast<double>(fresh) / static_cast<double>(targets.size())
                         );
        ++fresh;
        next.emplace_back(t.slot, r);
    }
    std::sort(next.begin(), next.end(), [](const auto& a, const auto& b) {
        return a.first < b.first;
    });
    _records = std::move(next);
}

void prober::send_due(
        const probe_origin& origin,
        std::int64_t now_ns,
        const std::function<bool(std::uint16_t, const net::ip_endpoint&, std::string_view)>& send
) {
    for (auto& [slot, r] : _records) {
        if (r.outstanding || r.paused || now_ns < r.next_send_ns) {
            continue;
        }
        ++r.seq;
        const std::string request = write_options(origin, r.address, {slot, r.seq});
        r.outstanding = true;
        r.sent_at_ns = now_ns;
        ++r.sent;
        if (send(slot, r.address, request)) {
            ++_counters.sent;
        } else {
            ++_counters.send_failed; // unanswerable: it times out like a lost one
        }
    }
}

std::optional<std::uint16_t> prober::on_datagram(
        std::string_view datagram,
        const net::ip_endpoint& source,
        const probe_origin& origin,
        std::int64_t now_ns
) {
    probe_reply reply;
    switch (read_probe_reply(datagram, origin, _load_header_lower, reply)) {
    case probe_reply_status::not_sip:
        ++_counters.not_sip;
        return std::nullopt;
    case probe_reply_status::not_ours:
        ++_counters.not_ours;
        return std::nullopt;
    case probe_reply_status::ok:
        break;
    }
    probe_record* r = find(reply.id.slot);
    if (r == nullptr || !(r->address.address == source.address)) {
        ++_counters.not_ours;
        return std::nullopt;
    }
    if (reply.code < 200) {
        return std::nullopt; // provisional: the final reply is still to come
    }
    if (!r->outstanding || reply.id.seq != r->seq) {
        ++_counters.late;
        return std::nullopt;
    }
    ++_counters.replies;
    r->outstanding = false;
    r->next_send_ns = r->sent_at_ns + _settings.interval_ns;
    const double rtt_ms = static_cast<double>(now_ns - r->sent_at_ns) / 1e6;
    take_overload(r->overload, reply.via, now_ns);
    if (reply.has_load) {
        if (const std::optional<double> u = read_load_figure(reply.load, _settings.format)) {
            r->utilisation = u;
            r->utilisation_at_ns = now_ns;
        } else {
            ++r->bad_load;
        }
    }
    if (record_reply(
                r->health, _settings.policy, alive_code(reply.code), reply.code, rtt_ms, now_ns
        )) {
        return reply.id.slot;
    }
    return std::nullopt;
}

void prober::expire(std::int64_t now_ns, const std::function<void(std::uint16_t)>& changed) {
    for (auto& [slot, r] : _records) {
        if (!r.outstanding || now_ns < r.sent_at_ns + _settings.timeout_ns) {
            continue;
        }
        r.outstanding = false;
        const bool flipped = record_timeout(r.health, _settings.policy, now_ns);
        // A backend that may be dying is asked again at once; a dead one at the interval.
        r.next_send_ns =
                r.health.state == health::down ? r.sent_at_ns + _settings.interval_ns : now_ns;
        if (flipped) {
            changed(slot);
        }
    }
}

std::int64_t prober::next_event_ns() const noexcept {
    std::int64_t next = INT64_MAX;
    for (const auto& [slot, r] : _records) {
        if (r.outstanding) {
            next = std::min(next, r.sent_at_ns + _settings.timeout_ns);
        } else if (!r.paused) {
            next = std::min(next, r.next_send_ns);
        }
    }
    return next;
}

void prober::set_paused(std::uint16_t slot, bool paused) noexcept {
    if (probe_record* r = find(slot)) {
        r->paused = paused;
    }
}

const probe_record* prober::record(std::uint16_t slot) const noexcept {
    return const_cast<prober*>(this)->find(slot);
}

probe_record* prober::find(std::uint16_t slot) noexcept {
    const auto it = std::lower_bound(
            _records.begin(),
            _records.end(),
            slot,
            [](const auto& a, std::uint16_t s) { return a.first < s; }
    );
    return it != _records.end() && it->first == slot ? &it->second : nullptr;
}

bool prober::alive_code(std::uint16_t code) const noexcept {
    return std::any_of(
            _settings.alive_codes.begin(),
            _settings.alive_codes.end(),
            [&](const code_range& c) { return code >= c.first && code <= c.last; }
    );
}

} // namespace sipredir::control
