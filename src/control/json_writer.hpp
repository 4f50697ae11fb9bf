// SPDX-License-Identifier: BSD-3-Clause
// A small JSON writer for the reports the control plane prints and serves (stats, backends,
// query): objects of numbers, booleans and strings, indented for people to read too.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace sipredir::control {

// A JSON string: quotes, backslashes and control characters escaped.
inline std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

class object_writer {
public:
    explicit object_writer(std::string& out, int indent) : _out(out), _indent(indent) {
        _out += "{";
    }
    void field(std::string_view name, std::uint64_t v) { key(name) += std::to_string(v); }
    void field(std::string_view name, double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.6f", v); // microseconds: busy time on a short run
        key(name) += buf;
    }
    void field(std::string_view name, bool v) { key(name) += v ? "true" : "false"; }
    void field(std::string_view name, std::string_view v) { key(name) += quoted(v); }
    void field(std::string_view name, const char* v) { key(name) += quoted(v); }
    std::string& key(std::string_view name) {
        _out += _first ? "\n" : ",\n";
        _first = false;
        _out.append(static_cast<std::size_t>(_indent + 2), ' ');
        _out += quoted(name) + ": ";
        return _out;
    }
    void close() {
        _out += "\n";
        _out.append(static_cast<std::size_t>(_indent), ' ');
        _out += "}";
    }

private:
    std::string& _out;
    int _indent;
    bool _first = true;
};

} // namespace sipredir::control
