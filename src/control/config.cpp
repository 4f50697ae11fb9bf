// SPDX-License-Identifier: BSD-3-Clause
#include "config.hpp"

#include "address_text.hpp"
#include "file_text.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <initializer_list>
#include <net/bytes.hpp>
#include <set>
#include <sip/chars.hpp>
#include <sip/contact_uri.hpp>
#include <sstream>

namespace sipredir::control {

namespace {

// Configuration and rules files: 16 MiB is some 100,000 rules.
constexpr std::size_t max_config_bytes = 16 << 20;

// A refusal, thrown inside the reader and turned into `file:line: message` at its edge.
struct refusal {
    refusal(std::uint32_t at, std::string what, std::string in = {}, bool complete = false)
        : line(at), message(std::move(what)), file(std::move(in)), whole(complete) {}
    std::uint32_t line;
    std::string message;
    std::string file; // empty: the configuration file itself
    bool whole;       // `message` already says file:line
};

std::uint32_t line_of(const toml::node& n) {
    return static_cast<std::uint32_t>(n.source().begin.line);
}

[[noreturn]] void refuse(const toml::node& at, std::string message) {
    throw refusal{line_of(at), std::move(message)};
}

// Every key of `t` must be one of `known`: a misspelt key is an error, not a silent default.
void only_keys(
        const toml::table& t, std::string_view where, std::initializer_list<std::string_view> known
) {
    for (auto&& [key, value] : t) {
        if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
            std::string list;
            for (const std::string_view k : known) {
                list += list.empty() ? "" : ", ";
                list += k;
            }
            refuse(value,
                   "unknown key '" + std::string(key.str()) + "' in " + std::string(where)
                           + " (known: " + list + ")");
        }
    }
}

const toml::table* table_at(const toml::table& root, std::string_view name) {
    const toml::node* n = root.get(name);
    if (n == nullptr) {
        return nullptr;
    }
    if (!n->is_table()) {
        refuse(*n, "[" + std::string(name) + "] must be a table");
    }
    return n->as_table();
}

std::string string_value(const toml::node& n, std::string_view key) {
    if (!n.is_string()) {
        refuse(n, std::string(key) + " must be a string");
    }
    return n.as_string()->get();
}

std::int64_t
integer_value(const toml::node& n, std::string_view key, std::int64_t lo, std::int64_t hi) {
    if (!n.is_integer()) {
        refuse(n, std::string(key) + " must be an integer");
    }
    const std::int64_t v = n.as_integer()->get();
    if (v < lo || v > hi) {
        refuse(n,
               std::string(key) + " must be between " + std::to_string(lo) + " and "
                       + std::to_string(hi) + ", not " + std::to_string(v));
    }
    return v;
}

// A reader for read_key / list_value: an integer in [lo, hi], as T.
template <typename T> auto ranged(std::int64_t lo, std::int64_t hi) {
    return [lo, hi](const toml::node& n, std::string_view k) {
        return static_cast<T>(integer_value(n, k, lo, hi));
    };
}

// As ranged, but 0 too: "let the appliance choose".
template <typename T> auto zero_or_ranged(std::int64_t lo, std::int64_t hi) {
    return [lo, hi](const toml::node& n, std::string_view k) {
        if (n.is_integer() && n.as_integer()->get() == 0) {
            return T{0};
        }
        if (!n.is_integer()) {
            refuse(n, std::string(k) + " must be an integer");
        }
        const std::int64_t v = n.as_integer()->get();
        if (v < lo || v > hi) {
            refuse(n,
                   std::string(k) + " must be 0 (sized at start) or between " + std::to_string(lo)
                           + " and " + std::to_string(hi) + ", not " + std::to_string(v));
        }
        return static_cast<T>(v);
    };
}

double number_value(const toml::node& n, std::string_view key, double lo, double hi) {
    if (!n.is_number()) {
        refuse(n, std::string(key) + " must be a number");
    }
    const double v = n.is_integer() ? static_cast<double>(n.as_integer()->get())
                                    : n.as_floating_point()->get();
    if (!(v > lo && v <= hi)) {
        std::ostringstream o;
        o << key << " must be above " << lo << " and at most " << hi << ", not " << v;
        refuse(n, o.str());
    }
    return v;
}

bool bool_value(const toml::node& n, std::string_view key) {
    if (!n.is_boolean()) {
        refuse(n, std::string(key) + " must be true or false");
    }
    return n.as_boolean()->get();
}

const toml::array& array_value(const toml::node& n, std::string_view key) {
    if (!n.is_array()) {
        refuse(n, std::string(key) + " must be an array");
    }
    return *n.as_array();
}

template <typename T, typename Read>
void read_key(const toml::table& t, std::string_view key, T& out, Read read) {
    if (const toml::node* n = t.get(key)) {
        out = read(*n, key);
    }
}

template <typename Enum>
Enum one_of(
        const toml::node& n,
        std::string_view key,
        std::initializer_list<std::pair<std::string_view, Enum>> choices
) {
    const std::string v = string_value(n, key);
    std::string list;
    for (const auto& [name, value] : choices) {
        if (name == v) {
            return value;
        }
        list += list.empty() ? "" : ", ";
        list += name;
    }
    refuse(n, std::string(key) + " must be one of " + list + ", not '" + v + "'");
}

net::ip_address address_value(const toml::node& n, std::string_view key) {
    net::ip_address ip;
    const std::string text = string_value(n, key);
    if (!net::parse_ip(text, ip)) {
        refuse(n, std::string(key) + ": '" + text + "' is not an IPv4 or IPv6 address");
    }
    return ip;
}

// "198.18.1.1:5060", "[2001:db8::1]:5062", or an address alone (port 5060); `text` is n's
// value, or the part of it that names the endpoint.
net::ip_endpoint endpoint_of(const toml::node& n, std::string_view key, const std::string& text) {
    std::string_view host = text;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string::npos || (close + 1 < text.size() && text[close + 1] != ':')) {
            refuse(n, std::string(key) + ": '" + text + "' is not [IPv6]:port");
        }
        host = std::string_view(text).substr(0, close + 1);
        if (close + 1 < text.size()) {
            port = std::string_view(text).substr(close + 2);
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        const std::size_t colon = text.find(':');
        host = std::string_view(text).substr(0, colon);
        port = std::string_view(text).substr(colon + 1);
    }
    net::ip_endpoint e;
    e.port = 5060;
    if (!net::parse_ip(host, e.address)) {
        refuse(n, std::string(key) + ": '" + text + "' is not address[:port]");
    }
    if (!port.empty() || (host.size() < text.size())) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
            refuse(n, std::string(key) + ": '" + text + "' has no valid port (1-65535)");
        }
        e.port = static_cast<std::uint16_t>(value);
    }
    return e;
}

net::ip_endpoint endpoint_value(const toml::node& n, std::string_view key) {
    return endpoint_of(n, key, string_value(n, key));
}

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

// A file named in the configuration, relative to the configuration's own directory.
std::string path_value(const toml::node& n, std::string_view key, const std::string& source) {
    std::string path = string_value(n, key);
    if (!path.empty() && path.front() != '/') {
        const std::size_t slash = source.rfind('/');
        if (slash != std::string::npos) {
            path = source.substr(0, slash + 1) + path;
        }
    }
    return path;
}

report_key key_file_value(const toml::node& n, std::string_view key, const std::string& source) {
    const std::string path = path_value(n, key, source);
    const key_file_result r = read_key_file(path);
    if (!r.key) {
        refuse(n, std::string(key) + ": " + r.error);
    }
    return *r.key;
}

template <typename T, typename Read>
std::vector<T> list_value(const toml::node& n, std::string_view key, Read read) {
    std::vector<T> out;
    for (const toml::node& item : array_value(n, key)) {
        out.push_back(read(item, key));
    }
    return out;
}

void read_listen(const toml::table& root, listen_config& l) {
    const toml::table* t = table_at(root, "listen");
    if (t == nullptr) {
        throw refusal{1, "[listen] is missing: the appliance needs at least one address"};
    }
    only_keys(*t, "[listen]", {"addresses", "ports", "vlans", "promiscuous", "mtu"});
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
    const toml::table* t = table_at(root, "dataplane");
    if (t == nullptr) {
        return;
    }
    only_keys(
            *t,
            "[dataplane]",
            {"burst",
             "rx_descriptors",
             "tx_descriptors",
             "mbufs",
             "mbuf_data_room",
             "idle",
             "idle_sleep_max_us",
             "udp_checksum",
             "fragment_flows",
             "fragment_timeout_ms",
             "fragment_mbufs"}
    );
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

void read_exception(const toml::table& root, exception_config& e) {
    const toml::table* t = table_at(root, "exception");
    if (t == nullptr) {
        return;
    }
    only_keys(*t, "[exception]", {"tap", "ring_size", "addresses", "filter", "icmp_per_second"});
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
}

void read_sip(const toml::table& root, sip_config& s) {
    const toml::table* t = table_at(root, "sip");
    if (t == nullptr) {
        return;
    }
    only_keys(
            *t,
            "[sip]",
            {"redirect_methods",
             "supported_option_tags",
             "server",
             "to_tag_key",
             "request_hash_key",
             "pool",
             "max_reply_growth"}
    );
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
        b.slot = static_cast<std::uint16_t>(c.backends.size());
        if (const toml::node* n = t.get("report_key_file")) {
            b.own_key = key_file_value(*n, "report_key_file", c.source);
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
        if (c.backends.size() == balance::max_backends) {
            refuse(t, "more than " + std::to_string(balance::max_backends) + " backends");
        }
        c.backends.push_back(std::move(b));
    }
}

// Probing: [probe] enables it; every key has a default.
// A header name: letters, digits, "-", "_" and ".".
std::string header_name_value(const toml::node& n, std::string_view key) {
    std::string v = string_value(n, key);
    for (const char ch : v) {
        const bool token = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
                           || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
        if (!token) {
            refuse(n, "load_header must be a header name (letters, digits, - _ .)");
        }
    }
    return v;
}

// One alive_codes item: a code (200) or a range ("200-299"), within 100-699.
code_range alive_code_value(const toml::node& item) {
    code_range r;
    if (item.is_integer()) {
        r.first = r.last = static_cast<std::uint16_t>(integer_value(item, "alive_codes", 100, 699));
        return r;
    }
    const std::string text = string_value(item, "alive_codes");
    unsigned a = 0;
    unsigned b = 0;
    const char* p = text.data();
    const char* end = text.data() + text.size();
    auto [q, ec] = std::from_chars(p, end, a);
    b = a;
    if (ec == std::errc{} && q != end && *q == '-') {
        const auto [q2, ec2] = std::from_chars(q + 1, end, b);
        q = ec2 == std::errc{} ? q2 : p;
    }
    if (ec != std::errc{} || q != end || a < 100 || b > 699 || a > b) {
        refuse(item, "alive_codes: '" + text + "' is not a code or a range like \"200-299\"");
    }
    r.first = static_cast<std::uint16_t>(a);
    r.last = static_cast<std::uint16_t>(b);
    return r;
}

std::vector<code_range> alive_codes_value(const toml::node& n) {
    std::vector<code_range> codes;
    for (const toml::node& item : array_value(n, "alive_codes")) {
        codes.push_back(alive_code_value(item));
    }
    if (codes.empty()) {
        refuse(n, "alive_codes must name at least one code");
    }
    return codes;
}

void read_probe(const toml::table& root, probe_config& p) {
    const toml::table* t = table_at(root, "probe");
    if (t == nullptr) {
        return;
    }
    only_keys(
            *t,
            "[probe]",
            {"interval_ms",
             "timeout_ms",
             "down_after",
             "up_after",
             "alive_codes",
             "source_port",
             "load_header",
             "load_format"}
    );
    p.enabled = true;
    probe_settings& s = p.settings;
    std::int64_t interval_ms = s.interval_ns / 1'000'000;
    std::int64_t timeout_ms = s.timeout_ns / 1'000'000;
    read_key(*t, "interval_ms", interval_ms, ranged<std::int64_t>(50, 3'600'000));
    if (t->get("timeout_ms") == nullptr) {
        timeout_ms = std::min(timeout_ms, interval_ms * 2 / 5);
    }
    read_key(*t, "timeout_ms", timeout_ms, ranged<std::int64_t>(10, 3'600'000));
    if (timeout_ms > interval_ms) {
        refuse(*t->get("timeout_ms"), "timeout_ms must not exceed interval_ms");
    }
    s.interval_ns = interval_ms * 1'000'000;
    s.timeout_ns = timeout_ms * 1'000'000;
    read_key(*t, "down_after", s.policy.down_after, ranged<std::uint32_t>(1, 100));
    read_key(*t, "up_after", s.policy.up_after, ranged<std::uint32_t>(1, 100));
    read_key(*t, "source_port", p.source_port, ranged<std::uint16_t>(1, 65535));
    read_key(*t, "load_header", s.load_header, header_name_value);
    read_key(*t, "load_format", s.format, [](const toml::node& n, std::string_view k) {
        return one_of<load_format>(
                n,
                k,
                {{"percent", load_format::percent}, {"calls-capacity", load_format::calls_capacity}}
        );
    });
    if (const toml::node* n = t->get("alive_codes")) {
        s.alive_codes = alive_codes_value(*n);
    }
}

void read_reports(const toml::table& root, reports_config& r, const std::string& source) {
    const toml::table* t = table_at(root, "reports");
    if (t == nullptr) {
        return;
    }
    only_keys(
            *t,
            "[reports]",
            {"port", "key_file", "allow_shared_report_key", "window_ms", "rate", "burst"}
    );
    if (t->get("port") == nullptr) {
        refuse(*t, "[reports] needs port: the UDP port load reports arrive on");
    }
    read_key(*t, "port", r.port, ranged<std::uint16_t>(1, 65535));
    if (const toml::node* n = t->get("key_file")) {
        r.key = key_file_value(*n, "key_file", source);
    }
    read_key(*t, "allow_shared_report_key", r.allow_shared_key, bool_value);
    read_key(*t, "window_ms", r.settings.window_ms, ranged<std::int64_t>(100, 3'600'000));
    read_key(*t, "rate", r.settings.rate, [](const toml::node& n, std::string_view k) {
        return number_value(n, k, 0.0, 100000.0);
    });
    read_key(*t, "burst", r.settings.burst, [](const toml::node& n, std::string_view k) {
        return number_value(n, k, 0.0, 100000.0);
    });
    if (r.settings.burst < 1) {
        refuse(*t->get("burst"), "burst must be at least 1");
    }
}

void read_fleet(const toml::table& root, fleet_config& f, const std::string& source) {
    const toml::table* t = table_at(root, "fleet");
    if (t == nullptr) {
        return;
    }
    only_keys(
            *t,
            "[fleet]",
            {"name",
             "port",
             "key_file",
             "peers",
             "interval_ms",
             "full_interval_ms",
             "peer_timeout_ms",
             "window_ms",
             "send_fraction"}
    );
    f.enabled = true;
    const toml::node* name = t->get("name");
    if (name == nullptr) {
        refuse(*t, "[fleet] needs name: this appliance's name, unique in the fleet");
    }
    f.name = string_value(*name, "name");
    if (!valid_name(f.name)) {
        refuse(*name, "name must be 1-64 of letters, digits, '.', '_' and '-'");
    }
    read_key(*t, "port", f.port, ranged<std::uint16_t>(1, 65535));
    const toml::node* key = t->get("key_file");
    if (key == nullptr) {
        refuse(*t, "[fleet] needs key_file: the fleet's shared key (64 hex digits)");
    }
    f.key = key_file_value(*key, "key_file", source);
    if (const toml::node* n = t->get("peers")) {
        // "name@address[:port]": a peer's messages are believed only from its address. A peer
        // without a port listens on the same port as this appliance.
        f.peers = list_value<net::ip_endpoint>(*n, "peers", [&](const toml::node& item, auto k) {
            const std::string whole = string_value(item, k);
            const std::size_t at = whole.find('@');
            const std::string peer = at == std::string::npos ? "" : whole.substr(0, at);
            if (!valid_name(peer) || peer == f.name
                || std::find(f.peer_names.begin(), f.peer_names.end(), peer)
                           != f.peer_names.end()) {
                refuse(item,
                       std::string(k) + ": '" + whole
                               + "' must be \"name@address[:port]\", with the peer's [fleet] "
                                 "name, not this appliance's, each name once");
            }
            f.peer_names.push_back(peer);
            const std::string text = whole.substr(at + 1);
            net::ip_endpoint e = endpoint_of(item, k, text);
            const bool has_port = text.front() == '['
                                          ? text.find("]:") != std::string::npos
                                          : std::count(text.begin(), text.end(), ':') == 1;
            if (!has_port) {
                e.port = f.port;
            }
            return e;
        });
        if (f.peers.size() > 255) {
            refuse(*n, "peers: at most 255 (docs/fleet.md: past ~64, use NATS)");
        }
    }
    read_key(*t, "interval_ms", f.interval_ms, ranged<std::uint32_t>(5, 10000));
    read_key(*t, "full_interval_ms", f.full_interval_ms, ranged<std::uint32_t>(100, 60000));
    read_key(*t, "peer_timeout_ms", f.peer_timeout_ms, ranged<std::uint32_t>(100, 600000));
    read_key(*t, "window_ms", f.window_ms, ranged<std::uint32_t>(100, 3'600'000));
    read_key(*t, "send_fraction", f.send_fraction, [](const toml::node& n, std::string_view k) {
        return number_value(n, k, 0.0, 1.0);
    });
    if (f.full_interval_ms < f.interval_ms) {
        refuse(*t, "full_interval_ms must be at least interval_ms");
    }
    if (f.peer_timeout_ms <= f.full_interval_ms) {
        refuse(*t, "peer_timeout_ms must exceed full_interval_ms (a live peer sends that often)");
    }
}

void read_limits(const toml::table& root, pipeline::source_limit_settings& l) {
    const toml::table* t = table_at(root, "limits");
    if (t == nullptr) {
        return;
    }
    only_keys(
            *t,
            "[limits]",
            {"rate",
             "burst",
             "ipv4_prefix",
             "ipv6_prefix",
             "sources",
             "action",
             "retry_after",
             "allow"}
    );
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

void read_race(const toml::table& root, race_engine_config& r) {
    const toml::table* t = table_at(root, "race");
    if (t == nullptr) {
        return;
    }
    only_keys(
            *t,
            "[race]",
            {"table_size", "source_port", "leg_linger_ms", "when_full", "allow_forwarding_legs"}
    );
    read_key(*t, "table_size", r.table_size, ranged<std::uint32_t>(1, 1 << 20));
    read_key(*t, "source_port", r.source_port, ranged<std::uint16_t>(1, 65535));
    read_key(*t, "leg_linger_ms", r.leg_linger_ms, ranged<std::uint32_t>(100, 64000));
    read_key(*t, "when_full", r.full_reply_fallback, [](const toml::node& n, std::string_view k) {
        return one_of<bool>(n, k, {{"503", false}, {"fallback", true}});
    });
    read_key(*t, "allow_forwarding_legs", r.allow_forwarding_legs, bool_value);
}

// A pool's race_* keys (policy "race" only).
void read_pool_race(const toml::table& t, balance::pool_config& p, const race_engine_config& e) {
    balance::race_config& r = p.race;
    const bool race = p.policy == balance::policy_kind::race;
    for (auto&& [key, value] : t) {
        if (!race && key.str().starts_with("race_")) {
            refuse(value, std::string(key.str()) + " is for pools with policy \"race\"");
        }
    }
    read_key(t, "race_method", r.method, [](const toml::node& n, std::string_view k) {
        using balance::race_method;
        return one_of<race_method>(
                n, k, {{"options", race_method::options}, {"invite", race_method::invite}}
        );
    });
    if (const toml::node* n = t.get("race_fallback")) {
        using balance::policy_kind;
        if (n->is_string() && n->as_string()->get() == "503") {
            r.refuse_fallback = true;
        } else {
            r.fallback = one_of<policy_kind>(
                    *n,
                    "race_fallback",
                    {{"least-load", policy_kind::least_load},
                     {"proportional", policy_kind::proportional},
                     {"p2c", policy_kind::p2c},
                     {"sequence", policy_kind::sequence},
                     {"wrr", policy_kind::wrr},
                     {"random", policy_kind::random},
                     {"least-latency", policy_kind::least_latency},
                     {"503", policy_kind::race}} // listed for the message; taken above
            );
        }
    }
    read_key(t, "race_timeout_ms", r.timeout_ms, ranged<std::uint32_t>(1, 10000));
    read_key(t, "race_coalesce_ms", r.coalesce_ms, ranged<std::uint32_t>(0, 10000));
    // No 0 ("no cap"): every request to a race pool is a leg to each of its backends, so an
    // uncapped pool turns a flood at the appliance into a flood at every backend.
    read_key(
            t, "race_max_legs_per_second", r.max_legs_per_second, ranged<std::uint32_t>(1, 1000000)
    );
    read_key(t, "race_max_legs", r.max_legs, ranged<std::uint16_t>(1, balance::max_backends));
    read_key(t, "race_max_body", r.max_body, ranged<std::uint32_t>(0, 65535));
    read_key(t, "race_leg", r.leg, [](const toml::node& n, std::string_view k) {
        using balance::race_leg;
        return one_of<race_leg>(
                n,
                k,
                {{"max-forwards-0", race_leg::max_forwards_0},
                 {"header", race_leg::header},
                 {"forward", race_leg::forward}}
        );
    });
    read_key(t, "race_leg_header", r.leg_header, [](const toml::node& n, std::string_view k) {
        const std::string v = string_value(n, k);
        const std::size_t colon = v.find(':');
        const bool clean = std::none_of(v.begin(), v.end(), sip::is_control_octet);
        if (colon == 0 || colon == std::string::npos || !clean
            || !std::all_of(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
                   return sip::is(c, sip::cc_token);
               })) {
            refuse(n, "race_leg_header must be one header line, \"Name: value\"");
        }
        return v;
    });
    if (r.leg == balance::race_leg::header && r.leg_header.empty()) {
        refuse(t, "pool '" + p.name + "': race_leg \"header\" needs race_leg_header");
    }
    if (r.leg == balance::race_leg::forward && !e.allow_forwarding_legs) {
        refuse(*t.get("race_leg"),
               "race_leg \"forward\" lets a race leg ring a phone: it needs "
               "[race] allow_forwarding_legs = true (docs/race.md)");
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
        using balance::contact_user;
        return one_of<contact_user>(
                n,
                k,
                {{"request-uri", contact_user::request_uri},
                 {"to", contact_user::to},
                 {"none", contact_user::none}}
        );
    });
    read_key(t, "contact_params", p.contact_params, contact_params_value);
}

void read_load(const toml::table& root, load_age_config& l) {
    const toml::table* t = table_at(root, "load");
    if (t == nullptr) {
        return;
    }
    only_keys(*t, "[load]", {"max_age_ms"});
    read_key(*t, "max_age_ms", l.max_age_ms, ranged<std::uint32_t>(100, 3'600'000));
}

void read_overload(const toml::table& root, overload_settings& o) {
    const toml::table* t = table_at(root, "overload");
    if (t == nullptr) {
        return;
    }
    only_keys(
            *t,
            "[overload]",
            {"enabled", "busy_share", "imissed_per_second", "reduction", "validity_ms"}
    );
    read_key(*t, "enabled", o.enabled, bool_value);
    read_key(*t, "busy_share", o.busy_share, [](const toml::node& n, std::string_view k) {
        return number_value(n, k, 0.0, 1.0);
    });
    read_key(
            *t,
            "imissed_per_second",
            o.imissed_per_second,
            [](const toml::node& n, std::string_view k) {
                const bool zero = (n.is_integer() && n.as_integer()->get() == 0)
                                  || (n.is_floating_point() && n.as_floating_point()->get() == 0.0);
                return zero ? 0.0 : number_value(n, k, 0.0, 1e9); // 0: not a trigger
            }
    );
    // RFC 7339 loss algorithm: oc is the percentage to shed; 0 would ask for nothing.
    read_key(*t, "reduction", o.reduction, ranged<std::uint8_t>(1, 100));
    // oc-validity 0 would end overload control at once (§5.2): a live indication needs more.
    read_key(*t, "validity_ms", o.validity_ms, ranged<std::uint32_t>(1, 86'400'000));
}

void read_management(const toml::table& root, management_config& m) {
    const toml::table* t = table_at(root, "management");
    if (t == nullptr) {
        return;
    }
    only_keys(*t, "[management]", {"socket", "metrics"});
    read_key(*t, "socket", m.socket, [](const toml::node& n, std::string_view k) {
        std::string v = string_value(n, k);
        if (v.size() >= 100) {
            refuse(n, "socket: a UNIX socket path is at most 99 characters");
        }
        return v;
    });
    if (const toml::node* n = t->get("metrics")) {
        if (!string_value(*n, "metrics").empty()) {
            m.metrics = endpoint_value(*n, "metrics");
        }
    }
}

// Which backends sign their reports with one key, as a phrase ("backends 'b1' and 'b2' share a
// report key"); "" when each has its own or the configuration allows sharing.
std::string shared_report_key(const appliance_config& c) {
    if (c.reports.allow_shared_key) {
        return "";
    }
    for (std::size_t i = 0; i < c.backends.size(); ++i) {
        const report_key* a = c.backends[i].own_key ? &*c.backends[i].own_key : &*c.reports.key;
        for (std::size_t j = i + 1; j < c.backends.size(); ++j) {
            const report_key* b = c.backends[j].own_key ? &*c.backends[j].own_key : &*c.reports.key;
            if (*a == *b) {
                return "backends '" + c.backends[i].config.name + "' and '"
                       + c.backends[j].config.name + "' share a report key";
            }
        }
    }
    return "";
}

// The line of [table] key, else of [table], else 1.
std::uint32_t line_at(const toml::table& root, std::string_view table, std::string_view key) {
    const toml::node* at = root[table][key].node();
    if (at == nullptr) {
        at = root[table].node();
    }
    return at != nullptr ? line_of(*at) : 1;
}

bool listened(const appliance_config& c, std::uint16_t port) {
    return std::find(c.listen.ports.begin(), c.listen.ports.end(), port) != c.listen.ports.end();
}

void check_probe_socket(const toml::table& root, const appliance_config& c) {
    if (!c.probe.enabled) {
        return;
    }
    if (c.exception.tap.empty()) {
        throw refusal{
                line_at(root, "probe", ""),
                "[probe] needs the exception path ([exception] tap): probes use a kernel "
                "socket on the appliance's address"};
    }
    if (listened(c, c.probe.source_port)) {
        throw refusal{
                line_at(root, "probe", "source_port"),
                "source_port must not be one of listen.ports (the fast path answers those)"};
    }
}

void check_race_socket(
        const toml::table& root, const appliance_config& c, const balance::pool_config& race_pool
) {
    if (c.exception.tap.empty()) {
        throw refusal{
                line_at(root, "exception", ""),
                "pool '" + race_pool.name
                        + "' races its backends, which needs the exception path ([exception] "
                          "tap): race legs use a kernel socket on the appliance's address"};
    }
    if (listened(c, c.race.source_port)
        || (c.probe.enabled && c.race.source_port == c.probe.source_port)
        || c.race.source_port == c.reports.port) {
        throw refusal{
                line_at(root, "race", "source_port"),
                "race source_port must differ from listen.ports, probe.source_port and "
                "reports.port"};
    }
}

void check_fleet_socket(const toml::table& root, const appliance_config& c, bool races) {
    if (!c.fleet.enabled) {
        return;
    }
    if (c.exception.tap.empty()) {
        throw refusal{
                line_at(root, "fleet", "port"),
                "[fleet] needs the exception path ([exception] tap): peers' counts arrive on "
                "a kernel socket"};
    }
    if (listened(c, c.fleet.port) || (c.probe.enabled && c.fleet.port == c.probe.source_port)
        || c.fleet.port == c.reports.port || (races && c.fleet.port == c.race.source_port)) {
        throw refusal{
                line_at(root, "fleet", "port"),
                "fleet port must differ from listen.ports, probe.source_port, reports.port "
                "and race.source_port"};
    }
}

void check_report_socket(const toml::table& root, const appliance_config& c) {
    if (c.reports.port == 0) {
        return;
    }
    if (c.exception.tap.empty()) {
        throw refusal{
                line_at(root, "reports", "port"),
                "[reports] needs the exception path ([exception] tap): reports arrive on a "
                "kernel socket"};
    }
    if (listened(c, c.reports.port) || (c.probe.enabled && c.reports.port == c.probe.source_port)) {
        throw refusal{
                line_at(root, "reports", "port"),
                "port must differ from listen.ports and probe.source_port"};
    }
    for (const static_backend& b : c.backends) {
        if (!b.own_key && !c.reports.key) {
            throw refusal{
                    line_at(root, "reports", "port"),
                    "backend '" + b.config.name
                            + "' has no key for its reports: give reports.key_file or its "
                              "report_key_file"};
        }
    }
    if (const std::string shared = shared_report_key(c); !shared.empty()) {
        throw refusal{
                line_at(root, "reports", "key_file"),
                shared
                        + ": any of them could sign as the others; give each [[backend]] "
                          "its own report_key_file, or set allow_shared_report_key = true"};
    }
}

// Cross-section checks: probing, race legs, the fleet and reports use kernel sockets on the
// appliance's address, which only the exception path gives; their ports must not be ones the
// fast path answers, nor each other's.
void check_control(const toml::table& root, const appliance_config& c) {
    check_probe_socket(root, c);
    const auto race_pool = std::find_if(c.pools.begin(), c.pools.end(), [](const auto& p) {
        return p.policy == balance::policy_kind::race;
    });
    if (race_pool != c.pools.end()) {
        check_race_socket(root, c, *race_pool);
    }
    check_fleet_socket(root, c, race_pool != c.pools.end());
    check_report_socket(root, c);
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
    using balance::policy_kind;
    return one_of<policy_kind>(
            n,
            key,
            {{"least-load", policy_kind::least_load},
             {"proportional", policy_kind::proportional},
             {"p2c", policy_kind::p2c},
             {"sequence", policy_kind::sequence},
             {"wrr", policy_kind::wrr},
             {"hash", policy_kind::hash},
             {"random", policy_kind::random},
             {"least-latency", policy_kind::least_latency},
             {"race", policy_kind::race}}
    );
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
        if (c.pools.size() == 64) {
            refuse(t, "more than 64 pools");
        }
        c.pools.push_back(std::move(p));
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
    if (const toml::table* t = table_at(root, "rules")) {
        only_keys(*t, "[rules]", {"file"});
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

appliance_config read_config(const toml::table& root, const std::string& source) {
    only_keys(
            root,
            "the file",
            {"listen",
             "dataplane",
             "exception",
             "sip",
             "probe",
             "reports",
             "load",
             "management",
             "backend",
             "pool",
             "rule",
             "rules",
             "limits",
             "race",
             "fleet",
             "overload",
             "config_revision"}
    );
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
    read_probe(root, c.probe);
    read_reports(root, c.reports, source);
    read_race(root, c.race);
    read_fleet(root, c.fleet, source);
    read_load(root, c.load);
    read_limits(root, c.limits);
    read_overload(root, c.overload);
    read_management(root, c.management);
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
    config_result result;
    try {
        const toml::table root = toml::parse(text, source);
        result.config = read_config(root, source);
    } catch (const toml::parse_error& e) {
        result.error.message = source + ":" + std::to_string(e.source().begin.line) + ": "
                               + std::string(e.description());
    } catch (const refusal& r) {
        result.error.message = r.whole ? r.message
                                       : (r.file.empty() ? source : r.file) + ":"
                                                 + std::to_string(r.line) + ": " + r.message;
    }
    return result;
}

config_result load_config(const std::string& path) {
    const file_text text = read_file_text(path, max_config_bytes);
    if (!text.text) {
        config_result r;
        r.error.message = path + ":0: " + text.error;
        return r;
    }
    return parse_config(*text.text, path);
}

} // namespace sipredir::control
