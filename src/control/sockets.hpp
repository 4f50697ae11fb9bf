// SPDX-License-Identifier: BSD-3-Clause
// Kernel sockets of the control plane (never of the workers): UDP for probes and reports, a
// UNIX stream socket for sipredirctl, TCP for the metrics. All non-blocking, all close-on-exec.
#pragma once

#include <net/ip_address.hpp>
#include <string>
#include <sys/socket.h>

namespace sipredir::control {

// A file descriptor that closes itself.
class socket_fd {
public:
    socket_fd() = default;
    explicit socket_fd(int fd) noexcept : _fd(fd) {}
    socket_fd(socket_fd&& o) noexcept : _fd(o._fd) { o._fd = -1; }
    socket_fd& operator=(socket_fd&& o) noexcept;
    socket_fd(const socket_fd&) = delete;
    socket_fd& operator=(const socket_fd&) = delete;
    ~socket_fd();
    int get() const noexcept { return _fd; }
    explicit operator bool() const noexcept { return _fd >= 0; }

private:
    int _fd = -1;
};

socklen_t to_sockaddr(const net::ip_endpoint& e, sockaddr_storage& out) noexcept;
net::ip_endpoint from_sockaddr(const sockaddr_storage& in) noexcept;

// A UDP socket bound to `local`. `any_address`: bind the wildcard of its family (reports may
// arrive on any of the appliance's addresses). Binds before the address exists on an
// interface (IP_FREEBIND): the TAP may get it a moment later. Throws std::runtime_error.
socket_fd open_udp(const net::ip_endpoint& local, bool any_address);
socket_fd open_tcp_listener(const net::ip_endpoint& local);
// Creates the parent directory if needed and replaces a stale socket file; mode 0660.
socket_fd open_unix_listener(const std::string& path);

} // namespace sipredir::control
