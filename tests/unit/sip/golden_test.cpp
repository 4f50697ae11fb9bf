// SPDX-License-Identifier: BSD-3-Clause
// Golden replies: tests/golden/sip/<case>.request -> exactly <case>.reply. On a mismatch the
// runner prints both and writes <case>.actual beside the test binary's working directory.
// SIPREDIR_GOLDEN_UPDATE=1 rewrites the .reply files (then read every diff before committing).
#include "../test_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sip/parser.hpp>
#include <sip/reply_writer.hpp>
#include <sip/verdict.hpp>
#include <vector>

namespace sipredir::sip {
namespace {

enum class backends : std::uint8_t { one, three_with_q, all_busy };

struct golden_case {
    const char* name;
    net::ip_endpoint source;
    backends pool = backends::one;
    std::string_view server = {};
    bool overloaded = false; // the appliance asks clients that offer it to shed (RFC 7339)
};

std::filesystem::path golden_dir() {
    return test::data_dir().parent_path() / "golden" / "sip";
}

const siphash_key key = {
        0x73,
        0x69,
        0x70,
        0x72,
        0x65,
        0x64,
        0x69,
        0x72,
        0x2d,
        0x67,
        0x6f,
        0x6c,
        0x64,
        0x65,
        0x6e,
        0x21};

// The reply written into `capacity` octets (with a guard after them that must stay untouched);
// `result`, when given, gets the writer's answer instead of it being expected to fit.
std::string
respond(std::string_view request,
        const golden_case& c,
        std::size_t capacity = 4096,
        write_result* result = nullptr) {
    message_view m;
    parse(request, m);
    const verdict v = decide(m, {.supported_option_tags = default_supported_option_tags});
    if (v.what != action::reply) {
        return {};
    }
    static constexpr contact_entry one[] = {{"<sip:198.18.1.1:5060;transport=udp>"}};
    static constexpr contact_entry three[] = {
            {"<sip:198.18.1.2:5060;transport=udp>", 1000, 0, false},
            {"<sip:198.18.1.1:5060;transport=udp>", 700, 0, false},
            {"<sip:[2001:db8::1:3]:5062;transport=udp>", 45, 3600, true},
    };
    static constexpr via_overload overload{
            .reduction = 20, .validity_ms = 500, .seq_ms = 1282321615781};
    reply_spec spec;
    spec.code = v.code;
    spec.overload = c.overloaded ? &overload : nullptr;
    spec.source = c.source;
    spec.to_tag_key = &key;
    spec.server = c.server;
    spec.unsupported = {v.unsupported.data(), v.unsupported_count};
    if (v.code == 400) {
        spec.reason = info(v.why).phrase;
    }
    if (v.code == 405 || (v.code == 200 && m.request_method == method::options)) {
        spec.allow = "INVITE, ACK, CANCEL, OPTIONS";
    }
    if (v.code == 302) {
        switch (c.pool) {
        case backends::one:
            spec.contacts = one;
            break;
        case backends::three_with_q:
            spec.contacts = three;
            break;
        case backends::all_busy:
            spec.code = 503;
            spec.retry_after = 5;
            spec.has_retry_after = true;
            break;
        }
    }
    constexpr std::size_t guard = 64;
    std::vector<char> out(capacity + guard, '#');
    const write_result w = write_reply(m, spec, {out.data(), capacity});
    for (std::size_t i = capacity; i < out.size(); ++i) {
        if (out[i] != '#') {
            ADD_FAILURE() << c.name << ": wrote past a " << capacity << "-octet buffer";
            break;
        }
    }
    if (result != nullptr) {
        *result = w;
    } else {
        EXPECT_TRUE(w.ok);
    }
    return {out.data(), w.ok ? w.size : 0};
}

class golden : public ::testing::TestWithParam<golden_case> {};

TEST_P(golden, reply_bytes_exact) {
    const golden_case& c = GetParam();
    const auto dir = golden_dir();
    const std::string request = test::read_file(dir / (std::string(c.name) + ".request"));
    const std::string actual = respond(request, c);
    const auto expected_path = dir / (std::string(c.name) + ".reply");
    if (std::getenv("SIPREDIR_GOLDEN_UPDATE") != nullptr) {
        std::ofstream(expected_path, std::ios::binary) << actual;
    }
    const std::string expected = test::read_file(expected_path);
    if (actual != expected) {
        std::ofstream(std::string(c.name) + ".actual", std::ios::binary) << actual;
    }
    EXPECT_EQ(actual, expected) << c.name << ": wrote " << c.name << ".actual";
    // A retransmission gets the same bytes.
    EXPECT_EQ(respond(request, c), actual);
}

// The writer checks capacity once, up front: every shorter buffer must learn the exact size and
// get nothing written past it, and the exact size must be enough.
TEST_P(golden, short_buffers_learn_the_exact_size) {
    const golden_case& c = GetParam();
    const std::string request = test::read_file(golden_dir() / (std::string(c.name) + ".request"));
    const std::string whole = respond(request, c);
    for (std::size_t n = 0; n < whole.size(); ++n) {
        write_result w;
        respond(request, c, n, &w);
        EXPECT_FALSE(w.ok) << n;
        ASSERT_EQ(w.size, whole.size()) << c.name << " in " << n << " octets";
    }
    write_result w;
    EXPECT_EQ(respond(request, c, whole.size(), &w), whole);
    EXPECT_TRUE(w.ok);
    EXPECT_EQ(w.size, whole.size());
}

const net::ip_endpoint caller_v4 = {net::ip_address::v4(198, 18, 0, 2), 5061};

net::ip_endpoint caller_v6() {
    net::ip_endpoint e;
    net::parse_ip("2001:db8::9:1", e.address);
    e.port = 6050;
    return e;
}

const golden_case cases[] = {
        {"plain_invite", caller_v4},
        {"compact_forms", caller_v4},
        {"folded_headers", caller_v4},
        {"multi_via_comma_and_lines", caller_v4},
        {"ipv6_sent_by", caller_v6()},
        {"rport_filled_received_replaced", {net::ip_address::v4(203, 0, 113, 9), 40123}},
        {"existing_to_tag", caller_v4},
        {"options_keepalive", caller_v4, backends::one, "sipredir/0.1"},
        {"bye_not_allowed", caller_v4},
        {"max_forwards_zero", caller_v4},
        {"bad_cseq_400", caller_v4},
        {"require_unsupported_420", caller_v4},
        {"all_busy_503", caller_v4, backends::all_busy},
        {"three_contacts_q", caller_v4, backends::three_with_q},
        {"dialled_number_kept", caller_v4, backends::three_with_q},
        {"overload_oc_302", caller_v4, backends::one, {}, true},
        {"overload_oc_replaced_503",
         {net::ip_address::v4(203, 0, 113, 9), 40123},
         backends::all_busy,
         {},
         true},
        {"overload_not_offered_302", caller_v4, backends::one, {}, true},
};

INSTANTIATE_TEST_SUITE_P(cases, golden, ::testing::ValuesIn(cases), [](const auto& info) {
    return std::string(info.param.name);
});

TEST(golden_files, every_request_has_a_case) {
    std::size_t requests = 0;
    for (const auto& entry : std::filesystem::directory_iterator(golden_dir())) {
        requests += entry.path().extension() == ".request";
    }
    EXPECT_EQ(requests, std::size(cases));
}

} // namespace
} // namespace sipredir::sip
