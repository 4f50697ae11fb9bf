// SPDX-License-Identifier: BSD-3-Clause
// The fleet's transports: the ring that hands messages between threads, senders vouched for by
// their NATS subject, the nats_* keys, and two control planes exchanging counts through a real
// nats-server (started and stopped here, on loopback).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <control/fleet/handover_ring.hpp>
#include <control/fleet/mesh_transport.hpp>
#include <control/fleet/redirect_exchange.hpp>
#include <control/plane.hpp>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

using namespace sipredir;
using namespace sipredir::control;
using namespace sipredir::control::fleet;

namespace {

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t wall0 = 1'732'300'000'000;

TEST(handover_ring, hands_messages_over_in_order_and_refuses_when_full) {
    handover_ring<4> ring;
    EXPECT_EQ(ring.front(), nullptr);
    const std::string_view texts[] = {"m0", "m1", "m2", "m3"};
    for (std::string_view t : texts) {
        EXPECT_TRUE(ring.push(t, "sr-a"));
    }
    EXPECT_FALSE(ring.push("m4", "sr-a")); // full: refused, the producer counts it
    pollfd p{ring.event_fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 0), 1);
    ring.clear_signal();
    EXPECT_EQ(::poll(&p, 1, 0), 0);
    for (std::string_view t : texts) {
        const handover_message* m = ring.front();
        ASSERT_NE(m, nullptr);
        EXPECT_EQ(m->text(), t);
        EXPECT_EQ(m->sender(), "sr-a");
        ring.pop();
    }
    EXPECT_EQ(ring.front(), nullptr);
    EXPECT_TRUE(ring.push("again", ""));
    EXPECT_EQ(::poll(&p, 1, 0), 1);
}

TEST(handover_ring, refuses_what_does_not_fit_a_slot) {
    handover_ring<2> ring;
    EXPECT_FALSE(ring.push(std::string(handover_message::max_data + 1, 'x'), "sr-a"));
    EXPECT_FALSE(ring.push("m", std::string(handover_message::max_name + 1, 'n')));
    EXPECT_TRUE(ring.push(std::string(handover_message::max_data, 'x'), "sr-a"));
    ASSERT_NE(ring.front(), nullptr);
    EXPECT_EQ(ring.front()->text().size(), handover_message::max_data);
}

// One producer thread, one consumer that waits on the eventfd: every message arrives, once, in
// order, although the ring is much smaller than what goes through it.
TEST(handover_ring, two_threads_lose_nothing_that_was_taken) {
    handover_ring<8> ring;
    constexpr int total = 20000;
    std::atomic<int> refused{0};
    std::thread producer([&] {
        for (int i = 0; i < total; ++i) {
            while (!ring.push(std::to_string(i), "p")) {
                refused.fetch_add(1, std::memory_order_relaxed);
                std::this_thread::yield();
            }
        }
    });
    int next = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (next < total && std::chrono::steady_clock::now() < deadline) {
        pollfd p{ring.event_fd(), POLLIN, 0};
        ::poll(&p, 1, 100);
        ring.clear_signal();
        while (const handover_message* m = ring.front()) {
            ASSERT_EQ(m->text(), std::to_string(next));
            ++next;
            ring.pop();
        }
    }
    producer.join();
    EXPECT_EQ(next, total);
}

// --- the mesh's peers reload

net::ip_endpoint local_endpoint(const socket_fd& s) {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len);
    return from_sockaddr(a);
}

// A datagram waiting on `s` within a second, or "".
std::string datagram_on(const socket_fd& s) {
    pollfd p{s.get(), POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) {
        return "";
    }
    char buf[2048];
    const ssize_t n = ::recv(s.get(), buf, sizeof buf, MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
}

TEST(mesh_transport, a_reload_sends_to_the_peers_it_gives) {
    net::ip_endpoint loopback;
    ASSERT_TRUE(net::parse_ip("127.0.0.1", loopback.address));
    const auto bound = [&] {
        socket_fd s = open_udp(loopback, true);
        return std::pair{std::move(s), local_endpoint(s)};
    };
    auto [old_peer, old_at] = bound();
    auto [new_peer, new_at] = bound();
    auto [own, own_at] = bound();
    own = socket_fd{}; // the transport binds the address itself
    mesh_transport mesh(own_at, {old_at});
    mesh.open();
    mesh.publish("before");
    EXPECT_EQ(datagram_on(old_peer), "before");
    fleet_config reloaded;
    reloaded.peers = {new_at};
    mesh.reconfigure(reloaded);
    mesh.publish("after");
    EXPECT_EQ(datagram_on(new_peer), "after");
    pollfd p{old_peer.get(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 0) << "the peer the reload removed still got a message";
}

// --- senders vouched for by their subject

signing_key key_of(std::uint8_t b) {
    signing_key k{};
    k.fill(b);
    return k;
}

struct exchange_pair {
    redirect_exchange sender;
    redirect_exchange receiver;
    std::vector<std::string> names{"p1"};
    std::vector<std::uint64_t> delta = std::vector<std::uint64_t>(1, 0);

    exchange_pair(std::vector<fleet_peer> peers, bool any_peer) {
        exchange_settings a{.self = "sr-a", .key = key_of(3)};
        a.capacity = {1000};
        sender.configure(a, names, 1);
        exchange_settings b{.self = "sr-b", .key = key_of(3), .peers = std::move(peers)};
        b.any_peer = any_peer;
        b.capacity = {1000};
        receiver.configure(b, names, 2);
    }
    exchange_verdict deliver(const message_origin& from) {
        const std::vector<std::string> m = sender.take_messages(10 * ms, wall0);
        EXPECT_EQ(m.size(), 1U);
        return receiver.admit(m.front(), from, wall0, 10 * ms, delta);
    }
};

TEST(nats_origin, a_name_is_believed_only_on_its_own_subject) {
    exchange_pair listed({{"sr-a", {}}}, false);
    EXPECT_EQ(listed.deliver(message_origin::publisher("sr-a")), exchange_verdict::accepted);
    exchange_pair elsewhere({{"sr-a", {}}}, false);
    EXPECT_EQ(elsewhere.deliver(message_origin::publisher("sr-c")), exchange_verdict::wrong_source);
}

TEST(nats_origin, an_unlisted_name_is_refused_unless_any_name_may_speak) {
    exchange_pair listed({{"sr-c", {}}}, false);
    EXPECT_EQ(listed.deliver(message_origin::publisher("sr-a")), exchange_verdict::unknown_peer);
    exchange_pair open({}, true);
    EXPECT_EQ(open.deliver(message_origin::publisher("sr-a")), exchange_verdict::accepted);
    // any_peer concerns NATS subjects only: over the mesh an unlisted address is still unknown.
    exchange_pair mesh({}, true);
    EXPECT_EQ(mesh.deliver(message_origin(net::ip_address{})), exchange_verdict::unknown_peer);
}

// --- the nats_* keys

std::string fleet_config_text(
        const std::string& fleet_keys, const std::string& key_file, const std::string& name = "sr-a"
) {
    return R"([listen]
addresses = ["127.0.0.1"]
[[backend]]
name = "p1"
address = "198.18.1.1:5060"
[[pool]]
name = "default"
backends = ["p1"]
[fleet]
name = ")" + name
           + "\"\nkey_file = \"" + key_file + "\"\n" + fleet_keys;
}

struct refusal_case {
    const char* keys;
    const char* error; // a part of the message
    std::uint32_t line;
};

// Lines: [fleet] is line 9, its first key after key_file is line 12.
TEST(nats_config, refuses_what_cannot_work_naming_the_line) {
    const auto dir = std::filesystem::temp_directory_path()
                     / ("sipredir-nats-config-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "fleet.key") << std::string(64, 'e') << "\n";
    std::filesystem::permissions(dir / "fleet.key", std::filesystem::perms::owner_read);
    std::ofstream(dir / "empty.pass") << "\n";
    std::ofstream(dir / "open.pass") << "secret\n";
    std::ofstream(dir / "a.creds") << "creds\n";
    std::ofstream(dir / "c.pem") << "certificate\n";
    for (const char* secret : {"empty.pass", "a.creds"}) {
        std::filesystem::permissions(
                dir / secret,
                std::filesystem::perms::owner_read | std::filesystem::perms::owner_write
        );
    }
    const refusal_case cases[] = {
            {"nats_servers = [\"nats://127.0.0.1:4222\"]\n", "needs transport = \"nats\"", 12},
            {"transport = \"kafka\"\n", "must be one of mesh, nats", 12},
            {"transport = \"nats\"\n", "needs nats_servers", 9},
            {"transport = \"nats\"\nnats_servers = []\n", "at least one server", 13},
            {"transport = \"nats\"\nnats_servers = [\"http://x:1\"]\n",
             "must be nats://host:port or tls://host:port",
             13},
            {"transport = \"nats\"\nnats_servers = [\"nats://x:1\"]\nnats_fleet = \"a.b\"\n",
             "nats_fleet must be",
             14},
            {"transport = \"nats\"\nnats_servers = [\"nats://x:1\"]\nnats_user = \"u\"\n",
             "nats_user and nats_password_file go together",
             9},
            {"transport = \"nats\"\nnats_servers = [\"nats://x:1\"]\nnats_user = \"u\"\n"
             "nats_password_file = \"empty.pass\"\n",
             "is empty",
             15},
            {"transport = \"nats\"\nnats_servers = [\"nats://x:1\"]\nnats_user = \"u\"\n"
             "nats_credentials_file = \"a.creds\"\n",
             "at most one way to log in",
             9},
            {"transport = \"nats\"\nnats_servers = [\"nats://x:1\"]\nnats_nkey = \"UABC\"\n",
             "nats_nkey and nats_seed_file go together",
             9},
            {"transport = \"nats\"\nnats_servers = [\"nats://x:1\"]\nnats_cert_file = \"c.pem\"\n",
             "nats_cert_file and nats_key_file go together",
             9},
            {"transport = \"nats\"\nnats_servers = [\"nats://x:1\"]\npeers = "
             "[\"sr-b@127.0.0.1\"]\n",
             "no address",
             14},
    };
    for (const refusal_case& c : cases) {
        const std::string text = fleet_config_text(c.keys, (dir / "fleet.key").string());
        const config_result r = parse_config(text, (dir / "t.toml").string());
        ASSERT_FALSE(r.config) << c.keys;
        EXPECT_NE(r.error.message.find(c.error), std::string::npos)
                << c.keys << " gave: " << r.error.message;
        EXPECT_NE(
                r.error.message.find("t.toml:" + std::to_string(c.line) + ": "), std::string::npos
        ) << c.keys
          << " gave: " << r.error.message;
    }
    // A name with a '.' would be two subject tokens.
    const std::string dotted = fleet_config_text(
            "transport = \"nats\"\nnats_servers = [\"nats://x:1\"]\n",
            (dir / "fleet.key").string(),
            "sr.a"
    );
    const config_result r = parse_config(dotted, (dir / "t.toml").string());
    ASSERT_FALSE(r.config);
    EXPECT_NE(r.error.message.find("subject token"), std::string::npos) << r.error.message;
    std::filesystem::remove_all(dir);
}

// --- two control planes through a real nats-server

// nats-server on 127.0.0.1:port, stopped (SIGTERM, then waited for) when this goes.
class nats_server {
public:
    explicit nats_server(int port) {
        const std::string p = std::to_string(port);
        std::vector<std::string> args{"nats-server", "-a", "127.0.0.1", "-p", p};
        std::vector<char*> argv;
        for (std::string& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        // Its output not on ours: were this test to abort, a server left running would hold
        // the test runner's pipe open.
        posix_spawn_file_actions_t files;
        posix_spawn_file_actions_init(&files);
        posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&files, 2, "/dev/null", O_WRONLY, 0);
        if (posix_spawnp(&_pid, "nats-server", &files, nullptr, argv.data(), environ) != 0) {
            _pid = -1;
        }
        posix_spawn_file_actions_destroy(&files);
    }
    ~nats_server() {
        if (_pid > 0) {
            ::kill(_pid, SIGTERM);
            int status = 0;
            ::waitpid(_pid, &status, 0);
        }
    }
    bool started() const { return _pid > 0; }

private:
    pid_t _pid = -1;
};

bool nats_server_installed() {
    for (const char* dir : {"/usr/bin", "/usr/sbin", "/usr/local/bin"}) {
        if (std::filesystem::exists(std::filesystem::path(dir) / "nats-server")) {
            return true;
        }
    }
    return false;
}

TEST(fleet_planes, counts_travel_through_a_nats_server) {
    if (!nats_server_installed()) {
        GTEST_SKIP() << "nats-server is not installed (scripts/deps.sh installs it)";
    }
    const auto dir =
            std::filesystem::temp_directory_path() / ("sipredir-nats-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "fleet.key") << std::string(64, 'e') << "\n";
    std::filesystem::permissions(dir / "fleet.key", std::filesystem::perms::owner_read);
    // A port from the pid, so that parallel runs of the suite do not collide.
    const int port = 30000 + getpid() % 5000;
    nats_server server(port);
    ASSERT_TRUE(server.started());
    const auto config_of = [&](const char* name) {
        const std::string text = std::string(R"(
[listen]
addresses = ["127.0.0.1"]
[management]
socket = ")") + (dir / name).string()
                                 + R"(.sock"
[fleet]
name = ")" + name + R"("
transport = "nats"
nats_servers = ["nats://127.0.0.1:)"
                                 + std::to_string(port) + R"("]
nats_fleet = "unit"
nats_reconnect_wait_ms = 50
key_file = ")" + (dir / "fleet.key").string()
                                 + R"("
interval_ms = 10
[[backend]]
name = "p1"
address = "198.18.1.1:5060"
capacity = 1000
[[pool]]
name = "default"
backends = ["p1"]
)";
        config_result r = parse_config(text, name);
        EXPECT_TRUE(r.config) << r.error.message;
        return std::move(*r.config);
    };
    std::vector<std::uint64_t> a_new(balance::max_backends, 0);
    std::uint64_t b_sees_p1 = 0;
    plane_hooks a_hooks;
    a_hooks.take_redirects = [&] {
        std::vector<std::uint64_t> out = a_new;
        std::fill(a_new.begin(), a_new.end(), 0);
        return out;
    };
    plane_hooks b_hooks;
    b_hooks.publish = [&](const appliance_config&,
                          std::span<const balance::backend_facts> f,
                          const balance::overload_signal&) {
        b_sees_p1 = std::max<std::uint64_t>(b_sees_p1, f[0].redirects_since_report);
        return true;
    };
    plane a("a.toml", config_of("sr-a"), a_hooks);
    plane b("b.toml", config_of("sr-b"), b_hooks);
    // The server may still be starting: the transports connect when it listens.
    a.open();
    b.open();
    const auto until = [&](auto done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            a.run_once(std::chrono::microseconds(1000));
            b.run_once(std::chrono::microseconds(1000));
        }
        return done();
    };
    ASSERT_TRUE(until([&] {
        return a.fleet()->peers().size() == 1 && b.fleet()->peers().size() == 1;
    })) << b.command("fleet");
    a_new[0] = 25;
    ASSERT_TRUE(until([&] { return b_sees_p1 >= 25; })) << b_sees_p1;
    EXPECT_EQ(b_sees_p1, 25U);
    EXPECT_EQ(b.fleet()->peers()[0].name, "sr-a");
    const std::string status = b.command("fleet");
    EXPECT_NE(
            status.find("\"transport\": \"nats sipredir.unit.counts.sr-b, connected to"),
            std::string::npos
    ) << status;
    const std::string metrics = b.command("metrics");
    EXPECT_NE(
            metrics.find("sipredir_fleet_transport_connected{transport=\"nats\"} 1"),
            std::string::npos
    ) << metrics;
    EXPECT_NE(
            metrics.find("sipredir_fleet_peer_silence_seconds{peer=\"sr-a\"}"), std::string::npos
    );
    std::filesystem::remove_all(dir);
}

} // namespace
