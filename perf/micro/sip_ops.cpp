// SPDX-License-Identifier: BSD-3-Clause
// Runs one benchmarked operation a given number of times, for instruction counting under
// callgrind: perf/run_micro.sh runs it at N and at 0 iterations and divides the difference by N,
// which leaves start-up out and is the same on every run (callgrind counts, it does not time).
//   sip_ops {memchr|parse|write} {invite|options} N
#include "messages.hpp"
#include "operations.hpp"

#include <cstdio>
#include <cstdlib>
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
    char out[2048];

    for (long i = 0; i < n; ++i) {
        keep(msg);
        if (op == "memchr") {
            keep(perf::memchr_lines(msg));
        } else if (op == "parse") {
            keep(parse(msg, m));
        } else {
            keep(perf::write_answer(m, out));
        }
        keep(m);
    }
    return 0;
}
