// SPDX-License-Identifier: BSD-3-Clause
#include "runtime_changes.hpp"

#include "file_text.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <span>
#include <unistd.h>

namespace sipredir::control {

namespace {

using nlohmann::json;

std::vector<std::string_view> words_of(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        const std::size_t start = text.find_first_not_of(" \t");
        if (start == std::string_view::npos) {
            break;
        }
        const std::size_t end = text.find_first_of(" \t", start);
        out.push_back(text.substr(start, end - start));
        text = end == std::string_view::npos ? std::string_view() : text.substr(end);
    }
    return out;
}

// "3" and "-2" are integers, "0.8" a decimal, anything else text.
json value_of(std::string_view text) {
    std::int64_t i = 0;
    const char* end = text.data() + text.size();
    if (!text.empty() && std::from_chars(text.data(), end, i).ptr == end) {
        return i;
    }
    double d = 0;
    if (!text.empty() && std::from_chars(text.data(), end, d).ptr == end) {
        return d;
    }
    return std::string(text);
}

// KEY=VALUE words into `out`; "" or what is wrong.
std::string read_pairs(std::span<const std::string_view> words, std::map<std::string, json>& out) {
    for (const std::string_view w : words) {
        const std::size_t eq = w.find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == w.size()) {
            return "expected KEY=VALUE, got '" + std::string(w) + "'";
        }
        const std::string key(w.substr(0, eq));
        if (key == "name") {
            return "a backend's name cannot change: remove it and add it again";
        }
        out[key] = value_of(w.substr(eq + 1));
    }
    return "";
}

json* added_named(runtime_changes& c, std::string_view name) {
    for (json& b : c.added) {
        if (b.value("name", "") == name) {
            return &b;
        }
    }
    return nullptr;
}

std::string add(runtime_changes& c, std::string_view name, std::span<const std::string_view> rest) {
    if (added_named(c, name) != nullptr) {
        return "backend '" + std::string(name) + "' was added already";
    }
    std::map<std::string, json> pairs;
    if (std::string e = read_pairs(rest, pairs); !e.empty()) {
        return e;
    }
    if (!pairs.contains("address") || !pairs.contains("pools")) {
        return "add needs address=ADDR and pools=POOL[,POOL...]";
    }
    json b = json::object();
    b["name"] = std::string(name);
    // Numbers stay numbers (weight=3), as the file would have them; an address is text.
    for (const auto& [key, value] : pairs) {
        if (key != "pools") {
            b[key] = value;
        }
    }
    if (!b["address"].is_string()) {
        b["address"] = b["address"].dump();
    }
    json pools = json::array();
    const std::string list =
            pairs["pools"].is_string() ? pairs["pools"].get<std::string>() : pairs["pools"].dump();
    for (std::size_t at = 0; at <= list.size();) {
        const std::size_t comma = std::min(list.find(',', at), list.size());
        if (comma > at) {
            pools.push_back(list.substr(at, comma - at));
        }
        at = comma + 1;
    }
    b["pools"] = pools;
    c.added.push_back(std::move(b));
    return "";
}

std::string remove(runtime_changes& c, std::string_view name) {
    const auto it = std::find_if(c.added.begin(), c.added.end(), [&](const json& b) {
        return b.value("name", "") == name;
    });
    if (it != c.added.end()) {
        c.added.erase(it);
    } else if (std::find(c.removed.begin(), c.removed.end(), name) == c.removed.end()) {
        c.removed.emplace_back(name);
    }
    c.set.erase(std::string(name));
    return "";
}

toml::node_view<toml::node> named_in(toml::array& list, std::string_view name) {
    for (toml::node& n : list) {
        if (toml::table* t = n.as_table()) {
            if (const auto v = (*t)["name"].value<std::string>(); v && *v == name) {
                return toml::node_view<toml::node>(n);
            }
        }
    }
    return {};
}

void put(toml::table& t, const std::string& key, const json& v) {
    if (v.is_number_integer()) {
        t.insert_or_assign(key, v.get<std::int64_t>());
    } else if (v.is_number()) {
        t.insert_or_assign(key, v.get<double>());
    } else if (v.is_boolean()) {
        t.insert_or_assign(key, v.get<bool>());
    } else if (v.is_array()) {
        toml::array a;
        for (const json& item : v) {
            a.push_back(item.is_string() ? item.get<std::string>() : item.dump());
        }
        t.insert_or_assign(key, std::move(a));
    } else {
        t.insert_or_assign(key, v.is_string() ? v.get<std::string>() : v.dump());
    }
}

// The array of tables `key` (created empty when the file has none); null when `key` is
// something else, which the configuration reader then refuses with its line.
toml::array* array_at(toml::table& root, const char* key) {
    if (!root.contains(key)) {
        root.insert(key, toml::array{});
    }
    return root[key].as_array();
}

// Removes `name` from every pool's backends.
void leave_pools(toml::array& pools, std::string_view name) {
    for (toml::node& p : pools) {
        toml::table* t = p.as_table();
        toml::array* members = t != nullptr ? (*t)["backends"].as_array() : nullptr;
        if (members == nullptr) {
            continue;
        }
        for (auto it = members->begin(); it != members->end();) {
            const auto v = it->value<std::string>();
            it = v && *v == name ? members->erase(it) : it + 1;
        }
    }
}

std::string apply_added(const json& b, toml::array& backends, toml::array& pools) {
    const std::string name = b.value("name", "");
    toml::table t;
    for (const auto& [key, value] : b.items()) {
        if (key != "pools") {
            put(t, key, value);
        }
    }
    backends.push_back(std::move(t));
    const json pool_names = b.value("pools", json::array());
    for (const json& pool : pool_names) {
        const std::string pool_name = pool.is_string() ? pool.get<std::string>() : pool.dump();
        toml::node_view<toml::node> p = named_in(pools, pool_name);
        toml::array* members = p ? p.as_table()->get_as<toml::array>("backends") : nullptr;
        if (members == nullptr) {
            return "added backend '" + name + "': no pool named '" + pool_name + "'";
        }
        members->push_back(name);
    }
    return "";
}

} // namespace

bool parse_runtime_changes(std::string_view text, runtime_changes& out, std::string& error) {
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        error = "not a JSON object";
        return false;
    }
    runtime_changes c;
    // Kept in locals: items() of a temporary would walk a destroyed object.
    const json set = j.value("set", json::object());
    const json added = j.value("added", json::array());
    const json removed = j.value("removed", json::array());
    if (!set.is_object() || !added.is_array() || !removed.is_array()) {
        error = "set must be an object, added and removed arrays";
        return false;
    }
    for (const auto& [name, keys] : set.items()) {
        if (!keys.is_object()) {
            error = "set." + name + " must be an object of keys";
            return false;
        }
    }
    for (const json& b : added) {
        if (!b.is_object() || !b.contains("name") || !b["name"].is_string()
            || !b.value("pools", json::array()).is_array()) {
            error = "an added backend needs a name (text) and pools (a list)";
            return false;
        }
        c.added.push_back(b);
    }
    for (const auto& [name, keys] : set.items()) {
        for (const auto& [key, value] : keys.items()) {
            c.set[name][key] = value;
        }
    }
    for (const json& n : removed) {
        if (!n.is_string()) {
            error = "a removed backend that is not a name";
            return false;
        }
        c.removed.push_back(n.get<std::string>());
    }
    out = std::move(c);
    return true;
}

std::string runtime_changes_json(const runtime_changes& c) {
    json j = json::object();
    j["set"] = json::object();
    for (const auto& [name, keys] : c.set) {
        for (const auto& [key, value] : keys) {
            j["set"][name][key] = value;
        }
    }
    j["added"] = c.added;
    j["removed"] = c.removed;
    return j.dump(2) + "\n";
}

std::string edit_runtime_changes(runtime_changes& c, std::string_view words) {
    const std::vector<std::string_view> w = words_of(words);
    if (w.size() < 2) {
        return "usage: set NAME KEY=VALUE... | add NAME address=ADDR pools=P[,P] [KEY=VALUE...] "
               "| remove NAME";
    }
    const std::string_view verb = w[0];
    const std::string_view name = w[1];
    const std::span<const std::string_view> rest = std::span(w).subspan(2);
    if (verb == "add") {
        return add(c, name, rest);
    }
    if (verb == "remove") {
        return rest.empty() ? remove(c, name) : "remove takes a name only";
    }
    if (verb != "set") {
        return "unknown change '" + std::string(verb) + "': set, add or remove";
    }
    if (rest.empty()) {
        return "set needs KEY=VALUE";
    }
    if (std::find(c.removed.begin(), c.removed.end(), name) != c.removed.end()
        && added_named(c, name) == nullptr) {
        return "no backend named '" + std::string(name) + "' (it was removed)";
    }
    std::map<std::string, json> pairs;
    if (std::string e = read_pairs(rest, pairs); !e.empty()) {
        return e;
    }
    json* added = added_named(c, name);
    for (auto& [key, value] : pairs) {
        if (added != nullptr) {
            (*added)[key] = value;
        } else {
            c.set[std::string(name)][key] = value;
        }
    }
    return "";
}

std::pair<std::string, std::string> change_target(std::string_view words) {
    const std::vector<std::string_view> w = words_of(words);
    return {w.size() > 0 ? std::string(w[0]) : "", w.size() > 1 ? std::string(w[1]) : ""};
}

std::string apply_runtime_changes(const runtime_changes& c, toml::table& root) {
    if (c.empty()) {
        return "";
    }
    toml::array* backends = array_at(root, "backend");
    toml::array* pools = array_at(root, "pool");
    if (backends == nullptr || pools == nullptr) {
        return ""; // not arrays of tables: the reader says so, with the line
    }
    // A backend removed here and since deleted from the file, or changed here and since
    // deleted, is no error: the file caught up with the change. Only additions must fit.
    for (const std::string& name : c.removed) {
        for (auto it = backends->begin(); it != backends->end();) {
            const toml::table* t = it->as_table();
            const auto v = t != nullptr ? (*t)["name"].value<std::string>() : std::nullopt;
            it = v && *v == name ? backends->erase(it) : it + 1;
        }
        leave_pools(*pools, name);
    }
    for (const json& b : c.added) {
        if (std::string e = apply_added(b, *backends, *pools); !e.empty()) {
            return e;
        }
    }
    for (const auto& [name, keys] : c.set) {
        toml::node_view<toml::node> b = named_in(*backends, name);
        for (const auto& [key, value] : keys) {
            if (b) {
                put(*b.as_table(), key, value);
            }
        }
    }
    return "";
}

std::string read_runtime_state(const std::string& path, runtime_changes& out) {
    out = {};
    if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
        return ""; // no change made yet
    }
    const file_text text = read_file_text(path, std::size_t{1} << 20);
    std::string error;
    if (!text.text) {
        return path + ": " + text.error;
    }
    if (!parse_runtime_changes(*text.text, out, error)) {
        return path + ": " + error;
    }
    return "";
}

std::string write_runtime_state(const std::string& path, const runtime_changes& c) {
    const std::string text = runtime_changes_json(c);
    const std::string next = path + ".new";
    std::FILE* f = std::fopen(next.c_str(), "w");
    if (f == nullptr) {
        return "cannot write " + next + ": " + std::strerror(errno);
    }
    const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size()
                         && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
    const bool closed = std::fclose(f) == 0;
    if (!written || !closed || std::rename(next.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        std::remove(next.c_str());
        return "cannot write " + path + ": " + why;
    }
    // The rename itself is durable once its directory is on disk.
    const std::size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    if (const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
    return "";
}

std::string apply_overlay(toml::table& root, const runtime_changes* candidate) {
    if (candidate != nullptr) {
        return apply_runtime_changes(*candidate, root);
    }
    const auto path = root["management"]["state_file"].value<std::string>();
    if (!path || path->empty()) {
        return "";
    }
    runtime_changes persisted;
    std::string error = read_runtime_state(*path, persisted);
    if (error.empty()) {
        error = apply_runtime_changes(persisted, root);
        if (!error.empty()) {
            error = *path + ": " + error;
        }
    }
    return error;
}

} // namespace sipredir::control
