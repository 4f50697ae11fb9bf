// SPDX-License-Identifier: BSD-3-Clause
#include "options_probe.hpp"

#include "../address_text.hpp"
#include "../branch_text.hpp"

#include <charconv>
#include <cstdio>
#include <sip/chars.hpp>
#include <sip/header.hpp>
#include <sip/parser.hpp>

namespace sipredir::control {

namespace {

constexpr std::string_view branch_prefix = "z9hG4bK-sr";

// The branch's MAC: SipHash-1-3 of the nonce, slot and sequence number under the run's key.
std::uint64_t branch_mac(const probe_origin& origin, probe_id id) noexcept {
    siphash13 h(origin.mac_key);
    h.update(&origin.nonce, sizeof origin.nonce);
    h.update(&id.slot, sizeof id.slot);
    h.update(&id.seq, sizeof id.seq);
    return h.finish();
}

// "z9hG4bK-sr<nonce hex16>-<slot>-<seq>-<mac hex16>"
bool read_branch(std::string_view branch, const probe_origin& origin, probe_id& id) noexcept {
    return take_branch_nonce(branch, branch_prefix, origin.nonce)
           && take_number(branch, '-', id.slot) && take_number(branch, '-', id.seq)
           && is_hex16_of(branch, branch_mac(origin, id));
}

} // namespace

std::string write_options(const probe_origin& from, const net::ip_endpoint& target, probe_id id) {
    const std::string local = endpoint_text(from.local);
    const std::string remote = endpoint_text(target);
    const std::string tag = hex16(from.nonce);
    const std::string slot = std::to_string(id.slot);
    const std::string seq = std::to_string(id.seq);
    std::string m;
    m.reserve(512);
    m += "OPTIONS sip:" + remote + " SIP/2.0\r\n";
    m += "Via: SIP/2.0/UDP " + local + ";branch=" + std::string(branch_prefix) + tag + "-" + slot
         + "-" + seq + "-" + hex16(branch_mac(from, id)) + ";rport;oc\r\n";
    m += "Max-Forwards: 70\r\n";
    m += "From: <sip:sipredir@" + host_text(from.local.address) + ">;tag=" + tag + "\r\n";
    m += "To: <sip:" + remote + ">\r\n";
    m += "Call-ID: probe-" + tag + "-" + slot + "@" + host_text(from.local.address) + "\r\n";
    m += "CSeq: " + seq + " OPTIONS\r\n";
    if (!from.user_agent.empty()) {
        m += "User-Agent: " + from.user_agent + "\r\n";
    }
    m += "Accept: application/sdp\r\n";
    m += "Content-Length: 0\r\n\r\n";
    return m;
}

probe_reply_status read_probe_reply(
        std::string_view datagram,
        const probe_origin& origin,
        std::string_view load_header,
        probe_reply& out
) noexcept {
    sip::message_view m;
    const sip::parse_result r = sip::parse(datagram, m);
    if (r.status != sip::parse_status::ok || m.kind != sip::message_kind::response) {
        return probe_reply_status::not_sip;
    }
    if (!m.top_via_readable || !m.top_via.has_branch
        || !read_branch(m.top_via.branch, origin, out.id) || !m.has_cseq
        || m.cseq_number != out.id.seq) {
        return probe_reply_status::not_ours;
    }
    out.code = m.status_code;
    out.via = m.top_via;
    out.has_load = false;
    out.load = {};
    if (!load_header.empty()) {
        sip::header_reader reader(m.headers.data(), m.headers.data() + m.headers.size());
        sip::header_line line;
        while (reader.next(line) == sip::header_reader::step::header) {
            if (line.well_formed && sip::iequals(line.name, load_header)) {
                out.load = line.value;
                out.has_load = true;
                break;
            }
        }
    }
    return probe_reply_status::ok;
}

} // namespace sipredir::control
