// SPDX-License-Identifier: BSD-3-Clause
#include "start_warnings.hpp"

#include "address_text.hpp"

#include <algorithm>

namespace sipredir::control {

std::vector<start_warning> start_warnings(const appliance_config& c, std::string_view driver) {
    std::vector<start_warning> out;
    // Probes leave from a kernel socket bound to listen.addresses[0]: without that address on
    // the TAP they cannot be sent, every backend goes down and every INVITE gets a 503.
    if (c.probe.enabled && !c.exception.tap.empty() && !c.listen.addresses.empty()) {
        const net::ip_address& source = c.listen.addresses.front();
        const bool held = std::any_of(
                c.exception.addresses.begin(),
                c.exception.addresses.end(),
                [&](const interface_address& a) { return a.address == source; }
        );
        if (c.exception.addresses.empty()) {
            out.push_back(
                    {"probe_tap_without_address",
                     "probing is on but [exception] addresses gives the TAP " + c.exception.tap
                             + " no address: probes from " + ip_text(source)
                             + " will fail and every backend go down; give it addresses = [\""
                             + ip_text(source) + "/24\"] (your subnet's prefix)"}
            );
        } else if (!held) {
            out.push_back(
                    {"probe_source_not_on_tap",
                     "probing is on but probes leave from " + ip_text(source)
                             + " (listen.addresses[0]), which is not one of [exception] "
                               "addresses: they may fail and every backend go down"}
            );
        }
    }
    if (driver == "net_af_packet" && c.dataplane.rx_checksum == rx_checksum_mode::verify) {
        out.push_back(
                {"af_packet_rx_checksum",
                 "the port is net_af_packet and [dataplane] rx_checksum is \"verify\": a peer "
                 "that leaves UDP checksums unfilled (a veth) has every frame dropped as "
                 "frame_udp_bad_checksum; run `ethtool -K PEER tx off` on the peer, or set "
                 "rx_checksum = \"trust\""}
        );
    }
    return out;
}

} // namespace sipredir::control
