// SPDX-License-Identifier: BSD-3-Clause
#include "probe_share.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <string>

namespace sipredir::control::fleet {

namespace {
constexpr std::string_view weight_key = "sipredir-probers";
static_assert(weight_key.size() == crypto_shorthash_KEYBYTES);
} // namespace

std::uint64_t probe_weight(std::string_view backend, std::string_view member) noexcept {
    // Names are at most 64 bytes (valid_name); longer ones are cut, which only costs spread.
    std::array<unsigned char, 130> in{};
    const std::size_t b = std::min<std::size_t>(backend.size(), 64);
    const std::size_t m = std::min<std::size_t>(member.size(), 64);
    std::copy_n(backend.begin(), b, in.begin());
    in[b] = 0;
    std::copy_n(member.begin(), m, in.begin() + static_cast<std::ptrdiff_t>(b + 1));
    std::array<unsigned char, crypto_shorthash_BYTES> out{};
    crypto_shorthash(
            out.data(),
            in.data(),
            b + 1 + m,
            reinterpret_cast<const unsigned char*>(weight_key.data())
    );
    std::uint64_t w = 0;
    for (std::size_t i = out.size(); i-- > 0;) {
        w = (w << 8) | out[i];
    }
    return w;
}

std::vector<std::string_view>
probers_of(std::string_view backend, std::span<const std::string_view> members, std::size_t k) {
    std::vector<std::pair<std::uint64_t, std::string_view>> ranked;
    ranked.reserve(members.size());
    for (std::string_view m : members) {
        ranked.emplace_back(probe_weight(backend, m), m);
    }
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    const std::size_t n = k == 0 ? ranked.size() : std::min(k, ranked.size());
    std::vector<std::string_view> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(ranked[i].second);
    }
    return out;
}

bool probes(
        std::string_view backend,
        std::string_view self,
        std::span<const std::string_view> members,
        std::size_t k
) {
    const std::vector<std::string_view> p = probers_of(backend, members, k);
    return std::find(p.begin(), p.end(), self) != p.end();
}

} // namespace sipredir::control::fleet
