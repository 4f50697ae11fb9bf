#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs every Debian 12 package sipredir needs to build, test, benchmark and demo.
# Idempotent: installs only what is missing. Run as root (or with sudo available).
set -euo pipefail

packages=(
    # build
    meson ninja-build pkg-config g++ clang
    # product dependencies (see docs/dependencies.md for why each is here)
    libdpdk-dev dpdk libhyperscan-dev libjemalloc-dev libnuma-dev libsodium-dev libpcap-dev
    nlohmann-json3-dev
    libsystemd-dev
    # tests and benchmarks
    googletest libgtest-dev libbenchmark-dev libclang-rt-14-dev libfuzzer-14-dev
    # lab: callers and backends, captures, namespaces
    sip-tester tshark iproute2 iputils-ping ethtool valgrind python3 python3-matplotlib
    # the fleet: configuration from etcd (sipredir-etcd-watch and its tests); the exchange over
    # NATS (the client library; the server for the NATS lab)
    etcd-server etcd-client openssl libnats-dev nats-server
    # the data plane: DPDK tools (testpmd, telemetry, dumpcap), configuration
    dpdk-dev libtomlplusplus-dev
    # the systemd units' sandbox is checked with systemd-analyze security --offline
    systemd
    # sipredirctl top is tested as a person sees it: in a tmux pane
    tmux
    # style
    clang-format-16
    # monitoring: promtool checks and unit-tests the shipped alert rules; the monitoring lab runs
    # the server
    prometheus
    # docs: docs/img/architecture.svg is rendered from its .dot source (a unit test checks it)
    graphviz
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#packages[@]} packages present"
    exit 0
fi

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
# tshark asks whether non-root users may capture; answer no, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" \
    | "${sudo[@]}" debconf-set-selections
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
