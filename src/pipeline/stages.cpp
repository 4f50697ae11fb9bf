// SPDX-License-Identifier: BSD-3-Clause
#include "stages.hpp"

#include "reply_growth.hpp"
#include "request_key.hpp"
#include "source_address.hpp"

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
        const balance::table_snapshot& snapshot, const balance::pool_snapshot& pool, request_work& w
) noexcept {
    const balance::overload_signal& o = snapshot.overload;
    if (!w.m.top_via.has_oc || o.reduction == 0 || !(o.everywhere || pool.saturated)) {
        return;
    }
    w.overload = {.reduction = o.reduction, .validity_ms = o.validity_ms, .seq_ms = o.seq_ms};
    w.spec.overload = &w.overload;
}

// The request's octets that every Contact after the first copies again: the user and URI
// parameters write_contact_uri puts around the backend's part. Only asked when a reply outgrows
// its request (one more pass over the Contact source).
std::size_t repeated_request_octets(const request_work& w) noexcept {
    if (w.spec.contacts.size() < 2) {
        return 0;
    }
    const std::string_view backend = w.spec.contacts[0].uri;
    const std::size_t whole = sip::write_contact_uri(
            backend, sip::contact_source(w.m, w.spec.contact_from), std::span<char>{}
    );
    const std::size_t copied = whole > backend.size() ? whole - backend.size() : 0;
    return (w.spec.contacts.size() - 1) * copied;
}

// Writes the frame headers in front of a payload already at room[offset + header size], fills
// or leaves the UDP checksum, and counts the redirects that are now certain to be sent. A
// payload past the identity's growth bound is dropped instead.
handled
finish(const identity& s,
       worker_state& state,
       const frame_view& f,
       const request_work& w,
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
                f.payload_size, payload, s.max_reply_growth, repeated_request_octets(w)
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
    if (state.redirects != nullptr && w.chosen.count != 0) {
        for (std::uint8_t i = 0; i < w.chosen.count; ++i) {
            state.redirects->add(w.pool->backends[w.chosen.picks[i]].slot, 1);
        }
        state.redirects->add_to_pool(w.d.pool, 1); // w.pool is this pool's, so it is in range
    }
    return {
            .what = disposition::replied,
            .code = w.spec.code,
            .why = w.spec.code == 400 ? w.d.v.why : sip::defect::none,
            .reply_offset = static_cast<std::uint32_t>(offset),
            .reply_size = static_cast<std::uint32_t>(frame_size),
            .layout = layout,
            .ipv6 = f.src_ip.family == net::ip_family::v6,
            .udp_checksum_pending = !s.udp_checksum_in_software && !oversize,
            .needs_fragmenting = oversize,
            .source_limited = w.d.source_limited,
    };
}

std::span<char> as_chars(std::span<std::uint8_t> bytes) noexcept {
    return {reinterpret_cast<char*>(bytes.data()), bytes.size()};
}

// Where the frame goes when it is not a SIP request to us.
handled where_to(const identity& s, const net::frame_result& r, const frame_view& f) noexcept {
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
            if (!s.listens_on(f.dst_port)) {
                return handled_as(disposition::to_exception);
            }
            // Before the rate limiter: a spoofed source must not take a limiter entry either.
            return answerable_source(f.src_ip, f.src_port) ? handled_as(disposition::replied)
                                                           : dropped_by(drop_cause::source_invalid);
        }
        return is_group_address(f.dst_ip) ? handled_as(disposition::to_exception)
                                          : dropped_by(drop_cause::not_our_address);
    }
    return dropped_by(drop_cause::frame_too_short);
}

} // namespace

handled classify(
        const identity& s,
        const balance::table_snapshot* snapshot,
        worker_state& state,
        std::span<const std::uint8_t> frame,
        net::frame_checks checks,
        frame_view& f
) noexcept {
    const net::frame_result r = net::parse_frame(frame, f, checks);
    if (r.kind != net::frame_class::malformed && !s.accepts_vlan(inner_vlan(f))) {
        return dropped_by(drop_cause::not_our_vlan);
    }
    const bool charge = state.limiter != nullptr && !state.source_charged;
    handled c = where_to(s, r, f);
    if (c.what != disposition::replied) {
        // Every fragment takes a token, so one source cannot fill the reassembly table either
        // (no 503 can answer a fragment).
        if (c.what == disposition::fragment && charge
            && !state.limiter->admit(f.src_ip, state.now_ms)) {
            return dropped_by(drop_cause::fragment_rate_limited);
        }
        if (c.what == disposition::to_exception) {
            const auto peers = snapshot != nullptr ? std::span(snapshot->control_peers)
                                                   : std::span<const balance::control_peer>();
            switch (admit_to_kernel(s.kernel, peers, state.icmp, state.now_ms, r.kind, f, frame)) {
            case kernel_admission::pass:
                break;
            case kernel_admission::urgent:
                c.urgent = true;
                break;
            case kernel_admission::filtered:
                return dropped_by(drop_cause::exception_filtered);
            case kernel_admission::icmp_over_rate:
                return dropped_by(drop_cause::exception_icmp_rate);
            }
        }
        return c;
    }
    // Per-source rate limit, before any parsing: a flood costs one hash and one cache line.
    c.source_limited = charge && !state.limiter->admit(f.src_ip, state.now_ms);
    if (c.source_limited && !s.limits.reply_503) {
        return dropped_by(drop_cause::source_rate_limited);
    }
    return c;
}

void parse(std::span<const std::uint8_t> datagram, request_work& w) noexcept {
    sip::parse(datagram, w.m);
}

namespace {

// What the first matching rule made of a request.
struct rule_outcome {
    const rules::rule* rule = nullptr; // null: none matched (or none ran)
    bool settled = false;              // the rule dropped it (`reply` false) or rejected it
    bool reply = false;
};

// Rules see every request a reply would go to: a scanner's OPTIONS is blocked like its INVITE.
// The first matching rule decides. A raced request passed the rules in its worker; the control
// core answers it as decided.
rule_outcome apply_rules(
        const balance::table_snapshot* snapshot,
        const worker_state& state,
        request_work& w,
        handled& out
) noexcept {
    if (state.decided != nullptr || snapshot == nullptr || snapshot->rules == nullptr
        || snapshot->rules->empty()) {
        return {};
    }
    const rules::rule* rule = snapshot->rules->match(w.m, state.worker).matched;
    if (rule != nullptr && rule->then == rules::action::drop) {
        out = dropped_by(drop_cause::rule_blocked);
        return {rule, true, false};
    }
    if (rule != nullptr && rule->then == rules::action::reject) {
        w.spec.code = 403;
        return {rule, true, true};
    }
    return {rule};
}

// The reply the verdict asks for; a 302's pool from the race, the route rule, or the default.
void follow_verdict(
        const identity& s,
        const balance::table_snapshot* snapshot,
        const worker_state& state,
        const rules::rule* rule,
        request_work& w
) noexcept {
    const sip::verdict& v = w.d.v;
    w.spec.code = v.code;
    if (v.code == 400) {
        w.spec.reason = sip::info(v.why).phrase;
    }
    if (v.code == 405 || (v.code == 200 && w.m.request_method == sip::method::options)) {
        w.spec.allow = s.allow;
    }
    w.spec.unsupported = {v.unsupported.data(), v.unsupported_count};
    if (v.code == 302) {
        w.d.redirect = true;
        w.d.pool = state.decided != nullptr ? state.decided->pool
                   : rule != nullptr && rule->then == rules::action::route
                           ? rule->pool
                           : (snapshot != nullptr ? snapshot->default_pool : 0);
    }
}

} // namespace

bool decide(
        const identity& s,
        const balance::table_snapshot* snapshot,
        const worker_state& state,
        const frame_view& f,
        bool source_limited,
        request_work& w,
        handled& out
) noexcept {
    sip::decide(w.m, s.verdict(), w.d.v);
    w.d.source_limited = false;
    w.d.redirect = false;
    const sip::verdict& v = w.d.v;
    if (v.what == sip::action::drop) {
        out = dropped_by(cause_of(v.drop));
        return false;
    }
    if (v.what == sip::action::absorb) {
        out = handled_as(disposition::absorbed);
        return false;
    }
    // Every reply goes back to the source, with our Server and a To-tag.
    w.spec = {};
    w.spec.source = {f.src_ip, f.src_port};
    w.spec.server = s.server;
    w.spec.to_tag_key = &s.to_tag_key;
    if (source_limited) {
        // [limits] action 503: the shortest answer that tells it to back off; no rules, no
        // choice of backend.
        w.d.source_limited = true;
        w.spec.code = 503;
        w.spec.retry_after = s.limits.retry_after;
        w.spec.has_retry_after = s.limits.retry_after > 0;
        return true;
    }
    const rule_outcome r = apply_rules(snapshot, state, w, out);
    if (r.settled) {
        return r.reply;
    }
    follow_verdict(s, snapshot, state, r.rule, w);
    return true;
}

bool choose(
        const identity& s,
        const balance::table_snapshot* snapshot,
        worker_state& state,
        request_work& w,
        handled& out
) noexcept {
    w.pool = nullptr;
    w.chosen.count = 0;
    w.chosen.why = balance::refusal::none;
    if (!w.d.redirect) {
        return true;
    }
    const std::size_t pool = w.d.pool;
    if (snapshot != nullptr && pool < snapshot->pools.size()
        && snapshot->pools[pool].policy == balance::policy_kind::race && state.decided == nullptr) {
        out = handled_as(disposition::to_race);
        out.pool = static_cast<std::uint16_t>(pool);
        return false;
    }
    // The To-tag's digest is the choice's random input too (computed once, written as the tag).
    w.spec.to_tag_digest = sip::to_tag_digest(s.to_tag_key, w.m);
    if (snapshot != nullptr && pool < snapshot->pools.size()) {
        w.pool = &snapshot->pools[pool];
        const balance::choice_inputs in{
                .random = *w.spec.to_tag_digest,
                .key_hash = w.pool->chooser == balance::policy_kind::hash ? request_key_hash(
                                    w.m, w.pool->key, w.spec.source.address, s.request_hash_key
                            )
                                                                          : 0,
                .sequence = state.sequence[pool % max_pools]++,
        };
        w.chosen = state.decided != nullptr ? raced(*w.pool, *state.decided, in)
                                            : balance::choose(*w.pool, in);
        indicate_overload(*snapshot, *w.pool, w);
    }
    if (w.chosen.count == 0) {
        w.spec.code = 503;
        w.spec.retry_after = w.pool != nullptr ? w.pool->retry_after : 5;
        // RFC 7339 §5.10: a request refused because overload control shed it gets no
        // Retry-After; the busy or down pool's 503 keeps the pool's.
        w.spec.has_retry_after = w.spec.retry_after > 0 && w.chosen.why != balance::refusal::shed;
        return true;
    }
    for (std::uint8_t i = 0; i < w.chosen.count; ++i) {
        const balance::backend_view& b = w.pool->backends[w.chosen.picks[i]];
        w.contacts[i] = {
                .uri = b.contact,
                .q_milli = w.chosen.count > 1 ? balance::contact_q(i, w.chosen.count)
                                              : std::uint16_t{0},
        };
    }
    w.spec.contacts = {w.contacts.data(), w.chosen.count};
    w.spec.contact_from = contact_from(w.pool->contact_from);
    return true;
}

handled
reply(const identity& s,
      worker_state& state,
      const frame_view& f,
      const request_work& w,
      std::span<std::uint8_t> room,
      std::size_t frame_size) noexcept {
    // The payload goes past the request, 16-aligned; the reply's headers then end where it
    // starts, over request bytes no longer needed.
    const std::size_t header_size = reply_header_size(f);
    const std::size_t payload_at = (std::max(frame_size, header_size) + 15) & ~std::size_t{15};
    if (payload_at < room.size()) {
        const sip::write_result wr =
                sip::write_reply(w.m, w.spec, as_chars(room.subspan(payload_at)));
        if (wr.ok) {
            return finish(s, state, f, w, room, payload_at - header_size, wr.size);
        }
    }
    // Tailroom too short: build it aside, then move it to the front.
    const sip::write_result wr = sip::write_reply(w.m, w.spec, state.scratch);
    if (!wr.ok || header_size + wr.size > room.size()) {
        return dropped_by(drop_cause::reply_too_large);
    }
    std::memcpy(room.data() + header_size, state.scratch.data(), wr.size);
    return finish(s, state, f, w, room, 0, wr.size);
}

} // namespace sipredir::pipeline
