// SPDX-License-Identifier: BSD-3-Clause
// The first difference between two message_views of the same bytes, every field compared, views
// as (offset into the input, length): what the differential fuzz target and the unit test hold
// sip::parse and sip::parse_scalar to.
#pragma once

#include <sip/message_view.hpp>
#include <sip/verdict.hpp>
#include <string>
#include <string_view>

namespace sipredir::sip::testing {

class view_diff {
public:
    explicit view_diff(std::string_view input) : _base(input.data()) {}

    // Empty when equal, else the name of the first field that differs.
    std::string operator()(const message_view& a, const message_view& b) {
        _diff.clear();
        fields(a, b);
        uri(a.request_uri_parts, b.request_uri_parts);
        via(a.top_via, b.top_via);
        addr("from", a.from, b.from);
        addr("to", a.to, b.to);
        for (std::size_t i = 0; i < a.via_count && i < b.via_count; ++i) {
            sv("vias[i]", a.vias[i], b.vias[i]);
        }
        for (std::size_t i = 0; i < a.require_count && i < b.require_count; ++i) {
            sv("require_values[i]", a.require_values[i], b.require_values[i]);
        }
        return _diff;
    }

    // The same for two verdicts on the same bytes.
    std::string operator()(const verdict& a, const verdict& b) {
        _diff.clear();
        eq("verdict.what", a.what, b.what);
        eq("verdict.code", a.code, b.code);
        eq("verdict.why", a.why, b.why);
        eq("verdict.drop", a.drop, b.drop);
        eq("verdict.unsupported_count", a.unsupported_count, b.unsupported_count);
        for (std::size_t i = 0; i < a.unsupported_count && i < b.unsupported_count; ++i) {
            sv("verdict.unsupported[i]", a.unsupported[i], b.unsupported[i]);
        }
        return _diff;
    }

private:
    void differ(const char* what) {
        if (_diff.empty()) {
            _diff = what;
        }
    }
    template <typename T> void eq(const char* what, const T& a, const T& b) {
        if (!(a == b)) {
            differ(what);
        }
    }
    void sv(const char* what, std::string_view a, std::string_view b) {
        const auto off = [this](std::string_view v) {
            return v.data() == nullptr ? std::ptrdiff_t{-1} : v.data() - _base;
        };
        if (off(a) != off(b) || a.size() != b.size()) {
            differ(what);
        }
    }

    void fields(const message_fields& a, const message_fields& b) {
        eq("kind", a.kind, b.kind);
        eq("request_method", a.request_method, b.request_method);
        sv("method_text", a.method_text, b.method_text);
        sv("request_uri", a.request_uri, b.request_uri);
        eq("request_uri_status", a.request_uri_status, b.request_uri_status);
        eq("status_code", a.status_code, b.status_code);
        sv("reason_phrase", a.reason_phrase, b.reason_phrase);
        eq("version_major", a.version_major, b.version_major);
        eq("version_minor", a.version_minor, b.version_minor);
        eq("via_count", a.via_count, b.via_count);
        eq("top_via_readable", a.top_via_readable, b.top_via_readable);
        eq("has_from", a.has_from, b.has_from);
        eq("has_to", a.has_to, b.has_to);
        sv("call_id", a.call_id, b.call_id);
        sv("cseq", a.cseq, b.cseq);
        eq("cseq_number", a.cseq_number, b.cseq_number);
        sv("cseq_method_text", a.cseq_method_text, b.cseq_method_text);
        eq("has_cseq", a.has_cseq, b.has_cseq);
        eq("max_forwards", a.max_forwards, b.max_forwards);
        eq("content_length", a.content_length, b.content_length);
        eq("require_count", a.require_count, b.require_count);
        sv("user_agent", a.user_agent, b.user_agent);
        sv("first_route", a.first_route, b.first_route);
        sv("first_contact", a.first_contact, b.first_contact);
        sv("expires", a.expires, b.expires);
        sv("headers", a.headers, b.headers);
        sv("body", a.body, b.body);
        eq("message_size", a.message_size, b.message_size);
        eq("has_folded_lines", a.has_folded_lines, b.has_folded_lines);
        eq("first_defect", a.first_defect, b.first_defect);
    }

    void uri(const uri_view& a, const uri_view& b) {
        eq("uri.scheme", a.scheme, b.scheme);
        sv("uri.scheme_text", a.scheme_text, b.scheme_text);
        sv("uri.user", a.user, b.user);
        sv("uri.password", a.password, b.password);
        sv("uri.host", a.host, b.host);
        eq("uri.port", a.port, b.port);
        eq("uri.has_port", a.has_port, b.has_port);
        sv("uri.params", a.params, b.params);
        sv("uri.headers", a.headers, b.headers);
    }

    void via(const via_top& a, const via_top& b) {
        sv("via.protocol", a.protocol, b.protocol);
        sv("via.version", a.version, b.version);
        sv("via.transport", a.transport, b.transport);
        sv("via.host", a.host, b.host);
        eq("via.port", a.port, b.port);
        eq("via.has_port", a.has_port, b.has_port);
        sv("via.branch", a.branch, b.branch);
        eq("via.has_branch", a.has_branch, b.has_branch);
        eq("via.has_rport", a.has_rport, b.has_rport);
        sv("via.rport_value", a.rport_value, b.rport_value);
        sv("via.received", a.received, b.received);
        eq("via.has_received", a.has_received, b.has_received);
        sv("via.rport_param", a.rport_param, b.rport_param);
        sv("via.received_param", a.received_param, b.received_param);
        eq("via.has_oc", a.has_oc, b.has_oc);
        sv("via.oc", a.oc, b.oc);
        sv("via.oc_validity", a.oc_validity, b.oc_validity);
        sv("via.oc_seq", a.oc_seq, b.oc_seq);
        sv("via.oc_algo", a.oc_algo, b.oc_algo);
        sv("via.oc_param", a.oc_param, b.oc_param);
        sv("via.oc_validity_param", a.oc_validity_param, b.oc_validity_param);
        sv("via.oc_seq_param", a.oc_seq_param, b.oc_seq_param);
        sv("via.oc_algo_param", a.oc_algo_param, b.oc_algo_param);
    }

    void addr(const char* which, const name_addr& a, const name_addr& b) {
        const std::string w(which);
        const auto name = [&](const char* f) {
            _names = w + "." + f;
            return _names.c_str();
        };
        sv(name("value"), a.value, b.value);
        sv(name("display_name"), a.display_name, b.display_name);
        sv(name("uri"), a.uri, b.uri);
        sv(name("tag"), a.tag, b.tag);
        eq(name("has_tag"), a.has_tag, b.has_tag);
    }

    const char* _base;
    std::string _diff;
    std::string _names;
};

} // namespace sipredir::sip::testing
