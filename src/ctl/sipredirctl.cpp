// SPDX-License-Identifier: BSD-3-Clause
// sipredirctl: the operator's command line to a running sipredir, over its UNIX socket.
//
//   sipredirctl [--socket PATH] stats | backends | pools | query [POOL] [--count=false] |
//               drain NAME | undrain NAME | reload | metrics | version
//
// Prints the appliance's answer. Every answer but `metrics` is a JSON object: exits 0 when it
// says "ok": true, 1 when it refused ("ok": false) or is not such an object. `metrics` answers
// Prometheus text: 0 when there is some. 2 when the appliance could not be reached or closed
// without answering. `sipredirctl --version` is this program's own version, asked of nobody.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <version.hpp>

namespace {

constexpr const char* default_socket = "/run/sipredir/sipredir.sock";

// The usage to `to` (stdout for --help, stderr for a wrong command line).
void usage(std::FILE* to) {
    std::fprintf(
            to,
            "usage: sipredirctl [--socket PATH] COMMAND [ARGUMENT]\n"
            "       sipredirctl --help | --version\n"
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
            "  version          the appliance's version and configuration revision\n"
            "The socket defaults to %s ([management] socket).\n"
            "Exit status: 0 when the appliance answered \"ok\": true (or, for metrics, any text),\n"
            "1 when it refused, 2 when it could not be reached.\n",
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
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
        usage(stdout);
        return -1;
    }
    if (std::strcmp(argv[i], "--version") == 0) {
        std::printf(
                "sipredirctl %.*s\n",
                static_cast<int>(sipredir::version.size()),
                sipredir::version.data()
        );
        return -1;
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

// The exit status for the appliance's answer to `verb` (docs/operations.md): its JSON read, not
// searched as text, so that "ok": true inside a string or a name is not taken for success.
int status_of(std::string_view verb, const std::string& reply) {
    const nlohmann::json answer = nlohmann::json::parse(reply, nullptr, false);
    const bool object = !answer.is_discarded() && answer.is_object();
    if (verb == "metrics" && !object) {
        // Prometheus text; a refusal would be a JSON object, judged below.
        return 0;
    }
    if (!object) {
        std::fprintf(stderr, "sipredirctl: the answer is not a JSON object\n");
        return 1;
    }
    const auto ok = answer.find("ok");
    return ok != answer.end() && ok->is_boolean() && ok->get<bool>() ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    std::string path = default_socket;
    std::string line;
    if (const int rc = request_line(argc, argv, path, line); rc != 0) {
        return rc < 0 ? 0 : rc; // -1: --help, --version
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
    return status_of(std::string_view(line).substr(0, line.find_first_of(" \n")), reply);
}
