// SPDX-License-Identifier: BSD-3-Clause
// Response writer. One pass measures, with the same code as the pass that writes: an upper bound
// first (copied fields at their request length, Contacts at the most their composition can
// give), and the exact size only when the bound does not fit, so a short buffer learns the size
// it needs; then the writing pass copies without a check per piece.
#include "reply_writer.hpp"

#include "chars.hpp"
#include "to_tag.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>

namespace sipredir::sip {
namespace {

constexpr char digit_pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233"
        "34353637383940414243444546474849505152535455565758596061626364656667"
        "6869707172737475767778798081828384858687888990919293949596979899";

std::size_t decimal_digits(std::uint64_t v) noexcept {
    std::size_t n = 1;
    for (; v >= 100; v /= 100) {
        n += 2;
    }
    return n + (v >= 10 ? 1 : 0);
}

// Writes v in decimal so that its last digit is at end[-1], two digits per step.
void format_uint(std::uint64_t v, char* end) noexcept {
    for (; v >= 100; v /= 100) {
        end -= 2;
        std::memcpy(end, digit_pairs + 2 * (v % 100), 2);
    }
    if (v >= 10) {
        std::memcpy(end - 2, digit_pairs + 2 * v, 2);
    } else {
        end[-1] = static_cast<char>('0' + v);
    }
}

// A copied field value. RFC 3261 §7.3.1: a fold is equivalent to its whitespace, so when the
// request had folds (or defects, where a stray CR or a NUL may sit in a field) CR and LF are
// left out and every reply header is one clean line. Any other control octet but HTAB, and a CR
// or LF after a backslash, becomes '?': one octet for one, never whitespace, a quote, an escape
// or a delimiter, so the value keeps its structure (a quoted-pair stays one, a list keeps its
// elements). Otherwise the value holds none of them and is copied as it is. Calls emit(c) for
// each octet kept; returns nothing.
template <typename Emit> void unfold_field(std::string_view s, Emit&& emit) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool line = c == '\r' || c == '\n';
        const bool escaped = i > 0 && s[i - 1] == '\\';
        if (line && !escaped) {
            continue;
        }
        emit(line || is_control_octet(c) ? '?' : c);
    }
}

// The most octets write_contact_uri can give for `backend` and `source`: a tel user and its
// parameters escaped (three octets for one), "@", ";user=phone"; a sip user, "@", the kept
// parameters (no more than the source's, one ';' each).
std::size_t contact_bound(std::string_view backend, const uri_view& source) noexcept {
    if (source.scheme == uri_scheme::other) {
        return backend.size();
    }
    return backend.size() + 3 * (source.user.size() + source.params.size()) + 16;
}

// Counts octets. `Exact`: what the writer will write; else a bound no smaller.
template <bool Exact> class counter {
public:
    explicit counter(bool unfold) noexcept : _unfold(unfold) {}

    void put(std::string_view s) noexcept { _size += s.size(); }
    void put(char) noexcept { ++_size; }
    void put_field(std::string_view s) noexcept {
        if (Exact && _unfold) {
            unfold_field(s, [this](char) { ++_size; });
        } else {
            _size += s.size(); // unfolding only removes octets or swaps one for one
        }
    }
    void put_uint(std::uint64_t v) noexcept { _size += decimal_digits(v); }
    void put_contact(std::string_view backend, const uri_view& source) noexcept {
        _size += Exact ? write_contact_uri(backend, source, {}) : contact_bound(backend, source);
    }
    std::size_t size() const noexcept { return _size; }

private:
    bool _unfold;
    std::size_t _size = 0;
};

// Writes octets into a buffer the counter said is large enough: no check per piece.
class writer {
public:
    writer(std::span<char> out, bool unfold) noexcept
        : _begin(out.data()), _p(out.data()), _end(out.data() + out.size()), _unfold(unfold) {}

    void put(std::string_view s) noexcept {
        assert(s.size() <= static_cast<std::size_t>(_end - _p));
        // An empty view's data() may be null, which memcpy must not see even for 0 octets.
        if (!s.empty()) {
            std::memcpy(_p, s.data(), s.size());
        }
        _p += s.size();
    }
    void put(char c) noexcept {
        assert(_p < _end);
        *_p++ = c;
    }
    void put_field(std::string_view s) noexcept {
        if (_unfold) {
            unfold_field(s, [this](char c) { put(c); });
        } else {
            put(s);
        }
    }
    void put_uint(std::uint64_t v) noexcept {
        const std::size_t n = decimal_digits(v);
        assert(n <= static_cast<std::size_t>(_end - _p));
        format_uint(v, _p + n);
        _p += n;
    }
    void put_contact(std::string_view backend, const uri_view& source) noexcept {
        const std::size_t room = static_cast<std::size_t>(_end - _p);
        const std::size_t n = write_contact_uri(backend, source, {_p, room});
        assert(n <= room);
        _p += n;
    }
    std::size_t size() const noexcept { return static_cast<std::size_t>(_p - _begin); }

private:
    char* _begin;
    char* _p;
    char* _end;
    bool _unfold;
};

struct status_text {
    std::uint16_t code;
    std::string_view reason;
    std::string_view line; // the whole status line, rendered once here
};

constexpr status_text status_texts[] = {
        {302, "Moved Temporarily", "SIP/2.0 302 Moved Temporarily\r\n"},
        {200, "OK", "SIP/2.0 200 OK\r\n"},
        {503, "Service Unavailable", "SIP/2.0 503 Service Unavailable\r\n"},
        {100, "Trying", "SIP/2.0 100 Trying\r\n"},
        {300, "Multiple Choices", "SIP/2.0 300 Multiple Choices\r\n"},
        {301, "Moved Permanently", "SIP/2.0 301 Moved Permanently\r\n"},
        {305, "Use Proxy", "SIP/2.0 305 Use Proxy\r\n"},
        {400, "Bad Request", "SIP/2.0 400 Bad Request\r\n"},
        {403, "Forbidden", "SIP/2.0 403 Forbidden\r\n"},
        {404, "Not Found", "SIP/2.0 404 Not Found\r\n"},
        {405, "Method Not Allowed", "SIP/2.0 405 Method Not Allowed\r\n"},
        {416, "Unsupported URI Scheme", "SIP/2.0 416 Unsupported URI Scheme\r\n"},
        {420, "Bad Extension", "SIP/2.0 420 Bad Extension\r\n"},
        {483, "Too Many Hops", "SIP/2.0 483 Too Many Hops\r\n"},
        {500, "Server Internal Error", "SIP/2.0 500 Server Internal Error\r\n"},
        {505, "Version Not Supported", "SIP/2.0 505 Version Not Supported\r\n"},
};

// Every line is "SIP/2.0 " code " " reason CRLF.
constexpr bool status_lines_agree() {
    for (const status_text& s : status_texts) {
        const std::string_view l = s.line;
        if (l.size() != 8 + 3 + 1 + s.reason.size() + 2 || l.substr(0, 8) != "SIP/2.0 "
            || l[8] != static_cast<char>('0' + s.code / 100)
            || l[9] != static_cast<char>('0' + s.code / 10 % 10)
            || l[10] != static_cast<char>('0' + s.code % 10) || l[11] != ' '
            || l.substr(12, s.reason.size()) != s.reason || l.substr(l.size() - 2) != "\r\n") {
            return false;
        }
    }
    return true;
}
static_assert(status_lines_agree());

const status_text* find_status(std::uint16_t code) noexcept {
    for (const status_text& s : status_texts) {
        if (s.code == code) {
            return &s;
        }
    }
    return nullptr;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
template <typename Sink> void put_qvalue(Sink& c, std::uint16_t milli) noexcept {
    if (milli >= 1000) {
        c.put('1');
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

// Whether the top Via's sent-by host names the source, compared as text: the source is
// formatted once per reply (the received value needs it anyway). A dotted quad has one shortest
// form, the one format_ip writes, and every other form of it (leading zeros) is longer; so a
// host of the same length names the source exactly when its octets are the same, a shorter one
// never does, and only a longer one (leading zeros, a host name) or an IPv6 reference in another
// spelling is parsed.
bool sent_by_is_source(
        std::string_view host, const net::ip_address& source, std::string_view source_text
) noexcept {
    if (source.family == net::ip_family::v4) {
        if (host.size() <= source_text.size()) {
            return host == source_text;
        }
    } else {
        const std::string_view bare = host.size() >= 2 && host.front() == '[' && host.back() == ']'
                                              ? host.substr(1, host.size() - 2)
                                              : host;
        if (bare == source_text) {
            return true;
        }
    }
    net::ip_address sent_by;
    return net::parse_ip(host, sent_by) && sent_by == source;
}

// What both passes need and is computed once: the source as text, the top Via's edits, the tag.
struct prepared {
    bool unfold = false;
    std::string_view status_line; // empty: composed from the code and reason
    std::array<char, net::max_ip_text> source_text;
    std::size_t source_text_size = 0;
    bool add_received = false;
    bool overload = false;
    struct edit {
        std::string_view span;
        bool is_rport;
    };
    edit edits[6];
    std::size_t n_edits = 0;
    std::array<char, to_tag_size> tag;
    uri_view dialled;
};

void prepare_top_via(prepared& p, const message_view& m, const reply_spec& spec) noexcept {
    const via_top& t = m.top_via;
    p.overload = spec.overload != nullptr && t.has_oc;
    if (!t.received_param.empty()) {
        p.edits[p.n_edits++] = {t.received_param, false};
    }
    if (t.has_rport) {
        p.edits[p.n_edits++] = {t.rport_param, true};
    }
    if (p.overload) {
        for (const std::string_view oc :
             {t.oc_param, t.oc_validity_param, t.oc_seq_param, t.oc_algo_param}) {
            if (!oc.empty()) {
                p.edits[p.n_edits++] = {oc, false};
            }
        }
    }
    // In the order they appear (at most six: an insertion sort).
    for (std::size_t i = 1; i < p.n_edits; ++i) {
        for (std::size_t k = i; k > 0 && p.edits[k].span.data() < p.edits[k - 1].span.data(); --k) {
            std::swap(p.edits[k], p.edits[k - 1]);
        }
    }
    p.source_text_size = net::format_ip(spec.source.address, p.source_text);
    // RFC 3261 §18.2.1 and RFC 3581 §4: received when sent-by is not the source, always with
    // rport; a received the request already carried is replaced (RFC 5118 §4.5).
    p.add_received = t.has_rport || !t.received_param.empty()
                     || !sent_by_is_source(
                             t.host, spec.source.address, {p.source_text.data(), p.source_text_size}
                     );
}

// oc-seq = 1*12DIGIT "." 1*5DIGIT (RFC 7339's grammar): seconds, then milliseconds in three digits.
template <typename Sink> void put_oc_seq(Sink& c, std::uint64_t ms) noexcept {
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
template <typename Sink>
void put_top_via(
        Sink& c, const message_view& m, const reply_spec& spec, const prepared& p
) noexcept {
    const std::string_view v = m.vias[0];
    c.put("Via: ");
    const char* at = v.data();
    for (std::size_t i = 0; i < p.n_edits; ++i) {
        c.put_field({at, static_cast<std::size_t>(p.edits[i].span.data() - at)});
        if (p.edits[i].is_rport) {
            c.put("rport=");
            c.put_uint(spec.source.port);
        }
        at = p.edits[i].span.data() + p.edits[i].span.size();
    }
    c.put_field({at, static_cast<std::size_t>(v.data() + v.size() - at)});
    if (p.add_received) {
        c.put(";received=");
        c.put({p.source_text.data(), p.source_text_size});
    }
    // RFC 7339 §5.2, §5.3: to a client that offered overload control, the reduction asked
    // for, the one algorithm in force, how long it holds, and its sequence number.
    if (p.overload) {
        c.put(";oc=");
        c.put_uint(spec.overload->reduction);
        c.put(";oc-algo=\"loss\";oc-validity=");
        c.put_uint(spec.overload->validity_ms);
        c.put(";oc-seq=");
        put_oc_seq(c, spec.overload->seq_ms);
    }
    c.put("\r\n");
}

template <typename Sink>
void put_header(Sink& c, std::string_view name_colon_space, std::string_view value) noexcept {
    c.put(name_colon_space);
    c.put_field(value);
    c.put("\r\n");
}

template <typename Sink>
void put_echoed(
        Sink& c, const message_view& m, const reply_spec& spec, const prepared& p
) noexcept {
    // RFC 3261 §8.2.6.2: Via values in order, From, Call-ID, CSeq equal to the request's; To
    // equal, plus a tag when the request had none.
    if (m.via_count > 0) {
        put_top_via(c, m, spec, p);
        for (std::size_t i = 1; i < m.via_count; ++i) {
            put_header(c, "Via: ", m.vias[i]);
        }
    }
    if (m.has_from) {
        put_header(c, "From: ", m.from.value);
    }
    if (m.has_to) {
        c.put("To: ");
        c.put_field(m.to.value);
        if (!m.to.has_tag) {
            c.put(";tag=");
            c.put({p.tag.data(), p.tag.size()});
        }
        c.put("\r\n");
    }
    if (!m.call_id.empty()) {
        put_header(c, "Call-ID: ", m.call_id);
    }
    if (m.has_cseq) {
        put_header(c, "CSeq: ", m.cseq);
    }
}

template <typename Sink>
void put_contacts(Sink& c, const reply_spec& spec, const prepared& p) noexcept {
    // The caller sends its next request to a Contact, so each one keeps whom it dialled.
    for (const contact_entry& contact : spec.contacts) {
        c.put("Contact: ");
        c.put_contact(contact.uri, p.dialled);
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
}

template <typename Sink> void put_own_headers(Sink& c, const reply_spec& spec) noexcept {
    if (spec.has_retry_after) {
        c.put("Retry-After: ");
        c.put_uint(spec.retry_after);
        c.put("\r\n");
    }
    if (!spec.allow.empty()) {
        put_header(c, "Allow: ", spec.allow);
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
        put_header(c, "Server: ", spec.server);
    }
}

template <typename Sink>
void emit(Sink& c, const message_view& m, const reply_spec& spec, const prepared& p) noexcept {
    if (!p.status_line.empty()) {
        c.put(p.status_line);
    } else {
        c.put("SIP/2.0 ");
        c.put_uint(spec.code);
        c.put(' ');
        c.put(spec.reason);
        c.put("\r\n");
    }
    put_echoed(c, m, spec, p);
    put_contacts(c, spec, p);
    put_own_headers(c, spec);
    c.put("Content-Length: 0\r\n\r\n");
}

} // namespace

std::string_view standard_reason(std::uint16_t code) noexcept {
    const status_text* s = find_status(code);
    return s != nullptr ? s->reason : std::string_view();
}

write_result
write_reply(const message_view& m, const reply_spec& spec, std::span<char> out) noexcept {
    assert(spec.to_tag_key != nullptr);
    assert(spec.code >= 100 && spec.code <= 699);
    prepared p;
    p.unfold = m.has_folded_lines || m.first_defect != defect::none;
    if (spec.reason.empty()) {
        const status_text* s = find_status(spec.code);
        p.status_line = s != nullptr ? s->line : std::string_view();
    }
    if (m.via_count > 0) {
        prepare_top_via(p, m, spec);
    }
    if (m.has_to && !m.to.has_tag) {
        p.tag = render_to_tag(
                spec.to_tag_digest ? *spec.to_tag_digest : to_tag_digest(*spec.to_tag_key, m)
        );
    }
    if (!spec.contacts.empty()) {
        p.dialled = contact_source(m, spec.contact_from);
    }
    // The one capacity check: a bound first (no scan of the fields, no Contact composed), the
    // exact size only when the bound does not fit.
    counter<false> bound(p.unfold);
    emit(bound, m, spec, p);
    if (bound.size() > out.size()) {
        counter<true> exact(p.unfold);
        emit(exact, m, spec, p);
        if (exact.size() > out.size()) {
            return {exact.size(), false};
        }
    }
    writer w(out, p.unfold);
    emit(w, m, spec, p);
    return {w.size(), true};
}

} // namespace sipredir::sip
