#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A fleet on NATS in network namespaces (docs/fleet.md, "The exchange on NATS"): three
# appliances (idle-sleep lab mode), three SIPp backends, SIPp callers, and a cluster of three
# nats-servers on a management network of their own (198.19.9.0/24), with TLS and one user per
# appliance who may publish on its own subject only.
#   - the cluster forms; every appliance connects over TLS and hears the other two;
#   - a client logged in as sr-1 cannot publish on sr-2's subject;
#   - shared counts: pool "sequence" with b1 (capacity 20) first: 60 calls over the three
#     appliances give b1 its fleet-wide share, not three times it;
#   - probing shared out: each backend is probed by two of the three appliances; killing one
#     takes it out on all three within two probe intervals;
#   - stopping the NATS server an appliance is connected to: it fails over, and counts keep
#     flowing;
#   - stopping an appliance: the others answer and forget it;
#   - how long a redirect total takes to travel, over the mesh and over NATS, in this run.
# Usage: nats_test.sh SIPREDIR SIPREDIRCTL FLEET_TRAVEL ROOT. TAP output; needs root.
set -uo pipefail
lab_sipredir=$1
ctl_bin=$2
travel_bin=$3
root=$(cd "$4" && pwd) # absolute: the callers run from the work directory

LAB_PREFIX=${LAB_PREFIX:-srn}
# shellcheck source=../../scripts/lib/lab.sh
source "$root/scripts/lib/lab.sh"
lab_skip_unless_able
if ! command -v nats-server >/dev/null || ! command -v openssl >/dev/null; then
    echo "1..0 # SKIP nats-server or openssl is not installed (scripts/deps.sh)"
    exit 0
fi
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; lab_down; rm -rf "$work"' EXIT
# shellcheck source=../../scripts/lib/fleet_lab.sh
source "$root/scripts/lib/fleet_lab.sh"

nats_ns() { echo "$lab_prefix-nats$1"; }
nats_addr() { echo "198.19.9.$1"; }
probe_interval_ms=500

# The management network: a bridge of its own in the switch namespace; NS gets DEV at ADDR/24.
# Its /24 is more specific than the lab's 198.18.0.0/15, so an appliance's kernel reaches NATS
# over DEV, not through the data plane's TAP.
mgmt_plug() {
    local ns=$1 dev=$2 addr=$3
    ip -n "$lab_ns_switch" link add "m-$dev" type veth peer name "$dev" netns "$ns"
    ip -n "$lab_ns_switch" link set "m-$dev" master br1 up
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
    ip -n "$ns" addr add "$addr/24" dev "$dev"
    ip -n "$ns" link set "$dev" up
}

lab_up
fleet_attach_appliances
ip -n "$lab_ns_switch" link add br1 type bridge
ip -n "$lab_ns_switch" link set br1 type bridge forward_delay 0 stp_state 0
ip -n "$lab_ns_switch" link set br1 up
for i in 1 2 3; do
    mgmt_plug "$(app_ns "$i")" "mg$i" "198.19.9.1$i"
    ip netns add "$(nats_ns "$i")"
    ip -n "$(nats_ns "$i")" link set lo up
    lab_extra_namespaces+=("$(nats_ns "$i")")
    mgmt_plug "$(nats_ns "$i")" "nt$i" "$(nats_addr "$i")"
done
# Two namespaces for the travel measurement's two ends, on both networks.
for t in a b; do
    ip netns add "$lab_prefix-travel-$t"
    ip -n "$lab_prefix-travel-$t" link set lo up
    lab_extra_namespaces+=("$lab_prefix-travel-$t")
done
mgmt_plug "$lab_prefix-travel-a" tra 198.19.9.21
mgmt_plug "$lab_prefix-travel-b" trb 198.19.9.22

# --- the NATS cluster: TLS for clients, a user per appliance ---------------------------------
certificates() {
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes) i
    openssl req -x509 "${ec[@]}" -days 2 -keyout ca.key -out ca.pem -subj "/CN=sipredir lab NATS CA" &&
        for i in 1 2 3; do
            printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$(nats_addr "$i")" >"n$i.ext" &&
                openssl req "${ec[@]}" -keyout "n$i.key" -out "n$i.csr" -subj "/CN=nats-$i" &&
                openssl x509 -req -in "n$i.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
                    -extfile "n$i.ext" -out "n$i.pem" || return 1
        done
}
(cd "$work" && certificates) >"$work/openssl.log" 2>&1
check "a CA and a certificate per NATS server" $? "$(tail -5 "$work/openssl.log")"
for user in sr-1 sr-2 sr-3 travel-a travel-b; do
    (umask 077 && head -c18 /dev/urandom | base64 | tr -d '/+=' >"$work/$user.password")
done
users() {
    local u
    for u in sr-1 sr-2 sr-3; do
        printf '    {user: "%s", password: "%s", permissions: {publish: ["sipredir.lab.counts.%s"], subscribe: ["sipredir.lab.counts.*", "_INBOX.>"]}}\n' \
            "$u" "$(cat "$work/$u.password")" "$u"
    done
    for u in travel-a travel-b; do
        printf '    {user: "%s", password: "%s", permissions: {publish: ["sipredir.travel.counts.%s"], subscribe: ["sipredir.travel.counts.*", "_INBOX.>"]}}\n' \
            "$u" "$(cat "$work/$u.password")" "$u"
    done
}
for i in 1 2 3; do
    cat >"$work/nats$i.conf" <<CONF
server_name: nats-$i
listen: $(nats_addr "$i"):4222
http: $(nats_addr "$i"):8222
tls {
    cert_file: "$work/n$i.pem"
    key_file: "$work/n$i.key"
}
authorization {
  users: [
$(users)
  ]
}
cluster {
    name: sipredir-lab
    listen: $(nats_addr "$i"):6222
    routes: [nats-route://$(nats_addr 1):6222, nats-route://$(nats_addr 2):6222, nats-route://$(nats_addr 3):6222]
}
CONF
done
declare -A nats_pid
start_nats() {
    ip netns exec "$(nats_ns "$1")" nats-server -c "$work/nats$1.conf" >>"$work/nats$1.log" 2>&1 &
    nats_pid[$1]=$!
    pids+=("${nats_pid[$1]}")
}
routes_of() { # the routes server I has
    ip netns exec "$(nats_ns "$1")" "$py" -c "
import json, urllib.request
print(json.load(urllib.request.urlopen('http://$(nats_addr "$1"):8222/routez', timeout=2))['num_routes'])" 2>/dev/null
}
clustered() {
    local i
    for i in 1 2 3; do
        [ "$(routes_of "$i")" -ge 2 ] 2>/dev/null || return 1
    done
}
for i in 1 2 3; do
    start_nats "$i"
done
until_true 20 clustered
check "three NATS servers form a cluster" $? "$(tail -n 5 "$work"/nats*.log)"

# A client holding sr-1's password publishes on sr-2's subject: the server refuses it.
impostor=$(ip netns exec "$(nats_ns 1)" "$py" - "$work/ca.pem" "$(nats_addr 1)" "$(cat "$work/sr-1.password")" <<'PY'
import json, socket, ssl, sys
ca, host, password = sys.argv[1:]
raw = socket.create_connection((host, 4222), timeout=5)
raw.recv(4096)  # INFO, in the clear; then TLS
s = ssl.create_default_context(cafile=ca).wrap_socket(raw, server_hostname=host)
s.sendall(("CONNECT " + json.dumps({"user": "sr-1", "pass": password, "verbose": False,
                                     "pedantic": False, "tls_required": True}) + "\r\n").encode())
s.sendall(b"PUB sipredir.lab.counts.sr-2 5\r\nhello\r\nPING\r\n")
got = b""
while b"PONG" not in got and b"-ERR" not in got:
    chunk = s.recv(4096)
    if not chunk:
        break
    got += chunk
print(got.decode(errors="replace").strip())
PY
)
check "a client logged in as sr-1 cannot publish on sr-2's subject" \
    "$(grep -q "Permissions Violation for Publish to \"sipredir.lab.counts.sr-2\"" <<<"$impostor"; echo $?)" \
    "$impostor"

# --- three appliances on the cluster ----------------------------------------------------------
(umask 077 && head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/fleet.key")
for i in 1 2 3; do
    cat >"$work/sr-$i.toml" <<CONF
[listen]
addresses = ["198.18.0.1$i"]
promiscuous = true
[dataplane]
idle = "sleep"
idle_sleep_max_us = 1000
[exception]
tap = "sipredir0"
addresses = ["198.18.0.1$i/15"]
[management]
socket = "$work/sr-$i.sock"
[sip]
to_tag_key = "73697072656469722d62656e63682d31"
request_hash_key = "73697072656469722d62656e63682d32"
[probe]
interval_ms = $probe_interval_ms
timeout_ms = 200
[load]
max_age_ms = 3600000
[fleet]
name = "sr-$i"
key_file = "$work/fleet.key"
transport = "nats"
nats_servers = ["tls://$(nats_addr "$i"):4222", "tls://$(nats_addr $((i % 3 + 1))):4222", "tls://$(nats_addr $(((i + 1) % 3 + 1))):4222"]
nats_fleet = "lab"
nats_user = "sr-$i"
nats_password_file = "sr-$i.password"
nats_ca_file = "ca.pem"
nats_reconnect_wait_ms = 100
[[backend]]
name = "b1"
address = "198.18.1.1:5060"
capacity = 20
threshold = 1.0
[[backend]]
name = "b2"
address = "198.18.1.2:5060"
capacity = 1000
[[backend]]
name = "b3"
address = "198.18.1.3:5060"
capacity = 1000
[[pool]]
name = "default"
policy = "sequence"
backends = ["b1", "b2"]
CONF
done
lab_start_backends "$root/tests/lab/sipp/backend.xml" "$work"
check "three SIPp backends" $?
ok=0
declare -A app_pid
for i in 1 2 3; do
    lab_start_sipredir "$work/sr-$i.toml" 300 "$work/sr-$i.json" "$work/sr-$i.log" \
        "$(app_ns "$i")" "$(app_dev "$i")" || ok=1
    app_pid[$i]=$lab_sipredir_pid
    pids+=("$lab_sipredir_pid")
done
check "three appliances start" "$ok" "$(tail -n 5 "$work"/sr-*.log)"
connected_to() { ctl "$1" fleet | json "d['transport']"; }
# The client picks a server of its list at random (spreading a fleet over the cluster).
ok=0
for i in 1 2 3; do
    until_true 15 eval "connected_to $i | grep -q 'connected to tls://198.19.9.[123]:4222'" || ok=1
done
check "each appliance connects to a server of the cluster, over TLS" "$ok" \
    "$(for i in 1 2 3; do connected_to "$i"; done; grep fleet "$work"/sr-*.log)"
until_true 15 eval '[ "$(peers_of 1)" = "['"'sr-2', 'sr-3'"']" ] && [ "$(peers_of 2)" = "['"'sr-1', 'sr-3'"']" ] && [ "$(peers_of 3)" = "['"'sr-1', 'sr-2'"']" ]'
check "each appliance hears the other two through NATS" $? "$(peers_of 1) $(peers_of 2) $(peers_of 3)"

# --- shared counts ----------------------------------------------------------------------------
call 20 10 1 2 3
check "60 calls over three appliances complete" $? "$(tail -n 3 "$work"/caller*.out)"
b1=$(fleet_redirects b1 1 2 3)
b2=$(fleet_redirects b2 1 2 3)
check "shared counts: b1 (capacity 20) gets its fleet-wide share, not 3x (b1 $b1, b2 $b2)" \
    "$([ "$b1" -ge 17 ] && [ "$b1" -le 26 ] && [ $((b1 + b2)) -eq 60 ]; echo $?)" "b1 $b1, b2 $b2"

# --- probing shared out -----------------------------------------------------------------------
# fleet_probing: per backend, how many of the three probe it themselves, and each one's verdict.
until_true 15 eval '[ "$(fleet_probing 1 2 3)" = "b1:2:up,up,up b2:2:up,up,up b3:2:up,up,up" ]'
check "each backend is probed by two of the three appliances, up on all three" $? "$(fleet_probing 1 2 3)"
down_on() { ctl "$1" backends | json "next(x['probe'] for x in d['backends'] if x['name']=='b3')"; }
# When appliance I took b3 down, in ms after the kill: from its own probe_changed_ms_ago (how long
# the state it shows has held, whether it probed or took its probers' result), so the time
# sipredirctl takes to ask does not count.
down_after() {
    local asked_ms
    asked_ms=$(($(date +%s%N) / 1000000))
    ctl "$1" backends | json "round($asked_ms - $killed_ms - next(x['probe_changed_ms_ago'] for x in d['backends'] if x['name']=='b3'))"
}
lab_kill_backend 3
killed_ms=$(($(date +%s%N) / 1000000))
until_true 10 eval '[ "$(down_on 1)" = down ] && [ "$(down_on 2)" = down ] && [ "$(down_on 3)" = down ]'
all_down=$?
ok=$all_down
times=()
for i in 1 2 3; do
    t=$(down_after "$i")
    times+=("sr-$i $t ms")
    [ "$t" -le $((2 * probe_interval_ms)) ] || ok=1
done
check "b3 killed: down on all three within two probe intervals (${times[*]})" "$ok" \
    "$(for i in 1 2 3; do probing_of "$i"; done)"
echo "# b3 down after: ${times[*]} (probe interval $probe_interval_ms ms, timeout 200 ms, down after 2);" \
    "who probed it: $(for i in 1 2 3; do probing_of "$i" | grep -o 'b3=[a-z]*' | sed "s/^/sr-$i /"; done | paste -sd, -)"

# --- a NATS server stops ----------------------------------------------------------------------
peer_messages() { ctl "$1" fleet | json "next(p['messages'] for p in d['peers'] if p['name']=='$2')"; }
first=$(connected_to 1 | sed -n 's|.*connected to tls://198.19.9.\([123]\):4222.*|\1|p')
kill "${nats_pid[$first]}"
wait "${nats_pid[$first]}" 2>/dev/null
until_true 15 eval "connected_to 1 | grep -q 'connected to tls://198.19.9.[123]:4222' && ! connected_to 1 | grep -q '198.19.9.$first:'"
check "NATS server $first (sr-1's) stopped: sr-1 fails over to another server" $? "$(connected_to 1)"
before=$(peer_messages 2 sr-1)
b2_before=$(ctl 2 fleet | json "next(p['redirects'] for p in d['peers'] if p['name']=='sr-1')")
call 10 10 1
called=$?
until_true 10 eval '[ "$(ctl 2 fleet | json "next(p['"'redirects'"'] for p in d['"'peers'"'] if p['"'name'"']=='"'sr-1'"')")" -ge $((b2_before + 10)) ]'
check "and counts keep flowing: sr-2 folds sr-1's 10 new redirects" \
    "$([ "$called" -eq 0 ] && [ "$(peer_messages 2 sr-1)" -gt "$before" ] &&
        [ "$(ctl 2 fleet | json "next(p['redirects'] for p in d['peers'] if p['name']=='sr-1')")" -ge $((b2_before + 10)) ]; echo $?)" \
    "$(ctl 2 fleet)"
reconnects=$(ctl 1 fleet | json "d['transport_counters']['reconnects']")
check "sr-1 counted the reconnection ($reconnects)" "$([ "$reconnects" -ge 1 ]; echo $?)"

# --- an appliance stops -----------------------------------------------------------------------
kill -9 "${app_pid[3]}"
call 10 10 1 2
check "sr-3 killed: sr-1 and sr-2 still answer" $? "$(tail -n 3 "$work"/caller*.out)"
until_true 15 eval '[ "$(peers_of 1)" = "['"'sr-2'"']" ] && [ "$(peers_of 2)" = "['"'sr-1'"']" ]'
check "and forget it once it has been silent for peer_timeout_ms" $? "$(ctl 1 fleet)"

# --- how long a total takes to travel: the mesh and NATS, in this run ------------------------
# Two processes on the management network, in two namespaces of one host (one clock): one adds
# a redirect and publishes every 20 ms, the other prints when it folded each.
travel() { # travel NAME RECEIVER-ARGS... -- SENDER-ARGS...: the one-way times, in µs, sorted
    local name=$1 args=("${@:2}") split recv_args send_args
    for split in "${!args[@]}"; do [ "${args[$split]}" = -- ] && break; done
    recv_args=("${args[@]:0:$split}")
    send_args=("${args[@]:$((split + 1))}")
    ip netns exec "$lab_prefix-travel-b" "$travel_bin" receive --count 200 "${recv_args[@]}" \
        >"$work/$name.got" 2>"$work/$name.err" &
    local receiver=$!
    until_true 15 grep -q ready "$work/$name.got" || return 1
    ip netns exec "$lab_prefix-travel-a" "$travel_bin" send --count 200 --gap-ms 20 "${send_args[@]}" \
        >"$work/$name.sent" 2>>"$work/$name.err"
    wait "$receiver"
    "$py" - "$work/$name.sent" "$work/$name.got" <<'PY'
import sys
sent = {int(l.split()[1]): int(l.split()[2]) for l in open(sys.argv[1]) if l.startswith("sent")}
got = {int(l.split()[1]): int(l.split()[2]) for l in open(sys.argv[2]) if l.startswith("got")}
times = sorted(got[n] - sent[n] for n in got if n in sent)
if len(times) < len(sent) * 0.95:
    sys.exit(f"only {len(times)} of {len(sent)} totals arrived")
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"{len(times)} totals: p50 {pick(0.5)} us, p90 {pick(0.9)} us, p99 {pick(0.99)} us, max {times[-1]} us")
PY
}
common=(--key-file "$work/fleet.key")
mesh=$(travel mesh --self travel-b --peer travel-a "${common[@]}" --mesh 198.19.9.22:5090 198.19.9.21:5090 -- \
    --self travel-a --peer travel-b "${common[@]}" --mesh 198.19.9.21:5090 198.19.9.22:5090)
check "a total travels over the mesh: $mesh" $? "$(cat "$work/mesh.err")"
# The sender and the receiver on the two servers still running: one hop through the cluster's
# route too, as between two appliances connected to different servers.
running=()
for i in 1 2 3; do [ "$i" = "$first" ] || running+=("$i"); done
nats_travel=$(travel nats --self travel-b --peer travel-a "${common[@]}" \
    --nats "tls://$(nats_addr "${running[0]}"):4222" --user travel-b --password-file "$work/travel-b.password" --ca "$work/ca.pem" -- \
    --self travel-a --peer travel-b "${common[@]}" \
    --nats "tls://$(nats_addr "${running[1]}"):4222" --user travel-a --password-file "$work/travel-a.password" --ca "$work/ca.pem")
check "a total travels over NATS (two servers): $nats_travel" $? "$(cat "$work/nats.err")"

for i in 1 2; do
    kill -INT "${app_pid[$i]}"
    wait "${app_pid[$i]}"
done
verdict=$("$py" - "$work/sr-1.json" "$work/sr-2.json" <<'PY'
import json, sys
bad = []
for path in sys.argv[1:]:
    s = json.load(open(path))
    if not s["accounting_balanced"] or s["dropped"] != s["dropped_by_cause"]["exception_filtered"]:
        bad.append({k: s[k] for k in ("received_frames", "replies", "dropped", "dropped_by_cause")})
print(0 if not bad else 1, json.dumps(bad))
PY
)
check "the survivors stop cleanly, accounting balanced, nothing dropped but what the filter refused" "${verdict%% *}" "${verdict#* }"
tap_plan
