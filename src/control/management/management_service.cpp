// SPDX-License-Identifier: BSD-3-Clause
#include "management_service.hpp"

#include "../address_text.hpp"
#include "views.hpp"

#include <algorithm>
#include <cerrno>
#include <sys/socket.h>

namespace sipredir::control {

namespace {

// "uid 0, pid 42": who is at the other end of a UNIX socket. No user name: a lookup may ask
// NSS (LDAP, sssd) and block the control loop.
std::string peer_of(int fd) {
    ucred cred{};
    socklen_t size = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0) {
        return "unknown";
    }
    return "uid " + std::to_string(cred.uid) + ", pid " + std::to_string(cred.pid);
}

constexpr std::size_t max_request = 4096;
// A client that moves no byte of its request or reply for this long is closed: its buffer is
// freed and its place given to the next.
constexpr std::size_t max_connections = 32;
constexpr auto connection_idle = std::chrono::seconds(2);
// The largest reply kept for a client (256 backends' metrics are well under it); 32 clients
// that never read hold at most 32 times this.
constexpr std::size_t max_reply = 8u << 20;

// The verbs this service answers, and how.
struct verb {
    std::string_view name;
    std::string (*answer)(control_context& c, std::string_view arg);
};

} // namespace

void management_service::open() {
    const management_config& m = _c.config().management;
    if (!m.socket.empty()) {
        _unix = open_unix_listener(m.socket);
    }
    if (m.metrics) {
        _metrics = open_tcp_listener(*m.metrics);
    }
}

void management_service::describe(std::vector<log_field>& fields) const {
    const management_config& m = _c.config().management;
    fields.emplace_back("socket", m.socket);
    fields.emplace_back("metrics", m.metrics ? endpoint_text(*m.metrics) : "off");
}

void management_service::watch(std::vector<pollfd>& fds) const {
    for (const socket_fd* listener : {&_unix, &_metrics}) {
        if (*listener) {
            fds.push_back({listener->get(), POLLIN, 0});
        }
    }
    for (const connection& c : _connections) {
        fds.push_back({c.fd.get(), static_cast<short>(c.answered ? POLLOUT : POLLIN), 0});
    }
}

void management_service::on_polled(std::span<const pollfd> mine, std::int64_t) {
    for (const pollfd& p : mine) {
        if ((p.revents & POLLIN) != 0 && _unix && p.fd == _unix.get()) {
            accept(_unix.get(), false);
        } else if ((p.revents & POLLIN) != 0 && _metrics && p.fd == _metrics.get()) {
            accept(_metrics.get(), true);
        }
    }
    std::erase_if(_connections, [&](connection& c) {
        if (!serve(c)) {
            return true;
        }
        if (std::chrono::steady_clock::now() - c.last_progress > connection_idle) {
            ++_c.counters.management_idle;
            return true;
        }
        return false;
    });
}

std::string_view management_service::restart_only_change(
        const appliance_config& running, const appliance_config& next
) const {
    return running.management == next.management ? "" : "management";
}

void management_service::accept(int listener, bool http) {
    for (;;) {
        socket_fd fd(::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            return;
        }
        if (_connections.size() >= max_connections) {
            // The oldest gives way: clients that connect and never read cannot lock the
            // operator out, they only shorten each other's time.
            _connections.erase(_connections.begin());
            ++_c.counters.management_evicted;
        }
        connection c;
        c.who = http ? "http" : peer_of(fd.get());
        c.fd = std::move(fd);
        c.http = http;
        c.last_progress = std::chrono::steady_clock::now();
        _connections.push_back(std::move(c));
    }
}

bool management_service::serve(connection& c) {
    if (c.answered) {
        return write_out(c);
    }
    char buf[1024];
    bool closed = false;
    for (;;) {
        const ssize_t got = ::recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (got == 0) {
            closed = true; // the peer closed its side: answer what came
            break;
        }
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            }
            return false;
        }
        c.in.append(buf, static_cast<std::size_t>(got));
        c.last_progress = std::chrono::steady_clock::now();
        if (c.in.size() > max_request) {
            return false;
        }
    }
    c.out = reply_to(c);
    if (c.out.empty()) {
        return !closed; // more to come, unless the peer said it was done
    }
    if (c.out.size() > max_reply) {
        ++_c.counters.management_too_large;
        return false;
    }
    c.answered = true;
    c.in.clear();
    return write_out(c);
}

bool management_service::write_out(connection& c) {
    // Never waits: what the socket takes now, the rest when poll says POLLOUT.
    while (c.sent < c.out.size()) {
        const ssize_t n =
                ::send(c.fd.get(),
                       c.out.data() + c.sent,
                       c.out.size() - c.sent,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        }
        if (n <= 0) {
            return false;
        }
        c.sent += static_cast<std::size_t>(n);
        c.last_progress = std::chrono::steady_clock::now();
    }
    return false; // all written: close
}

std::string management_service::reply_to(const connection& c) {
    if (c.http) {
        if (c.in.find("\r\n\r\n") == std::string::npos) {
            return {};
        }
        return http_reply(std::string_view(c.in).substr(0, c.in.find("\r\n")));
    }
    const std::size_t nl = c.in.find('\n');
    if (nl == std::string::npos) {
        return {};
    }
    _c.requester = c.who;
    std::string answer = answer_command(_c, std::string_view(c.in).substr(0, nl));
    _c.requester.clear();
    return answer;
}

std::string management_service::http_reply(std::string_view request_line) {
    std::string body;
    std::string status = "200 OK";
    std::string type = "text/plain; version=0.0.4; charset=utf-8";
    if (request_line.starts_with("GET /metrics ") || request_line.starts_with("GET /metrics?")) {
        body = metrics_text(_c);
    } else if (request_line.starts_with("GET /backends ")) {
        body = backends_json(_c);
        type = "application/json";
    } else if (request_line.starts_with("GET /query ") || request_line.starts_with("GET /query?")) {
        const std::string_view target = request_line.substr(4, request_line.find(' ', 4) - 4);
        body = query_json(_c, query_args_from_target(target));
        type = "application/json";
    } else {
        status = "404 Not Found";
        body = "GET /metrics, /backends or /query?pool=NAME&count=false\n";
    }
    return "HTTP/1.0 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: "
           + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

std::optional<std::string>
management_service::command(std::string_view verb_name, std::string_view arg) {
    static constexpr verb verbs[] = {
            {"version", [](control_context& c, std::string_view) { return version_json(c); }},
            {"stats", [](control_context& c, std::string_view) { return stats_json(c); }},
            {"backends", [](control_context& c, std::string_view) { return backends_json(c); }},
            {"pools", [](control_context& c, std::string_view) { return pools_json(c); }},
            {"query",
             [](control_context& c, std::string_view a) {
                 return query_json(c, query_args_from_words(a));
             }},
            {"metrics", [](control_context& c, std::string_view) { return metrics_text(c); }},
    };
    if (verb_name == "drain" || verb_name == "undrain") {
        return drain(verb_name, arg);
    }
    if (verb_name == "reload") {
        return reload();
    }
    if (verb_name == "backend") {
        return change_backends(arg);
    }
    for (const verb& v : verbs) {
        if (v.name == verb_name) {
            return v.answer(_c, arg);
        }
    }
    return std::nullopt;
}

std::string management_service::drain(std::string_view verb_name, std::string_view name) {
    const bool drain = verb_name == "drain";
    if (name.empty() || !_c.monitor.set_drained(std::string(name), drain)) {
        return error_json("no backend named '" + std::string(name) + "'");
    }
    _c.dirty = true;
    _c.loop->publish(_c.now_ns());
    log(log_level::info,
        drain ? "backend_drained" : "backend_undrained",
        {{"backend", std::string(name)}});
    std::string out;
    object_writer o(out, 0);
    o.field("ok", true);
    o.field(drain ? "drained" : "undrained", name);
    o.field("generation", _c.counters.generation);
    o.close();
    return out + "\n";
}

std::string management_service::reload() {
    const std::string error = _c.loop->reload();
    if (!error.empty()) {
        return error_json(error);
    }
    std::string out;
    object_writer o(out, 0);
    o.field("ok", true);
    o.field("reloaded", _c.path);
    o.field("backends", std::uint64_t{_c.config().backends.size()});
    o.field("generation", _c.counters.generation);
    o.close();
    return out + "\n";
}

std::string management_service::change_backends(std::string_view words) {
    const std::string error =
            _c.loop->change_backends(words, _c.requester.empty() ? "unknown" : _c.requester);
    if (!error.empty()) {
        return error_json(error);
    }
    std::string out;
    object_writer o(out, 0);
    o.field("ok", true);
    o.field("changed", words);
    o.field("backends", std::uint64_t{_c.config().backends.size()});
    o.field("generation", _c.counters.generation);
    o.close();
    return out + "\n";
}

std::unique_ptr<service> make_management_service(control_context& c) {
    return std::make_unique<management_service>(c);
}

std::string answer_command(control_context& c, std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.remove_suffix(1);
    }
    const std::size_t space = line.find(' ');
    const std::string_view verb_name = line.substr(0, space);
    const std::string_view arg =
            space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
    for (const std::unique_ptr<service>& s : c.services) {
        if (std::optional<std::string> answer = s->command(verb_name, arg)) {
            return std::move(*answer);
        }
    }
    return error_json(
            "unknown command '" + std::string(verb_name)
            + "' (stats, backends, pools, query [POOL] [count=false], drain NAME, undrain NAME, "
              "backend set|add|remove NAME ..., reload, metrics, version)"
    );
}

} // namespace sipredir::control
