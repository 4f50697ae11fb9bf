// SPDX-License-Identifier: BSD-3-Clause
#include "source_limiter.hpp"

#include <algorithm>

namespace sipredir::pipeline {

bool in_prefix(const net::ip_address& ip, const ip_prefix& p) noexcept {
    if (ip.family != p.address.family) {
        return false;
    }
    const std::size_t whole = p.length / 8;
    for (std::size_t i = 0; i < whole; ++i) {
        if (ip.bytes[i] != p.address.bytes[i]) {
            return false;
        }
    }
    const unsigned rest = p.length % 8;
    if (rest == 0) {
        return true;
    }
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (ip.bytes[whole] & mask) == (p.address.bytes[whole] & mask);
}

source_limiter::source_limiter(const source_limit_settings& settings, const siphash_key& key)
    : _settings(settings), _key(key) {
    const std::size_t size = std::max<std::size_t>(ways, settings.sources);
    _entries.resize(size);
    _bucket_mask = size / ways - 1;
    _per_ms = static_cast<float>(settings.rate / 1000.0);
}

bool source_limiter::admit(const net::ip_address& source, std::uint64_t now_ms) noexcept {
    if (!_settings.enabled()) {
        return true;
    }
    for (const ip_prefix& p : _settings.allow) {
        if (in_prefix(source, p)) {
            return true;
        }
    }
    // The source's prefix, as bytes with the host part zeroed.
    const bool v4 = source.family == net::ip_family::v4;
    const std::uint8_t length = v4 ? _settings.ipv4_prefix : _settings.ipv6_prefix;
    std::array<std::uint8_t, 17> masked{};
    masked[0] = v4 ? 4 : 6;
    for (std::size_t i = 0; i < source.size(); ++i) {
        const int bits = std::clamp(static_cast<int>(length) - static_cast<int>(i) * 8, 0, 8);
        masked[i + 1] = static_cast<std::uint8_t>(source.bytes[i] & (0xff00 >> bits));
    }
    siphash24 h(_key);
    h.update(masked.data(), source.size() + 1);
    const std::uint64_t key = h.finish() | 1;

    const auto now = static_cast<std::uint32_t>(now_ms);
    entry* bucket = &_entries[(key >> 32 & _bucket_mask) * ways];
    entry* e = nullptr;
    entry* oldest = bucket;
    for (std::size_t w = 0; w < ways; ++w) {
        if (bucket[w].key == key) {
            e = &bucket[w];
            break;
        }
        if (bucket[w].key == 0) {
            oldest = &bucket[w]; // a free entry is the best to take
            break;
        }
        if (static_cast<std::uint32_t>(now - bucket[w].seen_ms)
            > static_cast<std::uint32_t>(now - oldest->seen_ms)) {
            oldest = &bucket[w];
        }
    }
    if (e == nullptr) {
        e = oldest; // a new source, or evicting the least recently seen: a full bucket
        e->key = key;
        e->seen_ms = now;
        e->tokens = static_cast<float>(_settings.burst);
    } else {
        const std::uint32_t elapsed = now - e->seen_ms; // wraps correctly within 49 days
        e->tokens = std::min(
                static_cast<float>(_settings.burst),
                e->tokens + static_cast<float>(elapsed) * _per_ms
        );
        e->seen_ms = now;
    }
    if (e->tokens >= 1) {
        e->tokens -= 1;
        return true;
    }
    return false;
}

std::size_t source_limiter::tracked() const noexcept {
    return static_cast<std::size_t>(std::count_if(
            _entries.begin(), _entries.end(), [](const entry& e) { return e.key != 0; }
    ));
}

} // namespace sipredir::pipeline
