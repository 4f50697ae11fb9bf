// SPDX-License-Identifier: BSD-3-Clause
// Choosing backends for one request: a pure function of a pool snapshot and three numbers, so
// that it is table-tested, replayed by the simulator, and costs no lock, allocation or syscall.
#pragma once

#include "snapshot.hpp"

#include <array>
#include <cstdint>

namespace sipredir::balance {

struct choice_inputs {
    std::uint64_t random = 0;   // fresh random bits (per-worker generator)
    std::uint64_t key_hash = 0; // hash of the pool's key (Call-ID, From user, R-URI user)
    std::uint64_t sequence = 0; // per-worker, per-pool count of requests (wrr)
};

// Why a selection is empty.
enum class refusal : std::uint8_t {
    none,        // somebody was chosen
    unavailable, // every backend down, draining or busy (503 with the pool's Retry-After)
    shed,        // RFC 7339 loss: overload control diverted it and nobody could take it
};

struct selection {
    std::uint8_t count = 0; // 0: nobody can take it; `why` says which 503 it gets
    refusal why = refusal::none;
    std::array<std::uint16_t, max_contacts> picks{}; // indices into pool_snapshot::backends
};

// The pool's policy picks the first backend; up to pool.contacts - 1 more follow for failover:
// the next eligible ones in configured order for `sequence`, else by ascending load. Down and
// draining backends are never picked; load-aware policies (least-load, proportional, p2c,
// sequence, least-latency) also skip backends at or over their threshold. A backend under RFC 7339
// overload control gives its requested share of first picks to the next in failover order (a 503
// when there is none: the loss algorithm then drops them, and `why` says refusal::shed). With
// tiers on, all of this happens in the pool's serving tier, and failover continues into the
// following tiers in priority order.
selection choose(const pool_snapshot& pool, const choice_inputs& in) noexcept;

// The q-value (thousandths) of the i-th of k Contacts: 1000, then evenly down, never 0.
constexpr std::uint16_t contact_q(std::size_t i, std::size_t k) noexcept {
    return static_cast<std::uint16_t>(1000 * (k - i) / k);
}

// A small fast generator for choice_inputs::random (one per worker; not for secrets).
class xorshift64 {
public:
    explicit xorshift64(std::uint64_t seed) noexcept
        : _s(seed != 0 ? seed : 0x9e3779b97f4a7c15ULL) {}
    std::uint64_t next() noexcept {
        _s ^= _s << 13;
        _s ^= _s >> 7;
        _s ^= _s << 17;
        return _s * 0x2545f4914f6cdd1dULL;
    }

private:
    std::uint64_t _s;
};

} // namespace sipredir::balance
