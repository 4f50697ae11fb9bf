// SPDX-License-Identifier: BSD-3-Clause
// Every RFC 4475 and RFC 5118 torture message, handled as tests/data/sip/*/INDEX.md says: the
// expected column is read from the INDEX itself, so the table is the specification.
#include "../test_support.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sip/parser.hpp>
#include <sip/reply_writer.hpp>
#include <sip/verdict.hpp>
#include <vector>

namespace sipredir::sip {
namespace {

struct corpus_case {
    std::string corpus; // rfc4475 or rfc5118
    std::string file;
    std::string expected; // "302", "drop", ...
};

std::vector<corpus_case> load_index(const std::string& corpus) {
    const std::string index = test::read_file(test::data_dir() / "sip" / corpus / "INDEX.md");
    // | `file.dat` | section | title | verdict | **expected** | also ok | why | ...
    static const std::regex row(
            R"(^\| `([^`]+\.dat)` \|[^|]*\|[^|]*\|[^|]*\| \*\*([a-z0-9]+)\*\* \|)"
    );
    std::vector<corpus_case> cases;
    std::istringstream lines(index);
    for (std::string line; std::getline(lines, line);) {
        std::smatch m;
        if (std::regex_search(line, m, row)) {
            cases.push_back({corpus, m[1].str(), m[2].str()});
        }
    }
    return cases;
}

std::vector<corpus_case> all_cases() {
    auto cases = load_index("rfc4475");
    auto more = load_index("rfc5118");
    cases.insert(cases.end(), more.begin(), more.end());
    return cases;
}

const siphash_key key = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

// Reference handling: what the pipeline does with a verdict when the balancer has a backend.
std::string handle(std::string_view datagram, std::string& reply_text) {
    message_view m;
    parse(datagram, m);
    const verdict v =
            decide(m, verdict_policy{.supported_option_tags = default_supported_option_tags});
    if (v.what == action::drop) {
        return "drop";
    }
    if (v.what == action::absorb) {
        return "absorb";
    }
    static constexpr contact_entry contacts[] = {{"<sip:198.18.1.1:5060;transport=udp>"}};
    reply_spec spec;
    spec.code = v.code;
    spec.reason = v.code == 400 ? info(v.why).phrase : std::string_view{};
    if (v.code == 302) {
        spec.contacts = contacts;
    }
    if (v.code == 405 || (v.code == 200 && m.request_method == method::options)) {
        spec.allow = "INVITE, ACK, CANCEL, OPTIONS";
    }
    spec.unsupported = {v.unsupported.data(), v.unsupported_count};
    spec.source = {net::ip_address::v4(198, 18, 0, 2), 5061};
    spec.to_tag_key = &key;
    char buffer[8192];
    const write_result w = write_reply(m, spec, buffer);
    if (!w.ok) {
        return "reply too large";
    }
    reply_text.assign(buffer, w.size);
    return std::to_string(v.code);
}

void PrintTo(const corpus_case& c, std::ostream* os) {
    *os << c.corpus << "/" << c.file << " -> " << c.expected;
}

class corpus : public ::testing::TestWithParam<corpus_case> {};

TEST(corpus_index, lists_every_message) {
    // 50 files in RFC 4475's archive, 12 messages in RFC 5118.
    EXPECT_EQ(load_index("rfc4475").size(), 50u);
    EXPECT_EQ(load_index("rfc5118").size(), 12u);
}

TEST_P(corpus, handled_as_index_says) {
    const corpus_case& c = GetParam();
    const std::string bytes = test::read_file(test::data_dir() / "sip" / c.corpus / c.file);
    const test::guarded_copy guarded(bytes);
    std::string reply;
    const std::string got = handle(guarded.view(), reply);
    EXPECT_EQ(got, c.expected) << c.file << "\n" << reply;
    if (reply.empty()) {
        return;
    }

    // Every reply is itself a response that copies what it must. A 400 copies the broken field
    // verbatim (RFC 3261 §8.2.6.2), so it may carry the request's defect, and no other.
    message_view request;
    const parse_result request_parse = parse(bytes, request);
    message_view response;
    const parse_result r = parse(reply, response);
    if (r.status != parse_status::ok) {
        EXPECT_EQ(got, "400");
        EXPECT_EQ(info(r.reason).name, info(request_parse.reason).name) << reply;
    }
    EXPECT_EQ(response.kind, message_kind::response);
    EXPECT_EQ(std::to_string(response.status_code), got);
    EXPECT_EQ(response.via_count, request.via_count) << reply;
    EXPECT_NE(response.vias[0].find(";received=198.18.0.2"), std::string_view::npos) << reply;
    if (request.top_via.has_rport) {
        EXPECT_EQ(response.top_via.rport_value, "5061");
    }
    if (request.has_to && r.status == parse_status::ok) {
        EXPECT_TRUE(response.to.has_tag) << reply;
        if (request.to.has_tag) {
            EXPECT_EQ(response.to.tag, request.to.tag);
        }
    } else if (request.has_to) {
        EXPECT_NE(response.to.value.find(";tag="), std::string_view::npos) << reply;
    }
    if (!request.call_id.empty()) {
        EXPECT_EQ(response.call_id, request.call_id);
    }
    EXPECT_EQ(reply.find("\r\n\r\n"), reply.size() - 4) << "one header section, no body";
    constexpr std::string_view tail = "Content-Length: 0\r\n\r\n";
    EXPECT_EQ(reply.substr(reply.size() - tail.size()), tail);

    // Stateless and deterministic: the same datagram gets the same bytes.
    std::string again;
    handle(bytes, again);
    EXPECT_EQ(again, reply);
}

INSTANTIATE_TEST_SUITE_P(
        rfc,
        corpus,
        ::testing::ValuesIn(all_cases()),
        [](const ::testing::TestParamInfo<corpus_case>& info) {
            std::string name = info.param.corpus + "_" + info.param.file;
            for (char& ch : name) {
                if (!std::isalnum(static_cast<unsigned char>(ch))) {
                    ch = '_';
                }
            }
            return name;
        }
);

} // namespace
} // namespace sipredir::sip
