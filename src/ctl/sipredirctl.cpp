// SPDX-License-Identifier: BSD-3-Clause
// sipredirctl: the operator's command line to a running sipredir, over its UNIX socket.
//
//   sipredirctl [--socket PATH] stats | backends | pools | query [POOL] [--count=false] |
//               drain NAME | undrain NAME | reload | metrics | version
//
// Prints the appliance's JSON answer; exits 0 when it says "ok": true, 1 when it refused, 2 when
// the appliance could not be reached.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

constexpr const char* default_socket = "/run/sipredir/sipredir.sock";

void usage() {
    std::fprintf(
            stderr,
            "usage: sipredirctl [--socket PATH] COMMAND [ARGUMENT]\n"
            "  stats            the appliance's counters\n"
            "  backends         every backend: state, load, age, RTT, redirects\n"
            "  pools            every pool: policy, available and eligible backends\n"
            "  fleet            the peers this appliance shares redirect counts with\n"
            "  query [POOL] [--count=false]\n"
            "                   which backend the pool would name now, and its table; the\n"
            "                   answer counts as a redirect to it unless --count=false\n"
            "  drain NAME       no new redirects to NAME (its calls go on)\n"
            "  undrain NAME     back in rotation\n"
            "  reload           read the configuration file again\n"
            "  metrics          the Prometheus text\n"
            "  version\n"
            "The socket defaults to %s ([management] socket).\n",
            default_socket
    );
}

int fail(const std::string& what) {
    std::fprintf(stderr, "sipredirctl: %s: %s\n", what.c_str(), std::strerror(errno));
    return 2;
}

// The command line as one request line (the arguments joined by spaces), and the socket path.
// 0 when it is good, else the exit status.
int request_line(int argc, char** argv, std::string& path, std::string& line) {
    int i = 1;
    if (i + 1 < argc && std::strcmp(argv[i], "--socket") == 0) {
        path = argv[i + 1];
        i += 2;
    }
    if (i >= argc || std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
        usage();
        return i >= argc ? 2 : -1;
    }
    for (; i < argc; ++i) {
        if (std::strpbrk(argv[i], "\r\n") != nullptr) {
            std::fprintf(stderr, "sipredirctl: arguments are one line each\n");
            return 2;
        }
        line += line.empty() ? "" : " ";
        line += argv[i];
    }
    line += '\n';
    return 0;
}

// Sends the line over the UNIX socket at `path` and reads the answer until the appliance closes.
// 0, or 2 when the appliance could not be reached or did not answer.
int exchange(const std::string& path, const std::string& line, std::string& reply) {
    sockaddr_un sa{};
    if (path.size() >= sizeof sa.sun_path) {
        std::fprintf(stderr, "sipredirctl: socket path too long\n");
        return 2;
    }
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.data(), path.size());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return fail("socket");
    }
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
        return fail("cannot reach sipredir at " + path);
    }
    if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
        return fail("send");
    }
    char buf[4096];
    for (;;) {
        // The appliance answers within a control round; a reload reads a file. 10 s is ample.
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 10000) <= 0) {
            std::fprintf(stderr, "sipredirctl: no answer within 10 s\n");
            return 2;
        }
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0) {
            return fail("recv");
        }
        if (n == 0) {
            break;
        }
        reply.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    std::string path = default_socket;
    std::string line;
    if (const int rc = request_line(argc, argv, path, line); rc != 0) {
        return rc < 0 ? 0 : rc; // -1: --help
    }
    std::string reply;
    if (const int rc = exchange(path, line, reply); rc != 0) {
        return rc;
    }
    std::fputs(reply.c_str(), stdout);
    if (reply.empty()) {
        std::fprintf(stderr, "sipredirctl: the appliance closed without answering\n");
        return 2;
    }
    return reply.find("\"ok\": true") != std::string::npos ? 0 : 1;
}
