// SPDX-License-Identifier: BSD-3-Clause
// Datagram framing, start line and the dispatch of header lines to their field grammars.
#include "parser.hpp"

#include "chars.hpp"
#include "fields.hpp"
#include "header.hpp"
#include "scan.hpp"
#include "stage1.hpp"

#include <cstring>

namespace sipredir::sip {
namespace {

void note(message_view& m, defect d) noexcept {
    if (m.first_defect == defect::none) {
        m.first_defect = d;
    }
}

// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT, the whole of `v`. RFC 3261 §7.1: case-insensitive.
bool parse_version(std::string_view v, message_fields& m) noexcept {
    if (v.size() < 7 || !iequals(v.substr(0, 4), "sip/")) {
        return false;
    }
    const char* p = v.data() + 4;
    const char* const end = v.data() + v.size();
    const auto major = scan::parse_decimal(p, end, 999);
    if (major.next == nullptr || major.next >= end || *major.next != '.') {
        return false;
    }
    const auto minor = scan::parse_decimal(major.next + 1, end, 999);
    if (minor.next != end) {
        return false;
    }
    m.version_major = static_cast<std::uint16_t>(major.value);
    m.version_minor = static_cast<std::uint16_t>(minor.value);
    return true;
}

// Request-Line = Method SP Request-URI SP SIP-Version CRLF: exactly two single spaces
// (RFC 4475 §3.1.2.8-10 reject extra or trailing SP).
void parse_request_line(std::string_view line, message_view& m) noexcept {
    m.kind = message_kind::request;
    const std::size_t sp1 = line.find(' ');
    m.method_text = line.substr(0, sp1);
    m.request_method = method_from_token(m.method_text);
    const std::size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp2 == sp1 + 1) {
        note(m, defect::request_line_bad);
        return;
    }
    if (!parse_version(line.substr(sp2 + 1), m)) {
        note(m, defect::request_line_bad);
        return;
    }
    m.request_uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
    m.request_uri_status = parse_uri(m.request_uri, m.request_uri_parts);
    if (m.request_uri_status == uri_status::bad) {
        note(m, defect::request_uri_bad);
    } else if (m.request_uri_status == uri_status::has_headers) {
        // RFC 3261 §19.1.1 table: headers are not allowed in a Request-URI.
        note(m, defect::request_uri_has_headers);
    }
}

// Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
void parse_status_line(std::string_view line, message_view& m) noexcept {
    m.kind = message_kind::response;
    const std::size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || !parse_version(line.substr(0, sp1), m)) {
        note(m, defect::status_line_bad);
        return;
    }
    const std::string_view rest = line.substr(sp1 + 1);
    if (rest.size() < 4 || rest[3] != ' ' || !is(rest[0], cc_digit) || !is(rest[1], cc_digit)
        || !is(rest[2], cc_digit) || rest[0] == '0') {
        note(m, defect::status_line_bad);
        return;
    }
    m.status_code = static_cast<std::uint16_t>(
            (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0')
    );
    m.reason_phrase = rest.substr(4);
}

// The start line decides the kind: "SIP/" opens a status line, a token and SP a request line.
void parse_start_line(std::string_view line, message_view& m) noexcept {
    if (line.size() >= 4 && iequals(line.substr(0, 4), "sip/")) {
        parse_status_line(line, m);
        return;
    }
    const char* p = line.data();
    const char* const end = p + line.size();
    const char* token_end = scan::skip_class(p, end, cc_token);
    if (token_end == p || token_end >= end || *token_end != ' ') {
        note(m, defect::start_line_bad);
        return;
    }
    parse_request_line(line, m);
}

bool whole_decimal(std::string_view v, std::uint64_t limit, std::uint64_t& value) noexcept {
    const auto n = scan::parse_decimal(v.data(), v.data() + v.size(), limit);
    if (n.next != v.data() + v.size() || n.value > limit) {
        return false;
    }
    value = n.value;
    return true;
}

void take_via(std::string_view v, message_view& m) noexcept {
    if (m.via_count == max_via_values) {
        note(m, defect::via_too_many);
        return;
    }
    m.vias[m.via_count++] = v;
    if (m.via_count == 1) {
        const via_parse r = parse_via_value(v, m.top_via);
        m.top_via_readable = r.readable;
        if (!r.valid) {
            note(m, defect::via_bad);
        }
        return;
    }
    // RFC 3261 §20.42: every via-parm has the same grammar. The reply copies each Via value,
    // so one that is not a via-parm ("x") would be echoed as a header line of its own.
    if (!via_value_valid(v)) {
        note(m, defect::via_element_bad);
    }
}

void take_vias(std::string_view value, message_view& m) noexcept {
    // Most Via lines hold one value: without a comma there is nothing to split (a quote left
    // open inside it is the Via grammar's to report).
    if (std::memchr(value.data(), ',', value.size()) == nullptr) {
        if (value.empty()) {
            note(m, defect::via_bad);
            return;
        }
        take_via(value, m);
        return;
    }
    const bool closed = for_each_list_element(value, [&m](std::string_view v) noexcept {
        if (v.empty()) {
            note(m, defect::via_bad); // RFC 4475 §3.1.2.1: ",," is no via-parm
            return true;
        }
        if (m.via_count == max_via_values) {
            note(m, defect::via_too_many);
            return false;
        }
        take_via(v, m);
        return true;
    });
    if (!closed) {
        note(m, defect::via_bad);
    }
}

// Content-Length above this is past any datagram; it saturates here and cannot wrap.
constexpr std::uint64_t content_length_limit = 1 << 24;

// The take_* functions below file one header line's value into the view. `repeated`: a line
// of the same kind came before; `clean`: stage 1 saw no control octet in the line, so the
// checks for one are skipped.

void take_name_addr(const header_line& h, bool repeated, message_view& m, bool clean) noexcept {
    const bool is_from = h.kind == header_kind::from;
    if (repeated) {
        note(m, defect::header_repeated); // RFC 4475 §3.3.8
        return;
    }
    (is_from ? m.has_from : m.has_to) = true;
    if (!parse_name_addr(h.value, is_from ? m.from : m.to, !clean)) {
        note(m, is_from ? defect::from_bad : defect::to_bad);
    }
}

void take_call_id(const header_line& h, bool repeated, message_view& m) noexcept {
    if (repeated) {
        note(m, defect::header_repeated);
        return;
    }
    m.call_id = h.value;
    if (!call_id_valid(h.value)) {
        note(m, defect::call_id_bad);
    }
}

void take_cseq(const header_line& h, bool repeated, message_view& m, bool clean) noexcept {
    if (repeated) {
        note(m, defect::header_repeated);
        return;
    }
    m.cseq = h.value;
    m.has_cseq = true;
    if (!clean && has_control_octet(h.value)) {
        note(m, defect::cseq_bad);
        return;
    }
    switch (parse_cseq(h.value, m.cseq_number, m.cseq_method_text)) {
    case cseq_status::ok:
        break;
    case cseq_status::bad:
        note(m, defect::cseq_bad);
        break;
    case cseq_status::out_of_range:
        note(m, defect::cseq_out_of_range);
        break;
    }
}

// RFC 3261 §20.22: Max-Forwards is an integer in the range 0-255.
void take_max_forwards(const header_line& h, bool repeated, message_view& m) noexcept {
    if (repeated) {
        note(m, defect::header_repeated);
        return;
    }
    std::uint64_t v = 0;
    if (!whole_decimal(h.value, 255, v)) {
        note(m, defect::max_forwards_bad);
        return;
    }
    m.max_forwards = static_cast<int>(v);
}

void take_content_length(const header_line& h, bool repeated, message_view& m) noexcept {
    if (repeated) {
        note(m, defect::content_length_repeated); // RFC 4475 §3.3.9
        return;
    }
    std::uint64_t v = 0;
    if (!whole_decimal(h.value, content_length_limit, v)) {
        // RFC 4475 §3.1.2.3: a negative length never becomes a huge unsigned one.
        note(m, defect::content_length_bad);
        return;
    }
    m.content_length = static_cast<std::int64_t>(v);
}

void take_require(const header_line& h, message_view& m, bool clean) noexcept {
    if (m.require_count == max_require_headers) {
        note(m, defect::require_too_many);
        return;
    }
    if (!clean && has_control_octet(h.value)) {
        note(m, defect::require_bad); // its tags would be echoed in a 420's Unsupported
        return;
    }
    m.require_values[m.require_count++] = h.value;
}

// Headers of which the view keeps the first line's value, unread.
std::string_view* first_value_of(header_kind kind, message_view& m) noexcept {
    switch (kind) {
    case header_kind::route:
        return &m.first_route;
    case header_kind::contact:
        return &m.first_contact;
    case header_kind::expires:
        return &m.expires;
    case header_kind::user_agent:
        return &m.user_agent;
    default:
        return nullptr;
    }
}

// parse() calls it for well-formed lines only of the kinds in kept_kinds (below): a new case
// here needs its kind added there.
void take_header(
        const header_line& h, std::uint32_t& seen, message_view& m, bool clean = false
) noexcept {
    if (!h.well_formed) {
        note(m, defect::header_line_bad);
        return;
    }
    const std::uint32_t bit = std::uint32_t{1} << static_cast<unsigned>(h.kind);
    const bool repeated = (seen & bit) != 0;
    seen |= bit;
    switch (h.kind) {
    case header_kind::via:
        if (!clean && has_control_octet(h.value)) {
            note(m, defect::via_bad);
        }
        take_vias(h.value, m);
        return;
    case header_kind::from:
    case header_kind::to:
        return take_name_addr(h, repeated, m, clean);
    case header_kind::call_id:
        return take_call_id(h, repeated, m);
    case header_kind::cseq:
        return take_cseq(h, repeated, m, clean);
    case header_kind::max_forwards:
        return take_max_forwards(h, repeated, m);
    case header_kind::content_length:
        return take_content_length(h, repeated, m);
    case header_kind::require:
        return take_require(h, m, clean);
    default:
        if (std::string_view* first = first_value_of(h.kind, m); first != nullptr && !repeated) {
            *first = h.value;
        }
        return;
    }
}

// Framing after the header section, shared by both parsers.
parse_result
finish(std::string_view d,
       const char* lf,
       const char* section_end,
       const char* body_begin,
       bool terminated,
       message_view& m) noexcept {
    const char* const begin = d.data();
    const char* const end = begin + d.size();
    m.headers = {lf + 1, static_cast<std::size_t>(section_end - (lf + 1))};

    const char* body_end = end;
    if (!terminated) {
        note(m, defect::header_section_unterminated);
    } else if (m.content_length >= 0) {
        const auto available = static_cast<std::uint64_t>(end - body_begin);
        if (static_cast<std::uint64_t>(m.content_length) > available) {
            note(m, defect::content_length_exceeds_datagram); // RFC 3261 §18.3
        } else {
            body_end = body_begin + m.content_length;
        }
    }
    // Sub-structures the message did not carry are reset here rather than before parsing, so
    // the common packet, which has them all, writes each once.
    if (m.kind != message_kind::request || m.request_uri.empty()) {
        m.request_uri_parts = uri_view{};
    }
    if (m.via_count == 0) {
        m.top_via = via_top{};
    }
    if (!m.has_from) {
        m.from = name_addr{};
    }
    if (!m.has_to) {
        m.to = name_addr{};
    }
    m.body = {body_begin, static_cast<std::size_t>(body_end - body_begin)};
    m.message_size = static_cast<std::size_t>(body_end - begin);
    return {status_of(m.first_defect), m.first_defect};
}

} // namespace

parse_result parse_scalar(std::string_view d, message_view& m) noexcept {
    static_cast<message_fields&>(m) = message_fields{};
    const char* const begin = d.data();
    const char* const end = begin + d.size();

    // An empty datagram may come with a null pointer, which memchr must not see.
    const auto* lf =
            d.empty() ? nullptr : static_cast<const char*>(std::memchr(begin, '\n', d.size()));
    if (lf == nullptr) {
        note(m, defect::start_line_bad);
        return {parse_status::invalid, m.first_defect};
    }
    const char* line_end = (lf > begin && lf[-1] == '\r') ? lf - 1 : lf;
    parse_start_line({begin, static_cast<std::size_t>(line_end - begin)}, m);

    header_reader reader(lf + 1, end);
    header_line line;
    std::uint32_t seen = 0;
    const char* section_end = end;
    const char* body_begin = end;
    bool terminated = false;
    for (;;) {
        const char* line_start = reader.position();
        const auto step = reader.next(line);
        if (step == header_reader::step::header) {
            m.has_folded_lines |= line.folded;
            take_header(line, seen, m);
            continue;
        }
        if (step == header_reader::step::end_of_headers) {
            section_end = line_start;
            body_begin = reader.position();
            terminated = true;
        }
        break;
    }
    return finish(d, lf, section_end, body_begin, terminated, m);
}

namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);

// The LF positions of a stage 1 index in order: a count of trailing zeros per line, and the
// lowest bit cleared (blsr) to step to the next.
class lf_cursor {
public:
    explicit lf_cursor(const stage1::index& idx) noexcept
        : _idx(idx), _bits(idx.blocks != 0 ? idx.block[0].lf : 0) {}

    // The next LF at or after the last seek, or npos past the classified octets.
    std::size_t next() noexcept {
        while (_bits == 0) {
            if (++_block >= _idx.blocks) {
                _block = _idx.blocks;
                return npos;
            }
            _bits = _idx.block[_block].lf;
        }
        const std::size_t pos =
                _block * stage1::block_size + static_cast<std::size_t>(__builtin_ctzll(_bits));
        _bits &= _bits - 1;
        return pos;
    }

    void seek(std::size_t pos) noexcept {
        _block = pos / stage1::block_size;
        if (_block >= _idx.blocks) {
            _block = _idx.blocks;
            _bits = 0;
            return;
        }
        _bits = _idx.block[_block].lf & (~std::uint64_t{0} << (pos % stage1::block_size));
    }

private:
    const stage1::index& _idx;
    std::size_t _block = 0;
    std::uint64_t _bits;
};

// Whether [from, to) (inside the classified octets) holds an octet the plain-line path leaves
// to the scalar reader: a control octet, a backslash or a CR (all in the special mask).
bool irregular(const stage1::index& idx, std::size_t from, std::size_t to) noexcept {
    if (from >= to) {
        return false;
    }
    constexpr std::uint64_t ones = ~std::uint64_t{0};
    const std::size_t first = from / stage1::block_size;
    const std::size_t last = (to - 1) / stage1::block_size;
    const std::uint64_t head = ones << (from % stage1::block_size);
    const std::uint64_t tail = ones >> (stage1::block_size - 1 - (to - 1) % stage1::block_size);
    if (first == last) { // most lines
        return (idx.block[first].special & head & tail) != 0;
    }
    std::uint64_t any = (idx.block[first].special & head) | (idx.block[last].special & tail);
    for (std::size_t b = first + 1; b < last; ++b) {
        any |= idx.block[b].special;
    }
    return any != 0;
}

// Whether the head holds special octets only right before an LF (the CR of a CRLF, or a
// control or backslash ending a line): then a line needs no range test, only a look at its
// last octet. One pass over the blocks instead of one range test per line.
// The body's octets after the head (stage1::index::head_end) are left out: a body line's CR at
// the end of the last block, whose LF stage 1 never classified, is no stray in the head.
bool specials_only_before_lf(const stage1::index& idx) noexcept {
    std::uint64_t stray = 0;
    const std::size_t head_blocks = (idx.head_end + stage1::block_size - 1) / stage1::block_size;
    for (std::size_t b = 0; b < head_blocks; ++b) {
        const std::uint64_t next_lf = b + 1 < idx.blocks ? idx.block[b + 1].lf : 0;
        std::uint64_t in_head = ~std::uint64_t{0};
        if (const std::size_t left = idx.head_end - b * stage1::block_size;
            left < stage1::block_size) {
            in_head = (std::uint64_t{1} << left) - 1;
        }
        stray |= idx.block[b].special & in_head & ~((idx.block[b].lf >> 1) | (next_lf << 63));
    }
    return stray == 0;
}

// The kinds take_header reads or counts; for any other, a well-formed line only sets its bit in
// `seen`, which nothing reads.
constexpr std::uint32_t kept_kinds = [] {
    using enum header_kind;
    std::uint32_t k = 0;
    for (const header_kind h :
         {via,
          from,
          to,
          call_id,
          cseq,
          max_forwards,
          content_length,
          require,
          route,
          contact,
          expires,
          user_agent}) {
        k |= std::uint32_t{1} << static_cast<unsigned>(h);
    }
    return k;
}();

// A control octet or a backslash (chars.hpp's is_control_octet, CR aside).
inline bool special_octet(char c) noexcept {
    return c == '\\' || is_control_octet(c);
}

// The first octet at or after `from` that is no token character (an LF ends every line, so
// one is found before the classified octets end).
std::size_t token_end(const stage1::index& idx, std::size_t from) noexcept {
    std::size_t b = from / stage1::block_size;
    std::uint64_t bits = ~idx.block[b].token & (~std::uint64_t{0} << (from % stage1::block_size));
    while (bits == 0) {
        if (++b >= idx.blocks) {
            return idx.covered;
        }
        bits = ~idx.block[b].token;
    }
    return b * stage1::block_size + static_cast<std::size_t>(__builtin_ctzll(bits));
}

// One plain header line [line, line_end), no CR, LF, control octet or backslash inside: the
// header_line that header_reader::next gives for it.
void plain_line(
        const stage1::index& idx, const char* line, const char* line_end, header_line& out
) noexcept {
    out.folded = false;
    out.well_formed = true;
    out.kind = header_kind::other;
    const std::size_t at = static_cast<std::size_t>(line - idx.base);
    const char* name_end = idx.base + token_end(idx, at);
    if (name_end > line_end) {
        name_end = line_end;
    }
    const char* const colon = take_name_and_colon(line, name_end, line_end, out);
    if (colon == nullptr) {
        return;
    }
    out.kind = classify_header(out.name);
    const char* v = colon + 1;
    const char* v_end = line_end;
    if ((kept_kinds >> static_cast<unsigned>(out.kind) & 1) == 0) {
        out.value = std::string_view(v, static_cast<std::size_t>(v_end - v)); // not read
        return;
    }
    // The line holds no CR or LF: trimming LWS is trimming SP and HT.
    while (v < v_end && (*v == ' ' || *v == '\t')) {
        ++v;
    }
    while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t')) {
        --v_end;
    }
    out.value = std::string_view(v, static_cast<std::size_t>(v_end - v));
}

} // namespace

namespace {

// Where the body begins when the empty line that ends the header section is at p; else nullptr.
const char* after_empty_line(const char* p, const char* end) noexcept {
    if (p < end && *p == '\n') {
        return p + 1;
    }
    if (p + 1 < end && p[0] == '\r' && p[1] == '\n') {
        return p + 2;
    }
    return nullptr;
}

// The header line at `pos` read from stage 1's masks, when it is plain (one line, no special
// octet): then `pos` moves past it and true. False: the scalar reader must read it.
bool take_plain_line(
        const stage1::index& idx,
        lf_cursor& lfs,
        bool head_plain,
        std::size_t& pos,
        const char* end,
        header_line& line,
        std::uint32_t& seen,
        message_view& m
) noexcept {
    const char* const begin = idx.base;
    const char* const p = begin + pos;
    if (p >= end || *p == '\r') {
        return false;
    }
    const std::size_t eol = lfs.next();
    if (eol == npos) {
        return false;
    }
    const char* const e = begin + eol;
    const bool folded = e + 1 < end && (e[1] == ' ' || e[1] == '\t');
    const char* const le = e[-1] == '\r' ? e - 1 : e;
    const bool plain = head_plain ? le != e || !special_octet(e[-1])
                                  : !irregular(idx, pos, static_cast<std::size_t>(le - begin));
    if (folded || !plain) {
        return false;
    }
    plain_line(idx, p, le, line);
    // A well-formed line of a kind the view does not keep changes nothing.
    if (!line.well_formed || (kept_kinds >> static_cast<unsigned>(line.kind) & 1) != 0) {
        take_header(line, seen, m, true);
    }
    pos = eol + 1;
    return true;
}

} // namespace

parse_result parse(std::string_view d, message_view& m) noexcept {
    if (d.empty()) {
        return parse_scalar(d, m);
    }
    const char* const begin = d.data();
    const char* const end = begin + d.size();

    // Stage 1: the masks of the head. Its blocks are not zeroed: build writes each it counts.
    stage1::index idx;
    idx.build(begin, d.size());
    lf_cursor lfs(idx);
    const std::size_t first_lf = lfs.next();
    const bool head_plain = specials_only_before_lf(idx);
    if (first_lf == npos) {
        return parse_scalar(d, m); // no LF, or a start line longer than stage 1's reach
    }

    // Stage 2.
    static_cast<message_fields&>(m) = message_fields{};
    const char* const lf = begin + first_lf;
    const char* line_end = (lf > begin && lf[-1] == '\r') ? lf - 1 : lf;
    parse_start_line({begin, static_cast<std::size_t>(line_end - begin)}, m);

    std::uint32_t seen = 0;
    const char* section_end = end;
    const char* body_begin = end;
    bool terminated = false;
    std::size_t pos = first_lf + 1;
    header_line line;
    for (;;) {
        const char* const p = begin + pos;
        if (const char* body = after_empty_line(p, end); body != nullptr) {
            section_end = p;
            body_begin = body;
            terminated = true;
            break;
        }
        if (take_plain_line(idx, lfs, head_plain, pos, end, line, seen, m)) {
            continue;
        }
        // Anything else, one line through the scalar reader (the reference).
        header_reader reader(p, end);
        const auto step = reader.next(line);
        if (step == header_reader::step::header) {
            m.has_folded_lines |= line.folded;
            take_header(line, seen, m);
            pos = static_cast<std::size_t>(reader.position() - begin);
            lfs.seek(pos);
            continue;
        }
        if (step == header_reader::step::end_of_headers) {
            section_end = p;
            body_begin = reader.position();
            terminated = true;
        }
        break;
    }
    return finish(d, lf, section_end, body_begin, terminated, m);
}

} // namespace sipredir::sip
