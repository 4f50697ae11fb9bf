#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A fleet in network namespaces (docs/fleet.md): three appliances (idle-sleep lab mode), three
# SIPp backends, SIPp callers spread over the appliances, one etcd (TLS with client certificates,
# authentication on, a user and role per appliance: docs/fleet.md, "Securing etcd"), and beside
# each appliance sipredir-etcd-watch writing its configuration from etcd.
#   - etcd refuses a client without a certificate; an appliance's user cannot write common/; a
#     watcher with a wrong password changes nothing and says why;
#   - each appliance runs the revision etcd holds and hears the other two; a retransmission
#     reaching another appliance gets the same To-tag;
#   - shared counts: pool "sequence" with b1 (capacity 20) first: 60 calls over the three
#     appliances give b1 its fleet-wide share (about 20), not three times it;
#   - a configuration change in etcd (the peers removed) reaches all three while calls run, with
#     no call lost; then, without sharing, the pool moved to b3: b3 takes 60, 3x its share;
#   - probing shared out ([fleet] probers = 2 by default): each backend is probed by two of the
#     three, and is up on all three; a backend killed is down on all three, and up again when
#     it is back;
#   - killing one appliance leaves the others answering, and they forget it (and probe every
#     backend between them);
#   - stopping etcd changes nothing: the appliances keep their revision and answer.
# Usage: fleet_test.sh SIPREDIR SIPREDIRCTL ETCD_WATCH ROOT. TAP output; needs root.
set -uo pipefail
lab_sipredir=$1
ctl_bin=$2
watch_bin=$3
root=$(cd "$4" && pwd) # absolute: the callers run from the work directory

LAB_PREFIX=${LAB_PREFIX:-srf}
# shellcheck source=../../scripts/lib/lab.sh
source "$root/scripts/lib/lab.sh"
lab_skip_unless_able
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null || ! command -v openssl >/dev/null; then
    echo "1..0 # SKIP etcd-server, etcd-client or openssl is not installed (scripts/deps.sh)"
    exit 0
fi
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; lab_down; rm -rf "$work"' EXIT

ns_etcd=$lab_prefix-etcd
etcd_url=https://198.18.2.1:2379
etcd_tls=(--cacert "$work/ca.pem" --cert "$work/operator.pem" --key "$work/operator.key")
etcd_user=() # root's, once authentication is on
# shellcheck source=../../scripts/lib/fleet_lab.sh
source "$root/scripts/lib/fleet_lab.sh"
etcdctl_() {
    ip netns exec "$ns_etcd" etcdctl --endpoints "$etcd_url" "${etcd_tls[@]}" "${etcd_user[@]}" "$@"
}
revision_of() { ctl "$1" version | json "d['config_revision']"; }
# The revision appliance I's file must carry: its newest key (common or its own) in etcd.
etcd_revision() {
    etcdctl_ get /sipredir/lab/ --prefix -w json | "$py" -c "
import base64, json, sys
d = json.load(sys.stdin)
keys = ('/sipredir/lab/common/', '/sipredir/lab/appliance/sr-$1/')
print(max(kv['mod_revision'] for kv in d['kvs'] if base64.b64decode(kv['key']).decode().startswith(keys)))"
}
all_run() { # all_run APPLIANCE...: each runs the revision etcd holds for it
    local i
    for i in "$@"; do
        [ "$(revision_of "$i" 2>/dev/null)" = "$(etcd_revision "$i")" ] || return 1
    done
}
revisions() { # what each runs, and what etcd holds for it
    local i
    for i in "$@"; do
        echo "sr-$i runs $(revision_of "$i" 2>/dev/null), etcd holds $(etcd_revision "$i")"
    done
}

lab_up
fleet_attach_appliances
lab_attach "$ns_etcd" etcd0
ip -n "$ns_etcd" addr add 198.18.2.1/15 dev etcd0

# --- etcd, secured, and the configuration -----------------------------------------------------
# docs/fleet.md, "Securing etcd": a CA, etcd's certificate for its address, client certificates
# without a CN (etcd 3.4's gateway refuses one) for the operator and each appliance.
certificates() {
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes) name
    openssl req -x509 "${ec[@]}" -days 2 -keyout ca.key -out ca.pem -subj "/CN=sipredir lab etcd CA" &&
        printf 'subjectAltName=IP:198.18.2.1\nextendedKeyUsage=serverAuth,clientAuth\n' >etcd.ext &&
        openssl req "${ec[@]}" -keyout etcd.key -out etcd.csr -subj "/CN=etcd-lab" &&
        openssl x509 -req -in etcd.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile etcd.ext -out etcd.pem &&
        printf 'extendedKeyUsage=clientAuth\n' >client.ext || return 1
    for name in operator sr-1 sr-2 sr-3; do
        openssl req "${ec[@]}" -keyout "$name.key" -out "$name.csr" -subj "/O=sipredir/OU=$name" &&
            openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
                -extfile client.ext -out "$name.pem" || return 1
    done
}
(cd "$work" && certificates) >"$work/openssl.log" 2>&1
check "a CA and certificates for etcd, the operator and each appliance" $? "$(tail -5 "$work/openssl.log")"
ip netns exec "$ns_etcd" etcd --name lab --data-dir "$work/etcd" \
    --listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
    --cert-file "$work/etcd.pem" --key-file "$work/etcd.key" --client-cert-auth \
    --trusted-ca-file "$work/ca.pem" \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster lab=http://127.0.0.1:2380 >"$work/etcd.log" 2>&1 &
etcd_pid=$!
pids+=("$etcd_pid")
until_true 20 etcdctl_ endpoint health >/dev/null 2>&1
check "etcd starts, TLS with client certificates" $? "$(tail -5 "$work/etcd.log")"
# Passwords without blanks: etcdctl reads one word from standard input.
for user in root sr-1 sr-2 sr-3; do
    head -c18 /dev/urandom | base64 | tr -d '/+=' >"$work/$user.password"
done
chmod 600 "$work"/*.password
ok=0
etcdctl_ user add root --interactive=false <"$work/root.password" >/dev/null || ok=1
etcdctl_ user grant-role root root >/dev/null || ok=1
for i in 1 2 3; do
    etcdctl_ user add "sr-$i" --interactive=false <"$work/sr-$i.password" >/dev/null || ok=1
    etcdctl_ role add "sr-$i" >/dev/null || ok=1
    etcdctl_ role grant-permission "sr-$i" read --prefix=true /sipredir/lab/common/ >/dev/null || ok=1
    etcdctl_ role grant-permission "sr-$i" read --prefix=true "/sipredir/lab/appliance/sr-$i/" \
        >/dev/null || ok=1
    etcdctl_ role grant-permission "sr-$i" write "/sipredir/lab/status/sr-$i" >/dev/null || ok=1
    etcdctl_ user grant-role "sr-$i" "sr-$i" >/dev/null || ok=1
done
etcdctl_ auth enable >/dev/null || ok=1
etcd_user=(--user "root:$(cat "$work/root.password")")
check "etcd users, a role per appliance, authentication on" "$ok"
! ip netns exec "$ns_etcd" etcdctl --endpoints "$etcd_url" --cacert "$work/ca.pem" \
    --dial-timeout 2s --command-timeout 3s get /sipredir/lab/common/ >/dev/null 2>&1
check "etcd refuses a client without a certificate" $?
! ip netns exec "$ns_etcd" etcdctl --endpoints "$etcd_url" "${etcd_tls[@]}" \
    --user "sr-2:$(cat "$work/sr-2.password")" put /sipredir/lab/common/99-evil x >/dev/null 2>&1
check "an appliance's etcd user cannot write common/" $?

(umask 077 && head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/fleet.key")
etcdctl_ put /sipredir/lab/common/00-base "$(cat <<CONF
[dataplane]
idle = "sleep"
idle_sleep_max_us = 1000
[sip]
to_tag_key = "73697072656469722d62656e63682d31"
request_hash_key = "73697072656469722d62656e63682d32"
[load]
max_age_ms = 3600000
[probe]
interval_ms = 1000
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
capacity = 20
threshold = 1.0
CONF
)" >/dev/null
etcdctl_ put /sipredir/lab/common/10-pool \
    "$(printf '[[pool]]\nname = "default"\npolicy = "sequence"\nbackends = ["b1", "b2"]\n')" >/dev/null
local_part() { # local_part I PEERS: appliance I's own part
    cat <<CONF
[listen]
addresses = ["198.18.0.1$1"]
promiscuous = true
[exception]
tap = "sipredir0"
addresses = ["198.18.0.1$1/15"]
[management]
socket = "$work/sr-$1.sock"
[fleet]
name = "sr-$1"
key_file = "$work/fleet.key"
peers = [$2]
CONF
}
peers_for() { # the other two, quoted
    local i out=()
    for i in 1 2 3; do
        [ "$i" = "$1" ] || out+=("\"sr-$i@198.18.0.1$i:5070\"")
    done
    local IFS=,
    echo "${out[*]}"
}
for i in 1 2 3; do
    etcdctl_ put "/sipredir/lab/appliance/sr-$i/00-local" "$(local_part "$i" "$(peers_for "$i")")" >/dev/null
done

# Each watcher's etcd settings, its password in a file (nothing secret on a command line).
for i in 1 2 3; do
    cat >"$work/etcd-sr-$i.toml" <<CONF
endpoints = ["$etcd_url"]
cacert = "ca.pem"
cert = "sr-$i.pem"
key = "sr-$i.key"
user = "sr-$i"
password_file = "sr-$i.password"
CONF
done
# The watchers run in etcd's namespace (the management network); the appliances' sipredirctl
# sockets are files, reachable from there.
watch() { # watch I [--once] [--password-file FILE]
    ip netns exec "$ns_etcd" "$watch_bin" --etcd-config "$work/etcd-sr-$1.toml" \
        --prefix /sipredir/lab --name "sr-$1" --config "$work/sr-$1.toml" \
        --ctl "$ctl_bin --socket $work/sr-$1.sock" \
        --retry-ms 200 --watch-s 2 "${@:2}"
}
ok=0
for i in 1 2 3; do
    watch "$i" --once 2>>"$work/watch$i.log" || ok=1
done
check "the watchers write each appliance's file from etcd" "$ok" "$(cat "$work"/watch*.log)"

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
for i in 1 2 3; do
    watch "$i" 2>>"$work/watch$i.log" &
    pids+=($!)
done
until_true 15 all_run 1 2 3
check "each appliance runs the revision etcd holds for it" $? "$(revisions 1 2 3)"

# A watcher with a wrong password, a change waiting for it in etcd: it changes nothing. (It
# writes a copy of sr-1's file: sr-1's own watcher takes the change.)
echo not-the-password >"$work/wrong.password"
cp -p "$work/sr-1.toml" "$work/sr-1-copy.toml"
file_state() { stat -c '%y %s %a' "$1"; sha256sum <"$1"; }
before=$(file_state "$work/sr-1-copy.toml")
etcdctl_ put /sipredir/lab/appliance/sr-1/90-pending "# not for a watcher etcd refuses" >/dev/null
watch 1 --once --password-file "$work/wrong.password" --config "$work/sr-1-copy.toml" 2>"$work/wrong.log"
status=$?
check "a watcher with a wrong password fails, says why, and leaves the file alone" \
    "$([ "$status" -ne 0 ] && grep -q "etcd refused user 'sr-1'.*authentication failed" "$work/wrong.log" &&
        [ "$(file_state "$work/sr-1-copy.toml")" = "$before" ]; echo $?)" \
    "status $status: $(cat "$work/wrong.log")"
etcdctl_ del /sipredir/lab/appliance/sr-1/90-pending >/dev/null
until_true 15 all_run 1
until_true 15 eval '[ "$(peers_of 1)" = "['"'sr-2', 'sr-3'"']" ] && [ "$(peers_of 3)" = "['"'sr-1', 'sr-2'"']" ]'
check "each appliance hears the other two" $? "$(peers_of 1) $(peers_of 2) $(peers_of 3)"

# --- probing shared out: two of the three probe each backend, all three know ----------------
all_up() { [ "$(fleet_probing 1 2 3)" = "b1:2:up,up,up b2:2:up,up,up b3:2:up,up,up" ]; }
# b3 down on its two probers, and on the third from their results (not probing it itself).
b3_down() {
    [ "$(fleet_probing 1 2 3)" = "b1:2:up,up,up b2:2:up,up,up b3:2:down,down,down" ] &&
        [ "$(for i in 1 2 3; do probing_of "$i"; done | grep -c 'b3=shared/down')" -eq 1 ]
}
until_true 20 all_up
check "each backend probed by two of the three appliances, up on all three" $? \
    "$(fleet_probing 1 2 3): $(probing_of 1) | $(probing_of 2) | $(probing_of 3)"
lab_kill_backend 3
until_true 20 b3_down
check "a backend killed is down on all three, the third taking its probers' word" $? \
    "$(fleet_probing 1 2 3): $(probing_of 1) | $(probing_of 2) | $(probing_of 3)"
lab_start_backend 3 "$root/tests/lab/sipp/backend.xml" "$work"
until_true 20 all_up
check "and up on all three when it is back" $? "$(fleet_probing 1 2 3)"

# A retransmission that the routers send to another appliance gets the same To-tag: the same
# INVITE to sr-1 and sr-2, from one socket.
tags=$(ip netns exec "$lab_ns_callers" "$py" - <<'PY'
import re, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.0.2", 5079))
s.settimeout(5)
invite = ("INVITE sip:alice@198.18.0.10 SIP/2.0\r\n"
          "Via: SIP/2.0/UDP 198.18.0.2:5079;branch=z9hG4bKfleet-retransmission\r\n"
          "Max-Forwards: 70\r\nFrom: <sip:bob@198.18.0.2>;tag=f1\r\nTo: <sip:alice@198.18.0.10>\r\n"
          "Call-ID: fleet-retransmission@198.18.0.2\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
tags = []
for appliance in ("198.18.0.11", "198.18.0.12"):
    s.sendto(invite.encode(), (appliance, 5060))
    reply = s.recvfrom(4096)[0].decode()
    m = re.search(r"^To:.*;tag=([^;\r]+)", reply, re.M)
    tags.append(m.group(1) if m else "")
print(" ".join(tags))
PY
)
read -r tag1 tag2 <<<"$tags"
check "a retransmission reaching another appliance gets the same To-tag ($tags)" \
    "$([ -n "$tag1" ] && [ "$tag1" = "$tag2" ]; echo $?)" "$tags"

# --- shared counts --------------------------------------------------------------------------
b1_before=$(fleet_redirects b1 1 2 3)
b2_before=$(fleet_redirects b2 1 2 3)
call 20 10 1 2 3
check "60 calls over three appliances complete" $? "$(tail -n 3 "$work"/caller*.out)"
b1=$(fleet_redirects b1 1 2 3)
b2=$(($(fleet_redirects b2 1 2 3) - b2_before))
# b1 counts the To-tag check's INVITEs too: its capacity is for every redirect to it.
check "shared counts: b1 (capacity 20) gets its fleet-wide share, not 3x (b1 $b1, b2 $b2)" \
    "$([ "$b1" -ge 18 ] && [ "$b1" -le 26 ] && [ $((b1 - b1_before + b2)) -eq 60 ]; echo $?)" \
    "b1 $b1 (before the calls $b1_before), b2 $b2"

# --- a change in etcd while calls run: the peers go (no more sharing) -----------------------
put_local() { # put_local PEERS-OR-EMPTY: every appliance's own part
    local i
    for i in 1 2 3; do
        etcdctl_ put "/sipredir/lab/appliance/sr-$i/00-local" \
            "$(local_part "$i" "$([ "$1" = peers ] && peers_for "$i")")" >/dev/null
    done
}
call 30 10 1 2 3 &
background=$!
put_local none
until_true 15 all_run 1 2 3
check "a change in etcd reaches all three while calls run" $? \
    "$(revisions 1 2 3; tail -n 3 "$work"/watch*.log)"
wait "$background"
check "no call lost across the change (90 calls)" $? "$(tail -n 3 "$work"/caller*.out)"

# --- own counts only: the pool moves to b3 ----------------------------------------------------
etcdctl_ put /sipredir/lab/common/10-pool \
    "$(printf '[[pool]]\nname = "default"\npolicy = "sequence"\nbackends = ["b3", "b2"]\n')" >/dev/null
until_true 15 all_run 1 2 3
check "the pool moves to b3 on all three" $? "$(revisions 1 2 3)"
call 20 10 1 2 3
b3=$(fleet_redirects b3 1 2 3)
check "own counts only: b3 (capacity 20) takes 3x its share of 60 calls ($b3)" \
    "$([ "$b3" -ge 50 ]; echo $?)" "b3 $b3"

# --- the peers come back; then an appliance dies ----------------------------------------------
put_local peers
until_true 15 all_run 1 2 3
until_true 15 eval '[ "$(peers_of 1)" = "['"'sr-2', 'sr-3'"']" ]'
check "peers back: sr-1 hears sr-2 and sr-3 again" $? "$(peers_of 1)"
kill -9 "${app_pid[3]}"
call 10 10 1 2
check "one appliance killed: the other two still answer" $? "$(tail -n 3 "$work"/caller*.out)"
until_true 15 eval '[ "$(peers_of 1)" = "['"'sr-2'"']" ]'
check "and forget it once it has been silent for peer_timeout_ms" $? "$(ctl 1 fleet)"
until_true 15 eval '[ "$(fleet_probing 1 2)" = "b1:2:up,up b2:2:up,up b3:2:up,up" ]'
check "the two left probe every backend between them" $? "$(probing_of 1) | $(probing_of 2)"

# --- etcd stops: nothing changes -------------------------------------------------------------
running="$(revision_of 1) $(revision_of 2)"
kill "$etcd_pid"
wait "$etcd_pid" 2>/dev/null
until_true 15 grep -q etcd_unreachable "$work/watch1.log"
check "etcd stopped: the watchers notice" $? "$(tail -n 3 "$work/watch1.log")"
call 10 10 1 2
called=$?
check "and the appliances still answer, on the revisions they ran ($running)" \
    "$([ "$called" -eq 0 ] && [ "$(revision_of 1) $(revision_of 2)" = "$running" ]; echo $?)" \
    "$(tail -n 3 "$work"/caller*.out)"

for i in 1 2; do
    kill -INT "${app_pid[$i]}"
    wait "${app_pid[$i]}"
done
verdict=$("$py" - "$work/sr-1.json" "$work/sr-2.json" <<'PY'
import json, sys
bad = []
for path in sys.argv[1:]:
    s = json.load(open(path))
    # The exception path's filter drops what no appliance needs (the lab kernels' IGMP and
    # multicast chatter, counted as exception_filtered); nothing else may be dropped.
    if not s["accounting_balanced"] or s["dropped"] != s["dropped_by_cause"]["exception_filtered"]:
        bad.append({k: s[k] for k in ("received_frames", "replies", "dropped", "dropped_by_cause")})
print(0 if not bad else 1, json.dumps(bad))
PY
)
check "the survivors stop cleanly, accounting balanced, nothing dropped but what the filter refused" "${verdict%% *}" "${verdict#* }"
tap_plan
