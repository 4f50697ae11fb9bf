// SPDX-License-Identifier: BSD-3-Clause
// Field grammars: Via (RFC 3261 §20.42, RFC 3581, RFC 7339), name-addr, Call-ID, CSeq.
#include "fields.hpp"

#include "chars.hpp"
#include "class_run.hpp"
#include "token_equal.hpp"

namespace sipredir::sip {
namespace {

using scan::between;
using scan::skip_lws;

// "[" IPv6 "]" starting at p; returns the position after ']' or nullptr.
const char* skip_ipv6_reference(const char* p, const char* end) noexcept {
    const char* q = run::skip<run::ipv6>(p + 1, end, p);
    if (q >= end || *q != ']' || q == p + 1) {
        return nullptr;
    }
    return q + 1;
}

// gen-value = token / host / quoted-string, plus the bare IPv6 address of `received`
// (RFC 5118 §4.5). Returns the end of the value or nullptr when there is none.
const char* skip_param_value(const char* p, const char* end) noexcept {
    if (p >= end) {
        return nullptr;
    }
    if (*p == '"') {
        return scan::skip_quoted(p, end);
    }
    if (*p == '[') {
        return skip_ipv6_reference(p, end);
    }
    const char* q = run::skip<run::token_or_colon>(p, end);
    return q == p ? nullptr : q;
}

struct param {
    std::string_view whole; // from the ';' to the end of the value
    std::string_view name;
    std::string_view value;
    bool has_value = false;
};

enum class param_step : std::uint8_t { param, end, bad };

// One `SEMI name [EQUAL value]` starting at *p (LWS allowed around ';' and '=').
param_step next_param(const char*& p, const char* end, param& out) noexcept {
    const char* q = skip_lws(p, end);
    if (q == end) {
        p = q;
        return param_step::end;
    }
    if (*q != ';') {
        return param_step::bad;
    }
    const char* semi = q;
    const char* name = skip_lws(q + 1, end);
    const char* name_end = run::skip<run::token>(name, end, p);
    if (name_end == name) {
        return param_step::bad;
    }
    out = param{};
    out.name = between(name, name_end);
    p = name_end;
    q = skip_lws(name_end, end);
    if (q < end && *q == '=') {
        const char* v = skip_lws(q + 1, end);
        const char* v_end = skip_param_value(v, end);
        if (v_end == nullptr) {
            return param_step::bad;
        }
        out.value = between(v, v_end);
        out.has_value = true;
        p = v_end;
    }
    out.whole = between(semi, p);
    return param_step::param;
}

// protocol-name / protocol-version / transport, with SWS around each '/'.
const char* parse_sent_protocol(const char* p, const char* end, via_top& out) noexcept {
    std::string_view* parts[3] = {&out.protocol, &out.version, &out.transport};
    for (int i = 0; i < 3; ++i) {
        if (i > 0) {
            p = skip_lws(p, end);
            if (p >= end || *p != '/') {
                return nullptr;
            }
            p = skip_lws(p + 1, end);
        }
        const char* e = run::skip<run::token>(p, end);
        if (e == p) {
            return nullptr;
        }
        *parts[i] = between(p, e);
        p = e;
    }
    return p;
}

// sent-by = host [ COLON port ], after the LWS that must follow sent-protocol. Returns where it
// ends, or nullptr.
const char*
parse_sent_by(const char* p, const char* end, const char* floor, via_top& out) noexcept {
    const char* host = skip_lws(p, end);
    if (host == p || host >= end) {
        return nullptr;
    }
    const char* host_end =
            *host == '[' ? skip_ipv6_reference(host, end) : run::skip<run::host>(host, end, floor);
    if (host_end == nullptr || host_end == host) {
        return nullptr;
    }
    out.host = between(host, host_end);
    p = host_end;
    const char* q = skip_lws(p, end);
    if (q < end && *q == ':') {
        const auto port = scan::parse_decimal(skip_lws(q + 1, end), end, 65535);
        if (port.next == nullptr || port.value > 65535) {
            return nullptr;
        }
        out.port = static_cast<std::uint16_t>(port.value);
        out.has_port = true;
        p = port.next;
    }
    return p;
}

// One via-params entry into the fields a reply or the overload logic reads; others are skipped.
void take_via_param(const param& prm, via_top& out) noexcept {
    if (token_iequals(prm.name, "branch")) {
        out.branch = prm.value;
        out.has_branch = true;
    } else if (token_iequals(prm.name, "rport")) {
        out.has_rport = true;
        out.rport_value = prm.value;
        out.rport_param = between(prm.name.data(), prm.whole.data() + prm.whole.size());
    } else if (token_iequals(prm.name, "received")) {
        out.has_received = prm.has_value;
        out.received = prm.value;
        out.received_param = prm.whole;
    } else if (token_iequals(prm.name, "oc")) {
        out.has_oc = true;
        out.oc = prm.value;
        out.oc_param = prm.whole;
    } else if (token_iequals(prm.name, "oc-validity")) {
        out.oc_validity = prm.value;
        out.oc_validity_param = prm.whole;
    } else if (token_iequals(prm.name, "oc-seq")) {
        out.oc_seq = prm.value;
        out.oc_seq_param = prm.whole;
    } else if (token_iequals(prm.name, "oc-algo")) {
        out.oc_algo = prm.value;
        out.oc_algo_param = prm.whole;
    }
}

} // namespace

via_parse parse_via_value(std::string_view value, via_top& out) noexcept {
    out = via_top{};
    const char* p = value.data();
    const char* const end = p + value.size();
    via_parse result;
    p = parse_sent_protocol(p, end, out);
    if (p != nullptr) {
        p = parse_sent_by(p, end, value.data(), out);
    }
    if (p == nullptr) {
        return result;
    }
    result.readable = true;
    param prm;
    for (;;) {
        switch (next_param(p, end, prm)) {
        case param_step::end:
            result.valid = true;
            return result;
        case param_step::bad:
            return result;
        case param_step::param:
            take_via_param(prm, out);
            break;
        }
    }
}

bool via_value_valid(std::string_view value) noexcept {
    via_top scratch;
    return parse_via_value(value, scratch).valid;
}

namespace {

// [ display-name ] before '<': a quoted-string, or a run of tokens that '<' follows. Returns
// where the address starts, or nullptr; `unquoted` is where the octets no quoted-pair can escape
// begin (after a quoted display name).
const char* take_display_name(
        const char* p,
        const char* end,
        const char* floor,
        bool may_hold_controls,
        name_addr& out,
        const char*& unquoted
) noexcept {
    unquoted = p;
    if (p < end && *p == '"') {
        const char* q = scan::skip_quoted(p, end);
        if (q == nullptr) {
            return nullptr; // RFC 4475 §3.1.2.6: an unclosed quote is not inferred
        }
        out.display_name = between(p, q);
        if (may_hold_controls && has_bare_control_octet_quoted(out.display_name)) {
            return nullptr;
        }
        unquoted = q;
        p = skip_lws(q, end);
        return p < end && *p == '<' ? p : nullptr;
    }
    // display-name = *(token LWS): a run of tokens, then '<' makes it a name-addr.
    const char* tokens_end = p;
    const char* q = p;
    for (;;) {
        const char* t = run::skip<run::token>(q, end, floor);
        if (t == q) {
            break;
        }
        tokens_end = t;
        q = skip_lws(t, end);
    }
    if (q < end && *q == '<') {
        out.display_name = between(p, tokens_end);
        return q;
    }
    return p;
}

// name-addr's "<" addr-spec ">" or a bare addr-spec, at p. Returns where it ends, or nullptr.
const char* take_address(const char* p, const char* end, name_addr& out) noexcept {
    const char* uri_begin = p;
    const char* uri_end = p;
    if (p < end && *p == '<') {
        // LAQUOT addr-spec RAQUOT: no LWS inside the brackets (RFC 4475 §3.1.2.14).
        const void* close = std::memchr(p, '>', static_cast<std::size_t>(end - p));
        if (close == nullptr) {
            return nullptr;
        }
        uri_begin = p + 1;
        uri_end = static_cast<const char*>(close);
        if (uri_begin == uri_end || scan::is_lws(*uri_begin) || scan::is_lws(uri_end[-1])) {
            return nullptr;
        }
        p = uri_end + 1;
    } else {
        // addr-spec: its ';' parameters are header parameters (RFC 3261 §20.10).
        while (uri_end < end && *uri_end != ';' && !scan::is_lws(*uri_end)) {
            ++uri_end;
        }
        p = uri_end;
    }
    out.uri = between(uri_begin, uri_end);
    return out.uri.find(':') == std::string_view::npos ? nullptr : p;
}

} // namespace

bool parse_name_addr(std::string_view value, name_addr& out, bool may_hold_controls) noexcept {
    out = name_addr{};
    out.value = value;
    const char* const end = value.data() + value.size();
    const char* unquoted = nullptr;
    const char* p =
            take_display_name(value.data(), end, value.data(), may_hold_controls, out, unquoted);
    if (p == nullptr || (may_hold_controls && has_control_octet(between(unquoted, end)))) {
        return false;
    }
    p = take_address(p, end, out);
    if (p == nullptr) {
        return false;
    }
    param prm;
    for (;;) {
        switch (next_param(p, end, prm)) {
        case param_step::end:
            return true;
        case param_step::bad:
            return false;
        case param_step::param:
            break;
        }
        if (token_iequals(prm.name, "tag")) {
            out.tag = prm.value;
            out.has_tag = true;
        }
    }
}

// callid = word [ "@" word ] (RFC 3261 §25.1): one pass, a word, at most one '@', a word.
bool call_id_valid(std::string_view value) noexcept {
    const char* const begin = value.data();
    const char* const end = begin + value.size();
    const char* p = run::skip<run::call_id_word>(begin, end);
    if (p == begin) {
        return false;
    }
    if (p == end) {
        return true;
    }
    if (*p != '@' || p + 1 == end) {
        return false;
    }
    return run::skip<run::call_id_word>(p + 1, end, begin) == end;
}

cseq_status
parse_cseq(std::string_view value, std::uint32_t& number, std::string_view& method) noexcept {
    const char* p = value.data();
    const char* const end = p + value.size();
    const auto n = scan::parse_decimal(p, end, 0xffffffffULL);
    if (n.next == nullptr) {
        return cseq_status::bad;
    }
    const char* m = skip_lws(n.next, end);
    if (m == n.next) {
        return cseq_status::bad;
    }
    const char* m_end = run::skip<run::token>(m, end, value.data());
    if (m_end == m || skip_lws(m_end, end) != end) {
        return cseq_status::bad;
    }
    method = between(m, m_end);
    if (n.value >= (1ULL << 31)) {
        return cseq_status::out_of_range;
    }
    number = static_cast<std::uint32_t>(n.value);
    return cseq_status::ok;
}

} // namespace sipredir::sip
