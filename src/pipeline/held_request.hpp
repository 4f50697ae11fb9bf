// SPDX-License-Identifier: BSD-3-Clause
// A request the control core holds while its race runs (src/control/race): the frame, as its
// worker received it, copied and parsed once. Its answer joins the pipeline after the parse
// (answer_held): decide, choose with the race's decision, reply. Before, the control core parsed
// a raced request once to start the race and once more to answer it, after its worker's parse.
#pragma once

#include "handle_frame.hpp"
#include "request_work.hpp"

#include <cstdint>
#include <net/frame.hpp>
#include <span>
#include <vector>

namespace sipredir::pipeline {

class held_request {
public:
    held_request() = default;
    // The message view points into _room: a copy would point into the original. A move keeps
    // it right, because a moved vector keeps its bytes where they are.
    held_request(const held_request&) = delete;
    held_request& operator=(const held_request&) = delete;
    held_request(held_request&&) noexcept = default;
    held_request& operator=(held_request&&) noexcept = default;

    // Copies `frame` (its worker verified the checksums and the address) and parses it; false
    // when it is not a UDP datagram. Reuses the room the last request left.
    bool hold(std::span<const std::uint8_t> frame);

    std::span<const std::uint8_t> frame() const noexcept { return {_room.data(), _frame_size}; }
    const sip::message_view& message() const noexcept { return _work.m; }
    // A request with From and To: what a race's legs are made from.
    bool raceable() const noexcept;

    // The reply answer_held wrote: `h.reply_offset` and `h.reply_size` within the room.
    std::span<const std::uint8_t> reply(const handled& h) const noexcept {
        return std::span(_room).subspan(h.reply_offset, h.reply_size);
    }

private:
    friend handled reply_in_largest_room(const identity&, worker_state&, held_request&);
    friend handled answer_held(
            const identity& s,
            const balance::table_snapshot* snapshot,
            worker_state& state,
            held_request& request,
            const race_decision& d
    );

    std::vector<std::uint8_t> _room; // the frame, then room for its reply
    std::size_t _frame_size = 0;
    net::frame_view _f;
    request_work _work; // _work.m views _room
};

// answer_held's way out when the reply does not fit the room (held_request.cpp).
handled reply_in_largest_room(const identity& s, worker_state& state, held_request& request);

// Answers a held request as its race decided: decide, choose, reply, with no parse. Decide runs
// again here because the snapshot may have been replaced while the race ran, and the reply's
// pre-rendered pieces live in the snapshot. The reply is written into the request's room
// (held_request::reply), a larger one when it does not fit there; the request is spent by it
// (its view is not to be read again). Control core only: it may allocate.
handled answer_held(
        const identity& s,
        const balance::table_snapshot* snapshot,
        worker_state& state,
        held_request& request,
        const race_decision& d
);

} // namespace sipredir::pipeline
