// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target: any datagram on the control plane's sockets. As a pushed load report it goes
// through the gate (parse, MAC, window, sequence, rate); as a probe reply through the prober.
// Invariants: no crash or over-read (ASan), no UB (UBSan); only a report with the right MAC is
// ever accepted (the fuzzer cannot forge HMAC-SHA-512-256), and a parsed report's fields lie
// within the datagram.
#include "require.hpp"

#include <control/probe/prober.hpp>
#include <control/report/report_gate.hpp>
#include <string_view>

using namespace sipredir;
using namespace sipredir::control;

namespace {

using sipredir::fuzz::require;

report_key key_of(std::uint8_t v) {
    report_key k{};
    k.fill(v);
    return k;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view d(reinterpret_cast<const char*>(data), size);
    load_report r;
    if (parse_report(d, r)) {
        require(r.backend.data() >= d.data()
                && r.backend.data() + r.backend.size() <= d.data() + d.size());
        require(r.signed_part.data() == d.data() && r.signed_part.size() <= d.size());
        require(r.utilisation().has_value());
    }
    static report_gate gate = [] {
        report_gate g;
        const report_source sources[] = {
                {0, "proxy-a", key_of(1), net::ip_address::v4(198, 18, 1, 1)},
                {1, "b", key_of(2), net::ip_address::v4(198, 18, 1, 2)}};
        g.configure({}, sources);
        return g;
    }();
    taken_report t;
    require(gate.admit(d, net::ip_address::v4(198, 18, 1, 1), 1'732'300'000'000, 0, t)
            != report_verdict::accepted);

    static prober p = [] {
        probe_settings s;
        s.load_header = "X-Load";
        prober pr(s);
        const probe_target targets[] = {{0, {net::ip_address::v4(198, 18, 1, 1), 5060}}};
        pr.set_targets(targets, 0);
        return pr;
    }();
    static const probe_origin origin{
            {net::ip_address::v4(198, 18, 0, 1), 5062}, 0x0123456789abcdefULL, {}, "sipredir"};
    p.on_datagram(d, {net::ip_address::v4(198, 18, 1, 1), 5060}, origin, 1);
    return 0;
}
