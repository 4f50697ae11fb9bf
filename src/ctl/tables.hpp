// SPDX-License-Identifier: BSD-3-Clause
// The appliance's JSON answers as a person reads them: aligned tables and short lines. Pure
// functions of the answer, so that they are tested without an appliance; `sipredirctl --json`
// prints the answer itself instead.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sipredir::ctl {

// Columns padded to their widest cell; cells that read as numbers are right-aligned.
class text_table {
public:
    explicit text_table(std::vector<std::string> header) { _rows.push_back(std::move(header)); }
    void add(std::vector<std::string> row) { _rows.push_back(std::move(row)); }
    std::string render() const;

private:
    std::vector<std::vector<std::string>> _rows;
};

// The member `name` of a JSON object; null when it is absent or `object` is no object.
const nlohmann::json& field(const nlohmann::json& object, const char* name);

// 12345678 → "12,345,678".
std::string grouped(std::uint64_t n);
// A JSON number as an integer text with thousands grouped; "-" when it is not a number.
std::string count_text(const nlohmann::json& v);
// A number with `decimals` places; "-" when it is not a number or negative (unknown).
std::string fixed_text(const nlohmann::json& v, int decimals);

// The human view of `answer` to `verb` (its "ok" already true). Verbs without a view of their
// own (and answers of a shape this sipredirctl does not know) come back as the JSON itself.
std::string human_view(std::string_view verb, const nlohmann::json& answer);

} // namespace sipredir::ctl
