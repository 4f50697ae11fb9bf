// SPDX-License-Identifier: BSD-3-Clause
// The control socket is mode 0660 whatever the process umask, and is a listening socket.
#include <gtest/gtest.h>

#include <control/sockets.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace sipredir::control {
namespace {

class unix_socket : public ::testing::Test {
protected:
    void SetUp() override {
        char dir_template[] = "/tmp/sipredir-sock-XXXXXX";
        ASSERT_NE(::mkdtemp(dir_template), nullptr);
        _dir = dir_template;
        _previous_umask = ::umask(022);
    }
    void TearDown() override {
        ::umask(_previous_umask);
        std::filesystem::remove_all(_dir);
    }
    std::string _dir;
    mode_t _previous_umask = 022;
};

mode_t mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    EXPECT_TRUE(S_ISSOCK(st.st_mode)) << path;
    return st.st_mode & 07777;
}

TEST_F(unix_socket, is_0660_under_every_umask_and_leaves_the_umask_alone) {
    for (const mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}, mode_t{0777}}) {
        ::umask(mask);
        const std::string path = _dir + "/ctl-" + std::to_string(mask) + ".sock";
        const socket_fd fd = open_unix_listener(path);
        EXPECT_EQ(mode_of(path), 0660) << "umask " << mask;
        EXPECT_EQ(::umask(mask), mask) << "the process umask changed";
    }
}

TEST_F(unix_socket, replaces_a_stale_socket_file_and_accepts_a_connection) {
    const std::string path = _dir + "/ctl.sock";
    { const socket_fd stale = open_unix_listener(path); }
    const socket_fd fd = open_unix_listener(path);
    EXPECT_EQ(mode_of(path), 0660);

    const int client = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(client, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.data(), path.size());
    EXPECT_EQ(::connect(client, reinterpret_cast<const sockaddr*>(&sa), sizeof sa), 0)
            << std::strerror(errno);
    ::close(client);
}

} // namespace
} // namespace sipredir::control
