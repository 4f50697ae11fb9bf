// SPDX-License-Identifier: BSD-3-Clause
// The fleet's messages on a NATS cluster (docs/fleet.md, "The exchange on NATS"): each appliance
// publishes its signed lines once, on sipredir.<fleet>.counts.<its name>, and subscribes to
// sipredir.<fleet>.counts.*; the servers fan them out. The client library (libnats) keeps the
// connection, reconnects and fails over between the servers on its own threads. The control
// loop never calls into it: what arrives is handed over through a ring and an eventfd the loop
// polls, and what we publish goes through another ring to a thread of ours that calls the
// library, so that a slow or lost server never stalls the control core.
#pragma once

#include "fleet_config.hpp"
#include "fleet_transport.hpp"
#include "handover_ring.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

struct __natsConnection;
struct __natsSubscription;
struct __natsOptions;

namespace sipredir::control::fleet {

class nats_transport final : public fleet_transport {
public:
    nats_transport(nats_config config, std::string self);
    ~nats_transport() override;

    // Connects (trying each server once, at most connect_timeout_ms each) and subscribes. A
    // cluster that cannot be reached now is not an error: the client goes on trying in the
    // background and the appliance runs alone meanwhile. Throws for what retrying cannot mend
    // (a TLS file that does not load, a refused option).
    void open() override;
    void watch(std::vector<pollfd>& fds) const override;
    void receive(std::span<const pollfd> mine, const take_fn& take) override;
    void publish(std::string_view message) override;
    std::string describe() const override;
    transport_counters counters() const override;
    void close() override;
    std::optional<std::string> new_error() override;

    const std::string& subject() const noexcept { return _subject; }

private:
    friend struct nats_callbacks; // the library's callbacks, on its threads
    void publisher_loop();
    void note_server(__natsConnection* nc);

    nats_config _config;
    std::string _self;
    std::string _subject;      // ours: sipredir.<fleet>.counts.<self>
    std::string _subscription; // everyone's: sipredir.<fleet>.counts.*
    std::string _prefix;       // sipredir.<fleet>.counts.
    __natsOptions* _options = nullptr;
    __natsConnection* _connection = nullptr;
    __natsSubscription* _subscribed = nullptr;
    // Written by the library's threads (the subscription's delivery thread pushes _inbound,
    // the only producer; the connection's callbacks the atomics); read by the control loop (the
    // only consumer). Relaxed atomics: counters and states, read for display; the ring orders
    // its own slots.
    std::unique_ptr<handover_ring<256>> _inbound;
    std::atomic<std::uint64_t> _dropped{0};
    std::atomic<std::uint64_t> _disconnects{0};
    std::atomic<std::uint64_t> _reconnects{0};
    std::atomic<bool> _connected{false};
    // Index in _config.servers of the one connected; -1: none; learned_server: one the cluster
    // told the client of, not in our list.
    static constexpr int learned_server = -2;
    std::atomic<int> _server{-1};
    // The library's last calls into us, awaited by close() before this object may go: the
    // connection's closed callback and the subscription's completion (its handler returned).
    std::atomic<bool> _closed{false};
    std::atomic<bool> _unsubscribed{false};
    std::atomic<int> _last_error{0};       // a natsStatus, from the error callback
    std::atomic<std::uint64_t> _errors{0}; // error callbacks so far
    // Written by the control loop (publish(), the only producer); read by the publisher thread
    // (the only consumer).
    std::unique_ptr<handover_ring<64>> _outbound;
    std::atomic<bool> _stopping{false};
    // Written by the publisher thread; read by the control loop.
    std::atomic<std::uint64_t> _published{0};
    std::atomic<std::uint64_t> _publish_failed{0};
    // The control loop's own.
    std::uint64_t _received = 0;
    std::uint64_t _not_queued = 0;    // the outbound ring was full
    std::uint64_t _errors_logged = 0; // _errors when the control loop last logged one
    std::thread _publisher;
};

} // namespace sipredir::control::fleet
