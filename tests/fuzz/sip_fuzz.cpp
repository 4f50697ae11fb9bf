// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target: any datagram through parse -> decide -> write, and the reply back through
// the parser. Invariants: no crash or over-read (ASan), no UB (UBSan), the writer's size report
// is exact, and every reply is a response with the status it was given.
#include "require.hpp"

#include <cstring>
#include <sip/parser.hpp>
#include <sip/reply_writer.hpp>
#include <sip/verdict.hpp>
#include <vector>

using namespace sipredir;
using namespace sipredir::sip;

namespace {

using sipredir::fuzz::require;

const siphash_key key = {1, 2, 3};
const contact_entry contacts[] = {
        {"<sip:198.18.1.1:5060;transport=udp>", 1000},
        {"<sip:198.18.1.2:5060;transport=udp>", 500}};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // An exact-size heap copy so ASan sees any read past the datagram.
    std::vector<std::uint8_t> datagram(data, data + size);
    message_view m;
    const parse_result r = parse(std::span<const std::uint8_t>(datagram), m);
    require(m.message_size <= size);
    require((r.status == parse_status::ok) == (r.reason == defect::none));
    require(m.via_count <= max_via_values);

    const verdict v = decide(m, {.supported_option_tags = default_supported_option_tags});
    if (v.what != action::reply) {
        return 0;
    }
    reply_spec spec;
    spec.code = v.code;
    spec.reason = v.code == 400 ? info(v.why).phrase : std::string_view{};
    spec.contacts = contacts;
    spec.unsupported = {v.unsupported.data(), v.unsupported_count};
    spec.source = {net::ip_address::v4(198, 18, 0, 2), 5061};
    spec.to_tag_key = &key;

    // First into a buffer too small, to learn the size; then into exactly that size.
    char small[64];
    const write_result probe = write_reply(m, spec, small);
    std::vector<char> out(probe.size);
    const write_result w = write_reply(m, spec, out);
    require(w.ok && w.size == probe.size);
    require(probe.ok == (probe.size <= sizeof small));

    message_view reply;
    parse(std::string_view(out.data(), out.size()), reply);
    require(reply.kind == message_kind::response);
    require(reply.status_code == v.code);
    require(reply.via_count == m.via_count);
    return 0;
}
