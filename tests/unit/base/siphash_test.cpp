// SPDX-License-Identifier: BSD-3-Clause
// The streaming SipHash-2-4 against libsodium's one-shot crypto_shorthash (the same function), and
// the streaming SipHash-1-3 against published vectors and a plain one-shot version written here.
#include <gtest/gtest.h>
#include <sodium.h>

#include <base/siphash.hpp>
#include <cstring>
#include <string>
#include <vector>

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

// SipHash-c-d one-shot, as the paper's pseudocode reads: an independent check of the streaming
// class (which shares no code with it). Checked against the 2-4 vectors below too.
std::uint64_t plain_siphash(int c, int d, const siphash_key& key, const std::string& message) {
    auto word = [](const std::uint8_t* p) {
        std::uint64_t v = 0;
        for (int i = 7; i >= 0; --i) {
            v = v << 8 | p[i];
        }
        return v;
    };
    auto rotl = [](std::uint64_t x, int b) { return (x << b) | (x >> (64 - b)); };
    const std::uint64_t k0 = word(key.data());
    const std::uint64_t k1 = word(key.data() + 8);
    std::uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
    std::uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
    std::uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
    std::uint64_t v3 = k1 ^ 0x7465646279746573ULL;
    auto sipround = [&] {
        v0 += v1;
        v1 = rotl(v1, 13);
        v1 ^= v0;
        v0 = rotl(v0, 32);
        v2 += v3;
        v3 = rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = rotl(v1, 17);
        v1 ^= v2;
        v2 = rotl(v2, 32);
    };
    // The message padded with zeros to a multiple of 8 octets less one, then its length.
    std::vector<std::uint8_t> padded(message.begin(), message.end());
    while (padded.size() % 8 != 7) {
        padded.push_back(0);
    }
    padded.push_back(static_cast<std::uint8_t>(message.size()));
    for (std::size_t i = 0; i < padded.size(); i += 8) {
        const std::uint64_t m = word(padded.data() + i);
        v3 ^= m;
        for (int r = 0; r < c; ++r) {
            sipround();
        }
        v0 ^= m;
    }
    v2 ^= 0xff;
    for (int r = 0; r < d; ++r) {
        sipround();
    }
    return v0 ^ v1 ^ v2 ^ v3;
}

std::uint64_t siphash13_of(const siphash_key& key, const std::string& message) {
    siphash13 h(key);
    h.update(message);
    return h.finish();
}

TEST(siphash13, plain_version_matches_the_2_4_reference) {
    // The plain version run as 2-4 must agree with libsodium before it can judge 1-3.
    const siphash_key key = sequential_key();
    std::string message;
    for (int n = 0; n <= 64; ++n) {
        EXPECT_EQ(plain_siphash(2, 4, key, message), reference(key, message)) << "length " << n;
        message.push_back(static_cast<char>(n));
    }
}

TEST(siphash13, published_vectors) {
    // SipHash-1-3 under the all-zero key, as the Rust digest-sip_hash crate's tests give them
    // (the 64-bit value in hex).
    struct vector {
        std::string_view message;
        std::uint64_t digest;
    };
    const vector vectors[] = {
            {"", 0xd1fba762150c532cULL},
            {"siphash", 0x8264ceeccb16bcbeULL},
            {"digest-sip_hash", 0xce31007e34130c0aULL},
    };
    for (const auto& v : vectors) {
        EXPECT_EQ(siphash13_of(siphash_key{}, std::string(v.message)), v.digest) << v.message;
        EXPECT_EQ(plain_siphash(1, 3, siphash_key{}, std::string(v.message)), v.digest)
                << v.message;
    }
}

TEST(siphash13, matches_the_plain_version_for_every_length_up_to_64) {
    const siphash_key key = sequential_key();
    std::string message;
    for (int n = 0; n <= 64; ++n) {
        EXPECT_EQ(siphash13_of(key, message), plain_siphash(1, 3, key, message)) << "length " << n;
        message.push_back(static_cast<char>(n));
    }
}

TEST(siphash13, differs_from_2_4) {
    const std::string message = "a84b4c76e66710@pc33.atlanta.com";
    siphash24 h(sequential_key());
    h.update(message);
    EXPECT_NE(siphash13_of(sequential_key(), message), h.finish());
}

TEST(siphash13, any_split_gives_the_same_digest) {
    const siphash_key key = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
    static constexpr char text[] = "a84b4c76e66710@pc33.atlanta.com\0"
                                   "1928301774\0z9hG4bK776asdhds";
    const std::string message(text, sizeof text - 1);
    const std::uint64_t whole = plain_siphash(1, 3, key, message);
    for (std::size_t a = 0; a <= message.size(); ++a) {
        for (std::size_t b = a; b <= message.size(); ++b) {
            siphash13 h(key);
            h.update(message.data(), a);
            h.update(message.data() + a, b - a);
            h.update(message.data() + b, message.size() - b);
            ASSERT_EQ(h.finish(), whole) << a << " " << b;
        }
    }
}

} // namespace
} // namespace sipredir
