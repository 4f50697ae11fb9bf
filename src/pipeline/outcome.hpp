// SPDX-License-Identifier: BSD-3-Clause
// What became of one received frame. Every frame lands in exactly one of five places, so
// rx = replied + absorbed + to_exception + to_race + dropped holds exactly, and every drop has a
// cause with its own counter.
#pragma once

#include <array>
#include <cstdint>
#include <net/frame.hpp>
#include <sip/verdict.hpp>
#include <string_view>

namespace sipredir::pipeline {

enum class disposition : std::uint8_t {
    replied,      // a SIP response went out
    absorbed,     // ACK to a non-2xx final response: nothing to send (RFC 3261 §17.1.1.3)
    to_exception, // handed to the kernel through the exception path (ARP, NDP, ICMP, ...)
    to_race,      // a race pool's request: handed to the control core, which answers it
    dropped,      // counted under its drop_cause
    fragment,     // an IP fragment: the caller reassembles it (or drops it, counted)
};

enum class drop_cause : std::uint8_t {
    none,
    // Frames the header reader refuses (net::frame_defect, same order).
    frame_too_short,
    frame_too_many_vlan_tags,
    frame_ipv4_bad_version,
    frame_ipv4_bad_header_length,
    frame_ipv4_bad_total_length,
    frame_ipv4_bad_checksum,
    frame_ipv6_bad_version,
    frame_ipv6_bad_payload_length,
    frame_ipv6_bad_extension_header,
    frame_udp_bad_length,
    frame_udp_bad_checksum,
    // Well-formed frames that are not ours.
    not_our_address,
    not_our_vlan,
    source_invalid,
    // SIP datagrams no reply may or can be sent to (sip::drop_reason).
    sip_response,
    sip_start_line_bad,
    sip_unroutable,
    // Ours, but the reply cannot be sent.
    reply_too_large,
    reply_amplification,
    reply_no_mbuf,
    tx_full,
    // The exception path.
    no_exception_path,
    exception_ring_full,
    exception_filtered,
    exception_icmp_rate,
    // IP fragments.
    fragment_unreassembled,
    fragment_too_large,
    fragment_over_cap,
    fragment_rate_limited,
    fragment_nested,
    // Policy.
    rule_blocked,
    source_rate_limited,
    // Race pools.
    race_ring_full,
};

struct drop_cause_info {
    drop_cause id;
    std::string_view name; // counter name
    std::string_view help;
};

inline constexpr auto drop_cause_table = std::to_array<drop_cause_info>({
        {drop_cause::none, "none", "not dropped"},
        {drop_cause::frame_too_short, "frame_too_short", "shorter than the headers it announces"},
        {drop_cause::frame_too_many_vlan_tags,
         "frame_too_many_vlan_tags",
         "more than two 802.1Q/802.1ad tags"},
        {drop_cause::frame_ipv4_bad_version, "frame_ipv4_bad_version", "IPv4 version is not 4"},
        {drop_cause::frame_ipv4_bad_header_length,
         "frame_ipv4_bad_header_length",
         "IPv4 IHL below 5 or past the frame"},
        {drop_cause::frame_ipv4_bad_total_length,
         "frame_ipv4_bad_total_length",
         "IPv4 total length past the frame or below the header"},
        {drop_cause::frame_ipv4_bad_checksum,
         "frame_ipv4_bad_checksum",
         "IPv4 header checksum wrong"},
        {drop_cause::frame_ipv6_bad_version, "frame_ipv6_bad_version", "IPv6 version is not 6"},
        {drop_cause::frame_ipv6_bad_payload_length,
         "frame_ipv6_bad_payload_length",
         "IPv6 payload length past the frame"},
        {drop_cause::frame_ipv6_bad_extension_header,
         "frame_ipv6_bad_extension_header",
         "IPv6 extension header chain broken"},
        {drop_cause::frame_udp_bad_length, "frame_udp_bad_length", "UDP length disagrees with IP"},
        {drop_cause::frame_udp_bad_checksum, "frame_udp_bad_checksum", "UDP checksum wrong"},
        {drop_cause::not_our_address,
         "not_our_address",
         "IP traffic to an address the appliance does not own (promiscuous mode)"},
        {drop_cause::not_our_vlan, "not_our_vlan", "frames on a VLAN not listened on"},
        {drop_cause::source_invalid,
         "source_invalid",
         "requests from a source no reply can go to: 0/8, 127/8, 224/4 and above, ::, ::1, "
         "ff00::/8, or port 0"},
        {drop_cause::sip_response, "sip_response", "SIP responses, which are never answered"},
        {drop_cause::sip_start_line_bad,
         "sip_start_line_bad",
         "datagrams whose first line is neither a request nor a status line"},
        {drop_cause::sip_unroutable,
         "sip_unroutable",
         "requests without a readable top Via, so no reply can be routed"},
        {drop_cause::reply_too_large,
         "reply_too_large",
         "replies larger than the buffer or the port MTU"},
        {drop_cause::reply_amplification,
         "reply_amplification",
         "replies larger than their request by more than [sip] max_reply_growth, Contact aside"},
        {drop_cause::reply_no_mbuf,
         "reply_no_mbuf",
         "replies (or fragments of one) for which the mbuf pool had no buffer left"},
        {drop_cause::tx_full, "tx_full", "replies the TX queue did not take"},
        {drop_cause::no_exception_path,
         "no_exception_path",
         "frames for the kernel with no exception path configured"},
        {drop_cause::exception_ring_full,
         "exception_ring_full",
         "frames for the kernel the exception ring did not take"},
        {drop_cause::exception_filtered,
         "exception_filtered",
         "frames for the kernel no filter rule admits: closed ports, control ports from unknown "
         "sources, other protocols ([exception] filter)"},
        {drop_cause::exception_icmp_rate,
         "exception_icmp_rate",
         "ICMP beyond [exception] icmp_per_second on a worker"},
        {drop_cause::fragment_unreassembled,
         "fragment_unreassembled",
         "IP fragments that timed out, overflowed the table or were still waiting at exit"},
        {drop_cause::fragment_too_large,
         "fragment_too_large",
         "reassembled datagrams larger than the reassembly buffer"},
        {drop_cause::fragment_over_cap,
         "fragment_over_cap",
         "IP fragments refused because reassembly already held its share of the mbuf pool "
         "(fragment_mbufs)"},
        {drop_cause::fragment_rate_limited,
         "fragment_rate_limited",
         "IP fragments over their source's rate limit ([limits]: each fragment takes a token)"},
        {drop_cause::fragment_nested,
         "fragment_nested",
         "reassembled datagrams that are again a fragment (an IP-in-IP tunnel is not ours)"},
        {drop_cause::rule_blocked, "rule_blocked", "requests a rule with action drop matched"},
        {drop_cause::source_rate_limited,
         "source_rate_limited",
         "requests over their source's rate limit ([limits] action drop)"},
        {drop_cause::race_ring_full,
         "race_ring_full",
         "race pool requests the ring to the control core did not take"},
});

inline constexpr std::size_t drop_cause_count = drop_cause_table.size();

constexpr const drop_cause_info& info(drop_cause c) {
    return drop_cause_table[static_cast<std::size_t>(c)];
}

constexpr bool drop_cause_table_in_order() {
    for (std::size_t i = 0; i < drop_cause_table.size(); ++i) {
        if (static_cast<std::size_t>(drop_cause_table[i].id) != i) {
            return false;
        }
    }
    return true;
}
static_assert(drop_cause_table_in_order());
static_assert(static_cast<std::size_t>(drop_cause::race_ring_full) + 1 == drop_cause_count);

// The frame defects map onto the causes in the same order.
constexpr drop_cause cause_of(net::frame_defect d) {
    return static_cast<drop_cause>(
            static_cast<std::size_t>(drop_cause::frame_too_short) + static_cast<std::size_t>(d) - 1
    );
}
static_assert(cause_of(net::frame_defect::udp_bad_checksum) == drop_cause::frame_udp_bad_checksum);
static_assert(net::frame_defect_table.size() == 12);

constexpr drop_cause cause_of(sip::drop_reason r) {
    switch (r) {
    case sip::drop_reason::response:
        return drop_cause::sip_response;
    case sip::drop_reason::start_line_bad:
        return drop_cause::sip_start_line_bad;
    case sip::drop_reason::unroutable:
        return drop_cause::sip_unroutable;
    case sip::drop_reason::none:
        break;
    }
    return drop_cause::none;
}

// Replies are counted per status code for these; any other code counts as "other".
inline constexpr std::array<std::uint16_t, 11> counted_codes = {
        200, 302, 400, 403, 405, 416, 420, 481, 483, 503, 505};
inline constexpr std::size_t reply_code_slots = counted_codes.size() + 1;

constexpr std::size_t code_slot(std::uint16_t code) {
    for (std::size_t i = 0; i < counted_codes.size(); ++i) {
        if (counted_codes[i] == code) {
            return i;
        }
    }
    return counted_codes.size();
}

// What handle_frame did with one frame.
struct handled {
    disposition what = disposition::dropped;
    drop_cause cause = drop_cause::none;
    std::uint16_t code = 0;              // replied: the status code
    sip::defect why = sip::defect::none; // a 400's defect
    // replied: the reply frame is room[reply_offset, reply_offset + reply_size).
    std::uint32_t reply_offset = 0;
    std::uint32_t reply_size = 0;
    net::reply_layout layout;            // of the reply frame, relative to reply_offset
    bool ipv6 = false;                   // the reply's (or fragment's) IP version
    std::uint16_t request_l3_offset = 0; // fragment: where its IP header starts
    bool udp_checksum_pending = false;   // the caller must have the UDP checksum filled
    bool needs_fragmenting = false;      // larger than the MTU: send it as IP fragments
    bool source_limited = false;         // replied: a 503 because its source is over its rate
    std::uint16_t pool = 0;              // to_race: the pool index the request is routed to
    bool urgent = false;                 // to_exception: ARP or NDP, for the urgent ring
};

inline handled handled_as(disposition d) noexcept {
    handled h;
    h.what = d;
    return h;
}

inline handled dropped_by(drop_cause c) noexcept {
    handled h = handled_as(disposition::dropped);
    h.cause = c;
    return h;
}

// The fate of a datagram just reassembled: one that reads as a fragment again is not
// reassembled twice (it would go round for ever, or be freed uncounted).
inline handled after_reassembly(const handled& h) noexcept {
    return h.what == disposition::fragment ? dropped_by(drop_cause::fragment_nested) : h;
}

} // namespace sipredir::pipeline
