// SPDX-License-Identifier: BSD-3-Clause
// The pushed load report: one UDP datagram a backend, or sipredir-agent beside
// it, sends on its own, periodically. Version 1 is one line of text (docs/operations.md):
//
//   SRLR/1 backend=proxy-a seq=1732300000123456 ts=1732300000123 calls=40 capacity=100 mac=<hex>
//
// `load=<percent>` may stand for calls and capacity. `mac` comes last: HMAC-SHA-512-256
// (libsodium crypto_auth) of every byte before " mac=", under the backend's key, in 64 lower-case
// hex digits. seq must grow from one report to the next; ts is the sender's wall clock in ms.
#pragma once

#include "signed_text.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sipredir::control {

inline constexpr std::size_t report_key_size = signing_key_size;
inline constexpr std::size_t max_report_size = 512; // larger datagrams are malformed
inline constexpr std::size_t max_backend_name = 64;
using report_key = signing_key;

struct load_report {
    std::string_view backend; // a view into the datagram
    std::uint64_t seq = 0;
    std::uint64_t ts_ms = 0;
    std::optional<double> load_percent;
    std::optional<std::uint64_t> calls;
    std::optional<std::uint64_t> capacity;
    std::string_view signed_part; // what the MAC covers
    std::array<std::uint8_t, 32> mac{};

    // Utilisation (1.0 = full): calls / capacity when both are there, else load / 100.
    std::optional<double> utilisation() const noexcept;
};

// Parses one datagram; false when it is not a well-formed version 1 report. Never reads past
// the datagram, never allocates.
bool parse_report(std::string_view datagram, load_report& out) noexcept;

// True when the MAC is right for `key` (constant time).
bool report_authentic(const load_report& r, const report_key& key) noexcept;

struct report_fields {
    std::string backend;
    std::uint64_t seq = 0;
    std::uint64_t ts_ms = 0;
    std::optional<double> load_percent;
    std::optional<std::uint64_t> calls;
    std::optional<std::uint64_t> capacity;
};

// The datagram for `f`, signed with `key` (sipredir-agent, tests).
std::string write_report(const report_fields& f, const report_key& key);

// A key file: its first line, 64 hex digits (`head -c32 /dev/urandom | xxd -p -c64`).
struct key_file_result {
    std::optional<report_key> key;
    std::string error; // what is wrong, without the file name
};
key_file_result read_key_file(const std::string& path);
std::optional<report_key> parse_key_hex(std::string_view hex) noexcept;

} // namespace sipredir::control
