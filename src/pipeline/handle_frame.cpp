// SPDX-License-Identifier: BSD-3-Clause
#include "handle_frame.hpp"

#include "stages.hpp"

namespace sipredir::pipeline {

handled handle_frame(
        const identity& s,
        const balance::table_snapshot* snapshot,
        worker_state& state,
        std::span<std::uint8_t> room,
        std::size_t frame_size
) noexcept {
    return handle_frame(s, snapshot, state, room, frame_size, s.checks);
}

handled handle_frame(
        const identity& s,
        const balance::table_snapshot* snapshot,
        worker_state& state,
        std::span<std::uint8_t> room,
        std::size_t frame_size,
        net::frame_checks checks
) noexcept {
    net::frame_view f;
    handled out = classify(s, snapshot, state, room.first(frame_size), checks, f);
    if (out.what != disposition::replied) {
        return out;
    }
    return answer(s, snapshot, state, f, out.source_limited, room, frame_size);
}

handled
answer(const identity& s,
       const balance::table_snapshot* snapshot,
       worker_state& state,
       const net::frame_view& f,
       bool source_limited,
       std::span<std::uint8_t> room,
       std::size_t frame_size) noexcept {
    request_work& w = state.work;
    parse(room.subspan(f.payload_offset, f.payload_size), w);
    handled out;
    if (!decide(s, snapshot, state, f, source_limited, w, out)
        || !choose(s, snapshot, state, w, out)) {
        return out;
    }
    return reply(s, state, f, w, room, frame_size);
}

} // namespace sipredir::pipeline
