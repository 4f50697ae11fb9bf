// SPDX-License-Identifier: BSD-3-Clause
#include "race_path.hpp"

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <array>
#include <cstring>
#include <stdexcept>

namespace sipredir::app {

namespace {

constexpr unsigned race_burst = 64;

} // namespace

void create_race_rings(appliance& a) {
    for (std::size_t w = 0; w < a.workers.size(); ++w) {
        const std::string name = "to_race_" + std::to_string(w);
        a.workers[w].to_race = rte_ring_create(
                name.c_str(),
                a.config.exception.ring_size,
                a.data.socket,
                RING_F_SP_ENQ | RING_F_SC_DEQ
        );
        if (a.workers[w].to_race == nullptr) {
            throw std::runtime_error("cannot create the race ring " + name);
        }
    }
}

race_path::race_path(appliance& a, std::size_t control_index)
    : _app(a), _identity(a.identity), _scratch(65536), _request(65536 + 256) {
    // The worker verified the checksums; the reply's UDP checksum is filled here, in software,
    // because worker 0 sends it as it is.
    _identity.checks = {.ipv4_header_checksum = false, .udp_checksum = false};
    _identity.udp_checksum_in_software = true;
    _state.redirects = &a.redirects->of(control_index);
    _state.scratch = _scratch;
    _state.worker = static_cast<std::uint16_t>(control_index);
}

unsigned race_path::pump(control::plane& plane) {
    std::array<rte_mbuf*, race_burst> burst{};
    unsigned moved = 0;
    for (const worker_slot& w : _app.workers) {
        if (w.to_race == nullptr) {
            continue;
        }
        const unsigned n = rte_ring_sc_dequeue_burst(
                w.to_race, reinterpret_cast<void**>(burst.data()), race_burst, nullptr
        );
        for (unsigned i = 0; i < n; ++i) {
            rte_mbuf* m = burst[i];
            const auto pool = static_cast<std::uint16_t>(m->hash.usr);
            const std::size_t size = std::min<std::size_t>(m->pkt_len, _request.size());
            // The mbuf's own bytes when contiguous, else a copy in _request.
            const auto* bytes = static_cast<const std::uint8_t*>(
                    rte_pktmbuf_read(m, 0, static_cast<std::uint32_t>(size), _request.data())
            );
            plane.race_request({bytes, size}, pool);
            rte_pktmbuf_free(m);
        }
        moved += n;
    }
    return moved;
}

bool race_path::answer(pipeline::held_request& request, const pipeline::race_decision& d) {
    // Once the workers stop, worker 0 sends nothing more: the answer would be lost.
    if (_app.stop.load(std::memory_order_relaxed)) {
        return false;
    }
    const pipeline::handled h =
            pipeline::answer_held(_identity, _app.table->acquire(), _state, request, d);
    if (h.what != pipeline::disposition::replied || h.needs_fragmenting) {
        return false;
    }
    rte_mbuf* reply = rte_pktmbuf_alloc(_app.data.pool);
    if (reply == nullptr || h.reply_size > rte_pktmbuf_tailroom(reply)) {
        rte_pktmbuf_free(reply);
        return false;
    }
    std::memcpy(rte_pktmbuf_mtod(reply, void*), request.reply(h).data(), h.reply_size);
    reply->data_len = static_cast<std::uint16_t>(h.reply_size);
    reply->pkt_len = h.reply_size;
    // Worker 0 sends it on its TX queue with the kernel's frames (control is that ring's only
    // producer).
    if (_app.workers[0].from_kernel == nullptr
        || rte_ring_sp_enqueue(_app.workers[0].from_kernel, reply) != 0) {
        rte_pktmbuf_free(reply);
        return false;
    }
    return true;
}

} // namespace sipredir::app
