// SPDX-License-Identifier: BSD-3-Clause
// The OPTIONS request that probes a backend, and the reading of its reply: which probe it
// answers (slot and sequence number in the Via branch, under a per-run nonce so that a reply to
// an earlier run does not match, and with a MAC of both under a per-run secret key, so that a
// backend that sees its own probes cannot write a valid answer to a sibling's), the status
// code, our Via as returned (RFC 7339 parameters) and the configured load header.
#pragma once

#include <base/siphash.hpp>
#include <cstdint>
#include <net/ip_address.hpp>
#include <optional>
#include <sip/message_view.hpp>
#include <string>
#include <string_view>

namespace sipredir::control {

struct probe_origin {
    net::ip_endpoint local;  // where probes leave from and replies come back to
    std::uint64_t nonce = 0; // random per run
    siphash_key mac_key{};   // random per run, never sent: keys each branch's MAC
    std::string user_agent = "sipredir";
};

struct probe_id {
    std::uint16_t slot = 0;
    std::uint32_t seq = 0;
    friend bool operator==(const probe_id&, const probe_id&) = default;
};

// An OPTIONS to `target` (RFC 3261 §11), Max-Forwards 70, offering RFC 7339 overload control
// (a bare `oc` in our Via).
std::string write_options(const probe_origin& from, const net::ip_endpoint& target, probe_id id);

struct probe_reply {
    probe_id id;
    std::uint16_t code = 0;
    sip::via_top via;      // views into the datagram
    std::string_view load; // the load header's value, when present
    bool has_load = false;
};

enum class probe_reply_status : std::uint8_t {
    ok,
    not_sip,  // does not parse as a SIP response
    not_ours, // a response, but not to one of this run's probes
};

// Reads a datagram that arrived on the probe socket. `load_header`, in lower case (names match
// case-insensitively; empty: none), names the header that carries the backend's load.
probe_reply_status read_probe_reply(
        std::string_view datagram,
        const probe_origin& origin,
        std::string_view load_header,
        probe_reply& out
) noexcept;

} // namespace sipredir::control
