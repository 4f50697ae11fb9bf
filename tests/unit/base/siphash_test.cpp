// SPDX-License-Identifier: BSD-3-Clause
// The streaming SipHash-2-4 against libsodium's one-shot crypto_shorthash (the same function).
#include <gtest/gtest.h>
#include <sodium.h>

#include <base/siphash.hpp>
#include <cstring>
#include <string>

namespace sipredir {
namespace {

std::uint64_t reference(const siphash_key& key, const std::string& message) {
    static_assert(crypto_shorthash_BYTES == 8 && crypto_shorthash_KEYBYTES == 16);
    unsigned char out[8];
    crypto_shorthash(
            out, reinterpret_cast<const unsigned char*>(message.data()), message.size(), key.data()
    );
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) {
        v = v << 8 | out[i];
    }
    return v;
}

siphash_key sequential_key() {
    siphash_key k;
    for (std::size_t i = 0; i < k.size(); ++i) {
        k[i] = static_cast<std::uint8_t>(i);
    }
    return k;
}

TEST(siphash, paper_test_vector) {
    // SipHash paper, Appendix A: key 00..0f, message 00..0e -> a129ca6149be45e5.
    std::string message;
    for (int i = 0; i < 15; ++i) {
        message.push_back(static_cast<char>(i));
    }
    siphash24 h(sequential_key());
    h.update(message);
    EXPECT_EQ(h.finish(), 0xa129ca6149be45e5ULL);
}

TEST(siphash, matches_libsodium_for_every_length_up_to_64) {
    const siphash_key key = sequential_key();
    std::string message;
    for (int n = 0; n <= 64; ++n) {
        siphash24 h(key);
        h.update(message);
        EXPECT_EQ(h.finish(), reference(key, message)) << "length " << n;
        message.push_back(static_cast<char>(n * 7 + 3));
    }
}

TEST(siphash, any_split_gives_the_same_digest) {
    const siphash_key key = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
    const std::string message = "a84b4c76e66710@pc33.atlanta.com\0"
                                "1928301774\0z9hG4bK776asdhds";
    const std::uint64_t whole = reference(key, message);
    for (std::size_t a = 0; a <= message.size(); ++a) {
        for (std::size_t b = a; b <= message.size(); b += 5) {
            siphash24 h(key);
            h.update(message.data(), a);
            h.update(message.data() + a, b - a);
            h.update(message.data() + b, message.size() - b);
            ASSERT_EQ(h.finish(), whole) << a << " " << b;
        }
    }
}

} // namespace
} // namespace sipredir
