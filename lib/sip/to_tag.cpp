// SPDX-License-Identifier: BSD-3-Clause
#include "to_tag.hpp"

namespace sipredir::sip {

std::uint64_t to_tag_digest(const siphash_key& key, const message_view& m) noexcept {
    siphash13 h(key);
    constexpr char separator = 0;
    h.update(m.call_id);
    h.update(&separator, 1);
    h.update(m.from.tag);
    h.update(&separator, 1);
    h.update(m.via_count > 0 ? m.top_via.branch : std::string_view{});
    return h.finish();
}

std::array<char, to_tag_size> render_to_tag(std::uint64_t v) noexcept {
    std::array<char, to_tag_size> tag;
    constexpr char hex[] = "0123456789abcdef";
    for (std::size_t i = tag.size(); i-- > 0; v >>= 4) {
        tag[i] = hex[v & 0xf];
    }
    return tag;
}

} // namespace sipredir::sip
