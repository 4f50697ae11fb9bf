// SPDX-License-Identifier: BSD-3-Clause
#include "client.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace sipredir::ctl {

namespace {

int fail(int fd, const std::string& what, bool quiet) {
    if (!quiet) {
        std::fprintf(stderr, "sipredirctl: %s: %s\n", what.c_str(), std::strerror(errno));
    }
    if (fd >= 0) {
        ::close(fd);
    }
    return 2;
}

} // namespace

int exchange(
        const std::string& path,
        const std::string& line,
        std::string& reply,
        int timeout_ms,
        bool quiet
) {
    sockaddr_un sa{};
    if (path.size() >= sizeof sa.sun_path) {
        if (!quiet) {
            std::fprintf(stderr, "sipredirctl: socket path too long\n");
        }
        return 2;
    }
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.data(), path.size());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return fail(fd, "socket", quiet);
    }
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
        return fail(fd, "cannot reach sipredir at " + path, quiet);
    }
    if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
        return fail(fd, "send", quiet);
    }
    char buf[4096];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) {
            if (!quiet) {
                std::fprintf(stderr, "sipredirctl: no answer within %d ms\n", timeout_ms);
            }
            ::close(fd);
            return 2;
        }
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0) {
            return fail(fd, "recv", quiet);
        }
        if (n == 0) {
            break;
        }
        reply.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return 0;
}

} // namespace sipredir::ctl
