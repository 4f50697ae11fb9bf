// SPDX-License-Identifier: BSD-3-Clause
#include "port.hpp"

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <control/mbuf_budget.hpp>
#include <stdexcept>

namespace sipredir::app {

namespace {

[[noreturn]] void fail(std::uint16_t port, const std::string& what, int rc) {
    throw std::runtime_error(
            "port " + std::to_string(port) + ": " + what + ": " + rte_strerror(rc < 0 ? -rc : rc)
    );
}

rte_eth_dev_info device_info(std::uint16_t port, std::uint16_t rx_queues, std::uint16_t tx_queues) {
    rte_eth_dev_info info{};
    if (const int rc = rte_eth_dev_info_get(port, &info); rc != 0) {
        fail(port, "cannot read device info", rc);
    }
    if (rx_queues > info.max_rx_queues || tx_queues > info.max_tx_queues) {
        throw std::runtime_error(
                "port " + std::to_string(port) + " (" + info.driver_name + ") has "
                + std::to_string(info.max_rx_queues) + " RX / " + std::to_string(info.max_tx_queues)
                + " TX queues; " + std::to_string(rx_queues) + " / " + std::to_string(tx_queues)
                + " needed (one pair per worker lcore, and a TX queue for the exception path)"
        );
    }
    return info;
}

// RSS and the offloads we use, as far as the device has them; `p` says which it got.
rte_eth_conf
port_conf(const rte_eth_dev_info& info, const control::appliance_config& c, port_facts& p) {
    rte_eth_conf conf{};
    // RSS over the UDP 4-tuple where the PMD has it, so each worker sees whole flows.
    const std::uint64_t wanted_rss = RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_NONFRAG_IPV6_UDP
                                     | RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_IPV6;
    const std::uint64_t rss = wanted_rss & info.flow_type_rss_offloads;
    if (p.rx_queues > 1 && rss != 0) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = rss;
        p.rss = true;
    }
    const std::uint64_t tx_csum = RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
    if (c.dataplane.udp_checksum == control::checksum_mode::automatic
        && (info.tx_offload_capa & tx_csum) == tx_csum) {
        conf.txmode.offloads |= tx_csum;
        p.udp_checksum_offload = true;
    }
    const std::uint64_t rx_csum = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
    if ((info.rx_offload_capa & rx_csum) == rx_csum) {
        conf.rxmode.offloads |= rx_csum;
        p.rx_checksum_offload = true;
    }
    // Frames larger than one mbuf (RFC 4475's 3.5 kB longreq, jumbo frames) arrive chained.
    if ((info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) != 0) {
        conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
    }
    if ((info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0) {
        conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    }
    return conf;
}

rte_mempool*
make_pool(const port_facts& p, const control::appliance_config& c, const std::string& name) {
    const std::uint32_t cache = control::mempool_cache_size(c.dataplane.mbufs);
    rte_mempool* pool = rte_pktmbuf_pool_create(
            name.c_str(),
            c.dataplane.mbufs,
            cache,
            0,
            static_cast<std::uint16_t>(RTE_PKTMBUF_HEADROOM + c.dataplane.mbuf_data_room),
            p.socket
    );
    if (pool == nullptr) {
        fail(p.id,
             "cannot create a pool of " + std::to_string(c.dataplane.mbufs)
                     + " mbufs (without hugepages, give EAL -m enough memory)",
             rte_errno);
    }
    return pool;
}

void setup_queues(
        const port_facts& p,
        const rte_eth_dev_info& info,
        const rte_eth_conf& conf,
        const control::appliance_config& c
) {
    std::uint16_t rx_desc = static_cast<std::uint16_t>(c.dataplane.rx_descriptors);
    std::uint16_t tx_desc = static_cast<std::uint16_t>(c.dataplane.tx_descriptors);
    if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(p.id, &rx_desc, &tx_desc); rc != 0) {
        fail(p.id, "cannot adjust descriptor counts", rc);
    }
    for (std::uint16_t q = 0; q < p.rx_queues; ++q) {
        rte_eth_rxconf rxconf = info.default_rxconf;
        rxconf.offloads = conf.rxmode.offloads;
        if (const int rc = rte_eth_rx_queue_setup(p.id, q, rx_desc, p.socket, &rxconf, p.pool);
            rc != 0) {
            fail(p.id, "cannot set up RX queue " + std::to_string(q), rc);
        }
    }
    for (std::uint16_t q = 0; q < p.tx_queues; ++q) {
        rte_eth_txconf txconf = info.default_txconf;
        txconf.offloads = conf.txmode.offloads;
        if (const int rc = rte_eth_tx_queue_setup(p.id, q, tx_desc, p.socket, &txconf); rc != 0) {
            fail(p.id, "cannot set up TX queue " + std::to_string(q), rc);
        }
    }
}

} // namespace

port_facts start_port(
        std::uint16_t port,
        std::uint16_t rx_queues,
        std::uint16_t tx_queues,
        const control::appliance_config& c,
        bool promiscuous,
        const std::string& pool_name
) {
    port_facts p;
    p.id = port;
    p.rx_queues = rx_queues;
    p.tx_queues = tx_queues;
    // A vdev has no NUMA node: put its memory where the main lcore runs.
    p.socket = rte_eth_dev_socket_id(port);
    if (p.socket < 0) {
        p.socket = static_cast<int>(rte_socket_id());
    }
    const rte_eth_dev_info info = device_info(port, rx_queues, tx_queues);
    const rte_eth_conf conf = port_conf(info, c, p);
    p.pool = make_pool(p, c, pool_name);
    if (const int rc = rte_eth_dev_configure(port, rx_queues, tx_queues, &conf); rc != 0) {
        fail(port, "cannot configure", rc);
    }
    setup_queues(p, info, conf, c);
    if (const int rc = rte_eth_dev_start(port); rc != 0) {
        fail(port, "cannot start", rc);
    }
    if (promiscuous) {
        if (const int rc = rte_eth_promiscuous_enable(port); rc != 0 && rc != -ENOTSUP) {
            fail(port, "cannot enable promiscuous mode", rc);
        }
    }
    return p;
}

void stop_port(const port_facts& p) {
    if (p.id == no_port) {
        return;
    }
    rte_eth_dev_stop(p.id);
    rte_eth_dev_close(p.id); // net_pcap flushes its tx_pcap here
}

} // namespace sipredir::app
