// SPDX-License-Identifier: BSD-3-Clause
// The requests a race sends (RFC 3261): an OPTIONS or INVITE per backend, each a new client
// transaction of the appliance, and what finishes an INVITE leg: CANCEL (§9.1), ACK to a non-2xx
// final (§17.1.1.3), ACK and BYE to a 2xx. Which leg a response answers is in our Via branch,
// under a per-run nonce, so that a response to an earlier run or a forged one does not match.
#pragma once

#include <balance/pool_config.hpp>
#include <base/siphash.hpp>
#include <cstdint>
#include <net/ip_address.hpp>
#include <sip/message_view.hpp>
#include <string>
#include <string_view>

namespace sipredir::control::race {

struct leg_origin {
    net::ip_endpoint local;  // where legs leave from and responses come back to
    std::uint64_t nonce = 0; // random per run
    std::string user_agent = "sipredir";
    siphash_key mac_key{}; // random per run, never sent: keys each branch's MAC
};

// What a response's branch names: a race (index and generation, so that a reused entry does not
// take its predecessor's answers), one of its legs, and which request of that leg.
enum class leg_request : std::uint8_t { invite_or_options, ack_2xx, bye };

struct leg_id {
    std::uint32_t race = 0;
    std::uint32_t generation = 0;
    std::uint16_t leg = 0;
    leg_request request = leg_request::invite_or_options;
    friend bool operator==(const leg_id&, const leg_id&) = default;
};

std::string leg_branch(const leg_origin& o, const leg_id& id);
// False unless the branch is this run's and its MAC (over the nonce and the ids, under the run's
// key) matches: a backend that sees its own legs cannot write a valid branch of a sibling's.
bool read_leg_branch(std::string_view branch, const leg_origin& o, leg_id& out) noexcept;

// The parts of an INVITE leg that its CANCEL and ACK must repeat (§9.1, §17.1.1.3): set once
// per race from the caller's INVITE, the same for every leg but the Call-ID.
struct invite_template {
    std::string request_uri;
    std::string from;         // "<uri>;tag=ours"
    std::string to;           // "<uri>", no tag
    int max_forwards = 70;    // the caller's (70 when absent)
    std::string content_type; // empty: no body
    std::string body;
};

// False when the caller's request cannot be turned into a leg (no From or To URI). The
// caller's body is kept only when it is application/sdp of at most `max_body` bytes.
bool make_invite_template(
        const leg_origin& o,
        const sip::message_view& caller,
        invite_template& t,
        std::size_t max_body = 4096
);

struct leg_style {
    balance::race_leg leg = balance::race_leg::max_forwards_0;
    std::string_view header; // race_leg::header: "Name: value"
};

std::string write_options_leg(
        const leg_origin& o, const net::ip_endpoint& backend, const leg_id& id, const leg_style& s
);
std::string write_invite_leg(
        const leg_origin& o, const invite_template& t, const leg_id& id, const leg_style& s
);
std::string write_cancel(const leg_origin& o, const invite_template& t, const leg_id& id);
// `to` is the response's To value, with the backend's tag.
std::string
write_ack(const leg_origin& o, const invite_template& t, const leg_id& id, std::string_view to);
// After a 2xx: the dialog's ACK (a new transaction) and BYE, to the response's Contact when it
// gave one (`target`; else the leg's Request-URI).
std::string write_2xx_ack(
        const leg_origin& o,
        const invite_template& t,
        const leg_id& id,
        std::string_view to,
        std::string_view target
);
std::string write_bye(
        const leg_origin& o,
        const invite_template& t,
        const leg_id& id,
        std::string_view to,
        std::string_view target
);

// The URI inside a Contact value ("<sip:a@b>;x" or "sip:a@b"); empty when there is none.
std::string_view contact_uri(std::string_view contact) noexcept;

} // namespace sipredir::control::race
