// SPDX-License-Identifier: BSD-3-Clause
// The IP identification a worker gives its fragmented replies: a counter from a random start.
#pragma once

#include <cstdint>

namespace sipredir::pipeline {

// A random first identification for one worker (from getrandom, at the worker's start, never
// on the worker path). Random, so that an off-path sender cannot predict the next ID and forge
// a fragment that spoils a caller's reassembly of a reply (RFC 7739 §1 for IPv6; the same holds
// for IPv4's 16 bits), and so that two workers' fragmented replies to one caller, which would
// otherwise count from the same 0, do not share IDs.
std::uint32_t random_fragment_id_start() noexcept;

} // namespace sipredir::pipeline
