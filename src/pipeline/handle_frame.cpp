// SPDX-License-Identifier: BSD-3-Clause
#include "handle_frame.hpp"

#include "reply_growth.hpp"
#include "request_key.hpp"

#include <algorithm>
#include <balance/policy.hpp>
#include <cstring>
#include <rules/ruleset.hpp>
#include <sip/contact_uri.hpp>
#include <sip/parser.hpp>
#include <sip/reply_writer.hpp>
#include <sip/to_tag.hpp>

namespace sipredir::pipeline {

namespace {

using net::frame_view;

// Broadcast and multicast: NDP solicitations, DHCP, mDNS... the kernel's, not SIP.
bool is_group_address(const net::ip_address& ip) noexcept {
    return ip.family == net::ip_family::v4 ? ip.bytes[0] >= 224 : ip.bytes[0] == 0xff;
}

std::uint16_t inner_vlan(const frame_view& f) noexcept {
    return f.vlan_count == 0 ? 0 : static_cast<std::uint16_t>(f.vlan_tci[f.vlan_count - 1] & 0xfff);
}

std::size_t reply_header_size(const frame_view& f) noexcept {
    return net::ethernet_header_size + net::vlan_tag_size * f.vlan_count
           + (f.src_ip.family == net::ip_family::v4 ? net::ipv4_header_size : net::ipv6_header_size)
           + net::udp_header_size;
}

// A request decided and its reply specified, ready to be written (possibly twice: into the
// frame's tailroom, and if that is short, into scratch). Choosing backends happens here once.
struct prepared {
    sip::message_view m;
    sip::verdict v;
    sip::reply_spec spec;
    std::array<sip::contact_entry, balance::max_contacts> contacts{};
    const balance::pool_snapshot* pool = nullptr;
    balance::selection chosen;
    bool source_limited = false; // a 503 because the source is over its rate
    sip::via_overload overload;  // what spec.overload points at, when set
};

// The pool's contact_user in the reply writer's terms (lib/balance does not depend on lib/sip).
constexpr sip::contact_user contact_from(balance::contact_user u) noexcept {
    switch (u) {
    case balance::contact_user::request_uri:
        return sip::contact_user::request_uri;
    case balance::contact_user::to:
        return sip::contact_user::to;
    case balance::contact_user::none:
        return sip::contact_user::none;
    }
    return sip::contact_user::request_uri;
}

// The race's winner first, then failover as the pool's fallback would order it; the fallback's
// own choice when the winner has since gone down or left the pool.
balance::selection
raced(const balance::pool_snapshot& pool, const race_decision& d, const balance::choice_inputs& in
) noexcept {
    if (d.refuse) {
        balance::selection none;
        none.why = balance::refusal::unavailable;
        return none;
    }
    balance::selection s;
    for (std::uint16_t i = 0; d.has_winner && i < pool.backends.size(); ++i) {
        const balance::backend_view& b = pool.backends[i];
        if (b.slot == d.winner_slot && b.state != balance::backend_state::down
            && b.state != balance::backend_state::draining) {
            s.picks[s.count++] = i;
            break;
        }
    }
    if (s.count == 0) {
        return balance::choose(pool, in);
    }
    for (std::uint16_t i : pool.ranked) {
        if (s.count >= pool.contacts) {
            break;
        }
        if (i != s.picks[0]) {
            s.picks[s.count++] = i;
        }
    }
    return s;
}

// RFC 7339 §5.1, §5.2: a client that offered overload control (`oc` in its top Via) learns from
// the 302 or 503 how much to shed while the appliance, or this pool, is overloaded. The control
// plane decided it (balance::overload_signal); the reply only carries it.
void indicate_overload(
        const balance::table_snapshot& snapshot, const balance::pool_snapshot& pool, prepared& p
) noexcept {
    const balance::overload_signal& o = snapshot.overload;
    if (!p.m.top_via.has_oc || o.reduction == 0 || !(o.everywhere || pool.saturated)) {
        return;
    }
    p.overload = {.reduction = o.reduction, .validity_ms = o.validity_ms, .seq_ms = o.seq_ms};
    p.spec.overload = &p.overload;
}

// `pool`: the snapshot's default pool, or the one a route rule named. False: a race pool's
// request, to be handed to the control core (`out` says so).
bool choose_backends(
        const site& s,
        const balance::table_snapshot* snapshot,
        std::size_t pool,
        worker_state& state,
        prepared& p,
        handled& out
) noexcept {
    if (snapshot != nullptr && pool < snapshot->pools.size()
        && snapshot->pools[pool].policy == balance::policy_kind::race && state.decided == nullptr) {
        out = handled_as(disposition::to_race);
        out.pool = static_cast<std::uint16_t>(pool);
        return false;
    }
    // The To-tag's digest is the choice's random input too (computed once, written as the tag).
    p.spec.to_tag_digest = sip::to_tag_digest(s.to_tag_key, p.m);
    if (snapshot != nullptr && pool < snapshot->pools.size()) {
        p.pool = &snapshot->pools[pool];
        const balance::choice_inputs in{
                .random = *p.spec.to_tag_digest,
                .key_hash = p.pool->chooser == balance::policy_kind::hash ? request_key_hash(
                                    p.m, p.pool->key, p.spec.source.address, s.request_hash_key
                            )
                                                                          : 0,
                .sequence = state.sequence[pool % max_pools]++,
        };
        p.chosen = state.decided != nullptr ? raced(*p.pool, *state.decided, in)
                                            : balance::choose(*p.pool, in);
        indicate_overload(*snapshot, *p.pool, p);
    }
    if (p.chosen.count == 0) {
        p.spec.code = 503;
        p.spec.retry_after = p.pool != nullptr ? p.pool->retry_after : 5;
        // RFC 7339 §5.10: a request refused because overload control shed it gets no
        // Retry-After; the busy or down pool's 503 keeps the pool's.
        p.spec.has_retry_after = p.spec.retry_after > 0 && p.chosen.why != balance::refusal::shed;
        return true;
    }
    for (std::uint8_t i = 0; i < p.chosen.count; ++i) {
        const balance::backend_view& b = p.pool->backends[p.chosen.picks[i]];
        p.contacts[i] = {
                .uri = b.contact,
                .q_milli = p.chosen.count > 1 ? balance::contact_q(i, p.chosen.count)
                                              : std::uint16_t{0},
        };
    }
    p.spec.contacts = {p.contacts.data(), p.chosen.count};
    p.spec.contact_from = contact_from(p.pool->contact_from);
    return true;
}

// Parses and decides; false when there is nothing to write (`out` then says why).
bool prepare(
        const site& s,
        const balance::table_snapshot* snapshot,
        worker_state& state,
        const frame_view& f,
        std::span<const std::uint8_t> datagram,
        bool source_limited,
        prepared& p,
        handled& out
) noexcept {
    sip::parse(datagram, p.m);
    p.v = sip::decide(p.m, s.verdict());
    if (p.v.what == sip::action::drop) {
        out = dropped_by(cause_of(p.v.drop));
        return false;
    }
    if (p.v.what == sip::action::absorb) {
        out = handled_as(disposition::absorbed);
        return false;
    }
    // Every reply goes back to the source, with our Server and a To-tag.
    p.spec.source = {f.src_ip, f.src_port};
    p.spec.server = s.server;
    p.spec.to_tag_key = &s.to_tag_key;
    if (source_limited) {
        // [limits] action 503: the shortest answer that tells it to back off; no rules, no
        // choice of backend.
        p.source_limited = true;
        p.spec.code = 503;
        p.spec.retry_after = s.limits.retry_after;
        p.spec.has_retry_after = s.limits.retry_after > 0;
        return true;
    }
    // Rules see every request a reply would go to: a scanner's OPTIONS is blocked like its
    // INVITE. The first matching rule decides.
    // A raced request passed the rules in its worker; the control core answers it as decided.
    const rules::rule* rule = nullptr;
    if (state.decided == nullptr && snapshot != nullptr && snapshot->rules != nullptr
        && !snapshot->rules->empty()) {
        rule = snapshot->rules->match(p.m, state.worker).matched;
        if (rule != nullptr && rule->then == rules::action::drop) {
            out = dropped_by(drop_cause::rule_blocked);
            return false;
        }
        if (rule != nullptr && rule->then == rules::action::reject) {
            p.spec.code = 403;
            return true;
        }
    }
    p.spec.code = p.v.code;
    if (p.v.code == 400) {
        p.spec.reason = sip::info(p.v.why).phrase;
    }
    if (p.v.code == 405 || (p.v.code == 200 && p.m.request_method == sip::method::options)) {
        p.spec.allow = s.allow;
    }
    p.spec.unsupported = {p.v.unsupported.data(), p.v.unsupported_count};
    if (p.v.code == 302) {
        const std::size_t pool = state.decided != nullptr ? state.decided->pool
                                 : rule != nullptr && rule->then == rules::action::route
                                         ? rule->pool
                                         : (snapshot != nullptr ? snapshot->default_pool : 0);
        return choose_backends(s, snapshot, pool, state, p, out);
    }
    return true;
}

// The request's octets that every Contact after the first copies again: the user and URI
// parameters write_contact_uri puts around the backend's part. Only asked when a reply outgrows
// its request (one more pass over the Contact source).
std::size_t repeated_request_octets(const prepared& p) noexcept {
    if (p.spec.contacts.size() < 2) {
        return 0;
    }
    const std::string_view backend = p.spec.contacts[0].uri;
    const std::size_t whole = sip::write_contact_uri(
            backend, sip::contact_source(p.m, p.spec.contact_from), std::span<char>{}
    );
    const std::size_t copied = whole > backend.size() ? whole - backend.size() : 0;
    return (p.spec.contacts.size() - 1) * copied;
}

// Writes the frame headers in front of a payload already at room[offset + header size], fills
// or leaves the UDP checksum, and counts the redirects that are now certain to be sent. A
// payload past the site's growth bound is dropped instead.
handled
finish(const site& s,
       worker_state& state,
       const frame_view& f,
       const prepared& p,
       std::span<std::uint8_t> room,
       std::size_t offset,
       std::size_t payload_size) noexcept {
    const std::size_t header_size = reply_header_size(f);
    // A spoofed source would get what the request asked for: never much more than it sent.
    const std::string_view payload(
            reinterpret_cast<const char*>(room.data()) + offset + header_size, payload_size
    );
    if (payload_size > f.payload_size + s.max_reply_growth
        && !within_growth(
                f.payload_size, payload, s.max_reply_growth, repeated_request_octets(p)
        )) {
        return dropped_by(drop_cause::reply_amplification);
    }
    const std::size_t frame_size = header_size + payload_size;
    // Larger than the MTU: sent as IP fragments (their UDP checksum cannot be offloaded).
    const bool oversize = frame_size > s.max_reply_frame + net::vlan_tag_size * f.vlan_count;
    const std::span<std::uint8_t> frame = room.subspan(offset, frame_size);
    const net::reply_layout layout =
            net::write_reply_headers(f, s.own_mac, payload_size, state.ipv4_id++, frame);
    if (layout.payload_offset == 0) {
        return dropped_by(drop_cause::reply_too_large);
    }
    if (s.udp_checksum_in_software || oversize) {
        net::fill_udp_checksum(frame, layout, f, payload_size);
    }
    if (state.redirects != nullptr) {
        for (std::uint8_t i = 0; i < p.chosen.count; ++i) {
            state.redirects->add(p.pool->backends[p.chosen.picks[i]].slot, 1);
        }
    }
    return {
            .what = disposition::replied,
            .code = p.spec.code,
            .why = p.spec.code == 400 ? p.v.why : sip::defect::none,
            .reply_offset = static_cast<std::uint32_t>(offset),
            .reply_size = static_cast<std::uint32_t>(frame_size),
            .layout = layout,
            .ipv6 = f.src_ip.family == net::ip_family::v6,
            .udp_checksum_pending = !s.udp_checksum_in_software && !oversize,
            .needs_fragmenting = oversize,
            .source_limited = p.source_limited,
    };
}

std::span<char> as_chars(std::span<std::uint8_t> bytes) noexcept {
    return {reinterpret_cast<char*>(bytes.data()), bytes.size()};
}

// Where the frame goes when it is not a SIP request to us.
handled classify(const site& s, const net::frame_result& r, const frame_view& f) noexcept {
    switch (r.kind) {
    case net::frame_class::malformed:
        return dropped_by(cause_of(r.reason));
    case net::frame_class::not_ip:
        return handled_as(disposition::to_exception);
    case net::frame_class::not_udp:
        return s.owns(f.dst_ip) || is_group_address(f.dst_ip)
                       ? handled_as(disposition::to_exception)
                       : dropped_by(drop_cause::not_our_address);
    case net::frame_class::ip_fragment:
        if (s.owns(f.dst_ip)) {
            handled h = handled_as(disposition::fragment);
            h.request_l3_offset = f.l3_offset;
            h.ipv6 = f.src_ip.family == net::ip_family::v6;
            return h;
        }
        return dropped_by(drop_cause::not_our_address);
    case net::frame_class::udp:
        if (s.owns(f.dst_ip)) {
            return s.listens_on(f.dst_port) ? handled_as(disposition::replied)
                                            : handled_as(disposition::to_exception);
        }
        return is_group_address(f.dst_ip) ? handled_as(disposition::to_exception)
                                          : dropped_by(drop_cause::not_our_address);
    }
    return dropped_by(drop_cause::frame_too_short);
}

} // namespace

handled handle_frame(
        const site& s,
        const balance::table_snapshot* snapshot,
        worker_state& state,
        std::span<std::uint8_t> room,
        std::size_t frame_size
) noexcept {
    return handle_frame(s, snapshot, state, room, frame_size, s.checks);
}

handled handle_frame(
        const site& s,
        const balance::table_snapshot* snapshot,
        worker_state& state,
        std::span<std::uint8_t> room,
        std::size_t frame_size,
        net::frame_checks checks
) noexcept {
    frame_view f;
    const net::frame_result r = net::parse_frame(room.first(frame_size), f, checks);
    if (r.kind != net::frame_class::malformed && !s.accepts_vlan(inner_vlan(f))) {
        return dropped_by(drop_cause::not_our_vlan);
    }
    const bool charge = state.limiter != nullptr && !state.source_charged;
    if (const handled c = classify(s, r, f); c.what != disposition::replied) {
        // Every fragment takes a token, so one source cannot fill the reassembly table either
        // (no 503 can answer a fragment).
        if (c.what == disposition::fragment && charge
            && !state.limiter->admit(f.src_ip, state.now_ms)) {
            return dropped_by(drop_cause::fragment_rate_limited);
        }
        return c;
    }

    // Per-source rate limit, before any parsing: a flood costs one hash and one cache line.
    const bool limited = charge && !state.limiter->admit(f.src_ip, state.now_ms);
    if (limited && !s.limits.reply_503) {
        return dropped_by(drop_cause::source_rate_limited);
    }
    prepared p;
    handled out;
    if (!prepare(
                s,
                snapshot,
                state,
                f,
                room.subspan(f.payload_offset, f.payload_size),
                limited,
                p,
                out
        )) {
        return out;
    }
    // The payload goes past the request, 16-aligned; the reply's headers then end where it
    // starts, over request bytes no longer needed.
    const std::size_t header_size = reply_header_size(f);
    const std::size_t payload_at = (std::max(frame_size, header_size) + 15) & ~std::size_t{15};
    if (payload_at < room.size()) {
        const sip::write_result w =
                sip::write_reply(p.m, p.spec, as_chars(room.subspan(payload_at)));
        if (w.ok) {
            return finish(s, state, f, p, room, payload_at - header_size, w.size);
        }
    }
    // Tailroom too short: build it aside, then move it to the front.
    const sip::write_result w = sip::write_reply(p.m, p.spec, state.scratch);
    if (!w.ok || header_size + w.size > room.size()) {
        return dropped_by(drop_cause::reply_too_large);
    }
    std::memcpy(room.data() + header_size, state.scratch.data(), w.size);
    return finish(s, state, f, p, room, 0, w.size);
}

} // namespace sipredir::pipeline
