// SPDX-License-Identifier: BSD-3-Clause
// Backends changed through the management API (what Kamailio's dispatcher.add, .remove and
// .set_state give): added, removed, or with a key set (weight, capacity, threshold, state,
// priority, ...). The changes are kept as an overlay on the configuration file, applied to its
// TOML before the file is read, so a change is checked by exactly the readers that check the
// file, and a start or a reload applies the same overlay again. The overlay is persisted as JSON
// in [management] state_file.
#pragma once

#include <toml++/toml.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipredir::control {

struct runtime_changes {
    // Keys set on a backend of the file (or on an added one), by backend name.
    std::map<std::string, std::map<std::string, nlohmann::json>> set;
    // Backends added: each a [[backend]] table as JSON, with "pools", the pools it joins.
    std::vector<nlohmann::json> added;
    // Backends of the file removed (from [[backend]] and from every pool).
    std::vector<std::string> removed;

    bool empty() const noexcept { return set.empty() && added.empty() && removed.empty(); }
};

// The overlay from its JSON text; false with `error` when the text is not one.
bool parse_runtime_changes(std::string_view text, runtime_changes& out, std::string& error);
std::string runtime_changes_json(const runtime_changes& c);

// One change from the operator's words, into `c`:
//   set NAME KEY=VALUE...                       weight=3 capacity=200 threshold=0.8 state=down
//   add NAME address=ADDR pools=P1,P2 [KEY=VALUE...]
//   remove NAME
// Values that read as integers or decimals are numbers, the rest text. "" when it went in,
// else what is wrong with the words (the configuration readers judge the result).
std::string edit_runtime_changes(runtime_changes& c, std::string_view words);

// The overlay persisted at `path` (empty when the file does not exist yet); "" or what is wrong.
std::string read_runtime_state(const std::string& path, runtime_changes& out);
// Writes the overlay to `path` whole or not at all (a new file renamed over the old); "" or
// what is wrong.
std::string write_runtime_state(const std::string& path, const runtime_changes& c);

// The verb (set, add, remove) and the backend name of a change's words ("" when missing).
std::pair<std::string, std::string> change_target(std::string_view words);

// Applies to a configuration's TOML, before it is read, the overlay it runs with: `candidate`
// when given (a change being tried), else the one in the file its [management] state_file
// names (none while that file does not exist). "" or what is wrong, naming the state file.
std::string apply_overlay(toml::table& root, const runtime_changes* candidate);

// Applies the overlay to a configuration's TOML before it is read. A removal or a change of a
// backend the file no longer has is moot (the file caught up), not an error; an addition to a
// pool the file no longer has is. Returns "" or what does not apply.
std::string apply_runtime_changes(const runtime_changes& c, toml::table& root);

} // namespace sipredir::control
