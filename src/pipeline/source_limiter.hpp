// SPDX-License-Identifier: BSD-3-Clause
// Per-source token buckets, one table per worker, so that a flood from one source (or one
// IPv4/IPv6 prefix) cannot crowd out the others. The table is bounded: a set-associative array
// of 4-entry buckets (one cache line each) keyed by a keyed hash of the masked address; a new
// source takes the least recently seen entry of its bucket, so spraying many sources can only
// evict other entries (which then start again with a full burst), never grow memory or block.
// Allocated when the worker starts; admit() allocates nothing and makes no syscall.
#pragma once

#include <base/siphash.hpp>
#include <cstdint>
#include <memory>
#include <net/ip_address.hpp>
#include <vector>

namespace sipredir::pipeline {

struct ip_prefix {
    net::ip_address address;
    std::uint8_t length = 32;
    friend bool operator==(const ip_prefix&, const ip_prefix&) = default;
};

// True when `ip` lies in `p` (same family, first `length` bits equal).
bool in_prefix(const net::ip_address& ip, const ip_prefix& p) noexcept;

struct source_limit_settings {
    double rate = 0;               // requests per second per source; 0: no limit
    double burst = 0;              // bucket depth (requests)
    std::uint8_t ipv4_prefix = 32; // sources are counted per prefix of this length
    std::uint8_t ipv6_prefix = 64; // (a /64 is one IPv6 subscriber)
    std::uint32_t sources = 65536; // table entries per worker, a power of two >= 4
    bool reply_503 = false;        // excess: 503 + Retry-After instead of a silent drop
    std::uint32_t retry_after = 5; // seconds, on that 503
    std::vector<ip_prefix> allow;  // never limited
    friend bool operator==(const source_limit_settings&, const source_limit_settings&) = default;

    bool enabled() const noexcept { return rate > 0; }
};

class source_limiter {
public:
    source_limiter(const source_limit_settings& settings, const siphash_key& key);

    // One request from `source` at `now_ms` (a monotonic millisecond clock): true when its bucket
    // had a token (it is taken), or the source is allow-listed.
    bool admit(const net::ip_address& source, std::uint64_t now_ms) noexcept;

    // Sources currently holding an entry (tests, statistics).
    std::size_t tracked() const noexcept;

private:
    struct entry {
        std::uint64_t key = 0;     // keyed hash of the masked source, | 1; 0: free
        std::uint32_t seen_ms = 0; // last refill, low 32 bits of the clock (49 days)
        float tokens = 0;
    };
    static_assert(sizeof(entry) == 16);
    static constexpr std::size_t ways = 4; // entries per bucket: one 64-byte line

    source_limit_settings _settings; // fixed at construction
    siphash_key _key;                // so that nobody can aim sources at one bucket
    std::vector<entry> _entries;     // buckets of `ways`, owned by one worker
    std::size_t _bucket_mask = 0;
    float _per_ms = 0;
};

} // namespace sipredir::pipeline
