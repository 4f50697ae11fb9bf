// SPDX-License-Identifier: BSD-3-Clause
// How the fleet's signed messages travel (docs/fleet.md, "Which transport"): each appliance
// publishes its messages once and receives every other appliance's. The exchange above it does
// not change with the transport; what a transport adds is who vouches for a message's sender
// (message_origin) and its own counters.
#pragma once

#include "../json_writer.hpp"
#include "fleet_config.hpp"
#include "redirect_exchange.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <poll.h>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sipredir::control::fleet {

struct transport_counters {
    std::uint64_t published = 0;      // messages handed to the network (each once, to all)
    std::uint64_t publish_failed = 0; // not sent (the next message carries the newer totals)
    std::uint64_t received = 0;       // messages taken from the network, before any check
    std::uint64_t dropped = 0;        // arrived but not taken: too large, or no room to hand over
    std::uint64_t disconnects = 0;    // NATS: the connection to a server was lost
    std::uint64_t reconnects = 0;     // NATS: connected again (to the same or another server)
    bool connected = true;            // NATS: a server is connected now
};

class fleet_transport {
public:
    virtual ~fleet_transport() = default;

    // Opens what the transport needs. Throws std::runtime_error with what went wrong.
    virtual void open() = 0;
    // The descriptors the control loop polls for it.
    virtual void watch(std::vector<pollfd>& fds) const = 0;
    using take_fn = std::function<void(std::string_view message, const message_origin& from)>;
    // Hands take() what arrived (at most max_datagrams_per_round messages in one call).
    // `mine` are the entries watch() appended, after the poll.
    virtual void receive(std::span<const pollfd> mine, const take_fn& take) = 0;
    // Sends one message to every peer without blocking.
    virtual void publish(std::string_view message) = 0;
    // "mesh on 5070, 2 peers" / "nats on nats://... (connected)".
    virtual std::string describe() const = 0;
    virtual transport_counters counters() const = 0;
    // Stops what the transport runs in the background (before the process exits).
    virtual void close() {}
    // The configuration was reloaded: takes what of it may change without a restart.
    virtual void reconfigure(const fleet_config& config) { (void)config; }
    // An error the transport met in the background since the last call (for the log), if any.
    virtual std::optional<std::string> new_error() { return std::nullopt; }
};

} // namespace sipredir::control::fleet
