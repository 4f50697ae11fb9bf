#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Lab test of the exception path's TAP in a network namespace: sipredir (net_af_packet) gives
# the TAP it creates the [exception] addresses (IPv4 and IPv6) and routes of its file, the
# kernel answers ping through it and the probes bring the backends up; without addresses the
# probes fail, every backend goes down, and the warnings at start said so beforehand (and name
# af_packet with rx_checksum = "verify"); and config/example.toml copied with its addresses
# edited, nothing else, redirects SIPp's calls.
# Usage: tap_test.sh SIPREDIR ROOT. TAP output; needs root (skips otherwise).
set -uo pipefail
lab_sipredir=$1
root=$2

LAB_PREFIX=${LAB_PREFIX:-srt}
# shellcheck source=../../scripts/lib/lab.sh
source "$root/scripts/lib/lab.sh"
lab_skip_unless_able
work=$(mktemp -d)
trap 'lab_down; rm -rf "$work"' EXIT

# lab.toml's appliance with the TAP's addresses and routes of this test, and probing on.
config() { # config FILE EXCEPTION-LINES DATAPLANE-LINES
    {
        printf '[dataplane]\nidle = "sleep"\n%s\n' "$3"
        printf '[exception]\ntap = "sipredir0"\n%s\n' "$2"
        printf '[probe]\ninterval_ms = 200\n'
        sed -n '/^\[listen\]/,$p' "$root/config/lab.toml"
    } >"$1"
}

# Waits (bounded: 10 s) until file $3 has $2 lines matching $1; status 1 on giving up.
wait_lines() {
    local pattern=$1 count=$2 file=$3 waited=0
    until [ "$(grep -c -- "$pattern" "$file")" -ge "$count" ]; do
        [ "$waited" -ge 100 ] && return 1
        sleep 0.1
        waited=$((waited + 1))
    done
}

start_warnings='event=\(probe_tap_without_address\|probe_source_not_on_tap\|af_packet_rx_checksum\)'

lab_up
lab_start_backends "$root/tests/lab/sipp/backend.xml" "$work"
config "$work/addressed.toml" \
    'addresses = ["198.18.0.1/15", "2001:db8:18::1/64"]
routes = [{to = "198.18.64.0/18", via = "198.18.0.254"}, {to = "2001:db8:5::/48", via = "2001:db8:18::fe"}]' \
    'rx_checksum = "trust"'
lab_start_sipredir "$work/addressed.toml" 60 "$work/stats.json" "$work/sipredir.log"
check "sipredir starts with exception addresses and routes" $? "$(cat "$work/sipredir.log")"

addrs=$(ip -n "$lab_ns_app" addr show dev sipredir0)
check "the TAP holds 198.18.0.1/15" "$(grep -q 'inet 198\.18\.0\.1/15 ' <<<"$addrs"; echo $?)" "$addrs"
check "the TAP holds 2001:db8:18::1/64" \
    "$(grep -q 'inet6 2001:db8:18::1/64 ' <<<"$addrs"; echo $?)" "$addrs"
check "the TAP is up" "$(grep -q '[<,]UP[,>]' <<<"$addrs"; echo $?)" "$addrs"
routes=$(ip -n "$lab_ns_app" route show dev sipredir0; ip -n "$lab_ns_app" -6 route show dev sipredir0)
check "the TAP routes 198.18.64.0/18 via 198.18.0.254" \
    "$(grep -q '^198\.18\.64\.0/18 via 198\.18\.0\.254' <<<"$routes"; echo $?)" "$routes"
check "the TAP routes 2001:db8:5::/48 via 2001:db8:18::fe" \
    "$(grep -q '^2001:db8:5::/48 via 2001:db8:18::fe' <<<"$routes"; echo $?)" "$routes"
ip netns exec "$lab_ns_callers" ping -c 1 -W 5 198.18.0.1 >/dev/null
check "the appliance answers ping at its TAP's address" $?
wait_lines 'event=backend_up' 3 "$work/sipredir.log"
check "probes from the TAP's address bring the three backends up" $? "$(cat "$work/sipredir.log")"
check "no warning at start: the TAP has the probes' address, rx_checksum is trust" \
    "$(grep -q "$start_warnings" "$work/sipredir.log" && echo 1 || echo 0)" \
    "$(grep 'level=warning' "$work/sipredir.log")"
kill -INT "$lab_sipredir_pid"
wait "$lab_sipredir_pid"
check "sipredir stops cleanly on SIGINT" $? "$(tail -5 "$work/sipredir.log")"

# The same appliance with no address for its TAP: it starts, and says what will fail.
config "$work/bare.toml" "" ""
lab_start_sipredir "$work/bare.toml" 60 "$work/stats2.json" "$work/bare.log"
check "sipredir starts without exception addresses" $? "$(cat "$work/bare.log")"
check "a warning at start names the TAP without an address" \
    "$(grep -q 'level=warning event=probe_tap_without_address .*sipredir0' "$work/bare.log"; echo $?)" \
    "$(cat "$work/bare.log")"
check "a warning at start names af_packet with rx_checksum verify" \
    "$(grep -q 'level=warning event=af_packet_rx_checksum ' "$work/bare.log"; echo $?)" \
    "$(cat "$work/bare.log")"
wait_lines 'event=backend_down' 3 "$work/bare.log"
check "as warned, the probes fail and every backend goes down" $? "$(cat "$work/bare.log")"
kill -INT "$lab_sipredir_pid"
wait "$lab_sipredir_pid"
check "sipredir stops cleanly on SIGINT" $? "$(tail -5 "$work/bare.log")"

# What a new user does: copy config/example.toml and edit its addresses, nothing else. The lab's
# link is one /15 with the backends on it: the TAP's address covers them and needs no route, and
# the example's IPv6 backend becomes the lab's third. Its rules file is beside it, as shipped.
cp "$root/config/example.toml" "$work/copied.toml"
cp -r "$root/config/rules" "$work/rules"
sed -i -e 's|^addresses = \["198.18.0.1/24", "2001:db8::1/64"\]|addresses = ["198.18.0.1/15"]|' \
    -e '/^routes = \[{to = "198.18.1.0\/24"/d' \
    -e 's|^address = "\[2001:db8::10\]:5060"|address = "198.18.1.3:5060"|' "$work/copied.toml"
edits=$(diff "$root/config/example.toml" "$work/copied.toml" | grep -c '^[<>]')
check "the copy differs from the example in its addresses only ($edits lines)" \
    "$([ "$edits" -eq 5 ] && echo 0 || echo 1)" "$(diff "$root/config/example.toml" "$work/copied.toml")"
lab_start_sipredir "$work/copied.toml" 60 "$work/stats3.json" "$work/copied.log"
check "sipredir starts with the copied example" $? "$(cat "$work/copied.log")"
wait_lines 'event=backend_up' 3 "$work/copied.log"
check "its probes bring the three backends up" $? "$(cat "$work/copied.log")"
(cd "$work" && timeout 60 ip netns exec "$lab_ns_callers" sipp 198.18.0.1:5060 \
    -sf "$root/tests/lab/sipp/caller.xml" -i 198.18.0.2 -p 5070 -t u1 -nostdin -s 1234 \
    -m 20 -r 20 -l 20 -timeout 50s -trace_logs -log_file "$work/copied-caller.log" \
    >"$work/copied-caller.out" 2>&1)
check "20 SIPp calls through it are redirected and completed at a backend" $? \
    "$(tail -20 "$work/copied-caller.out")"
redirected=$(grep -c '^302 Contact: <sip:1234@198\.18\.1\.[1-3]:5060;transport=udp>$' \
    "$work/copied-caller.log")
check "each of them got a 302 naming a backend ($redirected of 20)" \
    "$([ "$redirected" -eq 20 ] && echo 0 || echo 1)" "$(head -5 "$work/copied-caller.log")"
kill -INT "$lab_sipredir_pid"
wait "$lab_sipredir_pid"
check "sipredir stops cleanly on SIGINT" $? "$(tail -5 "$work/copied.log")"
lab_stop_backends

tap_plan
