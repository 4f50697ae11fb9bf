// SPDX-License-Identifier: BSD-3-Clause
#include "load_report.hpp"

#include <sodium.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fcntl.h>
#include <net/bytes.hpp>
#include <sys/stat.h>
#include <unistd.h>

namespace sipredir::control {

static_assert(report_key_size == crypto_auth_KEYBYTES);
static_assert(sizeof(load_report::mac) == crypto_auth_BYTES);

namespace {

constexpr std::string_view magic = "SRLR/1 ";

bool read_percent(std::string_view s, double& out) noexcept {
    if (s.empty() || s.size() > 12 || s.front() == '-' || s.front() == '+') {
        return false;
    }
    const auto [p, ec] =
            std::from_chars(s.data(), s.data() + s.size(), out, std::chars_format::fixed);
    return ec == std::errc{} && p == s.data() + s.size() && out >= 0 && out <= 1000;
}

} // namespace

std::optional<double> load_report::utilisation() const noexcept {
    if (calls && capacity && *capacity > 0) {
        return static_cast<double>(*calls) / static_cast<double>(*capacity);
    }
    if (load_percent) {
        return *load_percent / 100.0;
    }
    return std::nullopt;
}

bool parse_report(std::string_view d, load_report& out) noexcept {
    out = load_report{};
    signed_line line;
    if (!split_signed_line(d, magic, max_report_size, line)) {
        return false;
    }
    out.signed_part = line.signed_part;
    out.mac = line.mac;
    std::string_view rest = line.fields;
    bool has_seq = false;
    bool has_ts = false;
    while (!rest.empty()) {
        std::string_view key;
        std::string_view value;
        if (!next_field(rest, key, value)) {
            return false;
        }
        std::uint64_t n = 0;
        double percent = 0;
        if (key == "backend" && out.backend.empty() && valid_name(value)) {
            out.backend = value;
        } else if (key == "seq" && !has_seq && read_u64_field(value, out.seq)) {
            has_seq = true;
        } else if (key == "ts" && !has_ts && read_u64_field(value, out.ts_ms)) {
            has_ts = true;
        } else if (key == "load" && !out.load_percent && read_percent(value, percent)) {
            out.load_percent = percent;
        } else if (key == "calls" && !out.calls && read_u64_field(value, n)) {
            out.calls = n;
        } else if (key == "capacity" && !out.capacity && read_u64_field(value, n) && n > 0) {
            out.capacity = n;
        } else {
            return false; // unknown, repeated or unreadable: version 1 has nothing optional else
        }
    }
    return !out.backend.empty() && has_seq && has_ts && out.utilisation().has_value();
}

bool report_authentic(const load_report& r, const report_key& key) noexcept {
    return signature_valid({.fields = {}, .signed_part = r.signed_part, .mac = r.mac}, key);
}

std::string write_report(const report_fields& f, const report_key& key) {
    std::string s(magic);
    s += "backend=" + f.backend + " seq=" + std::to_string(f.seq)
         + " ts=" + std::to_string(f.ts_ms);
    if (f.calls) {
        s += " calls=" + std::to_string(*f.calls);
    }
    if (f.capacity) {
        s += " capacity=" + std::to_string(*f.capacity);
    }
    if (f.load_percent) {
        char text[32];
        std::snprintf(text, sizeof text, "%.2f", *f.load_percent);
        s += " load=";
        s += text;
    }
    sign_line(s, key);
    return s;
}

std::optional<report_key> parse_key_hex(std::string_view hex) noexcept {
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) {
        hex.remove_suffix(1);
    }
    report_key k{};
    if (!read_hex_bytes(hex, k)) {
        return std::nullopt;
    }
    return k;
}

key_file_result read_key_file(const std::string& path) {
    key_file_result r;
    // O_NOFOLLOW: a link planted in place of the key cannot make us read (and trust) another
    // file; fstat then judges the file we hold open, not whatever the name points at later.
    // O_NONBLOCK: opening a FIFO must not hang the load.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        r.error =
                "the key file '" + path + "' "
                + (errno == ELOOP ? "is a symbolic link (give the file itself)" : "cannot be read");
        return r;
    }
    struct stat st {};
    std::string text;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        r.error = "the key file '" + path + "' is not a regular file";
    } else if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        // A key others can read is a key anyone on the host may sign with.
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        r.error = "the key file '" + path + "' is open to group or others (mode " + mode
                  + "): chmod 600 it";
    } else {
        char buf[4097];
        ssize_t got = 0;
        std::size_t size = 0;
        while (size < sizeof buf && (got = ::read(fd, buf + size, sizeof buf - size)) > 0) {
            size += static_cast<std::size_t>(got);
        }
        if (got < 0) {
            r.error = "the key file '" + path + "' cannot be read";
        } else if (size == sizeof buf) {
            r.error = "the key file '" + path + "' is larger than 4096 bytes";
        } else {
            text.assign(buf, size);
        }
    }
    ::close(fd);
    if (!r.error.empty()) {
        return r;
    }
    r.key = parse_key_hex(text.substr(0, text.find('\n')));
    if (!r.key) {
        r.error = "the key file '" + path + "' must hold 64 hex digits on its first line";
    }
    return r;
}

} // namespace sipredir::control
