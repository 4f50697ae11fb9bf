// SPDX-License-Identifier: BSD-3-Clause
// A fixed-size log-linear histogram of non-negative integers (HdrHistogram's bucketing), for
// latencies in TSC ticks: recording is an index computation and an increment, never an
// allocation, so it can sit on a load generator's per-packet path.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace sipredir::loadgen {

// Values below 2^SubBits each have their own bucket; above, every power of two [2^k, 2^(k+1))
// is split into 2^SubBits equal buckets, so a bucket is at most 2^-SubBits of its values wide
// (SubBits = 7: under 0.8 %). Values from 2^MaxBits up are clamped into the last bucket and
// counted as overflow. max() is exact; percentiles are a bucket's highest value.
template <unsigned SubBits, unsigned MaxBits> class log_linear_histogram {
    static_assert(SubBits >= 1 && SubBits < MaxBits && MaxBits <= 63);

public:
    static constexpr std::uint64_t sub_count = std::uint64_t{1} << SubBits;
    static constexpr std::size_t bucket_count = (MaxBits - SubBits + 1) * sub_count;
    static constexpr std::uint64_t max_trackable = (std::uint64_t{1} << MaxBits) - 1;

    // The bucket holding `v` (clamped to max_trackable).
    static constexpr std::size_t index_of(std::uint64_t v) noexcept {
        v = std::min(v, max_trackable);
        if (v < sub_count) {
            return static_cast<std::size_t>(v);
        }
        const unsigned shift = static_cast<unsigned>(std::bit_width(v)) - 1 - SubBits;
        return static_cast<std::size_t>(((shift + 1) << SubBits) | ((v >> shift) - sub_count));
    }

    // The smallest and the largest value bucket `i` (< bucket_count) holds.
    static constexpr std::uint64_t lowest_of(std::size_t i) noexcept {
        if (i < sub_count) {
            return i;
        }
        const unsigned shift = static_cast<unsigned>(i >> SubBits) - 1;
        return (sub_count + (i & (sub_count - 1))) << shift;
    }
    static constexpr std::uint64_t highest_of(std::size_t i) noexcept {
        if (i < sub_count) {
            return i;
        }
        const unsigned shift = static_cast<unsigned>(i >> SubBits) - 1;
        return lowest_of(i) + (std::uint64_t{1} << shift) - 1;
    }

    void record(std::uint64_t v) noexcept {
        ++_counts[index_of(v)];
        _overflow += v > max_trackable;
        v = std::min(v, max_trackable);
        _min = _total == 0 ? v : std::min(_min, v);
        _max = std::max(_max, v);
        _sum += v;
        ++_total;
    }

    void reset() noexcept { *this = log_linear_histogram{}; }

    std::uint64_t count() const noexcept { return _total; }
    std::uint64_t overflow() const noexcept { return _overflow; }
    std::uint64_t min() const noexcept { return _min; }
    std::uint64_t max() const noexcept { return _max; }
    double mean() const noexcept {
        return _total == 0 ? 0 : static_cast<double>(_sum) / static_cast<double>(_total);
    }

    // The value at quantile q (0 <= q <= 1): the highest value of the bucket that holds the
    // ceil(q * count())-th smallest value (at least the first), never above max(); 0 when empty.
    // So the true quantile is at most this and at least this less 2^-SubBits of it.
    std::uint64_t value_at(double q) const noexcept {
        if (_total == 0) {
            return 0;
        }
        const double exact = std::clamp(q, 0.0, 1.0) * static_cast<double>(_total);
        // The tolerance keeps a product such as 0.999 * 1000 = 999.0000000000001 at rank 999.
        auto rank = static_cast<std::uint64_t>(std::ceil(exact - exact * 1e-12));
        rank = std::clamp<std::uint64_t>(rank, 1, _total);
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < bucket_count; ++i) {
            seen += _counts[i];
            if (seen >= rank) {
                return std::min(highest_of(i), _max);
            }
        }
        return _max;
    }

private:
    std::array<std::uint64_t, bucket_count> _counts{};
    std::uint64_t _total = 0;
    std::uint64_t _overflow = 0;
    std::uint64_t _min = 0;
    std::uint64_t _max = 0;
    std::uint64_t _sum = 0;
};

// Latencies in TSC ticks: exact below 128 ticks, within 0.8 % above, up to 2^40 ticks (minutes
// at any TSC rate). 35 KiB.
using latency_histogram = log_linear_histogram<7, 40>;

} // namespace sipredir::loadgen
