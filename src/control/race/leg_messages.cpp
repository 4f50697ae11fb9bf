// SPDX-License-Identifier: BSD-3-Clause
#include "leg_messages.hpp"

#include "../address_text.hpp"
#include "../branch_text.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <initializer_list>
#include <sip/chars.hpp>
#include <sip/header.hpp>

namespace sipredir::control::race {

namespace {

constexpr std::string_view branch_prefix = "z9hG4bK-rc";

// Appends pieces (GCC 12 warns falsely on "literal" + std::string chains).
std::string& put(std::string& m, std::initializer_list<std::string_view> pieces) {
    for (const std::string_view p : pieces) {
        m += p;
    }
    return m;
}

std::string joined(std::initializer_list<std::string_view> pieces) {
    std::string m;
    return put(m, pieces);
}

std::string ids_text(const leg_id& id) {
    return joined(
            {std::to_string(id.race),
             "-",
             std::to_string(id.generation),
             "-",
             std::to_string(id.leg)}
    );
}

std::string call_id(const leg_origin& o, const leg_id& id) {
    return joined({"race-", hex16(o.nonce), "-", ids_text(id), "@", host_text(o.local.address)});
}

std::string via(const leg_origin& o, const leg_id& id) {
    return joined(
            {"Via: SIP/2.0/UDP ",
             endpoint_text(o.local),
             ";branch=",
             leg_branch(o, id),
             ";rport\r\n"}
    );
}

// Max-Forwards, and the header that keeps the leg at the backend, as the style asks.
void put_leg_style(std::string& m, const leg_style& s, int caller_max_forwards) {
    const int hops =
            s.leg == balance::race_leg::max_forwards_0 ? 0 : std::max(caller_max_forwards - 1, 0);
    m += "Max-Forwards: ";
    m += std::to_string(hops);
    m += "\r\n";
    if (s.leg == balance::race_leg::header && !s.header.empty()) {
        m += s.header;
        m += "\r\n";
    }
}

void put_user_agent(std::string& m, const leg_origin& o) {
    if (!o.user_agent.empty()) {
        m += "User-Agent: ";
        m += o.user_agent;
        m += "\r\n";
    }
}

// The request line and the headers every request of an INVITE leg shares.
std::string leg_request_head(
        std::string_view method,
        std::string_view uri,
        const leg_origin& o,
        const invite_template& t,
        const leg_id& via_id,
        const leg_id& dialog,
        std::string_view to
) {
    std::string m;
    m.reserve(512 + t.body.size());
    m += method;
    m += " ";
    m += uri;
    m += " SIP/2.0\r\n";
    m += via(o, via_id);
    put(m, {"From: ", t.from, "\r\n"});
    m += "To: ";
    m += to;
    m += "\r\n";
    put(m, {"Call-ID: ", call_id(o, dialog), "\r\n"});
    return m;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

} // namespace

// SipHash-1-3 of the nonce and the ids under the run's key.
std::uint64_t leg_mac(const leg_origin& o, const leg_id& id) noexcept {
    siphash13 h(o.mac_key);
    const auto request = static_cast<std::uint8_t>(id.request);
    h.update(&o.nonce, sizeof o.nonce);
    h.update(&id.race, sizeof id.race);
    h.update(&id.generation, sizeof id.generation);
    h.update(&id.leg, sizeof id.leg);
    h.update(&request, sizeof request);
    return h.finish();
}

std::string leg_branch(const leg_origin& o, const leg_id& id) {
    return joined({branch_prefix, hex16(o.nonce), "-", ids_text(id), "-", hex16(leg_mac(o, id))})
           + (id.request == leg_request::bye       ? "-b"
              : id.request == leg_request::ack_2xx ? "-a"
                                                   : "");
}

// "z9hG4bK-rc<nonce hex16>-<race>-<generation>-<leg>-<mac hex16>[-a|-b]"
bool read_leg_branch(std::string_view branch, const leg_origin& o, leg_id& out) noexcept {
    if (!take_branch_nonce(branch, branch_prefix, o.nonce)) {
        return false;
    }
    out.request = leg_request::invite_or_options;
    if (branch.ends_with("-b")) {
        out.request = leg_request::bye;
        branch.remove_suffix(2);
    } else if (branch.ends_with("-a")) {
        out.request = leg_request::ack_2xx;
        branch.remove_suffix(2);
    }
    return take_number(branch, '-', out.race) && take_number(branch, '-', out.generation)
           && take_number(branch, '-', out.leg) && is_hex16_of(branch, leg_mac(o, out));
}

bool make_invite_template(
        const leg_origin& o,
        const sip::message_view& caller,
        invite_template& t,
        std::size_t max_body
) {
    if (!caller.has_from || !caller.has_to || caller.from.uri.empty() || caller.to.uri.empty()) {
        return false;
    }
    t.request_uri = std::string(caller.request_uri);
    t.from = joined({"<", caller.from.uri, ">;tag=rc", hex16(o.nonce).substr(0, 8)});
    t.to = joined({"<", caller.to.uri, ">"});
    t.max_forwards = caller.max_forwards >= 0 ? caller.max_forwards : 70;
    t.content_type.clear();
    t.body.clear();
    sip::header_reader reader(caller.headers.data(), caller.headers.data() + caller.headers.size());
    sip::header_line line;
    while (reader.next(line) == sip::header_reader::step::header) {
        if (line.well_formed
            && (sip::iequals(line.name, "content-type") || sip::iequals(line.name, "c"))) {
            t.content_type = std::string(trim(line.value));
            break;
        }
    }
    // Each leg goes to every backend of the pool: only a session description, and only a
    // small one, is worth relaying (Content-Type parameters, as "; charset", aside).
    const std::string_view type =
            trim(std::string_view(t.content_type).substr(0, t.content_type.find(';')));
    if (sip::iequals(type, "application/sdp") && caller.body.size() <= max_body) {
        t.body = std::string(caller.body);
    } else {
        t.content_type.clear();
    }
    // Copied fields must not carry a line break into our request (a folded header).
    const auto unfold = [](std::string& s) {
        std::replace_if(
                s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n'; }, ' '
        );
    };
    unfold(t.request_uri);
    unfold(t.from);
    unfold(t.to);
    unfold(t.content_type);
    return true;
}

std::string write_options_leg(
        const leg_origin& o, const net::ip_endpoint& backend, const leg_id& id, const leg_style& s
) {
    const std::string remote = endpoint_text(backend);
    std::string m;
    m.reserve(512);
    put(m, {"OPTIONS sip:", remote, " SIP/2.0\r\n"});
    m += via(o, id);
    put_leg_style(m, s, 70);
    put(m,
        {"From: <sip:sipredir@",
         host_text(o.local.address),
         ">;tag=rc",
         hex16(o.nonce).substr(0, 8),
         "\r\n"});
    put(m, {"To: <sip:", remote, ">\r\n"});
    put(m, {"Call-ID: ", call_id(o, id), "\r\n"});
    m += "CSeq: 1 OPTIONS\r\n";
    put_user_agent(m, o);
    m += "Accept: application/sdp\r\n";
    m += "Content-Length: 0\r\n\r\n";
    return m;
}

std::string write_invite_leg(
        const leg_origin& o, const invite_template& t, const leg_id& id, const leg_style& s
) {
    std::string m = leg_request_head("INVITE", t.request_uri, o, t, id, id, t.to);
    put_leg_style(m, s, t.max_forwards);
    m += "CSeq: 1 INVITE\r\n";
    put(m, {"Contact: <sip:sipredir@", endpoint_text(o.local), ">\r\n"});
    put_user_agent(m, o);
    if (!t.content_type.empty()) {
        put(m, {"Content-Type: ", t.content_type, "\r\n"});
    }
    put(m, {"Content-Length: ", std::to_string(t.body.size()), "\r\n\r\n"});
    m += t.body;
    return m;
}

std::string write_cancel(const leg_origin& o, const invite_template& t, const leg_id& id) {
    std::string m = leg_request_head("CANCEL", t.request_uri, o, t, id, id, t.to);
    m += "Max-Forwards: 70\r\n";
    m += "CSeq: 1 CANCEL\r\n";
    put_user_agent(m, o);
    m += "Content-Length: 0\r\n\r\n";
    return m;
}

namespace {

// An ACK to a leg's final response: in the INVITE's transaction (branch = the leg's) for a
// non-2xx, or as a transaction of its own for a 2xx.
std::string write_ack_as(
        const leg_origin& o,
        const invite_template& t,
        const leg_id& branch,
        const leg_id& id,
        std::string_view to,
        std::string_view target
) {
    std::string m = leg_request_head("ACK", target, o, t, branch, id, to);
    m += "Max-Forwards: 70\r\n";
    m += "CSeq: 1 ACK\r\n";
    m += "Content-Length: 0\r\n\r\n";
    return m;
}

} // namespace

std::string
write_ack(const leg_origin& o, const invite_template& t, const leg_id& id, std::string_view to) {
    return write_ack_as(o, t, id, id, to, t.request_uri);
}

std::string write_2xx_ack(
        const leg_origin& o,
        const invite_template& t,
        const leg_id& id,
        std::string_view to,
        std::string_view target
) {
    leg_id ack = id;
    ack.request = leg_request::ack_2xx; // its own transaction, which no response answers
    return write_ack_as(
            o, t, ack, id, to, target.empty() ? std::string_view(t.request_uri) : target
    );
}

std::string write_bye(
        const leg_origin& o,
        const invite_template& t,
        const leg_id& id,
        std::string_view to,
        std::string_view target
) {
    leg_id bye = id;
    bye.request = leg_request::bye;
    std::string m = leg_request_head(
            "BYE", target.empty() ? std::string_view(t.request_uri) : target, o, t, bye, id, to
    );
    m += "Max-Forwards: 70\r\n";
    m += "CSeq: 2 BYE\r\n";
    put_user_agent(m, o);
    m += "Content-Length: 0\r\n\r\n";
    return m;
}

std::string_view contact_uri(std::string_view contact) noexcept {
    contact = trim(contact);
    if (const std::size_t open = contact.find('<'); open != std::string_view::npos) {
        const std::size_t close = contact.find('>', open);
        return close == std::string_view::npos ? std::string_view{}
                                               : contact.substr(open + 1, close - open - 1);
    }
    const std::size_t end = contact.find_first_of(";, \t");
    return contact.substr(0, end);
}

} // namespace sipredir::control::race
