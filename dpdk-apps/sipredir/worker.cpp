// SPDX-License-Identifier: BSD-3-Clause
// The fast path. Per burst: one acquire of the load table, the pipeline over every frame (the
// reply written into the frame's own mbuf), one TX burst, one quiescent report. No lock,
// allocation or syscall while traffic flows; in lab mode a worker sleeps only after a run of
// empty polls.
#include "worker.hpp"

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <array>
#include <cassert>
#include <control/mbuf_budget.hpp>
#include <cstring>
#include <ctime>
#include <memory>
#include <net/fragment.hpp>
#include <pipeline/fragment_id.hpp>
#include <pipeline/handle_frame.hpp>
#include <pipeline/stages.hpp>
#include <pipeline/worker_stats.hpp>
#include <stdexcept>
#include <vector>

namespace sipredir::app {

namespace {

using pipeline::disposition;
using pipeline::drop_cause;
using pipeline::handled;

constexpr std::size_t max_burst = 256;
constexpr std::size_t prefetch_ahead = 4;
// A reply is sent in at most this many IP fragments (about 11 kB at MTU 1500).
constexpr std::size_t max_fragments = 8;
constexpr std::uint32_t empty_polls_before_sleep = 256;
// A reassembled datagram or chained frame is copied here to be parsed: the largest IP packet.
constexpr std::size_t linear_size = 65536 + 128;

// What the pipeline made of one frame, and when its reply is larger than the MTU, the reply's
// bytes (in the request's mbuf or in the linear buffer) for send_fragmented.
struct answered {
    handled h;
    std::span<const std::uint8_t> oversize;
};

class worker {
public:
    worker(appliance& app, std::size_t index)
        : _app(app), _index(index), _slot(app.workers[index]), _stats(app.stats[index]),
          _burst(static_cast<std::uint16_t>(
                  std::min<std::size_t>(app.config.dataplane.burst, max_burst)
          )),
          _scratch(65536), _linear(linear_size),
          _fragment_cap(control::fragment_mbufs_per_worker(
                  app.config.dataplane, static_cast<std::uint32_t>(app.workers.size())
          )) {
        _state.redirects = &app.redirects->of(index);
        _state.scratch = _scratch;
        _state.ipv4_id = static_cast<std::uint16_t>(index << 12);
        _state.worker = static_cast<std::uint16_t>(index);
        const std::uint64_t hz = rte_get_tsc_hz();
        _ns_per_tsc = 1e9 / static_cast<double>(hz);
        const std::uint32_t flows = app.config.dataplane.fragment_flows;
        const std::uint64_t max_cycles = hz / 1000 * app.config.dataplane.fragment_timeout_ms;
        _fragments = rte_ip_frag_table_create(flows, 16, flows, max_cycles, app.data.socket);
        if (_fragments == nullptr) {
            throw std::runtime_error(
                    "worker " + std::to_string(index) + ": cannot create the IP reassembly table"
            );
        }
        _checks_unverified = app.identity.checks;
        if (app.identity.limits.enabled()) {
            _limiter = std::make_unique<pipeline::source_limiter>(
                    app.identity.limits, app.identity.limit_key
            );
            _state.limiter = _limiter.get();
        }
    }
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;
    ~worker() { rte_ip_frag_table_destroy(_fragments); }

    void run() {
        sync::qsbr& domain = _app.table->domain();
        domain.online(_index);
        const bool lab = _app.config.dataplane.idle == control::idle_mode::sleep;
        const std::uint32_t max_sleep_ns = _app.config.dataplane.idle_sleep_max_us * 1000;
        std::uint32_t empty = 0;
        std::uint32_t sleep_ns = 1000;
        std::uint64_t next_expiry = rte_rdtsc();
        while (!_app.stop.load(std::memory_order_relaxed)) {
            const std::uint64_t poll_tsc = rte_rdtsc();
            const std::uint16_t n = rte_eth_rx_burst(_app.data.id, _slot.queue, _rx.data(), _burst);
            if (n != 0) {
                process(n);
                _stats.busy_ns.add(static_cast<std::uint64_t>(
                        static_cast<double>(rte_rdtsc() - poll_tsc) * _ns_per_tsc
                ));
                empty = 0;
                sleep_ns = 1000;
            }
            domain.quiescent(_index);
            if (_slot.from_kernel != nullptr) {
                send_from_kernel();
            }
            if (const std::uint64_t now = rte_rdtsc(); now >= next_expiry) {
                expire_fragments(now);
                next_expiry = now + rte_get_tsc_hz() / 10;
            }
            if (n == 0 && lab && ++empty >= empty_polls_before_sleep) {
                domain.offline(_index);
                const timespec ts{0, static_cast<long>(sleep_ns)};
                nanosleep(&ts, nullptr);
                domain.online(_index);
                _stats.idle_sleeps.add(1);
                sleep_ns = std::min(sleep_ns * 2, max_sleep_ns);
            }
        }
        // Whatever still waits for its other fragments is given up, and counted.
        expire_fragments(UINT64_MAX);
        assert(_fragments_held == 0); // every mbuf that went in came out, once
        domain.offline(_index);
    }

private:
    // Where a burst's frames go, counted as they are sorted.
    struct burst_queues {
        std::uint16_t tx = 0;
        std::uint16_t exception = 0;
        std::uint16_t urgent = 0;
        std::uint16_t race = 0;
        std::uint16_t free = 0;
    };

    // One burst in stages (as l3fwd and VPP do): every frame classified first, with frame
    // i + prefetch_ahead's first lines fetched meanwhile; then, in arrival order, each SIP
    // request parsed, decided and answered, with the next one's header lines fetched; then one
    // TX burst. Counts are kept in a local tally and added to the worker's counters once.
    void process(std::uint16_t n) {
        const std::uint64_t rx_tsc = rte_rdtsc();
        _state.now_ms = static_cast<std::uint64_t>(static_cast<double>(rx_tsc) * _ns_per_tsc / 1e6);
        _stats.rx.add(n);
        const balance::table_snapshot* snapshot = _app.table->acquire();
        pipeline::burst_tally tally;
        burst_queues q;
        classify_burst(n, snapshot);
        answer_burst(n, snapshot, q, tally);
        transmit(q, tally, rx_tsc);
        to_kernel(_slot.to_kernel_urgent, _urgent, q.urgent, q.free, tally);
        to_kernel(_slot.to_kernel, _exc, q.exception, q.free, tally);
        to_race(q.race, q.free, tally);
        tally.add_to(_stats);
        if (q.free != 0) {
            rte_pktmbuf_free_bulk(_free.data(), q.free);
        }
    }

    void classify_burst(std::uint16_t n, const balance::table_snapshot* snapshot) {
        for (std::uint16_t i = 0; i < std::min<std::uint16_t>(n, prefetch_ahead); ++i) {
            prefetch_lines(_rx[i], 0, 2);
        }
        for (std::uint16_t i = 0; i < n; ++i) {
            if (i + prefetch_ahead < n) {
                prefetch_lines(_rx[i + prefetch_ahead], 0, 2);
            }
            rte_mbuf* m = _rx[i];
            // A chained frame is classified by the adapter, from its linear copy.
            _chained[i] = m->nb_segs != 1;
            if (!_chained[i]) {
                _classified[i] = pipeline::classify(
                        _app.identity,
                        snapshot,
                        _state,
                        {rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len},
                        checks_for(m),
                        _frames[i]
                );
            }
        }
    }

    void answer_burst(
            std::uint16_t n,
            const balance::table_snapshot* snapshot,
            burst_queues& q,
            pipeline::burst_tally& tally
    ) {
        std::uint16_t ahead = 0; // the next request whose header lines are fetched
        for (std::uint16_t i = 0; i < n; ++i) {
            for (ahead = std::max<std::uint16_t>(ahead, i + 1); ahead < n; ++ahead) {
                if (!_chained[ahead] && _classified[ahead].what == disposition::replied) {
                    prefetch_lines(_rx[ahead], 2, 6);
                    ++ahead;
                    break;
                }
            }
            rte_mbuf* m = _rx[i];
            answered a{_classified[i], {}};
            if (_chained[i] || a.h.what == disposition::fragment) {
                a = linearised(m, snapshot, _chained[i], a.h);
                if (m == nullptr) {
                    continue; // held for its other fragments, or given up (counted)
                }
            } else if (a.h.what == disposition::replied) {
                a = answer_single(m, snapshot, _frames[i], a.h.source_limited);
            }
            sort(m, a, q, tally);
        }
    }

    // One handled frame into the queue its disposition names.
    void sort(rte_mbuf* m, const answered& a, burst_queues& q, pipeline::burst_tally& tally) {
        const handled& h = a.h;
        switch (h.what) {
        case disposition::replied:
            if (h.needs_fragmenting) {
                send_fragmented(h, a.oversize, tally);
                _free[q.free++] = m;
                return;
            }
            _tx[q.tx] = m;
            _tx_code[q.tx] = h;
            ++q.tx;
            return;
        case disposition::to_exception:
            if (h.urgent) {
                _urgent[q.urgent++] = m;
            } else {
                _exc[q.exception++] = m;
            }
            return;
        case disposition::to_race:
            m->hash.usr = h.pool; // the control core needs the pool the rules chose
            _race[q.race++] = m;
            return;
        case disposition::absorbed:
        case disposition::dropped:
        case disposition::fragment:
            tally.record(h);
            _free[q.free++] = m;
            return;
        }
    }

    // The burst's replies in one TX burst; what the queue had no room for is counted and freed.
    void transmit(burst_queues& q, pipeline::burst_tally& tally, std::uint64_t rx_tsc) {
        const std::uint16_t sent =
                q.tx == 0 ? 0 : rte_eth_tx_burst(_app.data.id, _slot.queue, _tx.data(), q.tx);
        for (std::uint16_t i = 0; i < sent; ++i) {
            tally.record(_tx_code[i]);
        }
        for (std::uint16_t i = sent; i < q.tx; ++i) {
            tally.drop(drop_cause::tx_full);
            _free[q.free++] = _tx[i];
        }
        if (sent != 0) {
            const auto ns = static_cast<std::uint64_t>(
                    static_cast<double>(rte_rdtsc() - rx_tsc) * _ns_per_tsc
            );
            _stats.latency[pipeline::latency_bucket(ns)].add(sent);
            _stats.latency_ns_sum.add(ns * sent);
        }
    }

    // Cache lines [first, last) of the frame's data.
    static void prefetch_lines(const rte_mbuf* m, unsigned first, unsigned last) noexcept {
        const auto* data = rte_pktmbuf_mtod(m, const char*);
        const unsigned end = std::min<unsigned>(last, (m->data_len + 63) / 64);
        for (unsigned line = first; line < end; ++line) {
            rte_prefetch0(data + line * 64);
        }
    }

    // A frame classified as a request to answer, in one mbuf: answered over its own bytes.
    answered answer_single(
            rte_mbuf* m,
            const balance::table_snapshot* snapshot,
            const net::frame_view& f,
            bool source_limited
    ) {
        auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
        const std::span<std::uint8_t> room(data, m->data_len + rte_pktmbuf_tailroom(m));
        const handled h = pipeline::answer(
                _app.identity, snapshot, _state, f, source_limited, room, m->data_len
        );
        if (h.what == disposition::replied && h.needs_fragmenting) {
            return {h, room.subspan(h.reply_offset, h.reply_size)};
        }
        if (h.what == disposition::replied) {
            m->data_off = static_cast<std::uint16_t>(m->data_off + h.reply_offset);
            m->data_len = static_cast<std::uint16_t>(h.reply_size);
            m->pkt_len = h.reply_size;
            prepare_tx(m, h);
        }
        return {h, {}};
    }

    // The adapter for every frame the pipeline cannot read in place: a chained frame is read
    // out into one linear buffer; an IP fragment (`h`, classified, says so) is reassembled
    // first, and its datagram read out likewise. Either then goes through the whole pipeline there,
    // its reply copied into a fresh mbuf. `m` becomes null when a fragment is held for the others
    // of its datagram or given up (counted).
    answered
    linearised(rte_mbuf*& m, const balance::table_snapshot* snapshot, bool chained, handled h) {
        answered a{h, {}};
        if (chained) {
            a = handle_linear(m, snapshot, reassembled::no);
        }
        if (a.h.what != disposition::fragment) {
            return a;
        }
        m = reassemble(m, a.h);
        if (m == nullptr) {
            return a;
        }
        _state.source_charged = true;
        a = handle_linear(m, snapshot, reassembled::yes);
        _state.source_charged = false;
        a.h = pipeline::after_reassembly(a.h);
        return a;
    }

    // A chained frame (larger than one mbuf, or reassembled): parsed from a linear copy, the
    // reply copied into a fresh mbuf.
    enum class reassembled : bool { no, yes };
    answered handle_linear(rte_mbuf*& m, const balance::table_snapshot* snapshot, reassembled r) {
        if (m->pkt_len > _linear.size()) {
            return {pipeline::dropped_by(drop_cause::fragment_too_large), {}};
        }
        const void* bytes = rte_pktmbuf_read(m, 0, m->pkt_len, _linear.data());
        if (bytes != _linear.data()) {
            std::memcpy(_linear.data(), bytes, m->pkt_len);
        }
        // A reassembled IPv4 header has its checksum zeroed by rte_ip_frag (each fragment's
        // header was checked on arrival); a frame that merely spans mbufs is checked in full.
        net::frame_checks checks = checks_for(m);
        if (r == reassembled::yes) {
            checks.ipv4_header_checksum = false;
        }
        const handled h = pipeline::handle_frame(
                _app.identity, snapshot, _state, _linear, m->pkt_len, checks
        );
        if (h.what != disposition::replied) {
            return {h, {}};
        }
        if (h.needs_fragmenting) {
            return {h, std::span(_linear).subspan(h.reply_offset, h.reply_size)};
        }
        rte_mbuf* reply = rte_pktmbuf_alloc(_app.data.pool);
        if (reply == nullptr) {
            return {pipeline::dropped_by(drop_cause::reply_no_mbuf), {}};
        }
        if (h.reply_size > rte_pktmbuf_tailroom(reply)) {
            rte_pktmbuf_free(reply);
            return {pipeline::dropped_by(drop_cause::reply_too_large), {}};
        }
        std::memcpy(rte_pktmbuf_mtod(reply, void*), _linear.data() + h.reply_offset, h.reply_size);
        reply->data_len = static_cast<std::uint16_t>(h.reply_size);
        reply->pkt_len = h.reply_size;
        rte_pktmbuf_free(m);
        m = reply;
        prepare_tx(m, h);
        return {h, {}};
    }

    // A reply larger than the MTU (`reply`, its bytes), sent at once as IP fragments in fresh
    // mbufs: counted replied only if every fragment went out.
    void send_fragmented(
            const handled& h, std::span<const std::uint8_t> reply, pipeline::burst_tally& tally
    ) {
        const net::fragment_plan plan =
                net::plan_fragments(h.layout, reply.size(), _app.config.listen.mtu, h.ipv6);
        std::array<rte_mbuf*, max_fragments> out{};
        std::size_t n = 0;
        bool built = plan.count != 0 && plan.count <= max_fragments;
        bool no_mbuf = false;
        const std::uint32_t id = _fragment_id++;
        for (std::size_t i = 0; built && i < plan.count; ++i) {
            rte_mbuf* f = rte_pktmbuf_alloc(_app.data.pool);
            if (f == nullptr) {
                built = false;
                no_mbuf = true;
                break;
            }
            out[n++] = f;
            const std::span<std::uint8_t> room(
                    rte_pktmbuf_mtod(f, std::uint8_t*), rte_pktmbuf_tailroom(f)
            );
            const std::size_t size =
                    net::write_fragment(reply, h.layout, h.ipv6, plan, i, id, room);
            f->data_len = static_cast<std::uint16_t>(size);
            f->pkt_len = static_cast<std::uint32_t>(size);
            built = size != 0;
        }
        if (!built) {
            rte_pktmbuf_free_bulk(out.data(), static_cast<unsigned>(n));
            tally.drop(no_mbuf ? drop_cause::reply_no_mbuf : drop_cause::reply_too_large);
            return;
        }
        const std::uint16_t sent = rte_eth_tx_burst(
                _app.data.id, _slot.queue, out.data(), static_cast<std::uint16_t>(n)
        );
        if (sent == n) {
            tally.record(h);
            return;
        }
        rte_pktmbuf_free_bulk(out.data() + sent, static_cast<unsigned>(n - sent));
        tally.drop(drop_cause::tx_full);
    }

    // Null when the fragment is held for the others of its datagram or given up (counted).
    rte_mbuf* reassemble(rte_mbuf* m, const handled& h) {
        // The table could hold more mbufs than the pool has: past this worker's share, a
        // fragment is refused, so that a flood of datagrams that never complete cannot take
        // the mbufs RX needs.
        if (_fragments_held + m->nb_segs > _fragment_cap) {
            _stats.drop(drop_cause::fragment_over_cap);
            rte_pktmbuf_free(m);
            return nullptr;
        }
        m->l2_len = h.request_l3_offset;
        const std::uint64_t now = rte_rdtsc();
        rte_mbuf* whole = nullptr;
        if (!h.ipv6) {
            auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, m->l2_len);
            m->l3_len = static_cast<std::uint16_t>(rte_ipv4_hdr_len(ip));
            _fragments_held += m->nb_segs;
            whole = rte_ipv4_frag_reassemble_packet(_fragments, &_death_row, m, now, ip);
        } else {
            auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, m->l2_len);
            rte_ipv6_fragment_ext* fragment = rte_ipv6_frag_get_ipv6_fragment_header(ip);
            if (fragment == nullptr) {
                // rte_ip_frag wants the fragment header right after the fixed header.
                _stats.drop(drop_cause::fragment_unreassembled);
                rte_pktmbuf_free(m);
                return nullptr;
            }
            m->l3_len = sizeof(rte_ipv6_hdr) + sizeof(rte_ipv6_fragment_ext);
            _fragments_held += m->nb_segs;
            whole = rte_ipv6_frag_reassemble_packet(_fragments, &_death_row, m, now, ip, fragment);
        }
        count_death_row();
        if (whole != nullptr) {
            _fragments_held -= whole->nb_segs;
            _stats.fragments_merged.add(whole->nb_segs - 1u);
        }
        return whole;
    }

    // The kernel's frames (ARP replies, ICMP, ...), queued by the control lcore.
    void send_from_kernel() {
        const unsigned n = rte_ring_sc_dequeue_burst(
                _slot.from_kernel, reinterpret_cast<void**>(_exc.data()), _burst, nullptr
        );
        if (n == 0) {
            return;
        }
        const std::uint16_t sent = rte_eth_tx_burst(
                _app.data.id, _slot.queue, _exc.data(), static_cast<std::uint16_t>(n)
        );
        _stats.from_kernel_sent.add(sent);
        _stats.from_kernel_tx_full.add(n - sent);
        if (sent != n) {
            rte_pktmbuf_free_bulk(_exc.data() + sent, n - sent);
        }
    }

    void expire_fragments(std::uint64_t now) {
        // One call gives up only as many datagrams as the death row holds: repeat until no
        // more have expired.
        bool more = true;
        while (more) {
            rte_ip_frag_table_del_expired_entries(_fragments, &_death_row, now);
            more = _death_row.cnt != 0;
            count_death_row();
        }
    }

    // Fragments given up (timed out, table full, overlapping): each one counted, its mbufs
    // no longer held.
    void count_death_row() {
        if (_death_row.cnt == 0) {
            return;
        }
        for (std::uint32_t i = 0; i < _death_row.cnt; ++i) {
            _fragments_held -= _death_row.row[i]->nb_segs;
        }
        _stats.drop(drop_cause::fragment_unreassembled, _death_row.cnt);
        rte_ip_frag_free_death_row(&_death_row, 3);
    }

    void to_kernel(
            rte_ring* ring,
            const std::array<rte_mbuf*, max_burst>& frames,
            std::uint16_t n,
            std::uint16_t& nfree,
            pipeline::burst_tally& tally
    ) {
        if (n == 0) {
            return;
        }
        const unsigned queued =
                ring == nullptr
                        ? 0
                        : rte_ring_sp_enqueue_burst(
                                ring, reinterpret_cast<void* const*>(frames.data()), n, nullptr
                        );
        tally.to_exception += queued;
        const drop_cause why =
                ring == nullptr ? drop_cause::no_exception_path : drop_cause::exception_ring_full;
        for (unsigned i = queued; i < n; ++i) {
            tally.drop(why);
            _free[nfree++] = frames[i];
        }
    }

    void to_race(std::uint16_t nrace, std::uint16_t& nfree, pipeline::burst_tally& tally) {
        if (nrace == 0) {
            return;
        }
        const unsigned queued = _slot.to_race == nullptr
                                        ? 0
                                        : rte_ring_sp_enqueue_burst(
                                                _slot.to_race,
                                                reinterpret_cast<void* const*>(_race.data()),
                                                nrace,
                                                nullptr
                                        );
        tally.to_race += queued;
        for (unsigned i = queued; i < nrace; ++i) {
            tally.drop(drop_cause::race_ring_full);
            _free[nfree++] = _race[i];
        }
    }

    net::frame_checks checks_for(const rte_mbuf* m) const noexcept {
        if (!_app.data.rx_checksum_offload) {
            return _checks_unverified;
        }
        const bool ip_good =
                (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD;
        const bool l4_good =
                (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
        return {.ipv4_header_checksum = !ip_good && _checks_unverified.ipv4_header_checksum,
                .udp_checksum = !l4_good && _checks_unverified.udp_checksum};
    }

    void prepare_tx(rte_mbuf* m, const handled& h) noexcept {
        m->ol_flags = 0;
        if (!h.udp_checksum_pending) {
            return;
        }
        auto* frame = rte_pktmbuf_mtod(m, std::uint8_t*);
        m->l2_len = h.layout.l3_offset;
        m->l3_len = static_cast<std::uint16_t>(h.layout.l4_offset - h.layout.l3_offset);
        auto* udp = reinterpret_cast<rte_udp_hdr*>(frame + h.layout.l4_offset);
        if (h.ipv6) {
            m->ol_flags = RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM;
            udp->dgram_cksum = rte_ipv6_phdr_cksum(
                    reinterpret_cast<const rte_ipv6_hdr*>(frame + h.layout.l3_offset), m->ol_flags
            );
        } else {
            m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
            udp->dgram_cksum = rte_ipv4_phdr_cksum(
                    reinterpret_cast<const rte_ipv4_hdr*>(frame + h.layout.l3_offset), m->ol_flags
            );
        }
    }

    appliance& _app;
    std::size_t _index;
    const worker_slot& _slot;
    pipeline::worker_stats& _stats;
    std::uint16_t _burst;
    pipeline::worker_state _state;
    std::vector<char> _scratch;
    std::vector<std::uint8_t> _linear;
    std::unique_ptr<pipeline::source_limiter> _limiter; // [limits]; null: no per-source limit
    double _ns_per_tsc = 1;
    rte_ip_frag_tbl* _fragments = nullptr;
    std::uint32_t _fragment_cap;       // mbufs this worker's reassembly may hold
    std::uint32_t _fragments_held = 0; // mbufs in _fragments now
    std::uint32_t _fragment_id = pipeline::random_fragment_id_start();
    rte_ip_frag_death_row _death_row{};
    net::frame_checks _checks_unverified;
    std::array<rte_mbuf*, max_burst> _rx{};
    std::array<rte_mbuf*, max_burst> _tx{};
    std::array<handled, max_burst> _tx_code{};
    // The burst's classification, by RX index (read by its second stage).
    std::array<handled, max_burst> _classified{};
    std::array<net::frame_view, max_burst> _frames{};
    std::array<bool, max_burst> _chained{}; // in several mbufs: classified by the adapter
    std::array<rte_mbuf*, max_burst> _exc{};
    std::array<rte_mbuf*, max_burst> _urgent{}; // ARP and NDP for the kernel
    std::array<rte_mbuf*, max_burst> _race{};
    std::array<rte_mbuf*, max_burst> _free{};
};

} // namespace

int worker_main(void* arg) {
    auto* launch = static_cast<worker_launch*>(arg);
    try {
        worker w(*launch->app, launch->index);
        w.run();
    } catch (const std::exception& e) {
        fprintf(stderr, "sipredir: %s\n", e.what());
        launch->app->stop.store(true);
        return -1;
    }
    return 0;
}

} // namespace sipredir::app
