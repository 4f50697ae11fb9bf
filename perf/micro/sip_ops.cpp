// SPDX-License-Identifier: BSD-3-Clause
// Runs one benchmarked operation a given number of times, for instruction counting under
// callgrind: perf/run_micro.sh runs it at N and at 0 iterations and divides the difference by N,
// which leaves start-up out and is the same on every run (callgrind counts, it does not time).
//   sip_ops {memchr|parse|write} {invite|options} N
#include "messages.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sip/parser.hpp>
#include <sip/reply_writer.hpp>
#include <sip/verdict.hpp>
#include <string_view>

using namespace sipredir;
using namespace sipredir::sip;

namespace {

template <typename T> void keep(const T& v) {
    asm volatile("" : : "r"(&v) : "memory");
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s {memchr|parse|write} {invite|options} N\n", argv[0]);
        return 2;
    }
    const std::string_view op = argv[1];
    const std::string_view msg =
            std::string_view(argv[2]) == "options" ? perf::options_short : perf::invite_800;
    const long n = std::strtol(argv[3], nullptr, 10);

    message_view m;
    parse(msg, m);
    static const siphash_key key = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static constexpr contact_entry contacts[] = {{"<sip:198.18.1.1:5060;transport=udp>"}};
    const verdict_policy policy{.supported_option_tags = default_supported_option_tags};
    char out[2048];

    for (long i = 0; i < n; ++i) {
        keep(msg);
        if (op == "memchr") {
            const char* p = msg.data();
            const char* const end = p + msg.size();
            std::size_t lines = 0;
            while (const void* lf = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
                p = static_cast<const char*>(lf) + 1;
                ++lines;
            }
            keep(lines);
        } else if (op == "parse") {
            keep(parse(msg, m));
        } else {
            const verdict v = decide(m, policy);
            reply_spec spec;
            spec.code = v.code;
            spec.contacts = contacts;
            spec.source = {net::ip_address::v4(198, 18, 0, 3), 5060};
            spec.to_tag_key = &key;
            keep(write_reply(m, spec, out));
        }
        keep(m);
    }
    return 0;
}
