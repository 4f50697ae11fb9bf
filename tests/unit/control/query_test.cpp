// SPDX-License-Identifier: BSD-3-Clause
// Queries (sipredirctl query, GET /query): which backend a pool would name now. An answer counts
// as a redirect to the backends it names, as a 302 would, so that a proxy routing by query does
// not send every call between two publications to the same backend; count=false only looks.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <balance/redirect_counters.hpp>
#include <chrono>
#include <control/config.hpp>
#include <control/management/query_args.hpp>
#include <control/plane.hpp>
#include <netinet/in.h>
#include <poll.h>
#include <regex>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

using namespace sipredir;
using namespace sipredir::control;

namespace {

const std::string two_backends = R"(
[listen]
addresses = ["198.18.0.1"]
[[backend]]
name = "b1"
address = "198.18.1.1"
capacity = 10
[[backend]]
name = "b2"
address = "198.18.1.2"
capacity = 10
[[pool]]
name = "core"
policy = "least-load"
backends = ["b1", "b2"]
)";

// The first backend named in a query's answer ("" when none).
std::string choice_of(const std::string& answer) {
    static const std::regex choice(R"re("choice": \["([^"]*)")re");
    std::smatch m;
    return std::regex_search(answer, m, choice) ? m[1].str() : std::string{};
}

// The load a query's table gives `backend`.
std::string load_of(const std::string& answer, const std::string& backend) {
    const std::regex load("\"name\": \"" + backend + "\",[^}]*\"load\": ([0-9.]+)");
    std::smatch m;
    return std::regex_search(answer, m, load) ? m[1].str() : std::string{};
}

class query_test : public ::testing::Test {
protected:
    void SetUp() override {
        config_result r = parse_config(two_backends, "t.toml");
        ASSERT_TRUE(r.config) << r.error.message;
        plane_hooks hooks;
        // The workers' counters and the control plane's, as the program wires them: the last
        // worker_redirects is the control lcore's.
        hooks.take_redirects = [this] { return counters.take_new(); };
        hooks.redirect_total = [this](std::uint16_t slot) { return counters.total(slot); };
        hooks.count_redirect = [this](std::uint16_t slot) { counters.of(1).add(slot, 1); };
        p = std::make_unique<plane>("t.toml", std::move(*r.config), std::move(hooks));
    }

    std::uint64_t total(std::uint16_t slot) const { return counters.total(slot); }

    balance::redirect_counters counters{2};
    std::unique_ptr<plane> p;
};

} // namespace

TEST_F(query_test, an_answer_counts_so_the_next_query_names_the_other_backend) {
    const std::string first = p->command("query");
    const std::string second = p->command("query core");
    ASSERT_NE(choice_of(first), "") << first;
    ASSERT_NE(choice_of(second), "") << second;
    EXPECT_NE(choice_of(first), choice_of(second)) << "least-load saw the first answer";
    EXPECT_NE(first.find("\"counted\": true"), std::string::npos) << first;
    EXPECT_EQ(total(0), 1u);
    EXPECT_EQ(total(1), 1u);
    // One redirect each on a capacity of 10: the estimate moved to 0.1.
    const std::string look = p->command("query count=false");
    EXPECT_EQ(load_of(look, "b1"), "0.100000") << look;
    EXPECT_EQ(load_of(look, "b2"), "0.100000") << look;
}

TEST_F(query_test, count_false_only_looks) {
    for (const char* line :
         {"query count=false", "query core count=false", "query --count=false"}) {
        const std::string answer = p->command(line);
        EXPECT_NE(choice_of(answer), "") << line << ": " << answer;
        EXPECT_NE(answer.find("\"counted\": false"), std::string::npos) << answer;
        EXPECT_EQ(load_of(answer, "b1"), "0.000000") << answer;
        EXPECT_EQ(load_of(answer, "b2"), "0.000000") << answer;
    }
    EXPECT_EQ(total(0) + total(1), 0u);
}

TEST_F(query_test, counted_answers_are_folded_once_at_publication) {
    p->command("query");
    p->command("query");
    // drain publishes a table at once, folding the redirects taken so far.
    ASSERT_NE(p->command("drain b2").find("\"ok\": true"), std::string::npos);
    EXPECT_EQ(p->monitor().facts()[0].redirects_since_report, 1u);
    EXPECT_EQ(p->monitor().facts()[1].redirects_since_report, 1u);
    const std::string look = p->command("query count=false");
    EXPECT_EQ(load_of(look, "b1"), "0.100000") << look;
    // b2 is draining: every counted query now names b1.
    EXPECT_EQ(choice_of(p->command("query")), "b1");
    EXPECT_EQ(total(0), 2u);
}

TEST_F(query_test, bad_arguments_are_refused_and_count_nothing) {
    for (const char* line : {"query nope", "query count=maybe", "query core extra"}) {
        const std::string answer = p->command(line);
        EXPECT_NE(answer.find("\"ok\": false"), std::string::npos) << line << ": " << answer;
    }
    EXPECT_EQ(total(0) + total(1), 0u);
}

// A loopback TCP port free a moment ago (the kernel's choice), for the metrics listener.
std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof a;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0
                    && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) == 0;
    ::close(fd);
    return ok ? ntohs(a.sin_port) : 0;
}

// One HTTP request to the plane's metrics listener; the plane runs until the answer is whole
// (it closes the connection after answering), or 10 s.
std::string http_get(plane& p, std::uint16_t port, const std::string& target) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return "connect failed";
    }
    const std::string request = "GET " + target + " HTTP/1.0\r\n\r\n";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string answer;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        p.run_once(std::chrono::milliseconds(10));
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, 1, 0) <= 0) {
            continue;
        }
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        answer.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return answer;
}

TEST(query_http, get_query_counts_unless_count_false) {
    const std::uint16_t port = free_port();
    ASSERT_NE(port, 0);
    config_result r = parse_config(
            two_backends + "[management]\nsocket = \"\"\nmetrics = \"127.0.0.1:"
                    + std::to_string(port) + "\"\n",
            "t.toml"
    );
    ASSERT_TRUE(r.config) << r.error.message;
    balance::redirect_counters counters{1};
    plane_hooks hooks;
    hooks.take_redirects = [&] { return counters.take_new(); };
    hooks.count_redirect = [&](std::uint16_t slot) { counters.of(0).add(slot, 1); };
    plane p("t.toml", std::move(*r.config), std::move(hooks));
    p.open();

    const std::string look = http_get(p, port, "/query?pool=core&count=false");
    EXPECT_NE(look.find("HTTP/1.0 200 OK"), std::string::npos) << look;
    EXPECT_NE(look.find("\"counted\": false"), std::string::npos) << look;
    EXPECT_EQ(counters.total(0) + counters.total(1), 0u);

    const std::string taken = http_get(p, port, "/query?pool=core");
    EXPECT_NE(taken.find("\"counted\": true"), std::string::npos) << taken;
    EXPECT_EQ(counters.total(0) + counters.total(1), 1u);

    const std::string refused = http_get(p, port, "/query?pool=core&count=yes");
    EXPECT_NE(refused.find("\"ok\": false"), std::string::npos) << refused;
    EXPECT_EQ(counters.total(0) + counters.total(1), 1u);
}

struct words_case {
    const char* words;
    const char* pool;
    bool count;
    bool refused;
};

TEST(query_args, from_sipredirctl_words) {
    const words_case cases[] = {
            {"", "", true, false},
            {"core", "core", true, false},
            {"count=false", "", false, false},
            {"core count=false", "core", false, false},
            {"--count=false core", "core", false, false},
            {"core  count=true", "core", true, false},
            {"count=no", "", true, true},
            {"a b", "a", true, true},
    };
    for (const words_case& c : cases) {
        const query_args a = query_args_from_words(c.words);
        EXPECT_EQ(a.error.empty(), !c.refused) << c.words << ": " << a.error;
        if (!c.refused) {
            EXPECT_EQ(a.pool, c.pool) << c.words;
            EXPECT_EQ(a.count, c.count) << c.words;
        }
    }
}

TEST(query_args, from_the_http_target) {
    const words_case cases[] = {
            {"/query", "", true, false},
            {"/query?", "", true, false},
            {"/query?pool=core", "core", true, false},
            {"/query?pool=core&count=false", "core", false, false},
            {"/query?count=false&pool=edge", "edge", false, false},
            {"/query?count=true", "", true, false},
            {"/query?count=0", "", true, true},
            {"/query?pool=core&colour=blue", "core", true, true},
    };
    for (const words_case& c : cases) {
        const query_args a = query_args_from_target(c.words);
        EXPECT_EQ(a.error.empty(), !c.refused) << c.words << ": " << a.error;
        if (!c.refused) {
            EXPECT_EQ(a.pool, c.pool) << c.words;
            EXPECT_EQ(a.count, c.count) << c.words;
        }
    }
}

TEST(pools_command, shows_the_contact_user_and_the_serving_tier) {
    config_result r = parse_config(
            R"(
[listen]
addresses = ["198.18.0.1"]
[[backend]]
name = "primary"
address = "198.18.1.1"
priority = 5
[[backend]]
name = "overflow"
address = "198.18.1.2"
priority = 7
[[pool]]
name = "tiered"
tiers = true
contact_user = "to"
backends = ["primary", "overflow"]
)",
            "t.toml"
    );
    ASSERT_TRUE(r.config) << r.error.message;
    plane p("t.toml", std::move(*r.config), plane_hooks{});
    const std::string pools = p.command("pools");
    EXPECT_NE(pools.find(R"("contact_user": "to")"), std::string::npos) << pools;
    EXPECT_NE(pools.find(R"("tiers": 2)"), std::string::npos) << pools;
    EXPECT_NE(pools.find(R"("serving_priority": 5)"), std::string::npos) << pools;
}
