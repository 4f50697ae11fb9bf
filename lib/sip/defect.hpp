// SPDX-License-Identifier: BSD-3-Clause
// Why a SIP message is not acceptable: one name per reason, each with its counter name and the
// reason phrase of the 400 (or other error) that reports it. One table, indexed by the enum.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sipredir::sip {

enum class defect : std::uint8_t {
    none,
    // framing
    start_line_bad,
    request_line_bad,
    status_line_bad,
    header_line_bad,
    header_section_unterminated,
    content_length_bad,
    content_length_repeated,
    content_length_exceeds_datagram,
    // fields the redirect server reads
    request_uri_bad,
    request_uri_has_headers,
    via_bad,
    via_element_bad, // a Via value below the top one
    via_too_many,
    from_bad,
    to_bad,
    call_id_bad,
    cseq_bad,
    cseq_out_of_range,
    max_forwards_bad,
    header_repeated,
    require_too_many,
    require_bad,
    // fields required of every request (RFC 3261 §8.1.1)
    via_missing,
    from_missing,
    to_missing,
    call_id_missing,
    cseq_missing,
    cseq_method_mismatch,
};

struct defect_info {
    defect id;
    std::string_view name;   // counter name: parse_<reason>
    std::string_view phrase; // reason phrase of the reply that reports it
};

inline constexpr std::array defect_table = std::to_array<defect_info>({
        {defect::none, "parse_ok", "OK"},
        {defect::start_line_bad, "parse_start_line_bad", "Malformed Start Line"},
        {defect::request_line_bad, "parse_request_line_bad", "Malformed Request Line"},
        {defect::status_line_bad, "parse_status_line_bad", "Malformed Status Line"},
        {defect::header_line_bad, "parse_header_line_bad", "Malformed Header Line"},
        {defect::header_section_unterminated,
         "parse_header_section_unterminated",
         "Header Section Not Terminated"},
        {defect::content_length_bad, "parse_content_length_bad", "Malformed Content-Length"},
        {defect::content_length_repeated,
         "parse_content_length_repeated",
         "Repeated Content-Length"},
        {defect::content_length_exceeds_datagram,
         "parse_content_length_exceeds_datagram",
         "Content-Length Exceeds Datagram"},
        {defect::request_uri_bad, "parse_request_uri_bad", "Malformed Request-URI"},
        {defect::request_uri_has_headers,
         "parse_request_uri_has_headers",
         "Headers Not Allowed In Request-URI"},
        {defect::via_bad, "parse_via_bad", "Malformed Via"},
        {defect::via_element_bad, "parse_via_element_bad", "Malformed Via Element"},
        {defect::via_too_many, "parse_via_too_many", "Too Many Via Values"},
        {defect::from_bad, "parse_from_bad", "Malformed From"},
        {defect::to_bad, "parse_to_bad", "Malformed To"},
        {defect::call_id_bad, "parse_call_id_bad", "Malformed Call-ID"},
        {defect::cseq_bad, "parse_cseq_bad", "Malformed CSeq"},
        {defect::cseq_out_of_range, "parse_cseq_out_of_range", "CSeq Out Of Range"},
        {defect::max_forwards_bad, "parse_max_forwards_bad", "Malformed Max-Forwards"},
        {defect::header_repeated, "parse_header_repeated", "Single-Value Header Repeated"},
        {defect::require_too_many, "parse_require_too_many", "Too Many Require Headers"},
        {defect::require_bad, "parse_require_bad", "Malformed Require"},
        {defect::via_missing, "parse_via_missing", "Missing Via"},
        {defect::from_missing, "parse_from_missing", "Missing From"},
        {defect::to_missing, "parse_to_missing", "Missing To"},
        {defect::call_id_missing, "parse_call_id_missing", "Missing Call-ID"},
        {defect::cseq_missing, "parse_cseq_missing", "Missing CSeq"},
        {defect::cseq_method_mismatch,
         "parse_cseq_method_mismatch",
         "CSeq Method Does Not Match Request"},
});

constexpr const defect_info& info(defect d) {
    return defect_table[static_cast<std::size_t>(d)];
}

// The table is indexed by the enum: every row must sit at its own value.
constexpr bool defect_table_is_indexed() {
    for (std::size_t i = 0; i < defect_table.size(); ++i) {
        if (static_cast<std::size_t>(defect_table[i].id) != i) {
            return false;
        }
    }
    return true;
}
static_assert(defect_table_is_indexed());
static_assert(static_cast<std::size_t>(defect::cseq_method_mismatch) + 1 == defect_table.size());

} // namespace sipredir::sip
