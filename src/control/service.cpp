// SPDX-License-Identifier: BSD-3-Clause
#include "service.hpp"

#include <sodium.h>

#include <ctime>
#include <stdexcept>
#include <sys/socket.h>

namespace sipredir::control {

namespace {

std::int64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

} // namespace

control_context::control_context(std::string config_path, appliance_config initial, plane_hooks h)
    : path(std::move(config_path)), running(std::make_unique<appliance_config>(std::move(initial))),
      hooks(std::move(h)), own_redirects(balance::max_backends, 0),
      peer_redirects(balance::max_backends, 0), epoch_ns(monotonic_ns()) {
    // The services draw their nonces and keys from libsodium's random source.
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium cannot initialise");
    }
    monitor.apply(*running, now_ns());
}

std::int64_t control_context::now_ns() const noexcept {
    return monotonic_ns() - epoch_ns + 1;
}

void datagram_service::watch(std::vector<pollfd>& fds) const {
    if (_socket) {
        fds.push_back({_socket.get(), POLLIN, 0});
    }
}

void datagram_service::on_polled(std::span<const pollfd> mine, std::int64_t now) {
    if (any_ready(mine)) {
        read_round(now);
    }
}

bool send_datagram(const socket_fd& s, const net::ip_endpoint& to, std::string_view d) {
    sockaddr_storage sa{};
    const socklen_t len = to_sockaddr(to, sa);
    return ::sendto(
                   s.get(),
                   d.data(),
                   d.size(),
                   MSG_DONTWAIT,
                   reinterpret_cast<const sockaddr*>(&sa),
                   len
           )
           == static_cast<ssize_t>(d.size());
}

std::int64_t wall_ms() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

std::string error_json(std::string_view message) {
    std::string out;
    object_writer o(out, 0);
    o.field("ok", false);
    o.field("error", message);
    o.close();
    return out + "\n";
}

} // namespace sipredir::control
