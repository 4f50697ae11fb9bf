// SPDX-License-Identifier: BSD-3-Clause
// Messages handed between two threads without a lock: one producer and one consumer on a ring
// of fixed slots, and an eventfd the consumer can poll (or block on) to learn that there is
// something to take. The NATS client's thread hands the control loop what arrived through one;
// the control loop hands the publisher thread what to send through another. Neither side ever
// waits for the other: a full ring refuses the message and the producer counts it.
#pragma once

#include "exchange_message.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <sys/eventfd.h>
#include <unistd.h>

namespace sipredir::control::fleet {

// One message and the name it came under (the subject's last token), copied in whole.
struct handover_message {
    static constexpr std::size_t max_data = max_exchange_size; // one exchange message
    static constexpr std::size_t max_name = 64;                // a [fleet] name
    std::uint16_t data_size = 0;
    std::uint8_t name_size = 0;
    char data[max_data];
    char name[max_name];

    std::string_view text() const noexcept { return {data, data_size}; }
    std::string_view sender() const noexcept { return {name, name_size}; }
    // False (and nothing copied) when either is larger than its room.
    bool assign(std::string_view d, std::string_view n) noexcept {
        if (d.size() > max_data || n.size() > max_name) {
            return false;
        }
        if (!d.empty()) { // an empty view may hold a null pointer, which memcpy may not take
            std::memcpy(data, d.data(), d.size());
        }
        if (!n.empty()) {
            std::memcpy(name, n.data(), n.size());
        }
        data_size = static_cast<std::uint16_t>(d.size());
        name_size = static_cast<std::uint8_t>(n.size());
        return true;
    }
};

template <std::size_t Slots> class handover_ring {
    static_assert((Slots & (Slots - 1)) == 0, "a power of two");

public:
    handover_ring() : _event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
        if (_event < 0) {
            throw std::runtime_error("eventfd failed");
        }
    }
    ~handover_ring() { ::close(_event); }
    handover_ring(const handover_ring&) = delete;
    handover_ring& operator=(const handover_ring&) = delete;

    // The consumer polls (POLLIN) or reads this to learn that messages wait.
    int event_fd() const noexcept { return _event; }

    // Producer: copies the message in and signals the consumer; false when the ring is full or
    // the message does not fit a slot (nothing is taken).
    bool push(std::string_view data, std::string_view name) noexcept {
        const std::uint64_t tail = _tail.load(std::memory_order_relaxed);
        if (tail - _head.load(std::memory_order_acquire) == Slots) {
            return false;
        }
        if (!_slots[tail % Slots].assign(data, name)) {
            return false;
        }
        _tail.store(tail + 1, std::memory_order_release);
        signal();
        return true;
    }

    // Consumer: clears the signal (never blocks), so that a message pushed after this call
    // signals anew.
    void clear_signal() noexcept {
        std::uint64_t n = 0;
        [[maybe_unused]] const ssize_t r = ::read(_event, &n, sizeof n);
    }

    // Consumer: the oldest message, or null when none waits. It stays valid until pop().
    const handover_message* front() const noexcept {
        const std::uint64_t head = _head.load(std::memory_order_relaxed);
        if (head == _tail.load(std::memory_order_acquire)) {
            return nullptr;
        }
        return &_slots[head % Slots];
    }
    void pop() noexcept {
        _head.store(_head.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }

    // Wakes the consumer (also used by the consumer itself when it stops with messages left).
    void signal() noexcept {
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t w = ::write(_event, &one, sizeof one);
    }

private:
    std::array<handover_message, Slots> _slots{};
    // _head: written by the consumer only (release in pop(), after it is done with the slot),
    // read by the producer (acquire in push(), before it reuses that slot).
    // _tail: written by the producer only (release in push(), after the slot is filled), read
    // by the consumer (acquire in front(), before it reads the slot).
    alignas(64) std::atomic<std::uint64_t> _head{0};
    alignas(64) std::atomic<std::uint64_t> _tail{0};
    int _event;
};

} // namespace sipredir::control::fleet
