# SPDX-License-Identifier: BSD-3-Clause
# The network-namespace lab shared by scripts/demo.sh and tests/lab/sipp_test.sh: callers,
# the appliance and three backends on one L2 segment (a bridge in its own namespace), addressed
# from 198.18.0.0/15. Source it; call lab_up, then lab_down (also on exit, by trap).
#
#   sr-callers  call0 198.18.0.2/15 ──┐
#   sr-app      app0 (DPDK af_packet) ─┼─ br0 in sr-switch
#   sr-backends be0  198.18.1.1-3/15 ──┘
# sipredir runs in sr-app; its TAP sipredir0 holds 198.18.0.1/15 for ARP and ping.

lab_prefix=${LAB_PREFIX:-sr}
lab_ns_switch=$lab_prefix-switch
lab_ns_callers=$lab_prefix-callers
lab_ns_app=$lab_prefix-app
lab_ns_backends=$lab_prefix-backends

# Namespaces a test adds with lab_attach, removed by lab_down with the others.
lab_extra_namespaces=()

lab_down() {
    local ns
    for ns in "${lab_extra_namespaces[@]}" "$lab_ns_callers" "$lab_ns_app" "$lab_ns_backends" \
        "$lab_ns_switch"; do
        # Processes left in a namespace (a failed run) go with it.
        if ip netns pids "$ns" >/dev/null 2>&1; then
            ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        fi
        ip netns del "$ns" 2>/dev/null || true
    done
}

lab_up() {
    lab_down
    local ns
    for ns in "$lab_ns_switch" "$lab_ns_callers" "$lab_ns_app" "$lab_ns_backends"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
    done
    ip -n "$lab_ns_switch" link add br0 type bridge
    ip -n "$lab_ns_switch" link set br0 up
    # The bridge forwards at once (no STP learning delay) so the first packets pass.
    ip -n "$lab_ns_switch" link set br0 type bridge forward_delay 0 stp_state 0
    lab_plug "$lab_ns_callers" call0
    lab_plug "$lab_ns_app" app0
    lab_plug "$lab_ns_backends" be0
    lab_appliance_sysctls "$lab_ns_app" app0
    ip -n "$lab_ns_callers" addr add 198.18.0.2/15 dev call0
    ip -n "$lab_ns_backends" addr add 198.18.1.1/15 dev be0
    ip -n "$lab_ns_backends" addr add 198.18.1.2/15 dev be0
    ip -n "$lab_ns_backends" addr add 198.18.1.3/15 dev be0
}

# Connects namespace $1 to the lab's bridge by a veth whose end in $1 is $2, up.
lab_plug() {
    local ns=$1 dev=$2
    ip -n "$lab_ns_switch" link add "sw-$dev" type veth peer name "$dev" netns "$ns"
    ip -n "$lab_ns_switch" link set "sw-$dev" master br0 up
    # No IPv6 chatter (router solicitations, DAD) on the lab segment.
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
    # A veth leaves UDP checksums to be filled later (CHECKSUM_PARTIAL), and af_packet
    # hands DPDK the frame as it is: have the senders' kernels fill them in.
    ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null
    ip -n "$ns" link set "$dev" up
}

# sipredir owns $2 (in namespace $1) through af_packet, but the kernel still receives its frames
# too and, since the appliance's address is local (on the TAP), would accept them a second time:
# duplicate probe replies and reports, ICMP port unreachable for SIP, ARP answered twice.
# Strict reverse-path filtering drops them (the route back is via the TAP, not $2), and
# arp_ignore=1 keeps the kernel from answering ARP on an interface without the address.
lab_appliance_sysctls() {
    ip netns exec "$1" sysctl -qw "net.ipv4.conf.$2.rp_filter=1"
    ip netns exec "$1" sysctl -qw "net.ipv4.conf.$2.arp_ignore=1"
}

# A namespace $1 more on the bridge, device $2 (removed by lab_down).
lab_attach() {
    ip netns add "$1"
    ip -n "$1" link set lo up
    lab_extra_namespaces+=("$1")
    lab_plug "$1" "$2"
}

# Starts sipredir in sr-app on af_packet over app0; waits (bounded) for its "ready" line.
# $1: config, $2: duration (s), $3: stats JSON path, $4: log path; for another appliance,
# $5: its namespace and $6: its device (default sr-app, app0). Sets lab_sipredir_pid.
lab_start_sipredir() {
    local config=$1 duration=$2 stats=$3 log=$4 ns=${5:-$lab_ns_app} dev=${6:-app0}
    ip netns exec "$ns" "$lab_sipredir" --no-huge -m 512 --no-pci -l 0,1 \
        --file-prefix "$ns-sipredir" --log-level '*:warning' \
        --vdev "net_af_packet0,iface=$dev,qdisc_bypass=1" -- \
        --config "$config" --duration "$duration" --stats-json "$stats" >"$log" 2>&1 &
    lab_sipredir_pid=$!
    local waited=0
    until grep -q '^sipredir: ready' "$log" 2>/dev/null; do
        if ! kill -0 "$lab_sipredir_pid" 2>/dev/null || [ "$waited" -ge 300 ]; then
            echo "sipredir did not start:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}

# Waits (bounded: 10 s) until namespace $1 has at least $3 UDP sockets whose local address
# matches $2; gives up early when process $4 (optional) has exited. Status 1 on giving up.
lab_wait_udp() {
    local ns=$1 pattern=$2 count=$3 pid=${4:-} waited=0
    until [ "$(ip netns exec "$ns" ss -Hlun | grep -c -- "$pattern")" -ge "$count" ]; do
        if { [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; } || [ "$waited" -ge 100 ]; then
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}

# Starts one SIPp backend, 198.18.1.$1, in the background; -aa answers sipredir's OPTIONS
# probes with 200. $2: scenario, $3: log dir.
lab_start_backend() {
    local i=$1 scenario=$2 dir=$3
    # sipp -bg forks and its parent's exit status says nothing; the listening socket does.
    ip netns exec "$lab_ns_backends" sipp -sf "$scenario" -i "198.18.1.$i" -p 5060 -bg -aa \
        -nostdin -trace_err -error_file "$dir/backend$i.err" >/dev/null 2>&1 || true
}

# Stops the SIPp backend on 198.18.1.$1 (kill -9: a crashed proxy says goodbye to nobody).
lab_kill_backend() {
    local pids
    pids=$(ip netns exec "$lab_ns_backends" ss -Hlunp "src 198.18.1.$1:5060" |
        grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)
    [ -n "$pids" ] && kill -9 $pids
}

# Starts one SIPp backend per backend address; returns once all three listen (bounded).
# $1: scenario, $2: log dir.
lab_start_backends() {
    local scenario=$1 dir=$2 i
    for i in 1 2 3; do
        lab_start_backend "$i" "$scenario" "$dir"
    done
    lab_wait_udp "$lab_ns_backends" ':5060 ' 3 || {
        echo "SIPp backends did not start" >&2
        return 1
    }
}

lab_stop_backends() {
    ip netns pids "$lab_ns_backends" 2>/dev/null | xargs -r kill 2>/dev/null || true
}

# For the lab tests (TAP output): skips the whole test (status 0) without root or /dev/net/tun.
lab_skip_unless_able() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP network namespaces need root"
        exit 0
    fi
    if [ ! -c /dev/net/tun ]; then
        echo "1..0 # SKIP no /dev/net/tun for the exception path's TAP"
        exit 0
    fi
}

tap_checks=0
tap_failed=0
check() { # check NAME CONDITION-STATUS [DETAIL]: one TAP line, DETAIL as comments on failure
    tap_checks=$((tap_checks + 1))
    if [ "$2" -eq 0 ]; then
        echo "ok $tap_checks - $1"
    else
        tap_failed=$((tap_failed + 1))
        echo "not ok $tap_checks - $1"
        [ -z "${3:-}" ] || sed 's/^/# /' <<<"$3"
    fi
}

# The TAP plan line; status 1 when a check failed.
tap_plan() {
    echo "1..$tap_checks"
    [ "$tap_failed" -eq 0 ]
}
