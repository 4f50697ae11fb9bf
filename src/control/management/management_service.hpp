// SPDX-License-Identifier: BSD-3-Clause
// The operator's sockets as a control-plane service: sipredirctl's UNIX socket (one JSON line
// per request) and the metrics HTTP endpoint (/metrics, /backends, /query). Each client's
// reply is built whole, kept here and written as poll finds room, so a client that never reads
// holds its buffer, never the control lcore.
#pragma once

#include "../service.hpp"

#include <chrono>

namespace sipredir::control {

class management_service final : public service {
public:
    explicit management_service(control_context& c) : _c(c) {}

    void open() override;
    void describe(std::vector<log_field>& fields) const override;
    void watch(std::vector<pollfd>& fds) const override;
    // Accepts new clients, then reads, answers and writes for each; closes the finished, the
    // idle and the over-large.
    void on_polled(std::span<const pollfd> mine, std::int64_t now) override;
    std::string_view restart_only_change(
            const appliance_config& running, const appliance_config& next
    ) const override;
    std::optional<std::string> command(std::string_view verb, std::string_view arg) override;

private:
    struct connection {
        socket_fd fd;
        std::string in;
        std::string out;       // the whole reply, once built
        std::size_t sent = 0;  // of `out`
        bool answered = false; // `out` is built: only writing is left
        bool http = false;
        std::string who; // sipredirctl's peer: its uid, user and pid (SO_PEERCRED)
        std::chrono::steady_clock::time_point last_progress; // accepted, or a byte moved
    };

    control_context& _c;
    socket_fd _unix;    // sipredirctl
    socket_fd _metrics; // HTTP
    std::vector<connection> _connections;

    void accept(int listener, bool http);
    bool serve(connection& c);                 // false: done, close it
    std::string reply_to(const connection& c); // empty: the request is not whole yet
    std::string http_reply(std::string_view request_line);
    bool write_out(connection& c); // false: done or failed, close it
    std::string drain(std::string_view verb, std::string_view name);
    std::string reload();
    std::string change_backends(std::string_view words);
};

std::unique_ptr<service> make_management_service(control_context& c);

// One sipredirctl request line -> its JSON answer (one object, "ok" says how it went): the
// first of c.services that knows the verb answers.
std::string answer_command(control_context& c, std::string_view line);

} // namespace sipredir::control
