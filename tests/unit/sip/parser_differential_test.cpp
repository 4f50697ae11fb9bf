// SPDX-License-Identifier: BSD-3-Clause
// The two-stage parser against the scalar reference: the stage 1 kernels against the scalar
// definition of their masks, and both parsers over the RFC 4475 / RFC 5118 corpora, the golden
// requests, the fuzz regressions and every prefix of each, each input ending at a guard page.
#include "../../fuzz/view_diff.hpp"
#include "../test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <sip/parser.hpp>
#include <sip/stage1.hpp>
#include <sip/verdict.hpp>
#include <string>
#include <vector>

namespace sipredir::sip {
namespace {

constexpr stage1::variant variants[] = {
        stage1::variant::ssse3, stage1::variant::avx2, stage1::variant::avx512};

const char* name(stage1::variant v) {
    switch (v) {
    case stage1::variant::ssse3:
        return "ssse3";
    case stage1::variant::avx2:
        return "avx2";
    case stage1::variant::avx512:
        return "avx512";
    }
    return "?";
}

// Restores the kernel chosen at start when a test forced another.
class variant_guard {
public:
    variant_guard() : _saved(stage1::active()) {}
    variant_guard(const variant_guard&) = delete;
    variant_guard& operator=(const variant_guard&) = delete;
    ~variant_guard() { stage1::select(_saved); }

private:
    stage1::variant _saved;
};

void expect_same_masks(const stage1::block_masks& a, const stage1::block_masks& b) {
    EXPECT_EQ(a.lf, b.lf);
    EXPECT_EQ(a.special, b.special);
    EXPECT_EQ(a.token, b.token);
}

TEST(Stage1Test, KernelsMatchTheScalarDefinitionForEveryOctetAtEveryPosition) {
    for (const auto v : variants) {
        const stage1::classify_fn k = stage1::kernel(v);
        if (k == nullptr) {
            continue; // this CPU lacks it
        }
        SCOPED_TRACE(name(v));
        char block[stage1::block_size];
        for (unsigned first = 0; first < 256; first += stage1::block_size) {
            // Every octet value at every position: octet (first + i + shift) % 256 at i.
            for (unsigned shift = 0; shift < stage1::block_size; ++shift) {
                for (unsigned i = 0; i < stage1::block_size; ++i) {
                    block[i] = static_cast<char>((first + i + shift) % 256);
                }
                stage1::block_masks got{};
                stage1::block_masks want{};
                stage1::carry c;
                bool found = false;
                k(block, 1, &got, c, found);
                stage1::classify_reference(block, want);
                expect_same_masks(got, want);
            }
        }
    }
}

TEST(Stage1Test, KernelsMatchOnRandomBlocks) {
    std::mt19937 rng(7);
    const std::string alphabet = "\r\n:,;\"\\ \t\x01\x7f\x80"
                                 "azAZ09-.!%*_+`'~<>@[]";
    for (const auto v : variants) {
        const stage1::classify_fn k = stage1::kernel(v);
        if (k == nullptr) {
            continue;
        }
        SCOPED_TRACE(name(v));
        char block[stage1::block_size];
        for (int round = 0; round < 2000; ++round) {
            for (char& c : block) {
                c = alphabet[rng() % alphabet.size()];
            }
            stage1::block_masks got{};
            stage1::block_masks want{};
            stage1::carry c;
            bool found = false;
            k(block, 1, &got, c, found);
            stage1::classify_reference(block, want);
            expect_same_masks(got, want);
        }
    }
}

// A request whose head ends `head` octets in (padded with an X-Pad header to get there), with
// `body` after it.
std::string request_with_head_of(std::size_t head, std::string_view body) {
    std::string r = "OPTIONS sip:a@198.18.0.1 SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 198.18.2.1;branch=z9hG4bK1\r\n"
                    "From: <sip:b@198.18.2.1>;tag=1\r\nTo: <sip:a@198.18.0.1>\r\n"
                    "Call-ID: c\r\nCSeq: 1 OPTIONS\r\n";
    const std::string tail = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    const std::string pad_header = "X-Pad: \r\n";
    if (head < r.size() + tail.size() + pad_header.size()) {
        throw std::invalid_argument("a head this short cannot be built");
    }
    const std::size_t pad = head - r.size() - tail.size() - pad_header.size();
    r += "X-Pad: " + std::string(pad, 'p') + "\r\n" + tail;
    r += body;
    return r;
}

TEST(Stage1Test, HeadEndIsJustPastTheEmptyLineAndIgnoresTheBody) {
    const variant_guard guard;
    struct row {
        const char* what;
        std::size_t head; // where the head ends
        std::string body;
    };
    // A head of 250 octets and this body put the body's first CR at octet 255, the last of
    // the block stage 1 stops after, its LF in a block never classified. That CR is no stray in
    // the head.
    const row rows[] = {
            {"body CR at a block's last octet", 250, "v=0.0\r\nm=audio\r\n"},
            {"head ends at a block edge", 256, "v=0\r\n"},
            {"body with controls", 230, std::string("\x01\x02\\\r", 4)},
            {"no body", 240, ""},
    };
    for (const auto v : variants) {
        if (!stage1::select(v)) {
            continue;
        }
        SCOPED_TRACE(name(v));
        for (const row& r : rows) {
            SCOPED_TRACE(r.what);
            const std::string msg = request_with_head_of(r.head, r.body);
            const test::guarded_copy copy(msg);
            stage1::index idx;
            idx.build(copy.view().data(), copy.view().size());
            EXPECT_EQ(idx.head_end, r.head);
            EXPECT_LE(idx.head_end, idx.covered);
            message_view m;
            EXPECT_EQ(parse(copy.view(), m).status, parse_status::ok);
            EXPECT_EQ(m.first_defect, defect::none);
        }
    }
}

TEST(Stage1Test, ALineOfOneControlOctetIsNotTakenForTheEmptyLine) {
    const variant_guard guard;
    // LF, 0x01, LF looks like LF CR LF to the masks; the octets say otherwise, so the head's
    // end is not claimed there (covered: nothing is known past it).
    const std::string msg = "OPTIONS sip:a@198.18.0.1 SIP/2.0\r\nVia: x\n\x01\nTo: y\r\n\r\n";
    for (const auto v : variants) {
        if (!stage1::select(v)) {
            continue;
        }
        SCOPED_TRACE(name(v));
        const test::guarded_copy copy(msg);
        stage1::index idx;
        idx.build(copy.view().data(), copy.view().size());
        EXPECT_EQ(idx.head_end, msg.size());
    }
}

std::vector<std::pair<std::string, std::string>> inputs() {
    std::vector<std::pair<std::string, std::string>> all;
    namespace fs = std::filesystem;
    const fs::path root = test::data_dir();
    const fs::path dirs[] = {
            root / "sip" / "rfc4475",
            root / "sip" / "rfc5118",
            root / "sip" / "fuzz-regressions",
            fs::path(SIPREDIR_TEST_DATA).parent_path() / "golden" / "sip"};
    for (const auto& dir : dirs) {
        if (!fs::exists(dir)) {
            continue;
        }
        for (const auto& e : fs::directory_iterator(dir)) {
            const std::string ext = e.path().extension().string();
            if (ext == ".dat" || ext == ".request" || (ext.empty() && e.is_regular_file())) {
                all.emplace_back(e.path().filename().string(), test::read_file(e.path()));
            }
        }
    }
    std::sort(all.begin(), all.end());
    return all;
}

// Places each input so that it ends at a guard page, and compares the parsers on it.
class differential {
public:
    differential() : _region(std::string(capacity, '\0')) {}

    // Empty when both parsers agree on `bytes`, else what differs.
    std::string compare(std::string_view bytes) {
        if (bytes.size() > capacity) {
            return "input too large for the test";
        }
        char* at = const_cast<char*>(_region.view().data()) + capacity - bytes.size();
        std::memcpy(at, bytes.data(), bytes.size());
        const std::string_view d(at, bytes.size());
        message_view want;
        message_view got;
        const parse_result rw = parse_scalar(d, want);
        const parse_result rg = parse(d, got);
        if (rw.status != rg.status || rw.reason != rg.reason) {
            return "parse_result";
        }
        testing::view_diff diff(d);
        std::string what = diff(got, want);
        if (!what.empty()) {
            return what;
        }
        const verdict_policy policy{.supported_option_tags = default_supported_option_tags};
        return diff(decide(got, policy), decide(want, policy));
    }

private:
    static constexpr std::size_t capacity = 1 << 16;
    test::guarded_copy _region;
};

TEST(ParserDifferentialTest, CorporaGoldenAndEveryPrefixParseAlikeWithEachKernel) {
    const auto all = inputs();
    ASSERT_GT(all.size(), 60U); // the corpora are there
    variant_guard restore;
    differential check;
    for (const auto v : variants) {
        if (!stage1::select(v)) {
            continue;
        }
        SCOPED_TRACE(name(v));
        for (const auto& [file, bytes] : all) {
            for (std::size_t n = 0; n <= bytes.size(); ++n) {
                const std::string what = check.compare(std::string_view(bytes).substr(0, n));
                ASSERT_EQ(what, "") << file << " prefix " << n;
            }
        }
    }
}

// Lines the two-stage parser leaves to the scalar reader, and edges of stage 1's blocks.
TEST(ParserDifferentialTest, FallbackLinesAndBlockEdgesParseAlike) {
    const std::string head = "INVITE sip:bob@example.com SIP/2.0\r\n";
    const std::string rest = "From: <sip:a@b>;tag=1\r\nTo: <sip:bob@example.com>\r\n"
                             "Call-ID: x@y\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n";
    const std::string lines[] = {
            "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n",
            "Via: SIP/2.0/UDP h\r\n ;branch=z9hG4bK1\r\n", // fold
            "Via: SIP/2.0/UDP h;branch=z9hG4bK\x01\r\n",   // control octet
            "Subject: \"a\\\"b\"\r\n",                     // backslash
            "Subject: a\rb\r\n",                           // stray CR
            "Subject: a\r\r\n",                            // CR CR LF
            "Subject: a\n",                                // bare LF
            "Subject: a \t \r\n",                          // trailing LWS
            "Sub ject: a\r\n",                             // no colon
            "Subject\t : a\r\n",                           // WSP before the colon
            ": a\r\n",                                     // empty name
            "\rSubject: a\r\n",                            // line opening with CR
            "To: <sip:bob@example.com>\r\n",               // repeated
            "Content-Length: 4\r\n",
            // Fields the view keeps, with LWS to trim on both ends.
            "User-Agent: \t ua 1 \t \r\n",
            "Expires:60\t\r\n",
            "Contact : <sip:c@d> \r\n",
            "Route:\t<sip:r@s>;lr\t\r\n",
            "Require: 100rel ,timer \r\n",
            "v: SIP/2.0/UDP h2 , SIP/2.0/UDP h3\t\r\n",
    };
    variant_guard restore;
    differential check;
    for (const auto v : variants) {
        if (!stage1::select(v)) {
            continue;
        }
        SCOPED_TRACE(name(v));
        for (const auto& line : lines) {
            // Padding moves the line across every position of a 64-octet block.
            for (std::size_t pad = 0; pad < 2 * stage1::block_size; ++pad) {
                const std::string msg = head + "Subject: " + std::string(pad, 'p') + "\r\n" + line
                                        + rest + "\r\nbody";
                for (const std::size_t cut : {msg.size(), msg.size() - 4, msg.size() - 6}) {
                    ASSERT_EQ(check.compare(std::string_view(msg).substr(0, cut)), "")
                            << line << " pad " << pad << " cut " << cut;
                }
            }
        }
    }
}

TEST(ParserDifferentialTest, HeadsLongerThanStageOneReachParseAlike) {
    std::string msg = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n";
    while (msg.size() < stage1::max_blocks * stage1::block_size + 300) {
        msg += "X-Filler: " + std::string(50, 'f') + "\r\n";
    }
    msg += "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n";
    differential check;
    EXPECT_EQ(check.compare(msg), "");
    // A start line longer than the whole reach.
    const std::string long_start = "OPTIONS sip:" + std::string(5000, 'a') + "@b SIP/2.0\r\n\r\n";
    EXPECT_EQ(check.compare(long_start), "");
}

} // namespace
} // namespace sipredir::sip
