// SPDX-License-Identifier: BSD-3-Clause
#include "reply_growth.hpp"

#include <cstring>
#include <sip/header.hpp>

namespace sipredir::pipeline {

std::size_t contact_octets(std::string_view reply) noexcept {
    const auto* lf =
            reply.empty() ? nullptr
                          : static_cast<const char*>(std::memchr(reply.data(), '\n', reply.size()));
    if (lf == nullptr) {
        return 0;
    }
    sip::header_reader reader(lf + 1, reply.data() + reply.size());
    sip::header_line line;
    std::size_t octets = 0;
    for (const char* start = reader.position();
         reader.next(line) == sip::header_reader::step::header;
         start = reader.position()) {
        if (line.well_formed && line.kind == sip::header_kind::contact) {
            octets += static_cast<std::size_t>(reader.position() - start);
        }
    }
    return octets;
}

bool within_growth(
        std::size_t request_size,
        std::string_view reply,
        std::size_t max_growth,
        std::size_t repeated
) noexcept {
    // Most replies are smaller than their request: one comparison, no walk over the headers.
    if (reply.size() <= request_size + max_growth) {
        return true;
    }
    return reply.size() - contact_octets(reply) + repeated <= request_size + max_growth;
}

} // namespace sipredir::pipeline
