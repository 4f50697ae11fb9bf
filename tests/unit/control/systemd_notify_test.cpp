// SPDX-License-Identifier: BSD-3-Clause
// What the appliance tells systemd, read from a notification socket of the test's own: READY=1
// after the first table, WATCHDOG=1 while tables are published, RELOADING=1 and READY=1 around a
// reload, STOPPING=1; nothing outside systemd. Then the same from the control loop itself.
#include <gtest/gtest.h>

#include <control/config.hpp>
#include <control/plane.hpp>
#include <control/systemd_notify.hpp>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace sipredir::control {
namespace {

constexpr std::int64_t second = 1'000'000'000;

class systemd_notify : public ::testing::Test {
protected:
    void SetUp() override {
        char dir_template[] = "/tmp/sipredir-notify-XXXXXX";
        ASSERT_NE(::mkdtemp(dir_template), nullptr);
        _dir = dir_template;
        const std::string path = _dir + "/notify";
        _fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(_fd, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        ASSERT_LT(path.size(), sizeof sa.sun_path);
        path.copy(sa.sun_path, path.size());
        ASSERT_EQ(::bind(_fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa), 0);
        ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
        // A watchdog of 2 s for this process: WATCHDOG=1 is due every second.
        ::setenv("WATCHDOG_USEC", "2000000", 1);
        ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    }
    void TearDown() override {
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
        ::unsetenv("WATCHDOG_PID");
        if (_fd >= 0) {
            ::close(_fd);
        }
        std::filesystem::remove_all(_dir);
    }

    // The next notification, waiting up to 5 s for it; "" when none came.
    std::string next_message() {
        pollfd p{_fd, POLLIN, 0};
        if (::poll(&p, 1, 5000) != 1) {
            return "";
        }
        char buf[4096];
        const ssize_t n = ::recv(_fd, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    }

    // Ready at `now`, with the READY=1 read off the socket.
    void make_ready(systemd_notifier& n, std::int64_t now) {
        ASSERT_TRUE(n.published(now, 1));
        n.status("2 workers, 1 of 1 backends up");
        ASSERT_EQ(next_message(), "READY=1\nSTATUS=2 workers, 1 of 1 backends up");
    }

    std::string _dir;
    int _fd = -1;
};

TEST_F(systemd_notify, ready_once_a_table_is_published) {
    systemd_notifier n;
    EXPECT_TRUE(n.enabled());
    EXPECT_FALSE(n.published(0, 0)); // nothing published yet
    make_ready(n, 10);
    // The same status again is not sent; a new one is, without READY=1.
    n.status("2 workers, 1 of 1 backends up");
    n.status("2 workers, 0 of 1 backends up");
    EXPECT_EQ(next_message(), "STATUS=2 workers, 0 of 1 backends up");
}

TEST_F(systemd_notify, watchdog_at_half_its_interval_while_tables_are_published) {
    systemd_notifier n;
    EXPECT_EQ(n.watchdog_interval_ns(), second);
    EXPECT_EQ(n.next_due_ns(), std::numeric_limits<std::int64_t>::max()); // not ready yet
    n.watchdog(0);
    make_ready(n, 0); // so no WATCHDOG=1 came before READY=1
    n.watchdog(5);
    EXPECT_EQ(next_message(), "WATCHDOG=1");
    EXPECT_EQ(n.next_due_ns(), 5 + second);
    n.watchdog(6); // not due: nothing
    EXPECT_TRUE(n.published(second, 2));
    n.watchdog(5 + second);
    EXPECT_EQ(next_message(), "WATCHDOG=1");
    n.stopping();
    EXPECT_EQ(next_message(), "STOPPING=1");
}

TEST_F(systemd_notify, no_watchdog_once_no_table_was_published_for_its_interval) {
    systemd_notifier n;
    make_ready(n, 0);
    n.watchdog(2 * second); // the last table is 2 s old: WATCHDOG_USEC has passed
    EXPECT_EQ(n.next_due_ns(), std::numeric_limits<std::int64_t>::max()); // until a table
    n.stopping();
    EXPECT_EQ(next_message(), "STOPPING=1");
    // A table again: the pings resume.
    EXPECT_TRUE(n.published(3 * second, 2));
    EXPECT_LE(n.next_due_ns(), 3 * second);
    n.watchdog(3 * second);
    EXPECT_EQ(next_message(), "WATCHDOG=1");
}

TEST_F(systemd_notify, reloading_then_ready_around_a_reload) {
    systemd_notifier n;
    n.reloading(); // before READY=1: nothing
    make_ready(n, 0);
    n.reloading();
    const std::string reloading = next_message();
    EXPECT_EQ(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << reloading;
    EXPECT_GT(reloading.size(), std::string("RELOADING=1\nMONOTONIC_USEC=").size());
    n.reloaded("2 workers, 1 of 2 backends up");
    EXPECT_EQ(next_message(), "READY=1\nSTATUS=2 workers, 1 of 2 backends up");
}

TEST_F(systemd_notify, no_watchdog_when_systemd_set_none) {
    ::unsetenv("WATCHDOG_USEC");
    systemd_notifier n;
    EXPECT_EQ(n.watchdog_interval_ns(), 0);
    make_ready(n, 0);
    EXPECT_EQ(n.next_due_ns(), std::numeric_limits<std::int64_t>::max());
    n.watchdog(second);
    n.stopping();
    EXPECT_EQ(next_message(), "STOPPING=1");
}

TEST_F(systemd_notify, nothing_outside_systemd) {
    ::unsetenv("NOTIFY_SOCKET");
    systemd_notifier n;
    EXPECT_FALSE(n.enabled());
    EXPECT_EQ(n.watchdog_interval_ns(), 0);
    EXPECT_FALSE(n.published(0, 1));
    n.status("2 workers, 1 of 1 backends up");
    EXPECT_EQ(n.next_due_ns(), std::numeric_limits<std::int64_t>::max());
    n.watchdog(second);
    n.stopping();
    // The socket got none of it: with NOTIFY_SOCKET back, the first message is this one.
    ::setenv("NOTIFY_SOCKET", (_dir + "/notify").c_str(), 1);
    systemd_notifier m;
    m.stopping();
    EXPECT_EQ(next_message(), "STOPPING=1");
}

TEST_F(systemd_notify, the_control_loop_tells_systemd) {
    config_result r = parse_config(
            R"(
[listen]
addresses = ["198.18.0.1"]
[[backend]]
name = "b1"
address = "198.18.1.1:5060"
[[pool]]
name = "default"
backends = ["b1"]
)",
            _dir + "/missing.toml"
    );
    ASSERT_TRUE(r.config) << r.error.message;
    bool publishes = false;
    plane_hooks hooks;
    hooks.publish = [&](const appliance_config&,
                        std::span<const balance::backend_facts>,
                        const balance::overload_signal&) { return publishes; };
    hooks.workers = 2;
    plane p(_dir + "/missing.toml", std::move(*r.config), hooks);

    // No table yet: not ready, so a refused reload says nothing either.
    p.run_once(std::chrono::microseconds(0));
    p.reload();
    publishes = true;
    p.run_once(std::chrono::microseconds(0));
    const std::string ready = next_message();
    EXPECT_EQ(ready.rfind("READY=1\nSTATUS=2 workers, ", 0), 0u) << ready;
    EXPECT_NE(ready.find(" of 1 backends up"), std::string::npos) << ready;
    EXPECT_EQ(next_message(), "WATCHDOG=1");

    // The file is missing: the reload is refused, and the appliance is ready again.
    EXPECT_FALSE(p.reload().empty());
    EXPECT_EQ(next_message().rfind("RELOADING=1\n", 0), 0u);
    EXPECT_EQ(next_message().rfind("READY=1\nSTATUS=2 workers, ", 0), 0u);
    p.stopping();
    EXPECT_EQ(next_message(), "STOPPING=1");
}

} // namespace
} // namespace sipredir::control
