// SPDX-License-Identifier: BSD-3-Clause
// How much larger than its request a reply may be. A request with a spoofed source makes the
// appliance send its reply to a victim; the bound keeps that reflection from amplifying.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipredir::pipeline {

// Octets of the Contact header lines of `reply`, a SIP response as sip::write_reply renders it
// (status line, header lines, empty line): each line's name, value and line end. 0 when it has
// none.
std::size_t contact_octets(std::string_view reply) noexcept;

// True when `reply` is at most `max_growth` octets larger than its request of `request_size`
// octets, its Contact header lines not counted (they name the backends the request is
// redirected to, as many as the pool's `contacts`, whatever the request held) except for
// `repeated`: the request's own octets that the Contacts after the first copy again (the dialled
// user and URI parameters). Those count, or a long user times `contacts` would amplify.
bool within_growth(
        std::size_t request_size,
        std::string_view reply,
        std::size_t max_growth,
        std::size_t repeated = 0
) noexcept;

} // namespace sipredir::pipeline
