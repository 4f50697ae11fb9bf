// SPDX-License-Identifier: BSD-3-Clause
#include "nats_transport.hpp"

#include "../service.hpp"

#include <chrono>
#include <nats/nats.h>
#include <stdexcept>

namespace sipredir::control::fleet {

namespace {

// What a refused option or call said, for the operator.
void check(natsStatus s, const std::string& what) {
    if (s != NATS_OK) {
        const char* detail = nats_GetLastError(nullptr);
        throw std::runtime_error(
                "fleet: NATS " + what + ": " + natsStatus_GetText(s)
                + (detail != nullptr && *detail != '\0' ? std::string(" (") + detail + ")" : "")
        );
    }
}

} // namespace

// Run by the library on its own threads; they touch only the rings and the atomics.
struct nats_callbacks {
    static void message(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
        auto* t = static_cast<nats_transport*>(closure);
        const std::string_view subject = natsMsg_GetSubject(m);
        const std::string_view sender = subject.substr(std::min(subject.size(), t->_prefix.size()));
        const std::string_view data(
                natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))
        );
        if (!t->_inbound->push(data, sender)) {
            t->_dropped.fetch_add(1, std::memory_order_relaxed);
        }
        natsMsg_Destroy(m);
    }
    static void connected(natsConnection* nc, void* closure) {
        auto* t = static_cast<nats_transport*>(closure);
        t->note_server(nc);
        t->_connected.store(true, std::memory_order_relaxed);
    }
    static void reconnected(natsConnection* nc, void* closure) {
        auto* t = static_cast<nats_transport*>(closure);
        t->note_server(nc);
        t->_reconnects.fetch_add(1, std::memory_order_relaxed);
        t->_connected.store(true, std::memory_order_relaxed);
    }
    static void disconnected(natsConnection*, void* closure) {
        auto* t = static_cast<nats_transport*>(closure);
        // At the first connect the library calls this too when no server answered.
        if (t->_connected.exchange(false, std::memory_order_relaxed)) {
            t->_disconnects.fetch_add(1, std::memory_order_relaxed);
        }
        t->_server.store(-1, std::memory_order_relaxed);
    }
    // The last connection callback the library makes: after it, nothing calls into us.
    static void closed(natsConnection*, void* closure) {
        auto* t = static_cast<nats_transport*>(closure);
        t->_connected.store(false, std::memory_order_relaxed);
        t->_server.store(-1, std::memory_order_relaxed);
        t->_closed.store(true, std::memory_order_release);
    }
    // The subscription is closed and its handler has returned for the last time.
    static void unsubscribed(void* closure) {
        static_cast<nats_transport*>(closure)->_unsubscribed.store(true, std::memory_order_release);
    }
    // Asynchronous errors. A publication the server refused (a permissions violation: this
    // user may not publish on our subject) is a message not sent; a slow consumer (the
    // library's own queue overflowed) lost messages on arrival. The next message's totals carry
    // what they said. The last error is logged by the control loop.
    static void error(natsConnection*, natsSubscription*, natsStatus err, void* closure) {
        auto* t = static_cast<nats_transport*>(closure);
        (err == NATS_NOT_PERMITTED ? t->_publish_failed : t->_dropped)
                .fetch_add(1, std::memory_order_relaxed);
        t->_last_error.store(static_cast<int>(err), std::memory_order_relaxed);
        t->_errors.fetch_add(1, std::memory_order_relaxed);
    }
};

nats_transport::nats_transport(nats_config config, std::string self)
    : _config(std::move(config)), _self(std::move(self)) {
    _prefix = "sipredir." + _config.fleet + ".counts.";
    _subject = _prefix + _self;
    _subscription = _prefix + "*";
    _inbound = std::make_unique<handover_ring<256>>();
    _outbound = std::make_unique<handover_ring<64>>();
}

nats_transport::~nats_transport() {
    close();
}

void nats_transport::note_server(natsConnection* nc) {
    char url[256] = {};
    if (natsConnection_GetConnectedUrl(nc, url, sizeof url) != NATS_OK) {
        return;
    }
    // The library reports "nats://host:port" even for a tls:// server: match host:port.
    const std::string_view got(url);
    const std::string_view host_port = got.substr(std::min(got.size(), got.find("://") + 3));
    for (std::size_t i = 0; i < _config.servers.size(); ++i) {
        const std::string& s = _config.servers[i];
        if (std::string_view(s).substr(s.find("://") + 3) == host_port) {
            _server.store(static_cast<int>(i), std::memory_order_relaxed);
            return;
        }
    }
    _server.store(learned_server, std::memory_order_relaxed);
}

void nats_transport::open() {
    check(nats_Open(-1), "library");
    check(natsOptions_Create(&_options), "options");
    std::vector<const char*> servers;
    for (const std::string& s : _config.servers) {
        servers.push_back(s.c_str());
    }
    check(natsOptions_SetServers(_options, servers.data(), static_cast<int>(servers.size())),
          "nats_servers");
    check(natsOptions_SetName(_options, ("sipredir " + _self).c_str()), "name");
    // Our own messages are not sent back to us: the exchange would refuse them anyway (own).
    check(natsOptions_SetNoEcho(_options, true), "no echo");
    check(natsOptions_SetTimeout(_options, _config.connect_timeout_ms), "timeout");
    check(natsOptions_SetAllowReconnect(_options, true), "reconnect");
    check(natsOptions_SetMaxReconnect(_options, -1), "reconnect"); // forever
    check(natsOptions_SetReconnectWait(_options, _config.reconnect_wait_ms), "reconnect wait");
    // Counts are only worth their freshest value: while no server is connected, a little is
    // buffered (a second of messages) and the rest fails fast, to be carried by later totals.
    check(natsOptions_SetReconnectBufSize(_options, 256 * 1024), "reconnect buffer");
    check(natsOptions_SetPingInterval(_options, 2000), "ping interval");
    // Written at once by the publisher thread rather than left for the library's flusher: a
    // count is worth most when it is fresh, and this thread is ours to block.
    check(natsOptions_SetSendAsap(_options, true), "send at once");
    // A server that stops reading (its host hung, a partition without a reset) must not hold
    // the publisher, or the connection's lock, for TCP's quarter of an hour: a write that has
    // not gone in a second fails, and the connection is given up and reconnected.
    check(natsOptions_SetWriteDeadline(_options, 1000), "write deadline");
    check(natsOptions_SetRetryOnFailedConnect(_options, true, nats_callbacks::connected, this),
          "retry");
    check(natsOptions_SetDisconnectedCB(_options, nats_callbacks::disconnected, this), "callback");
    check(natsOptions_SetReconnectedCB(_options, nats_callbacks::reconnected, this), "callback");
    check(natsOptions_SetClosedCB(_options, nats_callbacks::closed, this), "callback");
    check(natsOptions_SetErrorHandler(_options, nats_callbacks::error, this), "callback");
    if (!_config.user.empty()) {
        check(natsOptions_SetUserInfo(_options, _config.user.c_str(), _config.password.c_str()),
              "nats_user");
    }
    if (!_config.nkey.empty()) {
        check(natsOptions_SetNKeyFromSeed(
                      _options, _config.nkey.c_str(), _config.seed_file.c_str()
              ),
              "nats_nkey");
    }
    if (!_config.credentials_file.empty()) {
        check(natsOptions_SetUserCredentialsFromFiles(
                      _options, _config.credentials_file.c_str(), nullptr
              ),
              "nats_credentials_file " + _config.credentials_file);
    }
    bool tls = !_config.ca_file.empty();
    for (const std::string& s : _config.servers) {
        tls = tls || s.rfind("tls://", 0) == 0;
    }
    if (tls) {
        check(natsOptions_SetSecure(_options, true), "TLS");
    }
    if (!_config.ca_file.empty()) {
        check(natsOptions_LoadCATrustedCertificates(_options, _config.ca_file.c_str()),
              "nats_ca_file " + _config.ca_file);
    }
    if (!_config.cert_file.empty()) {
        check(natsOptions_LoadCertificatesChain(
                      _options, _config.cert_file.c_str(), _config.key_file.c_str()
              ),
              "nats_cert_file " + _config.cert_file);
    }
    const natsStatus s = natsConnection_Connect(&_connection, _options);
    if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
        check(s, "connect to " + _config.servers.front());
    }
    if (s == NATS_OK) {
        note_server(_connection);
        _connected.store(true, std::memory_order_relaxed);
    }
    check(natsConnection_Subscribe(
                  &_subscribed, _connection, _subscription.c_str(), nats_callbacks::message, this
          ),
          "subscribe to " + _subscription);
    check(natsSubscription_SetOnCompleteCB(_subscribed, nats_callbacks::unsubscribed, this),
          "subscription");
    _publisher = std::thread([this] { publisher_loop(); });
}

// The publisher thread: waits on the outbound ring's eventfd and publishes what it holds, each
// written to the server at once (send-asap). If a server stalls, this thread waits (at most the
// write deadline), not the control loop, whose messages then find the ring full and are counted
// not sent.
void nats_transport::publisher_loop() {
    while (!_stopping.load(std::memory_order_acquire)) {
        pollfd p{_outbound->event_fd(), POLLIN, 0};
        if (::poll(&p, 1, -1) < 0) {
            continue;
        }
        _outbound->clear_signal();
        while (const handover_message* m = _outbound->front()) {
            const std::string_view text = m->text();
            const natsStatus s = natsConnection_Publish(
                    _connection, _subject.c_str(), text.data(), static_cast<int>(text.size())
            );
            (s == NATS_OK ? _published : _publish_failed).fetch_add(1, std::memory_order_relaxed);
            _outbound->pop();
        }
    }
}

void nats_transport::watch(std::vector<pollfd>& fds) const {
    fds.push_back({_inbound->event_fd(), POLLIN, 0});
}

void nats_transport::receive(std::span<const pollfd> mine, const take_fn& take) {
    if (!any_ready(mine)) {
        return;
    }
    _inbound->clear_signal();
    std::size_t n = 0;
    for (; n < max_datagrams_per_round; ++n) {
        const handover_message* m = _inbound->front();
        if (m == nullptr) {
            break;
        }
        ++_received;
        take(m->text(), message_origin::publisher(m->sender()));
        _inbound->pop();
    }
    if (n == max_datagrams_per_round && _inbound->front() != nullptr) {
        _inbound->signal(); // more than a round's worth: poll again at once
    }
}

void nats_transport::publish(std::string_view message) {
    if (!_outbound->push(message, {})) {
        ++_not_queued;
    }
}

std::string nats_transport::describe() const {
    const int server = _server.load(std::memory_order_relaxed);
    return "nats " + _subject + ", "
           + (server >= 0 ? "connected to " + _config.servers[static_cast<std::size_t>(server)]
              : server == learned_server ? std::string("connected to a server the cluster named")
                                         : std::string("not connected"))
           + ", " + std::to_string(_config.servers.size()) + " servers";
}

std::optional<std::string> nats_transport::new_error() {
    const std::uint64_t n = _errors.load(std::memory_order_relaxed);
    if (n == _errors_logged) {
        return std::nullopt;
    }
    _errors_logged = n;
    return std::string(
            natsStatus_GetText(static_cast<natsStatus>(_last_error.load(std::memory_order_relaxed)))
    );
}

transport_counters nats_transport::counters() const {
    transport_counters c;
    c.published = _published.load(std::memory_order_relaxed);
    c.publish_failed = _publish_failed.load(std::memory_order_relaxed) + _not_queued;
    c.received = _received;
    c.dropped = _dropped.load(std::memory_order_relaxed);
    c.disconnects = _disconnects.load(std::memory_order_relaxed);
    c.reconnects = _reconnects.load(std::memory_order_relaxed);
    c.connected = _connected.load(std::memory_order_relaxed);
    return c;
}

void nats_transport::close() {
    if (_publisher.joinable()) {
        _stopping.store(true, std::memory_order_release);
        _outbound->signal();
        _publisher.join();
    }
    if (_connection != nullptr) {
        // Flushes what is buffered (within its timeout) and closes the subscription. The
        // library's threads may still be in a callback of ours: wait for the last ones, which
        // come at once (bounded, as a stuck library must not hang the appliance's exit).
        natsConnection_Close(_connection);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while ((!_closed.load(std::memory_order_acquire)
                || (_subscribed != nullptr && !_unsubscribed.load(std::memory_order_acquire)))
               && std::chrono::steady_clock::now() < deadline) {
            ::poll(nullptr, 0, 1);
        }
        if (_subscribed != nullptr) {
            natsSubscription_Destroy(_subscribed);
            _subscribed = nullptr;
        }
        natsConnection_Destroy(_connection);
        _connection = nullptr;
    }
    if (_options != nullptr) {
        natsOptions_Destroy(_options);
        _options = nullptr;
    }
}

} // namespace sipredir::control::fleet
