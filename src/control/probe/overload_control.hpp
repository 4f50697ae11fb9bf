// SPDX-License-Identifier: BSD-3-Clause
// RFC 7339 SIP overload control, as a client of a backend: the `oc`, `oc-validity`, `oc-seq`
// and `oc-algo` parameters a backend adds to our Via in its replies ask us to send it that
// percentage fewer requests (the loss algorithm) for that long.
#pragma once

#include <cstdint>
#include <sip/message_view.hpp>

namespace sipredir::control {

// RFC 7339 §5.2: oc-validity defaults to 500 ms when absent.
inline constexpr std::int64_t default_oc_validity_ms = 500;

struct overload_state {
    double reduction = 0; // percent of new requests to divert, 0..100
    std::int64_t valid_until_ns = 0;
    double seq = -1;           // last oc-seq taken; an older or equal one is ignored
    std::uint64_t updates = 0; // oc parameters taken
    std::uint64_t ignored = 0; // malformed, unsupported algorithm, or out of sequence
};

// Takes the oc parameters of one reply's top Via (ours, as the backend returned it). A Via
// without `oc` changes nothing: RFC 7339 keeps the last request until its validity ends.
void take_overload(overload_state& s, const sip::via_top& via, std::int64_t now_ns) noexcept;

// The reduction in force at `now_ns` (0 after the validity ended).
double reduction_at(const overload_state& s, std::int64_t now_ns) noexcept;

} // namespace sipredir::control
