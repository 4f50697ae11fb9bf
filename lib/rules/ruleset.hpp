// SPDX-License-Identifier: BSD-3-Clause
// Rules compiled into Hyperscan databases, one per field the rules look at, and matched against
// the spans of a parsed request. The control thread compiles a ruleset whole (errors name the
// rule's file:line) and gives it one Hyperscan scratch per worker before any snapshot holding it
// is published; a worker then matches with its own scratch: no lock, allocation or syscall.
// The first rule in configured order that matches decides.
#pragma once

#include "rule.hpp"

#include <cstdint>
#include <memory>
#include <sip/message_view.hpp>
#include <string>
#include <string_view>
#include <vector>

struct hs_database;
struct hs_scratch;

namespace sipredir::rules {

inline constexpr std::size_t max_rules = 10000;
inline constexpr std::size_t max_header_fields = 8; // distinct header names rules may name

struct decision {
    const rule* matched = nullptr; // the first matching rule; nullptr: none
};

class ruleset;

struct compile_result {
    std::shared_ptr<ruleset> rules; // null on error
    std::string error;              // "file:line: rule 'x': what is wrong"
};

// Compiles `rules` (in decision order). An empty list gives a ruleset that matches nothing.
compile_result compile(std::vector<rule> rules);

class ruleset {
public:
    ruleset(const ruleset&) = delete;
    ruleset& operator=(const ruleset&) = delete;
    ~ruleset();

    // Control thread, before the ruleset is published: one scratch per worker (idempotent for
    // the same count). False when Hyperscan cannot allocate.
    bool allocate_scratch(std::size_t workers);
    std::size_t scratch_count() const noexcept { return _scratch.size(); }

    // Worker `worker` (< scratch_count()): the first rule the request matches.
    decision match(const sip::message_view& m, std::size_t worker) const noexcept;

    const std::vector<rule>& rules() const noexcept { return _rules; }
    bool empty() const noexcept { return _rules.empty(); }

private:
    friend compile_result compile(std::vector<rule> rules);
    ruleset() = default;

    // One database per field the rules look at.
    struct field_db {
        field where = field::request_uri_user;
        std::string header;           // lower case, for field::header
        std::uint8_t header_kind = 0; // sip::header_kind of `header` (other: match by name)
        hs_database* db = nullptr;
    };

    std::vector<rule> _rules;
    std::vector<field_db> _fields;
    // Written by the control thread before publication, then only read (each worker its own).
    std::vector<hs_scratch*> _scratch;
};

} // namespace sipredir::rules
