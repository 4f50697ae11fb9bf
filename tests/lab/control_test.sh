#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The control plane in network namespaces: sipredir probes three SIPp backends with OPTIONS
# every 500 ms; sip_blaster sends INVITEs from the callers' side; sipredirctl reads and steers.
#   - 100,000 datagrams to a closed port are dropped in the workers: no backend goes down and
#     the appliance's address still resolves;
#   - a killed backend gets no redirect once 2 probe intervals have passed; revived, it gets
#     traffic again;
#   - a drained backend gets none; undrained, it does;
#   - pushed reports move traffic away from a loaded backend (proportional); forged, replayed
#     and stale ones are refused and counted;
#   - least-latency leaves out a backend that answers its probes 40 ms late;
#   - sequence falls through to the next backend, and answers 503 + Retry-After when all are
#     over their threshold (a reload switches the policy);
#   - 20 reloads under sustained load lose no request (caller's count and accounting identity);
#   - backends set, removed and added with `sipredirctl backend` under load lose no request,
#     a wrong change is refused, the changes are kept in the state file and logged with who;
#   - a reload with an error keeps the running configuration and says file:line, and
#     `sipredirctl reload` exits 1 (what `systemctl reload` reports);
#   - the final statistics are printed on one line.
# Usage: control_test.sh SIPREDIR SIPREDIRCTL SIP_BLASTER ROOT. TAP output; needs root.
set -uo pipefail
lab_sipredir=$1
ctl_bin=$2
blaster=$3
root=$4
interval_ms=500

LAB_PREFIX=${LAB_PREFIX:-src}
# shellcheck source=../../scripts/lib/lab.sh
source "$root/scripts/lib/lab.sh"
lab_skip_unless_able
work=$(mktemp -d)
trap 'lab_down; rm -rf "$work"' EXIT

ctl() { "$ctl_bin" --socket "$work/sr.sock" --json "$@"; }
# The JSON field $2 of backend $1 in `sipredirctl backends`.
backend_field() {
    ctl backends | python3 -c "import json,sys; d=json.load(sys.stdin); print(next(b['$2'] for b in d['backends'] if b['name']=='$1'))"
}
redirects() { backend_field "$1" redirects; }
# Waits (bounded: $3 tenths of a second) until backend $1's state is $2.
wait_state() {
    local waited=0
    until [ "$(backend_field "$1" state)" = "$2" ]; do
        [ "$waited" -ge "$3" ] && return 1
        sleep 0.1
        waited=$((waited + 1))
    done
}
# Sends INVITEs for $1 seconds at $2 per second from the callers; prints the blaster's JSON.
blast() {
    ip netns exec "$lab_ns_callers" "$blaster" --target 198.18.0.1:5060 --source 198.18.0.2:0 \
        --seconds "$1" --rate "$2" --timeout-ms 2000
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
report() { # report BACKEND LOAD SEQ [send_report options]: signed with its key, from its address
    ip netns exec "$lab_ns_backends" python3 "$root/tests/lab/send_report.py" \
        --source "198.18.1.${1#b}" 198.18.0.1:5065 "$work/$1.key" "$@"
}

# A key per backend, readable by its owner only (sipredir refuses any other).
for b in b1 b2 b3 b4; do
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/$b.key" &&
        echo >>"$work/$b.key")
done
write_config() { # write_config POLICY FILE [extra backend b4]
    # Capacity in calls far above what a test sends: the load the policies see is then what the
    # reports say, not the redirects counted as calls since (docs/configuration.md, [load]).
    sed -e "s/policy = \"wrr\"/policy = \"$1\"/" \
        -e 's/^address = "198.18.1.\(.\):5060"/&\ncapacity = 1000000/' \
        -e "s|^address = \"198.18.1.\\(.\\):5060\"|&\\nreport_key_file = \"$work/b\\1.key\"|" \
        "$root/config/lab.toml" >"$2"
    cat >>"$2" <<CONF

[probe]
interval_ms = $interval_ms
timeout_ms = 200

[reports]
port = 5065
rate = 100
burst = 100

[load]
max_age_ms = 60000

[management]
socket = "$work/sr.sock"
metrics = "127.0.0.1:9100"
state_file = "$work/backends.json"
CONF
    if [ "${3:-}" = b4 ]; then
        cat >>"$2" <<CONF

[[backend]]
name = "b4"
address = "198.18.1.4:5060"
capacity = 1000000
weight = 2
report_key_file = "$work/b4.key"
CONF
        sed -i 's/backends = \["b1", "b2", "b3"\]/backends = ["b1", "b2", "b3", "b4"]/' "$2"
    fi
}
write_config proportional "$work/sr.toml"

lab_up
lab_start_sipredir "$work/sr.toml" 300 "$work/stats.json" "$work/sipredir.log"
check "sipredir starts with probing, reports and its control socket" $? "$(cat "$work/sipredir.log")"
lab_start_backends "$root/tests/lab/sipp/backend.xml" "$work"
ok=0
for b in b1 b2 b3; do wait_state "$b" up 50 || ok=1; done
check "probing finds the three backends up" $ok "$(ctl backends)"
rtt=$(backend_field b1 rtt_ms)
python3 -c "import sys; sys.exit(0 if 0 < $rtt < 100 else 1)"
check "probing measures a round-trip time ($rtt ms)" $?

# --- a flood to a closed port: filtered in the workers, probing and ARP go on ----------------
# 100,000 datagrams from the callers to a port nothing listens on (bounded: 20 s at most). The
# exception path's filter drops them in the workers (exception_filtered), so the kernel's ring
# keeps room for the probe answers and ARP: no backend goes down, and the appliance's address
# still resolves (the callers' neighbour entry is flushed first, so the ping needs ARP).
filtered() { ctl stats | json "d['appliance']['dropped_by_cause']['exception_filtered']"; }
kernel_frames() { ctl stats | json "d['appliance']['exception_frames']"; }
filtered_before=$(filtered)
kernel_before=$(kernel_frames)
sent=$(ip netns exec "$lab_ns_callers" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
deadline, n = time.monotonic() + 20, 0
while n < 100000 and time.monotonic() < deadline:
    s.sendto(b"flood " * 8, ("198.18.0.1", 9))
    n += 1
print(n)')
flood_filtered=$(($(filtered) - filtered_before))
flood_kernel=$(($(kernel_frames) - kernel_before))
check "a closed-port flood is dropped in the workers: $flood_filtered of $sent filtered, $flood_kernel frames to the kernel meanwhile" \
    "$([ "$sent" -ge 100000 ] && [ $((flood_filtered * 2)) -ge "$sent" ] && [ "$flood_kernel" -lt 1000 ] && echo 0 || echo 1)"
states=$(for b in b1 b2 b3; do backend_field "$b" state; done | tr '\n' ' ')
check "no backend went down during the flood: $states" \
    "$([ "$states" = "up up up " ] && echo 0 || echo 1)"
ip netns exec "$lab_ns_callers" ip neigh flush all
ip netns exec "$lab_ns_callers" ping -c 1 -W 2 198.18.0.1 >/dev/null 2>&1
check "after the flood the appliance still answers ARP (and a ping)" $?

metrics=$(ip netns exec "$lab_ns_app" python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9100/metrics', timeout=5).read().decode())")
check "Prometheus text over HTTP names redirects per backend and per pool, and the port" \
    "$(grep -q '^sipredir_redirects_total{backend="b1"} [0-9]' <<<"$metrics" &&
        grep -q '^sipredir_pool_redirects_total{pool="default"} [0-9]' <<<"$metrics" &&
        grep -q '^sipredir_port_frames_total{stat="imissed"} [0-9]' <<<"$metrics" &&
        grep -q '^sipredir_build_info{version="[0-9.]*",stage1="[a-z0-9]*"} 1' <<<"$metrics" &&
        grep -q '^sipredir_reply_latency_seconds_bucket{le="+Inf"}' <<<"$metrics" &&
        grep -q '^# TYPE sipredir_reply_latency_seconds histogram' <<<"$metrics" && echo 0 || echo 1)" \
    "$(grep -E '^sipredir_(redirects_total|pool_redirects_total|port_frames_total|build_info)' <<<"$metrics" | head -20)"

# --- a backend dies: out within 2 probe intervals, never chosen after -------------------------
lab_kill_backend 1
# The sleep is the deadline under test (2 probe intervals), not a wait for something to happen.
sleep "$(python3 -c "print(2 * $interval_ms / 1000)")"
state=$(backend_field b1 state)
check "a killed backend is down within 2 probe intervals ($((2 * interval_ms)) ms): $state" \
    "$([ "$state" = down ] && echo 0 || echo 1)"
before=$(redirects b1)
out=$(blast 1 2000)
after=$(redirects b1)
check "no redirect to the dead backend ($before -> $after) while others take $(json "d['codes']" <<<"$out")" \
    "$([ "$before" = "$after" ] && [ "$(json "d['codes'].get('302', 0)" <<<"$out")" -gt 1500 ] && echo 0 || echo 1)" "$out"
lab_start_backend 1 "$root/tests/lab/sipp/backend.xml" "$work"
wait_state b1 up 50
check "revived, it is up again" $?
before=$(redirects b1)
blast 1 2000 >/dev/null
after=$(redirects b1)
check "and gets redirects again ($before -> $after)" "$([ "$after" -gt $((before + 300)) ] && echo 0 || echo 1)"

# --- drain ----------------------------------------------------------------------------------
ctl drain b2 >/dev/null
check "sipredirctl drain b2" $?
before=$(redirects b2)
blast 1 2000 >/dev/null
after=$(redirects b2)
check "a drained backend gets no new redirect ($before -> $after)" "$([ "$before" = "$after" ] && echo 0 || echo 1)"
ctl undrain b2 >/dev/null
before=$(redirects b2)
blast 1 2000 >/dev/null
after=$(redirects b2)
check "undrained, it does ($before -> $after)" "$([ "$after" -gt "$before" ] && echo 0 || echo 1)"
ctl drain nosuch >/dev/null
check "draining an unknown backend is refused" "$([ $? -eq 1 ] && echo 0 || echo 1)"

# --- pushed reports -------------------------------------------------------------------------
report b1 85 100 && report b2 5 100 && report b3 5 100
load=$(backend_field b1 load)
check "an authentic report sets the load (b1 $load, from $(backend_field b1 load_source))" \
    "$(python3 -c "import sys; sys.exit(0 if abs($load - 0.85) < 0.01 else 1)"; echo $?)"
b1=$(redirects b1)
b2=$(redirects b2)
b3=$(redirects b3)
blast 1 2000 >/dev/null
b1=$(($(redirects b1) - b1))
b2=$(($(redirects b2) - b2))
b3=$(($(redirects b3) - b3))
check "the loaded backend gets less traffic under proportional (b1 $b1, b2 $b2, b3 $b3)" \
    "$([ $((b1 * 5)) -lt "$b2" ] && [ $((b1 * 5)) -lt "$b3" ] && echo 0 || echo 1)"
report b1 10 101 --key-hex "$(printf '%064d' 0)"
report b1 10 102 --ts-offset-ms -600000
report b1 10 103 --repeat 3
report b2 95 104 --source 198.18.1.1 # b2's key, from b1's address
stats=$(ctl stats)
counts=$(json "d['reports']" <<<"$stats")
check "forged, replayed, stale and misplaced reports are refused and counted: $counts" \
    "$(json "int(not (d['reports']['forged'] == 1 and d['reports']['replayed'] == 2 and d['reports']['stale'] == 1 and d['reports']['wrong_source'] == 1 and d['reports']['accepted'] == 4))" <<<"$stats")"

# --- least-latency: a backend slow to answer its probes gets no first pick -------------------
lab_kill_backend 3
ip netns exec "$lab_ns_backends" python3 "$root/tests/lab/slow_uas.py" 198.18.1.3:5060 40 60 &
slow_pid=$!
write_config least-latency "$work/sr.toml"
ctl reload >/dev/null
check "reload to policy least-latency" $?
# Waits (bounded: 10 s) until b3's smoothed round trip shows the 40 ms answers.
waited=0
until python3 -c "import sys; sys.exit(0 if $(backend_field b3 rtt_ms) > 20 else 1)" && [ "$(backend_field b3 state)" = up ]; do
    [ "$waited" -ge 100 ] && break
    sleep 0.1
    waited=$((waited + 1))
done
rtts="b1 $(backend_field b1 rtt_ms) ms, b2 $(backend_field b2 rtt_ms) ms, b3 $(backend_field b3 rtt_ms) ms"
b1=$(redirects b1)
b2=$(redirects b2)
b3=$(redirects b3)
out=$(blast 1 2000)
b1=$(($(redirects b1) - b1))
b2=$(($(redirects b2) - b2))
b3=$(($(redirects b3) - b3))
check "least-latency sends nothing to the slow backend ($rtts: b1 $b1, b2 $b2, b3 $b3)" \
    "$([ "$b3" -eq 0 ] && [ $((b1 + b2)) -eq "$(json "d['codes'].get('302', 0)" <<<"$out")" ] && [ $((b1 + b2)) -gt 1500 ] && echo 0 || echo 1)" "$out"
kill "$slow_pid"
wait "$slow_pid" 2>/dev/null
lab_start_backend 3 "$root/tests/lab/sipp/backend.xml" "$work"
wait_state b3 up 50
check "b3 answers promptly again (SIPp) and is up" $?

# --- sequence, and 503 when all are busy (a reload switches the policy) ----------------------
write_config sequence "$work/sr.toml"
ctl reload >/dev/null
check "reload to policy sequence" $?
report b1 95 200 && report b2 10 200 && report b3 10 200
b2=$(redirects b2)
out=$(blast 1 1000)
b2=$(($(redirects b2) - b2))
check "sequence skips b1 over its threshold and names b2 ($b2 of $(json "d['codes'].get('302', 0)" <<<"$out"))" \
    "$([ "$b2" -eq "$(json "d['codes'].get('302', 0)" <<<"$out")" ] && [ "$b2" -gt 500 ] && echo 0 || echo 1)" "$out"
report b2 95 201 && report b3 95 201
out=$(blast 1 1000)
check "all over threshold: 503 for every request ($(json "d['codes']" <<<"$out"))" \
    "$([ "$(json "d['codes'].get('503', 0)" <<<"$out")" -eq "$(json "d['sent']" <<<"$out")" ] && echo 0 || echo 1)" "$out"
report b1 10 202 && report b2 10 202 && report b3 10 202

# --- a bad reload keeps the running configuration -------------------------------------------
cp "$work/sr.toml" "$work/good.toml"
printf '\n[[pool]]\nname = "x"\npolicy = "fastest"\nbackends = ["b1"]\n' >>"$work/sr.toml"
msg=$(ctl reload)
rc=$?
check "a bad reload is refused with file:line ($(json "d['error']" <<<"$msg"))" \
    "$([ $rc -eq 1 ] && grep -q "sr.toml:[0-9]*: policy must be one of" <<<"$msg" && echo 0 || echo 1)" "$msg"
blast 1 500 >/dev/null
check "and the running configuration goes on answering" "$([ "$(backend_field b2 state)" = up ] && echo 0 || echo 1)"

# --- 20 reloads under sustained load: nothing lost ------------------------------------------
write_config proportional "$work/a.toml"
write_config proportional "$work/b.toml" b4
ip netns exec "$lab_ns_backends" ip addr add 198.18.1.4/15 dev be0
lab_start_backend 4 "$root/tests/lab/sipp/backend.xml" "$work"
rate=${SIPREDIR_RELOAD_RATE:-20000}
blast 6 "$rate" >"$work/reload_blast.json" &
blast_pid=$!
reloads_ok=0
for i in $(seq 1 20); do
    # b4 joins on even reloads and leaves on odd ones; the last one leaves it in.
    if [ $((i % 2)) -eq 0 ]; then cp "$work/b.toml" "$work/sr.toml"; else cp "$work/a.toml" "$work/sr.toml"; fi
    ctl reload >/dev/null && reloads_ok=$((reloads_ok + 1))
    sleep 0.2 # spreads the reloads over the load, it synchronises nothing
done
wait "$blast_pid"
out=$(cat "$work/reload_blast.json")
check "20 reloads applied under load ($reloads_ok of 20)" "$([ "$reloads_ok" -eq 20 ] && echo 0 || echo 1)"
check "the callers lost nothing: $(json "f\"{d['sent']} sent, {d['answered']} answered, {d['lost']} lost\"" <<<"$out")" \
    "$(json "int(not (d['lost'] == 0 and d['sent'] == d['answered'] and d['sent'] > 0))" <<<"$out")" \
    "$out
callers' kernel: $(ip netns exec "$lab_ns_callers" nstat -az UdpRcvbufErrors UdpSndbufErrors 2>&1 | tail -2 | tr '\n' ' ')"
b4=$(redirects b4)
blast 1 2000 >/dev/null
b4=$(($(redirects b4) - b4))
check "backend b4, added by the last reload, takes its share ($b4 of 2000)" "$([ "$b4" -gt 200 ] && echo 0 || echo 1)"

# --- backends changed through the API under load: nothing lost, kept in the state file -------
blast 4 "$rate" >"$work/change_blast.json" &
blast_pid=$!
# sipredirctl top on the live appliance (two screens; not a terminal: pages one after another).
"$ctl_bin" --socket "$work/sr.sock" top --interval 0.5 --count 2 >"$work/top.txt" 2>&1
top_status=$?
check "sipredirctl top shows the live appliance: backends with redirects/s, the workers' rates" \
    "$([ "$top_status" -eq 0 ] && grep -q '^b4 ' "$work/top.txt" &&
        grep -Eq 'replies/s [1-9][0-9]*' "$work/top.txt" && grep -q 'REDIRECTS/s' "$work/top.txt" &&
        echo 0 || echo 1)" "$(tail -30 "$work/top.txt")"
changes_ok=0
for change in "set b4 weight=5" "set b2 state=draining" "remove b4" \
    "add b4 address=198.18.1.4:5060 pools=default capacity=1000000 weight=2 report_key_file=$work/b4.key" \
    "set b2 state=up" "set b1 capacity=2000000"; do
    # shellcheck disable=SC2086 # the change is words
    ctl backend $change >/dev/null && changes_ok=$((changes_ok + 1))
    sleep 0.3 # spreads the changes over the load, it synchronises nothing
done
refused=$(ctl backend set b1 weight=0)
refused_status=$?
wait "$blast_pid"
out=$(cat "$work/change_blast.json")
check "6 backend changes through sipredirctl applied under load ($changes_ok of 6)" \
    "$([ "$changes_ok" -eq 6 ] && echo 0 || echo 1)"
check "a wrong change is refused with the reader's words ($(json "d['error']" <<<"$refused"))" \
    "$([ "$refused_status" -eq 1 ] && grep -q 'weight must be between 1 and 1000' <<<"$refused" && echo 0 || echo 1)"
check "the callers lost nothing while backends changed: $(json "f\"{d['sent']} sent, {d['answered']} answered, {d['lost']} lost\"" <<<"$out")" \
    "$(json "int(not (d['lost'] == 0 and d['sent'] == d['answered'] and d['sent'] > 0))" <<<"$out")" "$out"
check "the changes are in force (b1 capacity $(backend_field b1 capacity), b2 $(backend_field b2 state)) and kept in the state file" \
    "$([ "$(backend_field b1 capacity)" = 2000000 ] && [ "$(backend_field b2 state)" = up ] &&
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["set"]["b1"]["capacity"] == 2000000 and "b4" in d["removed"] and d["added"][0]["name"] == "b4" else 1)' "$work/backends.json" &&
        echo 0 || echo 1)" "$(cat "$work/backends.json")"
grep -q 'event=backend_changed change="set b1 capacity=2000000" by="uid [0-9]*, pid [0-9]*"' "$work/sipredir.log"
check "each change is logged with who made it" $? "$(grep backend_change "$work/sipredir.log" | tail -3)"

kill -INT "$lab_sipredir_pid"
wait "$lab_sipredir_pid"
check "sipredir stops cleanly on SIGINT" $?
lab_stop_backends
stats=$(cat "$work/stats.json")
check "accounting identity holds over the run" \
    "$(json "int(not d['accounting_balanced'])" <<<"$stats")"
# The filter's are the only drops (the flood's, and the lab kernels' multicast chatter); the port
# may have missed some of the flood (imissed), no more than its own shortfall.
check "no frame dropped by the port or the workers but the filter's ($(json "d['dropped_by_cause']['exception_filtered']" <<<"$stats") filtered, $(json "d['port']['imissed']" <<<"$stats") missed; the flood sent $sent)" \
    "$(json "int(not (d['port']['imissed'] <= $sent - $flood_filtered and d['port']['rx_nombuf'] == 0 and d['dropped'] == d['dropped_by_cause']['exception_filtered'] >= $flood_filtered))" <<<"$stats")" "$stats"
grep -q 'event=backend_down backend=b1' "$work/sipredir.log"
check "the log says when b1 went down, in key=value form" $?
# Under systemd each line of stdout is a journal entry: the final statistics are one.
check "the final statistics are one line of the log, the same as --stats-json" \
    "$(python3 -c 'import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("{")]
print(int(not (len(lines) == 1 and json.loads(lines[0]) == json.load(open(sys.argv[2])))))' \
        "$work/sipredir.log" "$work/stats.json")"

tap_plan
