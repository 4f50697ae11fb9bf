// SPDX-License-Identifier: BSD-3-Clause
#include "to_tag.hpp"

#include <cstring>

namespace sipredir::sip {

std::uint64_t to_tag_digest(const siphash_key& key, const message_view& m) noexcept {
    const std::string_view branch = m.via_count > 0 ? m.top_via.branch : std::string_view{};
    siphash13 h(key);
    // The usual fields (about 80 octets) are put together on the stack and hashed in one call:
    // whole blocks, no pending-block bookkeeping between fields. Longer ones are streamed.
    char joined[256];
    const std::size_t size = m.call_id.size() + m.from.tag.size() + branch.size() + 2;
    if (size <= sizeof joined) {
        // An absent field is an empty view whose data() may be null: memcpy must not see it.
        const auto append = [](char* p, std::string_view field) noexcept {
            if (!field.empty()) {
                std::memcpy(p, field.data(), field.size());
            }
            return p + field.size();
        };
        char* p = append(joined, m.call_id);
        *p++ = 0;
        p = append(p, m.from.tag);
        *p++ = 0;
        append(p, branch);
        h.update(joined, size);
        return h.finish();
    }
    constexpr char separator = 0;
    h.update(m.call_id);
    h.update(&separator, 1);
    h.update(m.from.tag);
    h.update(&separator, 1);
    h.update(branch);
    return h.finish();
}

std::array<char, to_tag_size> render_to_tag(std::uint64_t v) noexcept {
    // Two digits per octet from a table of all 256.
    static constexpr auto pairs = [] {
        std::array<char, 512> t{};
        constexpr char hex[] = "0123456789abcdef";
        for (std::size_t i = 0; i < 256; ++i) {
            t[2 * i] = hex[i >> 4];
            t[2 * i + 1] = hex[i & 0xf];
        }
        return t;
    }();
    std::array<char, to_tag_size> tag;
    for (std::size_t i = tag.size(); i > 0; i -= 2, v >>= 8) {
        std::memcpy(&tag[i - 2], &pairs[2 * (v & 0xff)], 2);
    }
    return tag;
}

} // namespace sipredir::sip
