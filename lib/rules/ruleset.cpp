// SPDX-License-Identifier: BSD-3-Clause
#include "ruleset.hpp"

#include <hs/hs.h>

#include <algorithm>
#include <sip/chars.hpp>
#include <sip/header.hpp>
#include <sip/uri.hpp>

namespace sipredir::rules {

namespace {

// A literal as a Hyperscan pattern: every byte that is not a letter or digit escaped.
std::string escaped(std::string_view literal) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (const char c : literal) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z')) {
            out += c;
        } else {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
    return out;
}

std::string expression_of(const rule& r) {
    std::string out;
    switch (r.how) {
    case match_kind::prefix:
        out = "^";
        out += escaped(r.pattern);
        break;
    case match_kind::exact:
        out = "^";
        out += escaped(r.pattern);
        out += "\\z";
        break;
    case match_kind::contains:
        out = escaped(r.pattern);
        break;
    case match_kind::regex:
        out = r.pattern;
        break;
    }
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return out;
}

std::string where_of(const rule& r) {
    std::string out = r.source;
    out += ":";
    out += std::to_string(r.line);
    out += ": rule '";
    out += r.name;
    out += "': ";
    return out;
}

struct scan_context {
    unsigned best;
};

int on_match(
        unsigned int id,
        unsigned long long /*from*/,
        unsigned long long /*to*/,
        unsigned int /*flags*/,
        void* context
) {
    auto* c = static_cast<scan_context*>(context);
    c->best = std::min(c->best, id);
    return 0;
}

void scan(hs_database* db, std::string_view value, hs_scratch* scratch, scan_context& c) noexcept {
    if (value.empty()) {
        return;
    }
    // Only HS_SCAN_TERMINATED (never asked for) or an invalid scratch could fail; either way no
    // rule matched on this field.
    hs_scan(db, value.data(), static_cast<unsigned int>(value.size()), 0, scratch, on_match, &c);
}

} // namespace

namespace {

// One Hyperscan database of the rules whose field is `k`; null with `error` set (`file:line:`
// of the rule Hyperscan refused) when it cannot be built.
hs_database_t* compile_field(
        const std::vector<rule>& rules,
        const std::vector<std::size_t>& field_of,
        std::size_t k,
        std::string& error
) {
    std::vector<std::string> expressions;
    std::vector<unsigned> flags;
    std::vector<unsigned> ids;
    for (unsigned i = 0; i < rules.size(); ++i) {
        if (field_of[i] != k) {
            continue;
        }
        expressions.push_back(expression_of(rules[i]));
        flags.push_back(HS_FLAG_SINGLEMATCH | (rules[i].caseless ? HS_FLAG_CASELESS : 0u));
        ids.push_back(i);
    }
    std::vector<const char*> pointers;
    for (const std::string& e : expressions) {
        pointers.push_back(e.c_str());
    }
    hs_database_t* db = nullptr;
    hs_compile_error_t* refused = nullptr;
    const hs_error_t rc = hs_compile_multi(
            pointers.data(),
            flags.data(),
            ids.data(),
            static_cast<unsigned>(pointers.size()),
            HS_MODE_BLOCK,
            nullptr,
            &db,
            &refused
    );
    if (rc != HS_SUCCESS) {
        const int at = refused != nullptr ? refused->expression : -1;
        const std::string message =
                refused != nullptr ? refused->message : "Hyperscan refused the rules";
        error = at >= 0 ? where_of(rules[ids[static_cast<std::size_t>(at)]]) + message
                        : where_of(rules[ids.front()]) + message;
        hs_free_compile_error(refused);
        return nullptr;
    }
    return db;
}

} // namespace

compile_result compile(std::vector<rule> rules) {
    compile_result result;
    if (rules.size() > max_rules) {
        result.error =
                where_of(rules[max_rules]) + "more than " + std::to_string(max_rules) + " rules";
        return result;
    }
    std::shared_ptr<ruleset> set(new ruleset());
    // The field database each rule goes into, found once here.
    std::vector<std::size_t> field_of(rules.size());
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const rule& r = rules[i];
        if (r.pattern.empty()) {
            result.error = where_of(r) + "the pattern is empty";
            return result;
        }
        const std::string header = r.where == field::header ? lower(r.header) : std::string();
        const auto known = std::find_if(set->_fields.begin(), set->_fields.end(), [&](auto& f) {
            return f.where == r.where && f.header == header;
        });
        field_of[i] = static_cast<std::size_t>(known - set->_fields.begin());
        if (known != set->_fields.end()) {
            continue;
        }
        if (r.where == field::header
            && std::count_if(set->_fields.begin(), set->_fields.end(), [](auto& f) {
                   return f.where == field::header;
               }) == max_header_fields) {
            result.error = where_of(r) + "rules may look at " + std::to_string(max_header_fields)
                           + " different headers at most";
            return result;
        }
        ruleset::field_db f;
        f.where = r.where;
        f.header = header;
        f.header_kind = static_cast<std::uint8_t>(sip::classify_header(r.header));
        set->_fields.push_back(std::move(f));
    }
    for (std::size_t k = 0; k < set->_fields.size(); ++k) {
        set->_fields[k].db = compile_field(rules, field_of, k, result.error);
        if (set->_fields[k].db == nullptr) {
            return result;
        }
    }
    set->_rules = std::move(rules);
    result.rules = std::move(set);
    return result;
}

ruleset::~ruleset() {
    for (hs_scratch* s : _scratch) {
        hs_free_scratch(s);
    }
    for (field_db& f : _fields) {
        hs_free_database(f.db);
    }
}

bool ruleset::allocate_scratch(std::size_t workers) {
    while (_scratch.size() < workers) {
        hs_scratch* s = nullptr;
        for (const field_db& f : _fields) {
            // One scratch serves every database it was allocated (or grown) for.
            if (hs_alloc_scratch(f.db, &s) != HS_SUCCESS) {
                hs_free_scratch(s);
                return false;
            }
        }
        _scratch.push_back(s);
    }
    return true;
}

decision ruleset::match(const sip::message_view& m, std::size_t worker) const noexcept {
    decision d;
    if (_fields.empty() || worker >= _scratch.size()) {
        return d;
    }
    hs_scratch* scratch = _scratch[worker];
    scan_context c{static_cast<unsigned>(_rules.size())};
    bool walk_headers = false;
    for (const field_db& f : _fields) {
        switch (f.where) {
        case field::request_uri_user:
            scan(f.db, m.request_uri_parts.user, scratch, c);
            break;
        case field::request_uri_host:
            scan(f.db, m.request_uri_parts.host, scratch, c);
            break;
        case field::from_user:
            if (m.has_from) {
                sip::uri_view from;
                sip::parse_uri(m.from.uri, from);
                scan(f.db, from.user, scratch, c);
            }
            break;
        case field::header:
            // The parser keeps the first User-Agent; any other header takes one walk.
            if (static_cast<sip::header_kind>(f.header_kind) == sip::header_kind::user_agent) {
                scan(f.db, m.user_agent, scratch, c);
            } else {
                walk_headers = true;
            }
            break;
        }
    }
    if (walk_headers) {
        sip::header_reader reader(m.headers.data(), m.headers.data() + m.headers.size());
        sip::header_line line;
        while (reader.next(line) == sip::header_reader::step::header) {
            for (const field_db& f : _fields) {
                if (f.where != field::header
                    || static_cast<sip::header_kind>(f.header_kind)
                               == sip::header_kind::user_agent) {
                    continue;
                }
                const auto kind = static_cast<sip::header_kind>(f.header_kind);
                if (kind != sip::header_kind::other ? line.kind == kind
                                                    : sip::iequals(line.name, f.header)) {
                    scan(f.db, line.value, scratch, c);
                }
            }
        }
    }
    if (c.best < _rules.size()) {
        d.matched = &_rules[c.best];
    }
    return d;
}

} // namespace sipredir::rules
