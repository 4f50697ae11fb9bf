// SPDX-License-Identifier: BSD-3-Clause
// sipredirctl's socket and the metrics endpoint keep each client's reply and write it as poll
// finds room: clients that connect and never read hold their buffers, not the control core.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <control/config.hpp>
#include <control/plane.hpp>
#include <cstdlib>
#include <filesystem>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

using namespace sipredir;
using namespace sipredir::control;

namespace {

using std::chrono::steady_clock;

// Every backend the appliance can have, so that `metrics` is far larger than a socket buffer.
std::string many_backends(const std::string& socket_path) {
    std::string text = "[listen]\naddresses = [\"198.18.0.1\"]\n";
    std::string names;
    for (std::size_t i = 0; i < 256; ++i) {
        const std::string name = "backend-with-a-long-name-" + std::to_string(i);
        text += "[[backend]]\nname = \"" + name + "\"\naddress = \"198.18."
                + std::to_string(1 + i / 250) + "." + std::to_string(1 + i % 250)
                + "\"\ncapacity = 10\n";
        names += (names.empty() ? "\"" : ", \"") + name + "\"";
    }
    text += "[[pool]]\nname = \"core\"\npolicy = \"least-load\"\nbackends = [" + names + "]\n";
    text += "[management]\nsocket = \"" + socket_path + "\"\n";
    return text;
}

int connect_unix(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    path.copy(sa.sun_path, sizeof sa.sun_path - 1);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Reads what is waiting on `fd` without blocking; false once the peer closed.
bool read_available(int fd, std::string& into) {
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) {
            return true;
        }
        char buf[65536];
        const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) {
            return n < 0 && errno == EAGAIN;
        }
        into.append(buf, static_cast<std::size_t>(n));
    }
}

class management_test : public ::testing::Test {
protected:
    void SetUp() override {
        char dir_template[] = "/tmp/sipredir-mgmt-XXXXXX";
        ASSERT_NE(::mkdtemp(dir_template), nullptr);
        _dir = dir_template;
        path = _dir + "/ctl.sock";
        config_result r = parse_config(many_backends(path), "t.toml");
        ASSERT_TRUE(r.config) << r.error.message;
        p = std::make_unique<plane>("t.toml", std::move(*r.config), plane_hooks{});
        p->open();
    }
    void TearDown() override {
        for (const int fd : fds) {
            ::close(fd);
        }
        p.reset();
        std::filesystem::remove_all(_dir);
    }

    int client() {
        const int fd = connect_unix(path);
        EXPECT_GE(fd, 0);
        if (fd >= 0) {
            fds.push_back(fd);
        }
        return fd;
    }

    // This host's socket buffers take a whole `metrics` of 256 backends: the plane's ends of
    // the connections it accepted (this process's sockets bound to `path` that do not listen)
    // are narrowed, so that a reply must wait for its reader as it would over a slow link.
    // Returns their new size, 0 when none was found.
    int narrow_accepted_buffers() {
        int size = 0;
        for (int fd = 0; fd < 4096; ++fd) {
            int domain = 0;
            int listening = 1;
            socklen_t len = sizeof domain;
            sockaddr_un sa{};
            socklen_t sa_len = sizeof sa;
            if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_UNIX
                || ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening
                || ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &sa_len) != 0
                || std::string(sa.sun_path) != path) {
                continue;
            }
            const int small = 4096;
            ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
            len = sizeof size;
            ::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len);
        }
        return size;
    }

    void send_line(int fd, const std::string& request) {
        EXPECT_EQ(
                ::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
                static_cast<ssize_t>(request.size())
        );
    }

    std::string path;
    std::unique_ptr<plane> p;
    std::vector<int> fds;

private:
    std::string _dir;
};

} // namespace

TEST_F(management_test, clients_that_never_read_do_not_hold_up_one_that_does) {
    const std::size_t reply_size = p->command("metrics").size();
    std::vector<int> silent;
    for (int i = 0; i < 4; ++i) {
        silent.push_back(client());
    }
    const int prompt = client();
    p->run_once(std::chrono::milliseconds(10)); // accepts them all
    const int sndbuf = narrow_accepted_buffers();
    // The premise: a reply the socket cannot take whole, so the writer must wait for the reader.
    ASSERT_GT(sndbuf, 0);
    ASSERT_GT(reply_size, 4 * static_cast<std::size_t>(sndbuf));
    for (const int fd : silent) {
        send_line(fd, "metrics\n");
    }
    send_line(prompt, "version\n");
    std::string answer;
    const auto deadline = steady_clock::now() + std::chrono::seconds(20);
    while (answer.find('\n') == std::string::npos && steady_clock::now() < deadline) {
        p->run_once(std::chrono::milliseconds(10));
        ASSERT_TRUE(read_available(prompt, answer) || answer.find('\n') != std::string::npos);
    }
    EXPECT_NE(answer.find("\"ok\": true"), std::string::npos) << answer;

    // Each silent client's reply was kept, not cut off: reading now, each gets all of it.
    std::vector<std::string> got(silent.size());
    std::vector<bool> open(silent.size(), true);
    const auto read_deadline = steady_clock::now() + std::chrono::seconds(20);
    while (std::find(open.begin(), open.end(), true) != open.end()
           && steady_clock::now() < read_deadline) {
        p->run_once(std::chrono::milliseconds(1));
        for (std::size_t i = 0; i < silent.size(); ++i) {
            if (open[i]) {
                open[i] = read_available(silent[i], got[i]);
            }
        }
    }
    for (std::size_t i = 0; i < silent.size(); ++i) {
        EXPECT_FALSE(open[i]) << "client " << i << " not closed after its reply";
        EXPECT_EQ(got[i].size(), reply_size) << "client " << i;
    }
    EXPECT_EQ(p->counters().management_idle, 0u);
    EXPECT_EQ(p->counters().management_evicted, 0u);
}

TEST_F(management_test, a_full_table_gives_way_to_a_new_client_and_idle_ones_are_closed) {
    std::vector<int> silent;
    for (int i = 0; i < 32; ++i) {
        silent.push_back(client());
        if (i % 8 == 7) {
            p->run_once(std::chrono::milliseconds(10)); // accepts them, within the backlog
        }
    }
    ASSERT_GT(narrow_accepted_buffers(), 0);
    // Answered as far as the sockets take before the next one arrives.
    for (const int fd : silent) {
        send_line(fd, "metrics\n");
    }
    for (int i = 0; i < 4; ++i) {
        p->run_once(std::chrono::milliseconds(1));
    }
    const int prompt = client();
    send_line(prompt, "version\n");
    std::string answer;
    const auto deadline = steady_clock::now() + std::chrono::seconds(20);
    while (answer.find('\n') == std::string::npos && steady_clock::now() < deadline) {
        p->run_once(std::chrono::milliseconds(10));
        ASSERT_TRUE(read_available(prompt, answer) || answer.find('\n') != std::string::npos);
    }
    EXPECT_NE(answer.find("\"ok\": true"), std::string::npos) << answer;
    EXPECT_EQ(p->counters().management_evicted, 1u);

    // The silent ones move nothing: each is closed once idle, and counted.
    const auto idle_deadline = steady_clock::now() + std::chrono::seconds(20);
    while (p->counters().management_idle < 31 && steady_clock::now() < idle_deadline) {
        p->run_once(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(p->counters().management_idle, 31u);
    // The evicted one (the first) and the idle ones see the end of the stream.
    for (const int fd : silent) {
        std::string ignored;
        bool open = true;
        const auto end_deadline = steady_clock::now() + std::chrono::seconds(5);
        while (open && steady_clock::now() < end_deadline) {
            pollfd pfd{fd, POLLIN, 0};
            ::poll(&pfd, 1, 100);
            open = read_available(fd, ignored);
        }
        EXPECT_FALSE(open);
    }
    EXPECT_NE(p->command("stats").find("\"idle\": 31"), std::string::npos);
}
