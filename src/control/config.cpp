// SPDX-License-Identifier: BSD-3-Clause
#include "config.hpp"

#include "address_text.hpp"
#include "balance_names.hpp"
#include "config_reader.hpp"
#include "features.hpp"
#include "file_text.hpp"
#include "race/race_config_reader.hpp"
#include "runtime_changes.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <net/bytes.hpp>
#include <set>
#include <sip/chars.hpp>
#include <sip/contact_uri.hpp>

namespace sipredir::control {

using namespace toml_read;

namespace {

// Configuration and rules files: 16 MiB is some 100,000 rules.
constexpr std::size_t max_config_bytes = 16 << 20;

siphash_key key_value(const toml::node& n, std::string_view key) {
    const std::string text = string_value(n, key);
    siphash_key k{};
    bool ok = text.size() == 2 * k.size();
    for (std::size_t i = 0; ok && i < k.size(); ++i) {
        const int hi = net::hex_value(text[2 * i]);
        const int lo = net::hex_value(text[2 * i + 1]);
        ok = hi >= 0 && lo >= 0;
        k[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    if (!ok) {
        refuse(n, std::string(key) + " must be 32 hexadecimal digits (128 bits)");
    }
    return k;
}

void read_listen(const toml::table& root, listen_config& l) {
    const toml::table* t =
            section_at(root, "listen", {"addresses", "ports", "vlans", "promiscuous", "mtu"});
    if (t == nullptr) {
        throw refusal{1, "[listen] is missing: the appliance needs at least one address"};
    }
    const toml::node* addresses = t->get("addresses");
    if (addresses == nullptr) {
        refuse(*t, "[listen] needs addresses = [\"...\"]");
    }
    l.addresses = list_value<net::ip_address>(*addresses, "addresses", address_value);
    if (l.addresses.empty() || l.addresses.size() > 16) {
        refuse(*addresses, "addresses must list 1 to 16 addresses");
    }
    if (const toml::node* n = t->get("ports")) {
        l.ports = list_value<std::uint16_t>(*n, "ports", ranged<std::uint16_t>(1, 65535));
        if (l.ports.empty() || l.ports.size() > 16) {
            refuse(*n, "ports must list 1 to 16 ports");
        }
    }
    if (const toml::node* n = t->get("vlans")) {
        l.vlans = list_value<std::uint16_t>(*n, "vlans", ranged<std::uint16_t>(0, 4094));
        if (l.vlans.empty() || l.vlans.size() > 16) {
            refuse(*n, "vlans must list 1 to 16 VLAN ids (0: untagged)");
        }
    }
    read_key(*t, "promiscuous", l.promiscuous, bool_value);
    read_key(*t, "mtu", l.mtu, ranged<std::uint32_t>(576, 9000));
}

void read_dataplane(const toml::table& root, dataplane_config& d) {
    const toml::table* t = section_at(
            root,
            "dataplane",
            {"burst",
             "rx_descriptors",
             "tx_descriptors",
             "mbufs",
             "mbuf_data_room",
             "idle",
             "idle_sleep_max_us",
             "udp_checksum",
             "rx_checksum",
             "fragment_flows",
             "fragment_timeout_ms",
             "fragment_mbufs"}
    );
    if (t == nullptr) {
        return;
    }
    read_key(*t, "burst", d.burst, ranged<std::uint32_t>(1, 256));
    read_key(*t, "rx_descriptors", d.rx_descriptors, ranged<std::uint32_t>(64, 16384));
    read_key(*t, "tx_descriptors", d.tx_descriptors, ranged<std::uint32_t>(64, 16384));
    read_key(*t, "mbufs", d.mbufs, zero_or_ranged<std::uint32_t>(1023, 1 << 24));
    read_key(*t, "mbuf_data_room", d.mbuf_data_room, ranged<std::uint32_t>(1024, 65000));
    read_key(*t, "idle_sleep_max_us", d.idle_sleep_max_us, ranged<std::uint32_t>(1, 100000));
    read_key(*t, "fragment_flows", d.fragment_flows, ranged<std::uint32_t>(16, 1 << 20));
    read_key(*t, "fragment_timeout_ms", d.fragment_timeout_ms, ranged<std::uint32_t>(10, 60000));
    read_key(*t, "fragment_mbufs", d.fragment_mbufs, ranged<std::uint32_t>(0, 1 << 24));
    read_key(*t, "idle", d.idle, [](const toml::node& n, std::string_view k) {
        return one_of<idle_mode>(n, k, {{"poll", idle_mode::poll}, {"sleep", idle_mode::sleep}});
    });
    read_key(*t, "udp_checksum", d.udp_checksum, [](const toml::node& n, std::string_view k) {
        return one_of<checksum_mode>(
                n, k, {{"auto", checksum_mode::automatic}, {"software", checksum_mode::software}}
        );
    });
    read_key(*t, "rx_checksum", d.rx_checksum, [](const toml::node& n, std::string_view k) {
        return one_of<rx_checksum_mode>(
                n, k, {{"verify", rx_checksum_mode::verify}, {"trust", rx_checksum_mode::trust}}
        );
    });
}

// "198.18.0.0/15", "2001:db8::/32"
pipeline::ip_prefix prefix_value(const toml::node& n, std::string_view key) {
    const std::string text = string_value(n, key);
    const std::size_t slash = text.find('/');
    pipeline::ip_prefix out;
    unsigned length = 0;
    // Pointers past the slash only once there is one (npos + 1 would wrap the pointer).
    const char* end = text.data() + text.size();
    const char* p = slash != std::string::npos ? text.data() + slash + 1 : end;
    const bool parsed = slash != std::string::npos
                        && net::parse_ip(std::string_view(text).substr(0, slash), out.address)
                        && std::from_chars(p, end, length).ptr == end && p != end;
    if (!parsed || length > (out.address.family == net::ip_family::v4 ? 32u : 128u)) {
        refuse(n, std::string(key) + ": '" + text + "' is not address/prefix (198.18.0.1/15)");
    }
    out.length = static_cast<std::uint8_t>(length);
    return out;
}

// Whether `p` has no bit set past its length (a network, as a route's destination must be).
bool network_only(const pipeline::ip_prefix& p) {
    pipeline::ip_prefix network = p;
    const std::size_t size = p.address.family == net::ip_family::v4 ? 4 : 16;
    for (std::size_t bit = p.length; bit < size * 8; ++bit) {
        network.address.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    }
    return network.address == p.address;
}

// exception.routes: [{to = "198.18.4.0/24", via = "198.18.0.254"}, ...], each gateway on a
// subnet of one of the addresses the TAP is given (else the kernel could not reach it).
void read_routes(const toml::node& list, exception_config& e) {
    for (const toml::node& item : array_value(list, "routes")) {
        if (!item.is_table()) {
            refuse(item, "routes: each route is {to = \"address/prefix\", via = \"address\"}");
        }
        const toml::table& t = *item.as_table();
        only_keys(t, "a route of exception.routes", {"to", "via"});
        const toml::node* to = t.get("to");
        const toml::node* via = t.get("via");
        if (to == nullptr || via == nullptr) {
            refuse(item, "routes: each route needs to (a prefix) and via (a gateway address)");
        }
        const pipeline::ip_prefix dest = prefix_value(*to, "to");
        if (!network_only(dest)) {
            refuse(*to,
                   "to: '" + string_value(*to, "to")
                           + "' has bits set past its prefix length (a route's destination is "
                             "a network, such as 198.18.4.0/24)");
        }
        const net::ip_address gateway = address_value(*via, "via");
        if (gateway.family != dest.address.family) {
            refuse(*via, "via: the gateway and the destination must both be IPv4 or both IPv6");
        }
        const bool reachable =
                std::any_of(e.addresses.begin(), e.addresses.end(), [&](const auto& a) {
                    return pipeline::in_prefix(gateway, {a.address, a.prefix});
                });
        if (!reachable) {
            refuse(*via,
                   "via: '" + string_value(*via, "via")
                           + "' is on no subnet of exception.addresses: the TAP could not reach "
                             "that gateway");
        }
        e.routes.push_back({{dest.address, dest.length}, gateway});
    }
}

void read_exception(const toml::table& root, exception_config& e) {
    const toml::table* t = section_at(
            root,
            "exception",
            {"tap", "ring_size", "addresses", "routes", "filter", "icmp_per_second"}
    );
    if (t == nullptr) {
        return;
    }
    read_key(*t, "filter", e.filter, bool_value);
    read_key(*t, "icmp_per_second", e.icmp_per_second, [](const toml::node& n, std::string_view k) {
        return static_cast<std::uint32_t>(integer_value(n, k, 1, 1000000));
    });
    if (const toml::node* n = t->get("addresses")) {
        for (const toml::node& item : array_value(*n, "addresses")) {
            const pipeline::ip_prefix p = prefix_value(item, "addresses");
            e.addresses.push_back({p.address, p.length});
        }
    }
    if (const toml::node* n = t->get("routes")) {
        read_routes(*n, e);
    }
    read_key(*t, "tap", e.tap, [](const toml::node& n, std::string_view k) {
        std::string name = string_value(n, k);
        if (name.size() > 15 || name.find_first_of("/ \t") != std::string::npos) {
            refuse(n, "tap must be an interface name of at most 15 characters");
        }
        return name;
    });
    read_key(*t, "ring_size", e.ring_size, [](const toml::node& n, std::string_view k) {
        const auto v = static_cast<std::uint32_t>(integer_value(n, k, 64, 65536));
        if ((v & (v - 1)) != 0) {
            refuse(n, "ring_size must be a power of two");
        }
        return v;
    });
    for (const char* key : {"addresses", "routes"}) {
        const toml::node* n = t->get(key);
        if (n != nullptr && e.tap.empty() && !array_value(*n, key).empty()) {
            refuse(*n, std::string(key) + " are for the TAP, and tap names none");
        }
    }
}

void read_sip(const toml::table& root, sip_config& s) {
    const toml::table* t = section_at(
            root,
            "sip",
            {"redirect_methods",
             "supported_option_tags",
             "server",
             "to_tag_key",
             "request_hash_key",
             "pool",
             "max_reply_growth"}
    );
    if (t == nullptr) {
        return;
    }
    if (const toml::node* n = t->get("redirect_methods")) {
        s.redirect_methods = 0;
        for (const toml::node& item : array_value(*n, "redirect_methods")) {
            const std::string name = string_value(item, "redirect_methods");
            const sip::method m = sip::method_from_token(name);
            if (m == sip::method::unknown || m == sip::method::ack || m == sip::method::cancel) {
                refuse(item,
                       "redirect_methods: '" + name
                               + "' cannot be redirected (a known method other than ACK "
                                 "and CANCEL, in upper case)");
            }
            s.redirect_methods |= sip::bit(m);
        }
    }
    read_key(
            *t,
            "supported_option_tags",
            s.supported_option_tags,
            [](const toml::node& n, std::string_view k) {
                return list_value<std::string>(n, k, string_value);
            }
    );
    read_key(*t, "server", s.server, string_value);
    if (s.server.find_first_of("\r\n") != std::string::npos) {
        refuse(*t->get("server"), "server must be one line");
    }
    if (const toml::node* n = t->get("to_tag_key")) {
        s.to_tag_key = key_value(*n, "to_tag_key");
    }
    if (const toml::node* n = t->get("request_hash_key")) {
        s.request_hash_key = key_value(*n, "request_hash_key");
    }
    read_key(*t, "pool", s.pool, string_value);
    read_key(*t, "max_reply_growth", s.max_reply_growth, ranged<std::uint32_t>(0, 65535));
}

// A [[backend]]'s transport, weight, capacity, priority, threshold and administrative state.
void read_backend_figures(const toml::table& t, static_backend& b) {
    read_key(t, "transport", b.config.proto, [](const toml::node& n, std::string_view k) {
        return one_of<balance::transport>(
                n,
                k,
                {{"udp", balance::transport::udp},
                 {"tcp", balance::transport::tcp},
                 {"tls", balance::transport::tls}}
        );
    });
    read_key(t, "weight", b.config.weight, ranged<std::uint32_t>(1, 1000));
    read_key(t, "capacity", b.config.capacity, ranged<std::uint32_t>(1, 100000000));
    read_key(t, "priority", b.config.priority, ranged<std::uint32_t>(0, 65535));
    read_key(t, "threshold", b.config.threshold, [](const toml::node& n, std::string_view k) {
        return number_value(n, k, 0.0, 1.0);
    });
    read_key(t, "state", b.state, [](const toml::node& n, std::string_view k) {
        return one_of<balance::backend_state>(
                n,
                k,
                {{"up", balance::backend_state::up},
                 {"down", balance::backend_state::down},
                 {"draining", balance::backend_state::draining}}
        );
    });
}

// One [[backend]], in slot `slot`; its name is added to `names` (refused when there already).
static_backend read_backend(
        const toml::table& t,
        std::uint16_t slot,
        const std::string& source,
        std::set<std::string>& names
) {
    only_keys(
            t,
            "[[backend]]",
            {"name",
             "address",
             "transport",
             "weight",
             "capacity",
             "threshold",
             "priority",
             "state",
             "report_key_file",
             "report_source"}
    );
    static_backend b;
    b.slot = slot;
    if (const toml::node* n = t.get("report_key_file")) {
        b.own_key = key_file_value(*n, "report_key_file", source);
    }
    if (const toml::node* n = t.get("report_source")) {
        b.report_source = address_value(*n, "report_source");
    }
    const toml::node* name = t.get("name");
    const toml::node* address = t.get("address");
    if (name == nullptr || address == nullptr) {
        refuse(t, "[[backend]] needs name and address");
    }
    b.config.name = string_value(*name, "name");
    if (b.config.name.empty() || !names.insert(b.config.name).second) {
        refuse(*name, "backend name '" + b.config.name + "' is empty or used twice");
    }
    b.config.address = endpoint_value(*address, "address");
    read_backend_figures(t, b);
    return b;
}

void read_backends(const toml::table& root, appliance_config& c) {
    const toml::node* list = root.get("backend");
    if (list == nullptr) {
        return;
    }
    if (!list->is_array_of_tables()) {
        refuse(*list, "backends are [[backend]] tables");
    }
    std::set<std::string> names;
    for (const toml::node& item : *list->as_array()) {
        const toml::table& t = *item.as_table();
        static_backend b =
                read_backend(t, static_cast<std::uint16_t>(c.backends.size()), c.source, names);
        if (c.backends.size() == balance::max_backends) {
            refuse(t, "more than " + std::to_string(balance::max_backends) + " backends");
        }
        c.backends.push_back(std::move(b));
    }
}

void read_limits(const toml::table& root, pipeline::source_limit_settings& l) {
    const toml::table* t = section_at(
            root,
            "limits",
            {"rate",
             "burst",
             "ipv4_prefix",
             "ipv6_prefix",
             "sources",
             "action",
             "retry_after",
             "allow"}
    );
    if (t == nullptr) {
        return;
    }
    const toml::node* rate = t->get("rate");
    if (rate == nullptr) {
        refuse(*t, "[limits] needs rate (requests per second per source)");
    }
    l.rate = number_value(*rate, "rate", 0.0, 1e7);
    l.burst = 2 * l.rate;
    read_key(*t, "burst", l.burst, [](const toml::node& n, std::string_view k) {
        const double v = number_value(n, k, 0.0, 1e7);
        if (v < 1) {
            refuse(n, "burst must be at least 1");
        }
        return v;
    });
    l.burst = std::max(l.burst, 1.0);
    read_key(*t, "ipv4_prefix", l.ipv4_prefix, ranged<std::uint8_t>(8, 32));
    read_key(*t, "ipv6_prefix", l.ipv6_prefix, ranged<std::uint8_t>(16, 128));
    read_key(*t, "sources", l.sources, [](const toml::node& n, std::string_view k) {
        const auto v = static_cast<std::uint32_t>(integer_value(n, k, 4, 1 << 24));
        if ((v & (v - 1)) != 0) {
            refuse(n, "sources must be a power of two");
        }
        return v;
    });
    read_key(*t, "action", l.reply_503, [](const toml::node& n, std::string_view k) {
        return one_of<bool>(n, k, {{"drop", false}, {"503", true}});
    });
    read_key(*t, "retry_after", l.retry_after, ranged<std::uint32_t>(0, 3600));
    if (const toml::node* n = t->get("allow")) {
        for (const toml::node& item : array_value(*n, "allow")) {
            if (l.allow.size() == 64) {
                refuse(item, "allow: at most 64 prefixes");
            }
            l.allow.push_back(prefix_value(item, "allow"));
        }
    }
}

// contact_params: ";name[=value]" uri-parameters (RFC 3261 §19.1.1), each name once; not
// transport, which the backend's transport key sets.
std::string contact_params_value(const toml::node& n, std::string_view key) {
    const std::string v = string_value(n, key);
    if (v.size() > 256 || !sip::valid_uri_params(v)) {
        refuse(n,
               std::string(key)
                       + " must be URI parameters, \";name[=value]\" repeated (RFC 3261 "
                         "paramchars, %XX escapes, at most 256 octets), not '"
                       + v + "'");
    }
    std::set<std::string> names;
    for (std::size_t at = 0; at < v.size();) {
        const std::size_t end = std::min(v.find(';', at + 1), v.size());
        std::string name = v.substr(at + 1, std::min(v.find('=', at + 1), end) - at - 1);
        std::transform(name.begin(), name.end(), name.begin(), sip::to_lower);
        if (name == "transport") {
            refuse(n, std::string(key) + ": transport comes from each backend's transport key");
        }
        if (!names.insert(name).second) {
            refuse(n, std::string(key) + ": parameter '" + name + "' is given twice");
        }
        at = end;
    }
    return v;
}

void read_pool_contact(const toml::table& t, balance::pool_config& p) {
    read_key(t, "contact_user", p.contact_from, [](const toml::node& n, std::string_view k) {
        return one_of<balance::contact_user>(n, k, contact_user_table);
    });
    read_key(t, "contact_params", p.contact_params, contact_params_value);
}

void read_load(const toml::table& root, load_age_config& l) {
    const toml::table* t = section_at(root, "load", {"max_age_ms"});
    if (t == nullptr) {
        return;
    }
    read_key(*t, "max_age_ms", l.max_age_ms, ranged<std::uint32_t>(100, 3'600'000));
}

// Cross-section checks: probing, race legs, the fleet and reports use kernel sockets on the
// appliance's address, which only the exception path gives; their ports must not be ones the
// fast path answers, nor each other's.
void check_control(const toml::table& root, const appliance_config& c) {
    for (const feature& f : features()) {
        if (f.check != nullptr) {
            f.check(root, c);
        }
    }
}

// A backend that is this appliance, or another appliance of its fleet, would have callers
// redirected back to a redirect server: each 302 sends them round again (a loop per call).
void check_backend_loops(const toml::table& root, const appliance_config& c) {
    const toml::array* list = root["backend"].as_array();
    for (std::size_t i = 0; list != nullptr && i < c.backends.size() && i < list->size(); ++i) {
        const net::ip_address& ip = c.backends[i].config.address.address;
        const toml::node* at = list->get(i)->as_table()->get("address");
        const std::string name =
                "backend '" + c.backends[i].config.name + "' (" + ip_text(ip) + ")";
        if (std::find(c.listen.addresses.begin(), c.listen.addresses.end(), ip)
            != c.listen.addresses.end()) {
            refuse(*at,
                   name
                           + " is one of listen.addresses: callers redirected to it would come "
                             "back to this appliance");
        }
        for (const net::ip_endpoint& peer : c.fleet.peers) {
            if (peer.address == ip) {
                refuse(*at,
                       name + " is fleet peer " + endpoint_text(peer)
                               + ": callers redirected to it would reach another redirect server, "
                                 "not a proxy");
            }
        }
    }
}

balance::policy_kind policy_value(const toml::node& n, std::string_view key) {
    return one_of<balance::policy_kind>(n, key, policy_kind_table);
}

balance::hash_key hash_key_value(const toml::node& n, std::string_view key) {
    using balance::hash_key;
    return one_of<hash_key>(
            n,
            key,
            {{"call-id", hash_key::call_id},
             {"from-user", hash_key::from_user},
             {"to-user", hash_key::to_user},
             {"request-uri-user", hash_key::request_uri_user},
             {"source-ip", hash_key::source_ip}}
    );
}

// A [[pool]]'s name (not in `names` yet; added) and its backends, by slot.
balance::pool_config
read_pool_members(const toml::table& t, const appliance_config& c, std::set<std::string>& names) {
    balance::pool_config p;
    const toml::node* name = t.get("name");
    const toml::node* backends = t.get("backends");
    if (name == nullptr || backends == nullptr) {
        refuse(t, "[[pool]] needs name and backends");
    }
    p.name = string_value(*name, "name");
    if (p.name.empty() || !names.insert(p.name).second) {
        refuse(*name, "pool name '" + p.name + "' is empty or used twice");
    }
    for (const toml::node& b : array_value(*backends, "backends")) {
        const std::string wanted = string_value(b, "backends");
        const auto found =
                std::find_if(c.backends.begin(), c.backends.end(), [&](const static_backend& s) {
                    return s.config.name == wanted;
                });
        if (found == c.backends.end()) {
            refuse(b,
                   "pool '" + p.name + "' names backend '" + wanted
                           + "', which no [[backend]] defines");
        }
        const std::uint16_t slot = found->slot;
        if (std::find(p.backends.begin(), p.backends.end(), slot) != p.backends.end()) {
            refuse(b, "pool '" + p.name + "' names backend '" + wanted + "' twice");
        }
        p.backends.push_back(slot);
    }
    if (p.backends.empty()) {
        refuse(*backends, "pool '" + p.name + "' has no backends");
    }
    return p;
}

balance::pool_config
read_pool(const toml::table& t, const appliance_config& c, std::set<std::string>& names) {
    only_keys(
            t,
            "[[pool]]",
            {"name",
             "policy",
             "backends",
             "contacts",
             "contact_user",
             "contact_params",
             "retry_after",
             "hash_key",
             "tiers",
             "latency_band_ms",
             "race_method",
             "race_fallback",
             "race_timeout_ms",
             "race_coalesce_ms",
             "race_max_legs_per_second",
             "race_max_legs",
             "race_max_body",
             "race_leg",
             "race_leg_header"}
    );
    balance::pool_config p = read_pool_members(t, c, names);
    read_key(t, "policy", p.policy, policy_value);
    read_pool_race(t, p, c.race);
    if (const toml::node* n = t.get("tiers")) {
        p.tiers = bool_value(*n, "tiers");
        if (p.tiers && p.policy == balance::policy_kind::race) {
            refuse(*n,
                   "pool '" + p.name
                           + "': tiers do not apply to policy race (a race asks every "
                             "backend at once)");
        }
    }
    read_key(t, "hash_key", p.key, hash_key_value);
    read_key(t, "contacts", p.contacts, ranged<std::uint8_t>(1, balance::max_contacts));
    read_pool_contact(t, p);
    read_key(t, "retry_after", p.retry_after, ranged<std::uint32_t>(0, 3600));
    read_key(t, "latency_band_ms", p.latency_band_ms, [](const toml::node& n, std::string_view k) {
        return number_value(n, k, 0, 10000);
    });
    return p;
}

void read_pools(const toml::table& root, appliance_config& c) {
    const toml::node* list = root.get("pool");
    if (list == nullptr) {
        throw refusal{1, "no [[pool]]: requests need a pool of backends to be redirected to"};
    }
    if (!list->is_array_of_tables()) {
        refuse(*list, "pools are [[pool]] tables");
    }
    std::set<std::string> names;
    for (const toml::node& item : *list->as_array()) {
        const toml::table& t = *item.as_table();
        balance::pool_config p = read_pool(t, c, names);
        if (c.pools.size() == balance::max_pools) {
            refuse(t, "more than " + std::to_string(balance::max_pools) + " pools");
        }
        c.pools.push_back(std::move(p));
    }
}

// A rule's field: what part of a request its pattern is matched against.
void read_rule_field(const toml::table& t, rules::rule& r) {
    const toml::node* where = t.get("field");
    if (where == nullptr) {
        refuse(t, "rule '" + r.name + "' needs a field");
    }
    const std::string f = string_value(*where, "field");
    if (f == "request-uri-user") {
        r.where = rules::field::request_uri_user;
    } else if (f == "request-uri-host") {
        r.where = rules::field::request_uri_host;
        r.caseless = true; // domain names are
    } else if (f == "from-user") {
        r.where = rules::field::from_user;
    } else if (f.rfind("header:", 0) == 0 && f.size() > 7 && std::all_of(f.begin() + 7, f.end(), [](char ch) {
                   return sip::is(ch, sip::cc_token);
               })) {
        r.where = rules::field::header;
        r.header = f.substr(7);
    } else {
        refuse(*where,
               "field must be request-uri-user, request-uri-host, from-user or header:NAME, not '"
                       + f + "'");
    }
}

// A rule's action, and the pool a route rule names (by its index in c.pools).
void read_rule_action(const toml::table& t, const appliance_config& c, rules::rule& r) {
    const toml::node* act = t.get("action");
    if (act == nullptr) {
        refuse(t, "rule '" + r.name + "' needs an action (route, drop, reject)");
    }
    r.then = one_of<rules::action>(
            *act,
            "action",
            {{"route", rules::action::route},
             {"drop", rules::action::drop},
             {"reject", rules::action::reject}}
    );
    const toml::node* pool = t.get("pool");
    if ((r.then == rules::action::route) != (pool != nullptr)) {
        refuse(pool != nullptr ? *pool : *act,
               r.then == rules::action::route ? "a route rule needs a pool"
                                              : "only a route rule names a pool");
    }
    if (pool != nullptr) {
        const std::string name = string_value(*pool, "pool");
        const auto found = std::find_if(c.pools.begin(), c.pools.end(), [&](const auto& p) {
            return p.name == name;
        });
        if (found == c.pools.end()) {
            refuse(*pool,
                   "rule '" + r.name + "' routes to pool '" + name + "', which no [[pool]] defines"
            );
        }
        r.pool = static_cast<std::uint16_t>(found - c.pools.begin());
    }
}

rules::rule read_rule(const toml::table& t, const appliance_config& c, const std::string& file) {
    only_keys(
            t,
            "[[rule]]",
            {"name", "field", "prefix", "exact", "contains", "regex", "caseless", "action", "pool"}
    );
    rules::rule r;
    r.source = file;
    r.line = line_of(t);
    r.name = "line " + std::to_string(r.line);
    read_key(t, "name", r.name, string_value);
    read_rule_field(t, r);
    int matchers = 0;
    for (const auto& [key, how] :
         {std::pair{"prefix", rules::match_kind::prefix},
          std::pair{"exact", rules::match_kind::exact},
          std::pair{"contains", rules::match_kind::contains},
          std::pair{"regex", rules::match_kind::regex}}) {
        if (const toml::node* n = t.get(key)) {
            r.how = how;
            r.pattern = string_value(*n, key);
            ++matchers;
        }
    }
    if (matchers != 1) {
        refuse(t, "rule '" + r.name + "' needs exactly one of prefix, exact, contains, regex");
    }
    read_key(t, "caseless", r.caseless, bool_value);
    read_rule_action(t, c, r);
    return r;
}

void read_rule_tables(
        const toml::table& root,
        const appliance_config& c,
        const std::string& file,
        std::vector<rules::rule>& out
) {
    const toml::node* list = root.get("rule");
    if (list == nullptr) {
        return;
    }
    if (!list->is_array_of_tables()) {
        refuse(*list, "rules are [[rule]] tables");
    }
    for (const toml::node& item : *list->as_array()) {
        out.push_back(read_rule(*item.as_table(), c, file));
    }
}

// [[rule]] tables here, then those of [rules] file (errors there name that file), compiled.
void read_rules(const toml::table& root, appliance_config& c) {
    std::vector<rules::rule> all;
    read_rule_tables(root, c, c.source, all);
    if (const toml::table* t = section_at(root, "rules", {"file"})) {
        if (const toml::node* n = t->get("file")) {
            const std::string path = path_value(*n, "file", c.source);
            const file_text text = read_file_text(path, max_config_bytes);
            if (!text.text) {
                refuse(*n, "rules file '" + path + "' " + text.error);
            }
            try {
                const toml::table rules_root = toml::parse(*text.text, path);
                only_keys(rules_root, "a rules file", {"rule"});
                read_rule_tables(rules_root, c, path, all);
            } catch (const toml::parse_error& e) {
                throw refusal{
                        static_cast<std::uint32_t>(e.source().begin.line),
                        std::string(e.description()),
                        path};
            } catch (refusal& r) {
                if (r.file.empty()) {
                    r.file = path;
                }
                throw;
            }
        }
    }
    rules::compile_result compiled = rules::compile(std::move(all));
    if (!compiled.rules) {
        throw refusal{0, compiled.error, "", true}; // "file:line: rule 'x': ..."
    }
    c.rules = std::move(compiled.rules);
}

} // namespace

// Written by whatever distributes the file (sipredir-etcd-watch: the etcd revision), and
// reported back, so that an operator sees which revision each appliance runs.
std::string read_revision(const toml::table& root) {
    const toml::node* n = root.get("config_revision");
    if (n == nullptr) {
        return {};
    }
    std::string revision;
    if (const auto i = n->value<std::int64_t>()) {
        revision = std::to_string(*i);
    } else {
        revision = string_value(*n, "config_revision");
    }
    if (revision.size() > 64 || !valid_name(revision)) {
        refuse(*n, "config_revision must be a number or a name of 1-64 characters");
    }
    return revision;
}

// The index of sip.pool (the first pool when it is not given) in c.pools.
std::size_t default_pool(const toml::table& root, const appliance_config& c) {
    const std::string& name = c.sip.pool.empty() ? c.pools.front().name : c.sip.pool;
    const auto pool = std::find_if(c.pools.begin(), c.pools.end(), [&](const auto& p) {
        return p.name == name;
    });
    if (pool == c.pools.end()) {
        const toml::node* at = root["sip"]["pool"].node();
        throw refusal{
                at != nullptr ? line_of(*at) : 1,
                "sip.pool names '" + name + "', which no [[pool]] defines"};
    }
    return static_cast<std::size_t>(pool - c.pools.begin());
}

// The sections no feature owns (features.cpp lists the others).
constexpr std::string_view core_sections[] = {
        "listen",
        "dataplane",
        "exception",
        "sip",
        "load",
        "backend",
        "pool",
        "rule",
        "rules",
        "limits",
        "config_revision",
};

void only_known_sections(const toml::table& root) {
    std::vector<std::string_view> known(std::begin(core_sections), std::end(core_sections));
    for (const feature& f : features()) {
        known.push_back(f.section);
    }
    only_keys(root, "the file", known);
}

appliance_config read_config(const toml::table& root, const std::string& source) {
    only_known_sections(root);
    appliance_config c;
    c.source = source;
    for (auto&& [key, value] : root) {
        c.section_lines.emplace(std::string(key.str()), line_of(value));
    }
    c.revision = read_revision(root);
    read_listen(root, c.listen);
    read_dataplane(root, c.dataplane);
    if (const toml::node* at = root["dataplane"]["mbufs"].node()) {
        c.section_lines.emplace("dataplane.mbufs", line_of(*at));
    }
    read_exception(root, c.exception);
    read_sip(root, c.sip);
    read_load(root, c.load);
    read_limits(root, c.limits);
    for (const feature& f : features()) {
        f.read(root, c);
    }
    read_backends(root, c);
    read_pools(root, c);
    read_rules(root, c);
    check_control(root, c);
    check_backend_loops(root, c);
    c.pool_index = default_pool(root, c);
    c.sip.pool = c.pools[c.pool_index].name;
    if (c.dataplane.mbuf_data_room < c.listen.mtu + 14 + 8) {
        const toml::node* at = root["dataplane"]["mbuf_data_room"].node();
        throw refusal{
                at != nullptr ? line_of(*at) : 1,
                "mbuf_data_room must hold a full frame: at least mtu + 22"};
    }
    return c;
}

config_result parse_config(std::string_view text, const std::string& source) {
    return parse_config(text, source, nullptr);
}

config_result
parse_config(std::string_view text, const std::string& source, const runtime_changes* candidate) {
    config_result result;
    try {
        toml::table root = toml::parse(text, source);
        if (std::string e = apply_overlay(root, candidate); !e.empty()) {
            result.error.message = "runtime changes: " + e;
            return result;
        }
        result.config = read_config(root, source);
        result.config->source_text = std::string(text);
    } catch (const toml::parse_error& e) {
        result.error.message = source + ":" + std::to_string(e.source().begin.line) + ": "
                               + std::string(e.description());
    } catch (const nlohmann::json::exception& e) {
        // A runtime change's value of a kind the overlay cannot hold (a hand-edited state file).
        result.error.message = source + ", with its runtime changes: " + e.what();
    } catch (const refusal& r) {
        result.error.message = r.whole ? r.message
                                       : (r.file.empty() ? source : r.file) + ":"
                                                 + std::to_string(r.line) + ": " + r.message;
        // A key a runtime change put there has no line in the file.
        if (!r.whole && r.file.empty() && r.line == 0) {
            result.error.message = source + ", with its runtime changes: " + r.message;
        }
    }
    return result;
}

config_result load_config(const std::string& path) {
    return load_config(path, nullptr);
}

config_result load_config(const std::string& path, const runtime_changes* candidate) {
    const file_text text = read_file_text(path, max_config_bytes);
    if (!text.text) {
        config_result r;
        r.error.message = path + ":0: " + text.error;
        return r;
    }
    return parse_config(*text.text, path, candidate);
}

} // namespace sipredir::control
