// SPDX-License-Identifier: BSD-3-Clause
// How long a redirect total takes to travel from one appliance's exchange to another's, through
// the product's own exchange and transports (docs/fleet.md, "Which transport"). Two processes,
// in two network namespaces of one host (one clock): the sender adds one redirect, publishes
// its totals at once and prints when; the receiver admits what arrives and prints when each new
// total was folded. The lab joins the two outputs by total.
//   fleet_travel send|receive --self NAME --peer NAME --key-file F --count N --gap-ms G
//       --mesh LOCAL_ADDR:PORT PEER_ADDR:PORT
//     | --nats URL[,URL...] --fleet F [--user U --password-file P] [--ca FILE]
// Output lines: "sent TOTAL WALL_US" / "got TOTAL WALL_US".
#include <chrono>
#include <control/fleet/fleet_config.hpp>
#include <control/fleet/mesh_transport.hpp>
#include <control/fleet/nats_transport.hpp>
#include <control/fleet/redirect_exchange.hpp>
#include <control/report/signed_text.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <poll.h>
#include <string>
#include <vector>

using namespace sipredir;
using namespace sipredir::control;
using namespace sipredir::control::fleet;

namespace {

std::int64_t wall_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch()
    )
            .count();
}

std::int64_t mono_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch()
    )
            .count();
}

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr, "fleet_travel: %s (see the comment at the top of the source)\n", why);
    std::exit(2);
}

// IPv4 "address:port" (the lab's).
net::ip_endpoint endpoint(const std::string& text) {
    const std::size_t colon = text.rfind(':');
    net::ip_endpoint e;
    if (colon == std::string::npos || !net::parse_ip(text.substr(0, colon), e.address)) {
        usage(("not address:port: " + text).c_str());
    }
    e.port = static_cast<std::uint16_t>(std::atoi(text.c_str() + colon + 1));
    return e;
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    for (std::size_t at = 0; at <= s.size();) {
        const std::size_t comma = s.find(',', at);
        out.push_back(s.substr(at, comma - at));
        at = comma == std::string::npos ? s.size() + 1 : comma + 1;
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage("send or receive?");
    }
    const std::string role = argv[1];
    std::string self, peer, key_file, mesh_local, mesh_peer, nats_urls, fleet = "travel", user,
                                                                        password_file, ca;
    int count = 100;
    int gap_ms = 20;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        const auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage(("a value after " + a).c_str());
            }
            return argv[++i];
        };
        if (a == "--self") {
            self = next();
        } else if (a == "--peer") {
            peer = next();
        } else if (a == "--key-file") {
            key_file = next();
        } else if (a == "--count") {
            count = std::atoi(next().c_str());
        } else if (a == "--gap-ms") {
            gap_ms = std::atoi(next().c_str());
        } else if (a == "--mesh") {
            mesh_local = next();
            mesh_peer = next();
        } else if (a == "--nats") {
            nats_urls = next();
        } else if (a == "--fleet") {
            fleet = next();
        } else if (a == "--user") {
            user = next();
        } else if (a == "--password-file") {
            password_file = next();
        } else if (a == "--ca") {
            ca = next();
        } else {
            usage(("unknown option " + a).c_str());
        }
    }
    const key_file_result key = read_key_file(key_file);
    if (!key.key || self.empty() || peer.empty()) {
        usage("--self, --peer and a readable --key-file are needed");
    }

    std::unique_ptr<fleet_transport> transport;
    std::vector<fleet_peer> peers;
    if (!mesh_local.empty()) {
        const net::ip_endpoint to = endpoint(mesh_peer);
        transport = std::make_unique<mesh_transport>(
                endpoint(mesh_local), std::vector<net::ip_endpoint>{to}
        );
        peers.push_back({peer, to.address});
    } else if (!nats_urls.empty()) {
        nats_config n;
        n.servers = split(nats_urls);
        n.fleet = fleet;
        n.user = user;
        if (!password_file.empty()) {
            std::ifstream in(password_file);
            std::getline(in, n.password);
        }
        n.ca_file = ca;
        transport = std::make_unique<nats_transport>(n, self);
        peers.push_back({peer, {}});
    } else {
        usage("--mesh or --nats");
    }
    transport->open();
    for (const std::int64_t until = mono_ns() + 10'000'000'000;
         !transport->counters().connected && mono_ns() < until;) {
        ::poll(nullptr, 0, 10);
    }
    if (!transport->counters().connected) {
        std::fprintf(stderr, "fleet_travel: not connected: %s\n", transport->describe().c_str());
        return 1;
    }
    if (role == "receive") {
        std::printf("ready\n");
        std::fflush(stdout);
    }

    redirect_exchange exchange;
    exchange_settings s{.self = self, .key = *key.key, .peers = peers};
    s.capacity = {1'000'000};
    s.min_gap_ns = 0;
    const std::vector<std::string> backends{"travel"};
    exchange.configure(s, backends, static_cast<std::uint64_t>(wall_us() / 1000));

    const std::int64_t deadline =
            mono_ns() + std::int64_t{count} * gap_ms * 1'000'000 * 4 + 20'000'000'000;
    if (role == "send") {
        // A first full message gives the receiver its baseline; the counted ones follow.
        const std::int64_t start = mono_ns();
        for (int n = 0; n <= count && mono_ns() < deadline; ++n) {
            const std::uint64_t one = n == 0 ? 0 : 1;
            exchange.add_own(std::span<const std::uint64_t>(&one, 1));
            const std::int64_t now = start + std::int64_t{n} * 1'000'000'000; // always due
            // Stamped before the message is written and handed over: its whole way counts.
            const std::int64_t sent_us = wall_us();
            for (const std::string& m : exchange.take_messages(now, sent_us / 1000)) {
                transport->publish(m);
            }
            if (n > 0) {
                std::printf("sent %d %lld\n", n, static_cast<long long>(sent_us));
            }
            std::fflush(stdout);
            // A baseline takes the receiver's first message: give it time to be there.
            ::poll(nullptr, 0, n == 0 ? 1000 : gap_ms);
        }
    } else {
        std::uint64_t seen = 0;
        std::vector<pollfd> fds;
        while (seen < static_cast<std::uint64_t>(count) && mono_ns() < deadline) {
            fds.clear();
            transport->watch(fds);
            ::poll(fds.data(), fds.size(), 100);
            transport->receive(fds, [&](std::string_view d, const message_origin& from) {
                std::uint64_t delta = 0;
                const exchange_verdict v = exchange.admit(
                        d, from, wall_us() / 1000, mono_ns(), std::span<std::uint64_t>(&delta, 1)
                );
                if (v != exchange_verdict::accepted) {
                    std::fprintf(stderr, "refused: %s\n", std::string(name_of(v)).c_str());
                }
                if (delta > 0) {
                    seen += delta;
                    std::printf(
                            "got %llu %lld\n",
                            static_cast<unsigned long long>(seen),
                            static_cast<long long>(wall_us())
                    );
                    std::fflush(stdout);
                }
            });
        }
    }
    transport->close();
    return 0;
}
