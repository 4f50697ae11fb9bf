// SPDX-License-Identifier: BSD-3-Clause
// The appliance's configuration: read from TOML, checked whole, and either accepted or refused
// with `file:line: what is wrong` (the running configuration then stays in force).
// docs/configuration.md describes every key.
#pragma once

#include "fleet/fleet_config.hpp"
#include "management/management_config.hpp"
#include "overload/server_overload.hpp"
#include "probe/probe_config.hpp"
#include "race/race_config.hpp"
#include "report/report_config.hpp"

#include <balance/pool_config.hpp>
#include <base/siphash.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <net/ip_address.hpp>
#include <optional>
#include <pipeline/source_limiter.hpp>
#include <rules/ruleset.hpp>
#include <sip/method.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sipredir::control {

enum class idle_mode : std::uint8_t {
    poll,  // production: a worker owns its core and never sleeps
    sleep, // lab: after a run of empty polls, sleep in growing steps up to idle_sleep_max_us
};

enum class checksum_mode : std::uint8_t {
    automatic, // TX offload where the port has it, else software
    software,
};

// What a received frame's UDP checksum gets when the port has not verified it.
enum class rx_checksum_mode : std::uint8_t {
    verify, // checked in software; a bad one is dropped (frame_udp_bad_checksum)
    // Taken as good: for a peer that leaves checksums unfilled (a veth under net_af_packet,
    // whose kernel hands over frames before their checksum is written).
    trust,
};

struct listen_config {
    std::vector<net::ip_address> addresses;
    std::vector<std::uint16_t> ports{5060};
    std::vector<std::uint16_t> vlans{0}; // 0: untagged
    bool promiscuous = false;
    std::uint32_t mtu = 1500;
    friend bool operator==(const listen_config&, const listen_config&) = default;
};

// The smallest pool an unsized configuration gets (the pool of one worker with room to spare).
inline constexpr std::uint32_t default_mbufs = 8191;

struct dataplane_config {
    std::uint32_t burst = 32;
    std::uint32_t rx_descriptors = 1024;
    std::uint32_t tx_descriptors = 1024;
    // Per port; 2^n - 1 suits the mempool. 0 (the default): sized at start for the workers
    // there are (sized_mbuf_pool), never below default_mbufs.
    std::uint32_t mbufs = 0;
    // Set at start when `mbufs` was 0 and has been sized: a reload whose file still leaves it
    // to the appliance changes nothing (restart_only_change).
    bool mbufs_sized = false;
    std::uint32_t mbuf_data_room = 2176; // bytes after headroom: a full frame plus the reply
    idle_mode idle = idle_mode::poll;
    std::uint32_t idle_sleep_max_us = 100;
    checksum_mode udp_checksum = checksum_mode::automatic;
    rx_checksum_mode rx_checksum = rx_checksum_mode::verify;
    std::uint32_t fragment_flows = 4096; // IP reassembly table entries per worker
    // Past this, a datagram's fragments are given up: the sender's own retransmission (T1 =
    // 500 ms, RFC 3261 §17.1.1.2) brings them all again (docs/security.md).
    std::uint32_t fragment_timeout_ms = 500;
    // The most mbufs reassembly may hold, across workers (each holds its share); 0: a quarter
    // of mbufs. A fragment past it is dropped (fragment_over_cap), so RX keeps its mbufs.
    std::uint32_t fragment_mbufs = 0;
    friend bool operator==(const dataplane_config&, const dataplane_config&) = default;
};

struct interface_address {
    net::ip_address address;
    std::uint8_t prefix = 32;
    friend bool operator==(const interface_address&, const interface_address&) = default;
};

// A route given to the TAP at start: `to` reached through the gateway `via` (same family).
struct interface_route {
    interface_address to; // the destination prefix, no bits set past its length
    net::ip_address via;
    friend bool operator==(const interface_route&, const interface_route&) = default;
};

struct exception_config {
    std::string tap; // kernel interface name; empty: no exception path (frames counted, dropped)
    std::uint32_t ring_size = 1024;
    // Given to the TAP interface at start, so the kernel answers ARP / NDP / ping for them and
    // has a route back to the callers. Empty: the operator configures the interface.
    std::vector<interface_address> addresses;
    // Added after the addresses, so that each gateway is on a subnet of one of them.
    std::vector<interface_route> routes;
    // Pass to the kernel only ARP/NDP, ICMP (at most icmp_per_second per worker), UDP to the
    // control ports from their peers and TCP to an in-band metrics port (docs/security.md).
    bool filter = true;
    std::uint32_t icmp_per_second = 100;
    friend bool operator==(const exception_config&, const exception_config&) = default;
};

struct sip_config {
    sip::method_set redirect_methods = sip::bit(sip::method::invite);
    std::vector<std::string> supported_option_tags{"100rel", "timer", "replaces"};
    std::string server = "sipredir";
    std::optional<siphash_key> to_tag_key;       // absent: random at start
    std::optional<siphash_key> request_hash_key; // absent: random at start
    std::string pool;                            // the pool requests are redirected to
    // Octets a reply may exceed its request by, its Contact lines aside (else dropped).
    std::uint32_t max_reply_growth = 256;
};

// The parts of [sip] the workers' identity is built from: a reload cannot change them.
inline bool same_identity_policy(const sip_config& a, const sip_config& b) {
    return a.redirect_methods == b.redirect_methods
           && a.supported_option_tags == b.supported_option_tags && a.server == b.server
           && a.to_tag_key == b.to_tag_key && a.request_hash_key == b.request_hash_key
           && a.max_reply_growth == b.max_reply_growth;
}

struct load_age_config {
    // A load figure (probe header or report) older than this is unknown: the backend's load is
    // then estimated from the redirects sent to it in the current window of this length.
    std::uint32_t max_age_ms = 5000;
};

struct static_backend {
    balance::backend_config config;
    // The administrative state: up (in service; probing decides health), down (out of service,
    // not probed) or draining (no new redirects).
    balance::backend_state state = balance::backend_state::up;
    std::optional<report_key> own_key; // this backend's own key for pushed reports
    // Where its reports come from when not its own address (an agent on another host).
    std::optional<net::ip_address> report_source;
    std::uint16_t slot = 0; // stable across reloads (control::assign_slots); pools name slots
};

struct appliance_config {
    std::string source; // the file it came from
    // The file's text as it was read: a backend change (runtime_changes.hpp) applies to what
    // runs, not to edits on disk that no reload has taken yet.
    std::string source_text;
    std::string revision; // its config_revision (e.g. an etcd revision); "" when not given
    listen_config listen;
    dataplane_config dataplane;
    exception_config exception;
    sip_config sip;
    probe_config probe;
    reports_config reports;
    race_engine_config race;
    fleet_config fleet;
    load_age_config load;
    pipeline::source_limit_settings limits; // [limits]: per-source rate limits in the workers
    overload_settings overload; // [overload]: RFC 7339 indications to clients that offer it
    management_config management;
    std::vector<static_backend> backends;    // in file order; each carries its slot
    std::vector<balance::pool_config> pools; // backends named by slot
    std::size_t pool_index = 0;              // sip.pool's index in pools
    // [[rule]] tables, then those of [rules] file, compiled. Scratch is allocated by the
    // control plane before a snapshot holding it is published; never null once parsed.
    std::shared_ptr<rules::ruleset> rules;
    // The line each top-level table starts on ("listen", "probe", ...), for errors found
    // after parsing (a reload that would change what only a restart can); "dataplane.mbufs":
    // that key's line, for the pool check made once the worker count is known.
    std::map<std::string, std::uint32_t, std::less<>> section_lines;

    const static_backend* backend_in(std::uint16_t slot) const noexcept {
        for (const static_backend& b : backends) {
            if (b.slot == slot) {
                return &b;
            }
        }
        return nullptr;
    }

    const static_backend* backend_named(std::string_view name) const noexcept {
        for (const static_backend& b : backends) {
            if (b.config.name == name) {
                return &b;
            }
        }
        return nullptr;
    }

    // Whether a pool races its backends: the race engine, its socket and rings exist then.
    bool any_race_pool() const noexcept {
        for (const balance::pool_config& p : pools) {
            if (p.policy == balance::policy_kind::race) {
                return true;
            }
        }
        return false;
    }
};

struct config_error {
    std::string message; // "file:line: what is wrong"
};

struct config_result {
    std::optional<appliance_config> config;
    config_error error;
};

// Reads and checks a configuration file.
config_result load_config(const std::string& path);
// The same from text; `source` names it in errors.
config_result parse_config(std::string_view text, const std::string& source);

struct runtime_changes;
// The same with the backends changed through the API (runtime_changes.hpp): `candidate` when
// given (a change being tried), else the overlay persisted in [management] state_file.
config_result load_config(const std::string& path, const runtime_changes* candidate);
config_result
parse_config(std::string_view text, const std::string& source, const runtime_changes* candidate);

} // namespace sipredir::control
