// SPDX-License-Identifier: BSD-3-Clause
// The 16-octet class runs against the octet-by-octet definition: every octet of every table,
// and every run end at every offset, with the bytes between two inaccessible pages so that a
// read before the floor or at the end faults.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <sip/class_run.hpp>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace sipredir::sip {
namespace {

struct table_case {
    const char* name;
    const run::nibble_tables& tables;
    bool (*reference)(unsigned char);
};

const table_case tables[] = {
        {"token", run::token, [](unsigned char c) { return is(static_cast<char>(c), cc_token); }},
        {"host", run::host, [](unsigned char c) { return is(static_cast<char>(c), cc_host); }},
        {"ipv6", run::ipv6, [](unsigned char c) { return is(static_cast<char>(c), cc_ipv6); }},
        {"call_id",
         run::call_id,
         [](unsigned char c) { return is(static_cast<char>(c), cc_call_id); }},
        {"token_or_colon",
         run::token_or_colon,
         [](unsigned char c) { return is(static_cast<char>(c), cc_token) || c == ':'; }},
        {"user",
         run::user,
         [](unsigned char c) { return c != '%' && is(static_cast<char>(c), cc_user); }},
        {"uri_param", run::uri_param, [](unsigned char c) {
             return c != '%' && (c == ';' || c == '=' || is(static_cast<char>(c), cc_param));
         }}};

bool member_of(const run::nibble_tables& t, unsigned char c) {
    return (t.lo[c & 15] & t.hi[c >> 4]) != 0;
}

TEST(class_run, tables_hold_exactly_the_class) {
    for (const auto& t : tables) {
        for (unsigned c = 0; c < 256; ++c) {
            EXPECT_EQ(
                    member_of(t.tables, static_cast<unsigned char>(c)),
                    t.reference(static_cast<unsigned char>(c))
            ) << t.name
              << " octet " << c;
        }
    }
}

// Three pages, the first and the last inaccessible; bytes are placed at the start or at the end
// of the middle one.
class fenced_page {
public:
    fenced_page() {
        _page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        void* m =
                mmap(nullptr, 3 * _page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0
                );
        if (m == MAP_FAILED) {
            throw std::runtime_error("mmap failed");
        }
        _base = static_cast<char*>(m);
        if (mprotect(_base, _page, PROT_NONE) != 0
            || mprotect(_base + 2 * _page, _page, PROT_NONE) != 0) {
            throw std::runtime_error("mprotect failed");
        }
    }
    fenced_page(const fenced_page&) = delete;
    fenced_page& operator=(const fenced_page&) = delete;
    ~fenced_page() { munmap(_base, 3 * _page); }

    const char* at_start(const std::string& s) {
        std::memcpy(_base + _page, s.data(), s.size());
        return _base + _page;
    }
    const char* at_end(const std::string& s) {
        char* p = _base + 2 * _page - s.size();
        std::memcpy(p, s.data(), s.size());
        return p;
    }

private:
    std::size_t _page = 0;
    char* _base = nullptr;
};

const char* reference_skip(const table_case& t, const char* p, const char* end) {
    while (p < end && t.reference(static_cast<unsigned char>(*p))) {
        ++p;
    }
    return p;
}

const char*
skip_with(const run::nibble_tables& t, const char* p, const char* end, const char* floor) {
    if (&t == &run::token) {
        return run::skip<run::token>(p, end, floor);
    }
    if (&t == &run::host) {
        return run::skip<run::host>(p, end, floor);
    }
    if (&t == &run::ipv6) {
        return run::skip<run::ipv6>(p, end, floor);
    }
    if (&t == &run::call_id) {
        return run::skip<run::call_id>(p, end, floor);
    }
    if (&t == &run::token_or_colon) {
        return run::skip<run::token_or_colon>(p, end, floor);
    }
    if (&t == &run::user) {
        return run::skip<run::user>(p, end, floor);
    }
    return run::skip<run::uri_param>(p, end, floor);
}

// Strings of class members with one outsider (or none) at every position, read from every
// start offset with the floor at the string's start and at the start offset itself.
TEST(class_run, every_run_end_at_every_offset_within_the_fences) {
    fenced_page fence;
    std::mt19937 rng(42);
    const std::string outsiders = std::string("\r\n\t \"<>,") + '\0' + "\x80\xff\x7f";
    for (const auto& t : tables) {
        std::string members;
        for (unsigned c = 0; c < 256; ++c) {
            if (t.reference(static_cast<unsigned char>(c))) {
                members.push_back(static_cast<char>(c));
            }
        }
        for (std::size_t len = 0; len <= 40; ++len) {
            for (std::size_t stop = 0; stop <= len; ++stop) { // stop == len: no outsider
                std::string s(len, 'x');
                for (char& c : s) {
                    c = members[rng() % members.size()];
                }
                if (stop < len) {
                    s[stop] = outsiders[rng() % outsiders.size()];
                }
                for (const bool at_end : {false, true}) {
                    const char* b = at_end ? fence.at_end(s) : fence.at_start(s);
                    const char* e = b + s.size();
                    for (std::size_t from = 0; from <= len; ++from) {
                        const char* expected = reference_skip(t, b + from, e);
                        ASSERT_EQ(skip_with(t.tables, b + from, e, b), expected)
                                << t.name << " len " << len << " stop " << stop << " from " << from;
                        ASSERT_EQ(skip_with(t.tables, b + from, e, b + from), expected)
                                << t.name << " len " << len << " stop " << stop << " from " << from;
                    }
                }
            }
        }
    }
}

} // namespace
} // namespace sipredir::sip
