// SPDX-License-Identifier: BSD-3-Clause
// The pipeline's stages, in the order a frame goes through them:
//   classify → parse → decide → choose → reply
// classify reads the frame's headers and says whether it is a SIP datagram for us; parse fills
// the message view; decide gives the verdict (and the rules' word) and so the reply's shape;
// choose picks the backends of a redirect; reply writes the response over the frame. Each stage
// reads what the one before left in the worker's request_work (request_work.hpp) and either passes
// it on or ends the frame with a `handled`. The control core's race path joins at choose with the
// decision it carries (worker_state::decided).
#pragma once

#include "handle_frame.hpp"

#include <cstdint>
#include <net/frame.hpp>
#include <span>

namespace sipredir::pipeline {

// Reads the frame's headers into `f` and checks its VLAN, address and port, and the source's
// rate: `replied` with source_limited said when it is a SIP datagram for us (to be answered),
// else its fate (dropped, to the kernel as the identity's kernel_filter admits it with the
// snapshot's control peers, a fragment to reassemble).
handled classify(
        const identity& s,
        const balance::table_snapshot* snapshot,
        worker_state& state,
        std::span<const std::uint8_t> frame,
        net::frame_checks checks,
        net::frame_view& f
) noexcept;

// Parses the datagram into w.m.
void parse(std::span<const std::uint8_t> datagram, request_work& w) noexcept;

// The verdict, the rules, and the reply's shape in w.spec; false when nothing is to be written
// (`out` then says why).
bool decide(
        const identity& s,
        const balance::table_snapshot* snapshot,
        const worker_state& state,
        const net::frame_view& f,
        bool source_limited,
        request_work& w,
        handled& out
) noexcept;

// A redirect's backends (or its 503 when none can take it) into w.spec; false when the request
// goes to the control core's race instead (`out` says so). Nothing to do for other replies.
bool choose(
        const identity& s,
        const balance::table_snapshot* snapshot,
        worker_state& state,
        request_work& w,
        handled& out
) noexcept;

// Writes the reply over the frame (`room` starts at its first byte; the frame is its first
// `frame_size` bytes): past the request when it fits there, else through state.scratch.
handled
reply(const identity& s,
      worker_state& state,
      const net::frame_view& f,
      const request_work& w,
      std::span<std::uint8_t> room,
      std::size_t frame_size) noexcept;

// parse → decide → choose → reply, for a frame classify passed on (`f` as it filled it,
// `source_limited` as it said).
handled
answer(const identity& s,
       const balance::table_snapshot* snapshot,
       worker_state& state,
       const net::frame_view& f,
       bool source_limited,
       std::span<std::uint8_t> room,
       std::size_t frame_size) noexcept;

} // namespace sipredir::pipeline
