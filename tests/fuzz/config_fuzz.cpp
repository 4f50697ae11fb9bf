// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target: any text as a configuration file, rules included (compiled by Hyperscan).
// Invariants: no crash, hang or UB; either a configuration or an error that starts with
// "file:line: " (the file it came from, a line number).
#include "require.hpp"

#include <control/config.hpp>
#include <string>
#include <string_view>

using namespace sipredir;
using namespace sipredir::control;

namespace {

using sipredir::fuzz::require;

bool starts_with_file_and_line(const std::string& message, std::string_view file) {
    if (message.rfind(file, 0) != 0 || message.size() <= file.size()
        || message[file.size()] != ':') {
        return false;
    }
    std::size_t i = file.size() + 1;
    const std::size_t digits = i;
    while (i < message.size() && message[i] >= '0' && message[i] <= '9') {
        ++i;
    }
    return i > digits && message.compare(i, 2, ": ") == 0;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // A directory that does not exist: relative rules or key files name nothing readable.
    const std::string source = "/nonexistent-sipredir-fuzz/fuzz.toml";
    const config_result r = parse_config(text, source);
    if (r.config) {
        require(r.error.message.empty());
        require(!r.config->pools.empty() && r.config->pool_index < r.config->pools.size());
        require(r.config->rules != nullptr);
        for (const rules::rule& rule : r.config->rules->rules()) {
            require(rule.then != rules::action::route || rule.pool < r.config->pools.size());
        }
        return 0;
    }
    // Errors in a file the configuration names (an absolute rules or key file) name that file.
    const std::string& e = r.error.message;
    require(starts_with_file_and_line(e, source) || (!e.empty() && e.front() == '/'));
    return 0;
}
