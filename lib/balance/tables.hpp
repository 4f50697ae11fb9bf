// SPDX-License-Identifier: BSD-3-Clause
// Lookup tables the control plane builds once per snapshot so that a worker's choice is O(1):
// Vose's alias table (proportional), the smooth weighted round-robin cycle (wrr) and Maglev's
// permutation table (hash). Pure functions, no I/O, no clock (Katran's MaglevHash shape).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace sipredir::balance {

// Vose's alias method: draw i with probability weights[i] / sum in O(1) from one 64-bit random.
struct alias_table {
    std::vector<std::uint32_t> threshold; // out of 2^32: keep column i below it, else alias[i]
    std::vector<std::uint16_t> alias;
    std::vector<std::uint16_t> index; // column -> caller's index (only weights > 0 get one)

    bool empty() const noexcept { return index.empty(); }
    std::uint16_t draw(std::uint64_t random) const noexcept {
        // high half picks the column (multiply-shift, no modulo bias worth a branch), low half
        // the coin.
        const auto column = static_cast<std::size_t>(((random >> 32) * index.size()) >> 32);
        const bool keep = static_cast<std::uint32_t>(random) < threshold[column];
        return keep ? index[column] : alias[column];
    }
};

// Zero and negative weights are left out; all zero gives an empty table.
alias_table build_alias_table(std::span<const double> weights);

// The smooth weighted round-robin order (nginx's algorithm) of indices 0..n-1 over one full
// cycle of sum(weights) picks; each weight is first scaled so the cycle has at most `max_cycle`
// entries. Zero weights never appear.
std::vector<std::uint16_t>
build_swrr_cycle(std::span<const std::uint32_t> weights, std::size_t max_cycle = 4096);

// Maglev (Eisenbud et al., NSDI 2016, §3.4): a table of `size` entries (a prime) where each of
// the backends named by `ids` owns an equal share ±1; removing one moves only its entries plus a
// small fraction. Entries are indices into `ids`; empty `ids` gives an empty table.
std::vector<std::uint16_t>
build_maglev_table(std::span<const std::uint64_t> ids, std::size_t size = 65537);

// Weighted Maglev: as above, but backend i takes a turn at filling in proportion to weights[i]
// (the heaviest one every round), so it owns about weights[i] / sum of the entries; a zero
// weight owns none, and all zero gives an empty table. Backends take their turns in ascending
// id, so the table maps each id to the same entries whatever the order of `ids` (equal ids:
// a caller's error; they take turns in the given order). Adding a backend takes about its share,
// mostly from the others' last-claimed entries; removing one frees only its own.
std::vector<std::uint16_t> build_maglev_table(
        std::span<const std::uint64_t> ids,
        std::span<const std::uint32_t> weights,
        std::size_t size = 65537
);

} // namespace sipredir::balance
