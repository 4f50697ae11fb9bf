// SPDX-License-Identifier: BSD-3-Clause
// What the pipeline's stages (stages.hpp) hand on for one request: its message view and the
// decision about it, then the reply's specification.
#pragma once

#include <array>
#include <balance/policy.hpp>
#include <cstddef>
#include <sip/message_view.hpp>
#include <sip/reply_writer.hpp>
#include <sip/verdict.hpp>

namespace sipredir::pipeline {

// What decide concluded about a request that gets a reply.
struct decision {
    sip::verdict v;
    bool source_limited = false; // a 503 because the source is over its rate
    bool redirect = false;       // a 302: choose picks its backends from `pool`
    std::size_t pool = 0;        // the snapshot's default pool, a route rule's, or the race's
};

// One request between its stages. Owned by the worker and reused from frame to frame, never
// zeroed whole (it is about 2.5 kB): the parser resets the message view's scalar fields and
// writes its arrays as far as it reads (lib/sip/message_view.hpp), decide assigns the decision
// and resets the reply's scalar fields, and choose writes `contacts` up to the count it sets.
struct request_work {
    sip::message_view m;
    decision d;
    sip::reply_spec spec;
    std::array<sip::contact_entry, balance::max_contacts> contacts;
    const balance::pool_snapshot* pool = nullptr;
    balance::selection chosen;
    sip::via_overload overload; // what spec.overload points at, when set
};

} // namespace sipredir::pipeline
