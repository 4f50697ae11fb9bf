// SPDX-License-Identifier: BSD-3-Clause
#include "tables.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

namespace sipredir::balance {

alias_table build_alias_table(std::span<const double> weights) {
    alias_table t;
    double sum = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        if (weights[i] > 0) {
            t.index.push_back(static_cast<std::uint16_t>(i));
            sum += weights[i];
        }
    }
    const std::size_t n = t.index.size();
    if (n == 0) {
        return t;
    }
    // Vose: scaled probabilities p_i * n; columns below 1 are "small", the rest "large".
    std::vector<double> scaled(n);
    std::vector<std::size_t> small;
    std::vector<std::size_t> large;
    for (std::size_t c = 0; c < n; ++c) {
        scaled[c] = weights[t.index[c]] * static_cast<double>(n) / sum;
        (scaled[c] < 1.0 ? small : large).push_back(c);
    }
    t.threshold.assign(n, 0);
    t.alias.assign(n, 0);
    while (!small.empty() && !large.empty()) {
        const std::size_t s = small.back();
        small.pop_back();
        const std::size_t l = large.back();
        t.threshold[s] = static_cast<std::uint32_t>(std::ldexp(scaled[s], 32));
        t.alias[s] = t.index[l];
        scaled[l] -= 1.0 - scaled[s];
        if (scaled[l] < 1.0) {
            large.pop_back();
            small.push_back(l);
        }
    }
    // What remains is 1 up to rounding: always keep.
    for (std::size_t c : large) {
        t.threshold[c] = UINT32_MAX;
        t.alias[c] = t.index[c];
    }
    for (std::size_t c : small) {
        t.threshold[c] = UINT32_MAX;
        t.alias[c] = t.index[c];
    }
    return t;
}

std::vector<std::uint16_t>
build_swrr_cycle(std::span<const std::uint32_t> weights, std::size_t max_cycle) {
    std::vector<std::uint64_t> w(weights.begin(), weights.end());
    std::uint64_t total = std::accumulate(w.begin(), w.end(), std::uint64_t{0});
    if (total == 0) {
        return {};
    }
    // Divide by the common divisor, then scale down (keeping every non-zero weight >= 1) until
    // the cycle fits.
    std::uint64_t g = 0;
    for (std::uint64_t x : w) {
        g = std::gcd(g, x);
    }
    for (auto& x : w) {
        x /= g;
    }
    total /= g;
    if (total > max_cycle) {
        const double f = static_cast<double>(max_cycle) / static_cast<double>(total);
        total = 0;
        for (auto& x : w) {
            x = x == 0 ? 0 : std::max<std::uint64_t>(1, static_cast<std::uint64_t>(x * f));
            total += x;
        }
    }
    // nginx: each pick adds every weight to its current value, takes the largest, subtracts the
    // total from it. Over `total` picks each index appears exactly its weight times, spread out.
    std::vector<std::int64_t> current(w.size(), 0);
    std::vector<std::uint16_t> cycle;
    cycle.reserve(total);
    for (std::uint64_t pick = 0; pick < total; ++pick) {
        std::size_t best = 0;
        for (std::size_t i = 0; i < w.size(); ++i) {
            current[i] += static_cast<std::int64_t>(w[i]);
            if (current[i] > current[best]) {
                best = i;
            }
        }
        current[best] -= static_cast<std::int64_t>(total);
        cycle.push_back(static_cast<std::uint16_t>(best));
    }
    return cycle;
}

namespace {

// SplitMix64 finaliser: a good 64-bit mix for offsets and skips.
std::uint64_t mix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

} // namespace

std::vector<std::uint16_t>
build_maglev_table(std::span<const std::uint64_t> ids, std::size_t size) {
    const std::vector<std::uint32_t> equal(ids.size(), 1);
    return build_maglev_table(ids, equal, size);
}

std::vector<std::uint16_t> build_maglev_table(
        std::span<const std::uint64_t> ids, std::span<const std::uint32_t> weights, std::size_t size
) {
    const std::size_t n = ids.size();
    assert(weights.size() == n);
    const std::uint32_t heaviest = n == 0 ? 0 : *std::max_element(weights.begin(), weights.end());
    if (heaviest == 0) {
        return {};
    }
    // Contested entries go to whoever reaches them first, so the turns must not follow the
    // caller's order (a configuration file's): ascending id gives every appliance, and every
    // reload, the same table for the same backends.
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return ids[a] < ids[b];
    });
    constexpr std::uint16_t empty = UINT16_MAX;
    std::vector<std::uint16_t> table(size, empty);
    std::vector<std::uint64_t> offset(n);
    std::vector<std::uint64_t> skip(n);
    std::vector<std::uint64_t> next(n, 0);
    std::vector<std::uint64_t> credit(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        offset[i] = mix64(ids[i]) % size;
        skip[i] = mix64(ids[i] ^ 0x5bd1e9955bd1e995ULL) % (size - 1) + 1;
    }
    // Each round every backend earns its weight; one with `heaviest` earned claims its next
    // preferred free entry (Katran's MaglevHashV2). Equal weights: every backend every round,
    // which is the paper's table.
    std::size_t filled = 0;
    while (true) {
        for (const std::size_t i : order) {
            credit[i] += weights[i];
            if (credit[i] < heaviest) {
                continue;
            }
            credit[i] -= heaviest;
            std::uint64_t c = (offset[i] + next[i] * skip[i]) % size;
            while (table[c] != empty) {
                ++next[i];
                c = (offset[i] + next[i] * skip[i]) % size;
            }
            table[c] = static_cast<std::uint16_t>(i);
            ++next[i];
            if (++filled == size) {
                return table;
            }
        }
    }
}

} // namespace sipredir::balance
