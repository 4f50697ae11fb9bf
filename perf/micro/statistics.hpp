// SPDX-License-Identifier: BSD-3-Clause
// Seastar's columns for Google Benchmark repetitions: min, max and the median absolute deviation
// beside the median the library already reports.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace sipredir::perf {

inline double min_of(const std::vector<double>& v) {
    return *std::min_element(v.begin(), v.end());
}

inline double max_of(const std::vector<double>& v) {
    return *std::max_element(v.begin(), v.end());
}

inline double median_of(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

inline double mad_of(const std::vector<double>& v) {
    const double m = median_of(v);
    std::vector<double> d;
    for (double x : v) {
        d.push_back(std::abs(x - m));
    }
    return median_of(d);
}

inline void add_statistics(benchmark::internal::Benchmark* b) {
    b->ComputeStatistics("min", min_of)->ComputeStatistics("max", max_of);
    b->ComputeStatistics("mad", mad_of);
}

} // namespace sipredir::perf
