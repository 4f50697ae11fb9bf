// SPDX-License-Identifier: BSD-3-Clause
// Publication and reclamation: the grace-period rules step by step, then a stress run with one
// writer and several readers (run under ASan and TSan by scripts/test.sh).
#include <gtest/gtest.h>

#include <atomic>
#include <balance/load_table.hpp>
#include <balance/redirect_counters.hpp>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace sipredir::balance {
namespace {

std::unique_ptr<const table_snapshot> snapshot_of(std::uint64_t generation, std::size_t backends) {
    auto t = std::make_unique<table_snapshot>();
    t->generation = generation;
    pool_snapshot p;
    p.name = "p";
    for (std::size_t i = 0; i < backends; ++i) {
        backend_view b;
        b.slot = static_cast<std::uint16_t>(i);
        b.load = static_cast<double>(generation); // every field says which snapshot it is in
        b.contact = "<sip:g" + std::to_string(generation) + ">";
        p.backends.push_back(std::move(b));
    }
    t->pools.push_back(std::move(p));
    return t;
}

void publish_now(load_table& table, std::unique_ptr<const table_snapshot> s) {
    ASSERT_TRUE(table.publish(s));
}

TEST(qsbr, grace_period_waits_for_online_readers_only) {
    sync::qsbr q(3);
    q.online(0);
    q.online(1); // reader 2 stays offline
    const auto t = q.start();
    EXPECT_FALSE(q.check(t));
    q.quiescent(0);
    EXPECT_FALSE(q.check(t)) << "reader 1 has not reported";
    q.quiescent(1);
    EXPECT_TRUE(q.check(t));
    const auto t2 = q.start();
    q.offline(1);
    EXPECT_FALSE(q.check(t2));
    q.quiescent(0);
    EXPECT_TRUE(q.check(t2)) << "an offline reader holds nothing";
}

TEST(load_table, old_snapshot_lives_until_the_reader_passes_a_quiescent_point) {
    load_table table(1);
    table.domain().online(0);
    publish_now(table, snapshot_of(1, 2));
    const table_snapshot* held = table.acquire();
    publish_now(table, snapshot_of(2, 2));
    EXPECT_EQ(table.reclaim(), 1u) << "the reader may still use generation 1";
    EXPECT_EQ(held->generation, 1u) << "and it is still there";
    EXPECT_EQ(table.acquire()->generation, 2u);
    table.domain().quiescent(0);
    EXPECT_EQ(table.reclaim(), 0u);
    table.domain().offline(0);
}

TEST(load_table, offline_reader_never_blocks_reclamation) {
    load_table table(2);
    table.domain().online(0);
    for (std::uint64_t g = 1; g <= 100; ++g) {
        publish_now(table, snapshot_of(g, 1));
        table.domain().quiescent(0);
        EXPECT_EQ(table.reclaim(), 0u);
    }
    table.domain().offline(0);
}

TEST(load_table, declines_to_publish_while_the_retired_list_is_full) {
    load_table table(1, 2);
    table.domain().online(0); // never reports: nothing can be reclaimed
    publish_now(table, snapshot_of(1, 1));
    publish_now(table, snapshot_of(2, 1));
    publish_now(table, snapshot_of(3, 1));
    auto next = snapshot_of(4, 1);
    EXPECT_FALSE(table.publish(next)) << "2 retired already wait";
    ASSERT_NE(next, nullptr) << "the caller keeps the snapshot it could not publish";
    EXPECT_EQ(table.acquire()->generation, 3u);
    table.domain().quiescent(0);
    EXPECT_TRUE(table.publish(next));
    EXPECT_EQ(table.acquire()->generation, 4u);
    table.domain().offline(0);
}

TEST(redirect_counters, control_sees_every_redirect_once) {
    redirect_counters counters(2);
    counters.of(0).add(3, 5);
    counters.of(1).add(3, 2);
    counters.of(1).add(7, 1);
    auto d = counters.take_new();
    EXPECT_EQ(d[3], 7u);
    EXPECT_EQ(d[7], 1u);
    counters.of(0).add(3, 1);
    d = counters.take_new();
    EXPECT_EQ(d[3], 1u);
    EXPECT_EQ(d[7], 0u);
}

// One writer publishing as fast as it can, readers checking each snapshot is whole and never
// older than the last one they saw. Bounded by publications and by time.
TEST(load_table, stress_one_writer_many_readers) {
    // Two readers and the writer oversubscribe a 2-core CI machine a little, so descheduled
    // readers exercise the retirement bound.
    constexpr std::size_t readers = 2;
    constexpr std::size_t backends = 8;
    constexpr std::uint64_t max_publications = 40'000;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    load_table table(readers);
    redirect_counters counters(readers);
    publish_now(table, snapshot_of(1, backends));
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> torn{0};
    std::atomic<std::uint64_t> backwards{0};
    std::vector<std::uint64_t> reads(readers, 0);
    std::vector<std::thread> threads;
    for (std::size_t r = 0; r < readers; ++r) {
        threads.emplace_back([&, r] {
            table.domain().online(r);
            std::uint64_t last = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                const table_snapshot* s = table.acquire();
                const pool_snapshot& p = s->pools[0];
                const std::string expected = "<sip:g" + std::to_string(s->generation) + ">";
                for (const backend_view& b : p.backends) {
                    if (b.load != static_cast<double>(s->generation) || b.contact != expected) {
                        torn.fetch_add(1, std::memory_order_relaxed);
                    }
                }
                if (s->generation < last) {
                    backwards.fetch_add(1, std::memory_order_relaxed);
                }
                last = s->generation;
                counters.of(r).add(static_cast<std::uint16_t>(last % backends), 1);
                ++reads[r];
                table.domain().quiescent(r);
            }
            table.domain().offline(r);
        });
    }

    std::uint64_t generation = 1; // published so far
    std::uint64_t declined = 0;
    std::size_t most_retired = 0;
    const auto start = std::chrono::steady_clock::now();
    while (generation < max_publications && std::chrono::steady_clock::now() < deadline) {
        auto next = snapshot_of(generation + 1, backends);
        if (table.publish(next)) {
            ++generation;
        } else {
            ++declined; // a reader is descheduled; the next snapshot carries newer facts
        }
        most_retired = std::max(most_retired, table.retired());
    }
    const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    stop.store(true);
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(table.reclaim(), 0u) << "every reader is offline: all can go";
    EXPECT_LE(most_retired, table.max_retired()) << "memory stayed bounded";

    EXPECT_EQ(torn.load(), 0u);
    EXPECT_EQ(backwards.load(), 0u);
    std::uint64_t total_reads = 0;
    for (auto n : reads) {
        EXPECT_GT(n, 0u);
        total_reads += n;
    }
    std::uint64_t counted = 0;
    for (auto d : counters.take_new()) {
        counted += d;
    }
    EXPECT_EQ(counted, total_reads) << "every redirect a worker counted reaches control";
    std::printf(
            "published %llu snapshots in %.2f s (%.0f per second), declined %llu, %llu reads, "
            "at most %zu waiting for reclamation\n",
            static_cast<unsigned long long>(generation),
            seconds,
            static_cast<double>(generation) / seconds,
            static_cast<unsigned long long>(declined),
            static_cast<unsigned long long>(total_reads),
            most_retired
    );
}

// Readers that go offline and come back online all the time (as a worker does around each idle
// sleep) while the writer publishes and frees: a reader coming online must never read a
// snapshot the writer has already freed. Under TSan (the concurrency suite) a missing ordering
// in online() shows as a race between the reader's reads and the writer's delete, as TSan models
// the read-modify-writes online() and start() use (it does not model fences).
TEST(load_table, stress_readers_coming_online_while_the_writer_reclaims) {
    constexpr std::size_t readers = 2;
    constexpr std::uint64_t max_publications = 20'000;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    load_table table(readers);
    publish_now(table, snapshot_of(1, 4));
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> torn{0};
    std::vector<std::uint64_t> sessions(readers, 0);
    std::vector<std::thread> threads;
    for (std::size_t r = 0; r < readers; ++r) {
        threads.emplace_back([&, r] {
            while (!stop.load(std::memory_order_relaxed)) {
                table.domain().online(r);
                for (int i = 0; i < 3; ++i) {
                    const table_snapshot* s = table.acquire();
                    const std::string expected = "<sip:g" + std::to_string(s->generation) + ">";
                    for (const backend_view& b : s->pools[0].backends) {
                        if (b.load != static_cast<double>(s->generation) || b.contact != expected) {
                            torn.fetch_add(1, std::memory_order_relaxed);
                        }
                    }
                    table.domain().quiescent(r);
                }
                table.domain().offline(r);
                ++sessions[r];
            }
        });
    }
    std::uint64_t generation = 1;
    while (generation < max_publications && std::chrono::steady_clock::now() < deadline) {
        auto next = snapshot_of(generation + 1, 4);
        if (table.publish(next)) {
            ++generation;
        }
    }
    stop.store(true);
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(torn.load(), 0u);
    EXPECT_EQ(table.reclaim(), 0u);
    for (const std::uint64_t n : sessions) {
        EXPECT_GT(n, 0u) << "each reader came online at least once";
    }
}

} // namespace
} // namespace sipredir::balance
