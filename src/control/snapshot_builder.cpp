// SPDX-License-Identifier: BSD-3-Clause
#include "snapshot_builder.hpp"

#include <sodium.h>

#include <algorithm>

namespace sipredir::control {

namespace {

siphash_key key_or_random(const std::optional<siphash_key>& configured) {
    if (configured) {
        return *configured;
    }
    siphash_key k{};
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium cannot initialise its random source");
    }
    randombytes_buf(k.data(), k.size());
    return k;
}

} // namespace

pipeline::identity
make_identity(const appliance_config& c, const std::array<std::uint8_t, 6>& own_mac) {
    pipeline::identity s;
    for (const net::ip_address& a : c.listen.addresses) {
        s.addresses[s.address_count++] = a;
    }
    for (const std::uint16_t p : c.listen.ports) {
        s.ports[s.port_count++] = p;
    }
    for (const std::uint16_t v : c.listen.vlans) {
        s.vlans[s.vlan_count++] = v;
    }
    s.own_mac = own_mac;
    s.option_tags = c.sip.supported_option_tags;
    s.option_tag_views.assign(s.option_tags.begin(), s.option_tags.end());
    s.redirect_methods = c.sip.redirect_methods;
    // Allow: what is answered with anything but 405.
    s.allow.clear();
    for (std::size_t i = 1; i < sip::method_count; ++i) {
        const auto m = static_cast<sip::method>(i);
        const bool allowed = (c.sip.redirect_methods & sip::bit(m)) != 0 || m == sip::method::ack
                             || m == sip::method::cancel || m == sip::method::options;
        if (allowed) {
            s.allow += s.allow.empty() ? "" : ", ";
            s.allow += sip::name_of(m);
        }
    }
    s.server = c.sip.server;
    s.to_tag_key = key_or_random(c.sip.to_tag_key);
    s.request_hash_key = key_or_random(c.sip.request_hash_key);
    // Chosen once here, never per frame: "trust" takes an unverified UDP checksum as good.
    s.checks.udp_checksum = c.dataplane.rx_checksum == rx_checksum_mode::verify;
    s.max_reply_frame = c.listen.mtu + 14;
    s.max_reply_growth = c.sip.max_reply_growth;
    s.limits = c.limits;
    s.limit_key = key_or_random(std::nullopt);
    s.kernel = make_kernel_filter(c);
    return s;
}

pipeline::kernel_filter make_kernel_filter(const appliance_config& c) {
    pipeline::kernel_filter k;
    k.enabled = c.exception.filter;
    k.icmp_per_second = c.exception.icmp_per_second;
    // At most four ports: probe, race, reports and fleet, each read with a restart only.
    if (c.probe.enabled) {
        k.serve(c.probe.source_port, balance::cs_probe);
    }
    if (c.any_race_pool()) {
        k.serve(c.race.source_port, balance::cs_race);
    }
    if (c.reports.port != 0) {
        k.serve(c.reports.port, balance::cs_reports);
    }
    if (c.fleet.enabled) {
        k.serve(c.fleet.port, balance::cs_fleet);
    }
    // Prometheus on one of the data addresses (in-band management) is reached through the TAP.
    if (c.management.metrics
        && std::find(
                   c.listen.addresses.begin(),
                   c.listen.addresses.end(),
                   c.management.metrics->address
           ) != c.listen.addresses.end()) {
        k.tcp_port = c.management.metrics->port;
    }
    return k;
}

std::vector<balance::control_peer> control_peers_of(const appliance_config& c) {
    std::vector<balance::control_peer> peers;
    const auto add = [&peers](const net::ip_address& a, std::uint8_t services) {
        for (balance::control_peer& p : peers) {
            if (p.address == a) {
                p.services |= services;
                return;
            }
        }
        peers.push_back({a, services});
    };
    for (const static_backend& b : c.backends) {
        add(b.config.address.address, balance::cs_probe | balance::cs_race | balance::cs_reports);
        if (b.report_source) {
            add(*b.report_source, balance::cs_reports); // its agent sends from elsewhere
        }
    }
    for (const net::ip_endpoint& peer : c.fleet.peers) {
        add(peer.address, balance::cs_fleet);
    }
    std::sort(peers.begin(), peers.end(), [](const auto& a, const auto& b) {
        return balance::peer_before(a.address, b.address);
    });
    return peers;
}

std::vector<balance::backend_facts> initial_facts(const appliance_config& c) {
    std::vector<balance::backend_facts> facts(balance::max_backends);
    for (const static_backend& b : c.backends) {
        facts[b.slot].state = b.state;
    }
    return facts;
}

void assign_slots(
        const appliance_config& running, appliance_config& next, std::vector<bool>& used
) {
    used.resize(balance::max_backends, false);
    std::vector<std::uint16_t> slot_of(next.backends.size());
    std::vector<bool> taken(balance::max_backends, false);
    // Same name and address: the same backend, in the same slot.
    for (std::size_t i = 0; i < next.backends.size(); ++i) {
        const static_backend& b = next.backends[i];
        slot_of[i] = UINT16_MAX;
        for (const static_backend& r : running.backends) {
            if (r.config.name == b.config.name
                && r.config.address.address == b.config.address.address
                && r.config.address.port == b.config.address.port) {
                slot_of[i] = r.slot;
                taken[r.slot] = true;
            }
        }
    }
    // Others take a slot never used in this run while there is one (its redirect counters then
    // start at zero), else one freed by a backend that left.
    for (std::size_t i = 0; i < next.backends.size(); ++i) {
        if (slot_of[i] != UINT16_MAX) {
            continue;
        }
        std::size_t pick = balance::max_backends;
        for (std::size_t s = 0; s < balance::max_backends && pick == balance::max_backends; ++s) {
            if (!taken[s] && !used[s]) {
                pick = s;
            }
        }
        for (std::size_t s = 0; s < balance::max_backends && pick == balance::max_backends; ++s) {
            if (!taken[s] && running.backend_in(static_cast<std::uint16_t>(s)) == nullptr) {
                pick = s;
            }
        }
        slot_of[i] = static_cast<std::uint16_t>(pick);
        taken[pick] = true;
    }
    // Pools named backends by their index in the file; they name slots from now on.
    std::vector<std::uint16_t> index_to_slot(next.backends.size());
    for (std::size_t i = 0; i < next.backends.size(); ++i) {
        index_to_slot[next.backends[i].slot] = slot_of[i];
    }
    for (balance::pool_config& p : next.pools) {
        for (std::uint16_t& b : p.backends) {
            b = index_to_slot[b];
        }
    }
    for (std::size_t i = 0; i < next.backends.size(); ++i) {
        next.backends[i].slot = slot_of[i];
        used[slot_of[i]] = true;
    }
}

std::unique_ptr<const balance::table_snapshot> build_tables(
        const appliance_config& c,
        std::span<const balance::backend_facts> facts,
        std::uint64_t generation,
        const balance::table_snapshot* previous,
        const balance::overload_signal& overload
) {
    std::vector<balance::backend_config> configs(balance::max_backends);
    for (const static_backend& b : c.backends) {
        configs[b.slot] = b.config;
    }
    auto t = std::make_unique<balance::table_snapshot>();
    t->generation = generation;
    t->overload = overload;
    t->default_pool = c.pool_index;
    t->rules = c.rules;
    t->control_peers = control_peers_of(c);
    // The request hashes' key, when configured, keys the names in the hash tables too: the
    // fleet's appliances then agree on the table as on the hashes. Without one the request
    // hashes are random per start anyway; a fixed key keeps the table steady across reloads.
    const siphash_key name_key = c.sip.request_hash_key.value_or(siphash_key{});
    for (const balance::pool_config& p : c.pools) {
        const balance::pool_snapshot* before =
                previous != nullptr ? previous->find(p.name) : nullptr;
        t->pools.push_back(balance::build_pool_snapshot(p, configs, facts, before, name_key));
    }
    return t;
}

bool any_pool_saturated(const appliance_config& c, std::span<const balance::backend_facts> facts) {
    std::vector<balance::backend_config> configs(balance::max_backends);
    for (const static_backend& b : c.backends) {
        configs[b.slot] = b.config;
    }
    return std::any_of(c.pools.begin(), c.pools.end(), [&](const balance::pool_config& p) {
        return balance::pool_saturated(p, configs, facts);
    });
}

} // namespace sipredir::control
