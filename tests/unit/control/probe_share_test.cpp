// SPDX-License-Identifier: BSD-3-Clause
// Probing shared out across a fleet: who probes which backend (rendezvous hashing: stable,
// spread, all when k covers everyone), the probe results in the SRFX/1 message, and the
// exchange between appliances on a fake clock (a shared down taken at once, the fallback when
// shared results stop, forged and replayed results refused, k = 0 as without sharing).
#include <gtest/gtest.h>

#include <algorithm>
#include <control/fleet/probe_share.hpp>
#include <control/fleet/redirect_exchange.hpp>
#include <map>
#include <string>
#include <vector>

using namespace sipredir;
using namespace sipredir::control;
using namespace sipredir::control::fleet;

namespace {

std::vector<std::string> numbered(std::string_view prefix, int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(std::string(prefix) + std::to_string(i));
    }
    return out;
}

std::vector<std::string_view> views(const std::vector<std::string>& s) {
    return {s.begin(), s.end()};
}

TEST(probe_share, the_weight_is_fixed_for_every_appliance) {
    // The ranking must not depend on the build: a fixed function of the names. These values
    // pin it (SipHash-2-4 under "sipredir-probers", checked against an independent
    // implementation); a change here splits a mixed fleet.
    EXPECT_EQ(probe_weight("p1", "sr-a"), 0x5d9da9c406d71b21U);
    EXPECT_NE(probe_weight("p1", "sr-a"), probe_weight("p1", "sr-b"));
    EXPECT_NE(probe_weight("p1", "sr-a"), probe_weight("sr-a", "p1"));
    // The separator: ("ab", "c") is not ("a", "bc").
    EXPECT_NE(probe_weight("ab", "c"), probe_weight("a", "bc"));
}

TEST(probe_share, k_at_or_above_the_members_means_everyone_probes) {
    const auto members = numbered("sr-", 3);
    const auto m = views(members);
    for (const std::size_t k : {0UL, 3UL, 4UL, 200UL}) {
        for (const std::string& self : members) {
            EXPECT_TRUE(probes("p1", self, m, k)) << k;
        }
        EXPECT_EQ(probers_of("p1", m, k).size(), 3U) << k;
    }
    EXPECT_EQ(probers_of("p1", m, 2).size(), 2U);
    EXPECT_EQ(probers_of("p1", m, 1).size(), 1U);
    // Alone: this appliance probes everything whatever k says.
    const std::vector<std::string_view> alone{"sr-a"};
    EXPECT_TRUE(probes("p1", "sr-a", alone, 2));
}

TEST(probe_share, members_in_any_order_agree) {
    const auto members = numbered("sr-", 7);
    auto reversed = views(members);
    std::reverse(reversed.begin(), reversed.end());
    for (const std::string& b : numbered("backend-", 50)) {
        EXPECT_EQ(probers_of(b, views(members), 2), probers_of(b, reversed, 2)) << b;
    }
}

TEST(probe_share, removing_a_member_moves_only_the_backends_it_probed) {
    const auto members = numbered("sr-", 10);
    const auto backends = numbered("p", 500);
    for (const std::size_t k : {1UL, 2UL, 3UL}) {
        for (std::size_t gone = 0; gone < members.size(); ++gone) {
            std::vector<std::string_view> fewer = views(members);
            fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(gone));
            for (const std::string& b : backends) {
                const auto before = probers_of(b, views(members), k);
                const auto after = probers_of(b, fewer, k);
                const bool probed_by_gone =
                        std::find(before.begin(), before.end(), members[gone]) != before.end();
                if (!probed_by_gone) {
                    EXPECT_EQ(before, after) << b << " moved when " << members[gone] << " left";
                } else {
                    // The others keep it; one new member takes the place of the one gone.
                    for (std::string_view p : before) {
                        if (p != members[gone]) {
                            EXPECT_NE(std::find(after.begin(), after.end(), p), after.end()) << b;
                        }
                    }
                    EXPECT_EQ(after.size(), k);
                }
            }
        }
    }
}

TEST(probe_share, backends_spread_roughly_evenly) {
    const auto members = numbered("sr-", 10);
    const auto backends = numbered("proxy-", 2000);
    std::map<std::string_view, int> load;
    for (const std::string& b : backends) {
        for (std::string_view p : probers_of(b, views(members), 2)) {
            ++load[p];
        }
    }
    // 4,000 assignments over 10 members: 400 each on average.
    ASSERT_EQ(load.size(), 10U);
    for (const auto& [member, n] : load) {
        EXPECT_GT(n, 320) << member;
        EXPECT_LT(n, 480) << member;
    }
}

} // namespace
