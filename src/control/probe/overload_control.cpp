// SPDX-License-Identifier: BSD-3-Clause
#include "overload_control.hpp"

#include <charconv>
#include <sip/chars.hpp>
#include <string_view>

namespace sipredir::control {

namespace {

template <typename T> bool whole_number(std::string_view s, T& out) noexcept {
    if (s.empty()) {
        return false;
    }
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size();
}

// oc-seq = 1*12DIGIT "." 1*5DIGIT (a timestamp); compared as a number.
bool sequence_number(std::string_view s, double& out) noexcept {
    if (s.empty() || s.size() > 18 || s.front() == '-' || s.front() == '+') {
        return false;
    }
    const auto [end, ec] =
            std::from_chars(s.data(), s.data() + s.size(), out, std::chars_format::fixed);
    return ec == std::errc{} && end == s.data() + s.size();
}

bool is_loss(std::string_view algo) noexcept {
    // The server names the one algorithm it chose; absent means the default, loss.
    if (algo.empty()) {
        return true;
    }
    if (algo.size() >= 2 && algo.front() == '"' && algo.back() == '"') {
        algo = algo.substr(1, algo.size() - 2);
    }
    return sip::iequals(algo, "loss");
}

} // namespace

void take_overload(overload_state& s, const sip::via_top& via, std::int64_t now_ns) noexcept {
    // A bare `oc` is our own offer coming back: this backend does not do overload control.
    if (!via.has_oc || via.oc.empty()) {
        return;
    }
    unsigned reduction = 0;
    std::int64_t validity_ms = default_oc_validity_ms;
    double seq = -1;
    if (!whole_number(via.oc, reduction) || reduction > 100 || !is_loss(via.oc_algo)
        || (!via.oc_validity.empty()
            && (!whole_number(via.oc_validity, validity_ms) || validity_ms < 0))
        || (!via.oc_seq.empty() && !sequence_number(via.oc_seq, seq))) {
        ++s.ignored;
        return;
    }
    if (!via.oc_seq.empty()) {
        if (seq <= s.seq) {
            ++s.ignored; // reordered or repeated: an older request than the one in force
            return;
        }
        s.seq = seq;
    }
    ++s.updates;
    // oc-validity=0 ends overload control at once (RFC 7339 §5.2).
    s.reduction = validity_ms == 0 ? 0 : reduction;
    s.valid_until_ns = now_ns + validity_ms * 1'000'000;
}

double reduction_at(const overload_state& s, std::int64_t now_ns) noexcept {
    return now_ns < s.valid_until_ns ? s.reduction : 0;
}

} // namespace sipredir::control
