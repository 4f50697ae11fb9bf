// SPDX-License-Identifier: BSD-3-Clause
#include "sockets.hpp"

#include "address_text.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace sipredir::control {

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

socket_fd open_inet(const net::ip_endpoint& local, int type, bool any_address) {
    const int family = local.address.family == net::ip_family::v4 ? AF_INET : AF_INET6;
    socket_fd fd(::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        fail("socket");
    }
    const int on = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    setsockopt(fd.get(), IPPROTO_IP, IP_FREEBIND, &on, sizeof on);
    if (family == AF_INET6) {
        setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    }
    net::ip_endpoint at = local;
    if (any_address) {
        at.address = net::ip_address{};
        at.address.family = local.address.family;
    }
    sockaddr_storage sa{};
    const socklen_t len = to_sockaddr(at, sa);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), len) != 0) {
        fail("cannot bind " + endpoint_text(at));
    }
    return fd;
}

} // namespace

socket_fd& socket_fd::operator=(socket_fd&& o) noexcept {
    if (this != &o) {
        if (_fd >= 0) {
            ::close(_fd);
        }
        _fd = o._fd;
        o._fd = -1;
    }
    return *this;
}

socket_fd::~socket_fd() {
    if (_fd >= 0) {
        ::close(_fd);
    }
}

socklen_t to_sockaddr(const net::ip_endpoint& e, sockaddr_storage& out) noexcept {
    std::memset(&out, 0, sizeof out);
    if (e.address.family == net::ip_family::v4) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&out);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(e.port);
        std::memcpy(&sin->sin_addr, e.address.bytes.data(), 4);
        return sizeof(sockaddr_in);
    }
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(e.port);
    std::memcpy(&sin6->sin6_addr, e.address.bytes.data(), 16);
    return sizeof(sockaddr_in6);
}

net::ip_endpoint from_sockaddr(const sockaddr_storage& in) noexcept {
    net::ip_endpoint e;
    if (in.ss_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&in);
        e.address.family = net::ip_family::v4;
        std::memcpy(e.address.bytes.data(), &sin->sin_addr, 4);
        e.port = ntohs(sin->sin_port);
    } else if (in.ss_family == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&in);
        e.address.family = net::ip_family::v6;
        std::memcpy(e.address.bytes.data(), &sin6->sin6_addr, 16);
        e.port = ntohs(sin6->sin6_port);
    }
    return e;
}

socket_fd open_udp(const net::ip_endpoint& local, bool any_address) {
    return open_inet(local, SOCK_DGRAM, any_address);
}

socket_fd open_tcp_listener(const net::ip_endpoint& local) {
    socket_fd fd = open_inet(local, SOCK_STREAM, false);
    if (::listen(fd.get(), 16) != 0) {
        fail("listen on " + endpoint_text(local));
    }
    return fd;
}

socket_fd open_unix_listener(const std::string& path) {
    sockaddr_un sa{};
    if (path.size() >= sizeof sa.sun_path) {
        throw std::runtime_error("socket path too long: " + path);
    }
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!dir.empty()) {
        std::filesystem::create_directories(dir, ec);
    }
    socket_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        fail("socket");
    }
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.data(), path.size());
    ::unlink(path.c_str()); // a socket file left by a run that did not stop cleanly
    // The socket file is born 0660 (owner and group: sipredir and the operators it admits), not
    // with whatever the process umask leaves and narrowed afterwards: between the two, anyone
    // could have connected. The mode is then read back, so a file system that ignores it fails
    // the start instead of leaving a socket the world can drive.
    const mode_t previous = ::umask(0117);
    const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
    ::umask(previous);
    if (bound != 0) {
        fail("cannot bind " + path);
    }
    if (::chmod(path.c_str(), 0660) != 0) {
        fail("cannot set mode 0660 on " + path);
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != 0660) {
        throw std::runtime_error(path + ": control socket is not a socket of mode 0660");
    }
    if (::listen(fd.get(), 16) != 0) {
        fail("listen on " + path);
    }
    return fd;
}

} // namespace sipredir::control
