// SPDX-License-Identifier: BSD-3-Clause
// Response writer: a bounded cursor that keeps counting past the end, so a short buffer learns
// the size it needs in the same call.
#include "reply_writer.hpp"

#include "chars.hpp"
#include "to_tag.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace sipredir::sip {
namespace {

class cursor {
public:
    // `unfold`: take folds and control octets out of copied field values (see put_field).
    cursor(std::span<char> out, bool unfold) noexcept
        : _p(out.data()), _capacity(out.size()), _unfold(unfold) {}

    void put(std::string_view s) noexcept {
        if (_size + s.size() <= _capacity) {
            std::memcpy(_p + _size, s.data(), s.size());
        }
        _size += s.size();
    }

    // A field value copied from the request. RFC 3261 §7.3.1: a fold is equivalent to its
    // whitespace, so when the request had folds (or defects, where a stray CR or a NUL may sit
    // in a field) CR and LF are left out and every reply header is one clean line. Any other
    // control octet but HTAB, and a CR or LF after a backslash, becomes '?': one octet for one,
    // never whitespace, a quote, an escape or a delimiter, so the value keeps its structure (a
    // quoted-pair stays one, a list keeps its elements). Otherwise the value holds none of them
    // and is copied as it is.
    void put_field(std::string_view s) noexcept {
        if (!_unfold) {
            put(s);
            return;
        }
        for (std::size_t i = 0; i < s.size(); ++i) {
            const char c = s[i];
            const bool line = c == '\r' || c == '\n';
            const bool escaped = i > 0 && s[i - 1] == '\\';
            if (line && !escaped) {
                continue;
            }
            put(line || is_control_octet(c) ? std::string_view("?") : std::string_view(&c, 1));
        }
    }

    void put_uint(std::uint64_t v) noexcept {
        char digits[20];
        std::size_t n = 0;
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        std::reverse(digits, digits + n);
        put({digits, n});
    }

    void put_header(std::string_view name, std::string_view value) noexcept {
        put(name);
        put(": ");
        put_field(value);
        put("\r\n");
    }

    // Where a writer of its own puts the next bytes: the room left (empty once past the end).
    // `advance` then counts the bytes it wrote or, when they did not fit, needs.
    std::span<char> room() noexcept {
        return _size <= _capacity ? std::span<char>(_p + _size, _capacity - _size)
                                  : std::span<char>();
    }
    void advance(std::size_t n) noexcept { _size += n; }

    write_result result() const noexcept { return {_size, _size <= _capacity}; }

private:
    char* _p;
    std::size_t _capacity;
    bool _unfold;
    std::size_t _size = 0;
};

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
void put_qvalue(cursor& c, std::uint16_t milli) noexcept {
    if (milli >= 1000) {
        c.put("1");
        return;
    }
    char text[5] = {
            '0',
            '.',
            static_cast<char>('0' + milli / 100),
            static_cast<char>('0' + milli / 10 % 10),
            static_cast<char>('0' + milli % 10)};
    std::size_t n = 5;
    while (n > 2 && text[n - 1] == '0') {
        --n;
    }
    c.put({text, n == 2 ? 1 : n});
}

bool sent_by_is_source(const via_top& via, const net::ip_address& source) noexcept {
    net::ip_address sent_by;
    return net::parse_ip(via.host, sent_by) && sent_by == source;
}

// oc-seq = 1*12DIGIT "." 1*5DIGIT (RFC 7339's grammar): seconds, then milliseconds in three digits.
void put_oc_seq(cursor& c, std::uint64_t ms) noexcept {
    c.put_uint(ms / 1000);
    const auto frac = static_cast<unsigned>(ms % 1000);
    const char text[4] = {
            '.',
            static_cast<char>('0' + frac / 100),
            static_cast<char>('0' + frac / 10 % 10),
            static_cast<char>('0' + frac % 10)};
    c.put({text, 4});
}

// The top Via with its received parameter dropped and rport filled in, then a fresh received;
// with an overload indication, the client's oc parameters dropped and ours appended.
void put_top_via(cursor& c, const message_view& m, const reply_spec& spec) noexcept {
    const std::string_view v = m.vias[0];
    const via_top& t = m.top_via;
    const bool overload = spec.overload != nullptr && t.has_oc;
    struct edit {
        std::string_view span;
        bool is_rport;
    };
    edit edits[6];
    std::size_t n_edits = 0;
    if (!t.received_param.empty()) {
        edits[n_edits++] = {t.received_param, false};
    }
    if (t.has_rport) {
        edits[n_edits++] = {t.rport_param, true};
    }
    if (overload) {
        for (const std::string_view oc :
             {t.oc_param, t.oc_validity_param, t.oc_seq_param, t.oc_algo_param}) {
            if (!oc.empty()) {
                edits[n_edits++] = {oc, false};
            }
        }
    }
    // In the order they appear (at most six: an insertion sort).
    for (std::size_t i = 1; i < n_edits; ++i) {
        for (std::size_t k = i; k > 0 && edits[k].span.data() < edits[k - 1].span.data(); --k) {
            std::swap(edits[k], edits[k - 1]);
        }
    }
    c.put("Via: ");
    const char* p = v.data();
    for (std::size_t i = 0; i < n_edits; ++i) {
        c.put_field({p, static_cast<std::size_t>(edits[i].span.data() - p)});
        if (edits[i].is_rport) {
            c.put("rport=");
            c.put_uint(spec.source.port);
        }
        p = edits[i].span.data() + edits[i].span.size();
    }
    c.put_field({p, static_cast<std::size_t>(v.data() + v.size() - p)});
    // RFC 3261 §18.2.1 and RFC 3581 §4: received when sent-by is not the source, always with
    // rport; a received the request already carried is replaced (RFC 5118 §4.5).
    if (t.has_rport || !t.received_param.empty() || !sent_by_is_source(t, spec.source.address)) {
        char text[net::max_ip_text];
        const std::size_t len = net::format_ip(spec.source.address, text);
        c.put(";received=");
        c.put({text, len});
    }
    // RFC 7339 §5.2, §5.3: to a client that offered overload control, the reduction asked
    // for, the one algorithm in force, how long it holds, and its sequence number.
    if (overload) {
        c.put(";oc=");
        c.put_uint(spec.overload->reduction);
        c.put(";oc-algo=\"loss\";oc-validity=");
        c.put_uint(spec.overload->validity_ms);
        c.put(";oc-seq=");
        put_oc_seq(c, spec.overload->seq_ms);
    }
    c.put("\r\n");
}

} // namespace

std::string_view standard_reason(std::uint16_t code) noexcept {
    switch (code) {
    case 100:
        return "Trying";
    case 200:
        return "OK";
    case 300:
        return "Multiple Choices";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Moved Temporarily";
    case 305:
        return "Use Proxy";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 416:
        return "Unsupported URI Scheme";
    case 420:
        return "Bad Extension";
    case 483:
        return "Too Many Hops";
    case 500:
        return "Server Internal Error";
    case 503:
        return "Service Unavailable";
    case 505:
        return "Version Not Supported";
    default:
        return "";
    }
}

write_result
write_reply(const message_view& m, const reply_spec& spec, std::span<char> out) noexcept {
    assert(spec.to_tag_key != nullptr);
    assert(spec.code >= 100 && spec.code <= 699);
    cursor c(out, m.has_folded_lines || m.first_defect != defect::none);
    c.put("SIP/2.0 ");
    c.put_uint(spec.code);
    c.put(" ");
    c.put(spec.reason.empty() ? standard_reason(spec.code) : spec.reason);
    c.put("\r\n");

    // RFC 3261 §8.2.6.2: Via values in order, From, Call-ID, CSeq equal to the request's; To
    // equal, plus a tag when the request had none.
    if (m.via_count > 0) {
        put_top_via(c, m, spec);
        for (std::size_t i = 1; i < m.via_count; ++i) {
            c.put_header("Via", m.vias[i]);
        }
    }
    if (m.has_from) {
        c.put_header("From", m.from.value);
    }
    if (m.has_to) {
        c.put("To: ");
        c.put_field(m.to.value);
        if (!m.to.has_tag) {
            const auto tag = render_to_tag(
                    spec.to_tag_digest ? *spec.to_tag_digest : to_tag_digest(*spec.to_tag_key, m)
            );
            c.put(";tag=");
            c.put({tag.data(), tag.size()});
        }
        c.put("\r\n");
    }
    if (!m.call_id.empty()) {
        c.put_header("Call-ID", m.call_id);
    }
    if (m.has_cseq) {
        c.put_header("CSeq", m.cseq);
    }
    // The caller sends its next request to a Contact, so each one keeps whom it dialled.
    const uri_view dialled =
            spec.contacts.empty() ? uri_view{} : contact_source(m, spec.contact_from);
    for (const contact_entry& contact : spec.contacts) {
        c.put("Contact: ");
        c.advance(write_contact_uri(contact.uri, dialled, c.room()));
        if (contact.q_milli != 0) {
            c.put(";q=");
            put_qvalue(c, contact.q_milli);
        }
        if (contact.has_expires) {
            c.put(";expires=");
            c.put_uint(contact.expires);
        }
        c.put("\r\n");
    }
    if (spec.has_retry_after) {
        c.put("Retry-After: ");
        c.put_uint(spec.retry_after);
        c.put("\r\n");
    }
    if (!spec.allow.empty()) {
        c.put_header("Allow", spec.allow);
    }
    if (!spec.unsupported.empty()) {
        c.put("Unsupported: ");
        for (std::size_t i = 0; i < spec.unsupported.size(); ++i) {
            if (i > 0) {
                c.put(", ");
            }
            c.put(spec.unsupported[i]);
        }
        c.put("\r\n");
    }
    if (!spec.server.empty()) {
        c.put_header("Server", spec.server);
    }
    c.put("Content-Length: 0\r\n\r\n");
    return c.result();
}

} // namespace sipredir::sip
