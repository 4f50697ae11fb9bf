// SPDX-License-Identifier: BSD-3-Clause
#include "held_request.hpp"

#include "stages.hpp"

#include <algorithm>
#include <vector>

namespace sipredir::pipeline {

namespace {

// The reply goes past the request when it fits there, else it is built aside and moved to the
// room's front (stages.cpp's reply). A reply is at most its request's size plus the growth
// reply_growth.hpp allows (256 by default) plus its Contacts (at most balance::max_contacts):
// within 4 kB more. One that is not is refused as a worker refuses it (reply_too_large), and the
// race engine counts answer_failed.
constexpr std::size_t room_for(std::size_t frame_size) noexcept {
    return frame_size + 4096;
}

} // namespace

bool held_request::hold(std::span<const std::uint8_t> frame) {
    _frame_size = frame.size();
    // Rooms move from request to request (the race engine swaps them): one that held a 64 kB
    // datagram is not kept for a 1 kB one, so a table of waiting requests stays its own size.
    const std::size_t room = room_for(frame.size());
    if (_room.size() < room || _room.size() > 2 * room) {
        std::vector<std::uint8_t>(room).swap(_room);
    }
    std::copy(frame.begin(), frame.end(), _room.begin());
    const net::frame_result r = net::parse_frame(
            this->frame(), _f, {.ipv4_header_checksum = false, .udp_checksum = false}
    );
    if (r.kind != net::frame_class::udp) {
        _work.m = {};
        return false;
    }
    parse(std::span(_room).subspan(_f.payload_offset, _f.payload_size), _work);
    return true;
}

bool held_request::raceable() const noexcept {
    return _work.m.kind == sip::message_kind::request && _work.m.has_from && _work.m.has_to;
}

handled answer_held(
        const identity& s,
        const balance::table_snapshot* snapshot,
        worker_state& state,
        held_request& request,
        const race_decision& d
) {
    state.decided = &d;
    request_work& w = request._work;
    handled out;
    if (decide(s, snapshot, state, request._f, false, w, out)
        && choose(s, snapshot, state, w, out)) {
        out = reply(s, state, request._f, w, request._room, request._frame_size);
        if (out.what == disposition::dropped && out.cause == drop_cause::reply_too_large) {
            out = reply_in_largest_room(s, state, request);
        }
    }
    state.decided = nullptr;
    return out;
}

// The rare reply that did not fit the room (a configured growth over 4 kB, or many Contacts
// repeating a long dialled user): written into a room as large as the identity's bounds allow,
// which then replaces the request's. The request's bytes move with it, but its view (into the
// old room) must not be read again: it is answered, and hold() parses the next one afresh.
handled reply_in_largest_room(const identity& s, worker_state& state, held_request& request) {
    const std::size_t n = request._frame_size;
    std::vector<std::uint8_t> larger(
            n + s.max_reply_growth + balance::max_contacts * (n + 512) + 4096
    );
    std::copy_n(request._room.begin(), n, larger.begin());
    const handled out = reply(s, state, request._f, request._work, larger, n);
    request._room.swap(larger);
    return out;
}

} // namespace sipredir::pipeline
