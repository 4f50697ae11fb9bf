#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The race policy in network namespaces (docs/race.md): three SIPp backends answer after 5, 40
# and 80 ms (SIPp pause, -d); sip_blaster sends INVITEs from the callers' side.
#   OPTIONS races, with probing on:
#   - the fastest backend wins >= 95 % of races, every INVITE gets its 302, late answers are
#     absorbed and counted;
#   - all slower than the race timeout (a reload to 3 ms): the fallback (least-load) answers;
#   - a backend that never answers is taken down by probing, and then raced no more;
#   - a full race table gets the configured 503, counted.
#   INVITE races, probing off:
#   - the fastest wins >= 95 %; every leg, winner included, gets a CANCEL after its 180, and an
#     ACK to its 487: each backend's SIPp counts every leg a successful call, none failed.
# Usage: race_test.sh SIPREDIR SIPREDIRCTL SIP_BLASTER ROOT. TAP output; needs root.
set -uo pipefail
lab_sipredir=$1
ctl_bin=$2
blaster=$3
root=$4

LAB_PREFIX=${LAB_PREFIX:-srr}
# shellcheck source=../../scripts/lib/lab.sh
source "$root/scripts/lib/lab.sh"
lab_skip_unless_able
work=$(mktemp -d)
trap 'lab_down; rm -rf "$work"' EXIT

ctl() { "$ctl_bin" --socket "$work/sr.sock" --json "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
backend_state() {
    ctl backends | python3 -c "import json,sys; d=json.load(sys.stdin); print(next(b['state'] for b in d['backends'] if b['name']=='$1'))"
}
wait_state() { # wait_state BACKEND STATE TENTHS: bounded
    local waited=0
    until [ "$(backend_state "$1")" = "$2" ]; do
        [ "$waited" -ge "$3" ] && return 1
        sleep 0.1
        waited=$((waited + 1))
    done
}
# A race counter from the metrics: race_event NAME, race_wins BACKEND.
race_event() { ctl metrics | sed -n "s/^sipredir_race_events_total{event=\"$1\"} //p"; }
race_wins() { ctl metrics | sed -n "s/^sipredir_race_wins_total{backend=\"$1\"} //p"; }
blast() { # blast SECONDS RATE: the blaster's JSON
    ip netns exec "$lab_ns_callers" "$blaster" --target 198.18.0.1:5060 --source 198.18.0.2:0 \
        --seconds "$1" --rate "$2" --timeout-ms 2000
}
# -deadcall_wait 0: health probes reuse their Call-ID, which SIPp would otherwise take for a
# finished call's and not answer.
start_backends() { # start_backends SCENARIO: b1, b2, b3 answering after 5, 40, 80 ms
    local i delays=(5 40 80)
    for i in 1 2 3; do
        ip netns exec "$lab_ns_backends" sipp -sf "$1" -i "198.18.1.$i" -p 5060 -bg \
            -d "${delays[$((i - 1))]}" -deadcall_wait 0 -nostdin -trace_err -error_file "$work/b$i.err" \
            -trace_stat -stf "$work/b$i.csv" -fd 1 >/dev/null 2>&1 || true
    done
    lab_wait_udp "$lab_ns_backends" ':5060 ' 3
}
write_config() { # write_config FILE METHOD PROBING TABLE_SIZE
    sed -e '/^policy = "wrr"/d' "$root/config/lab.toml" >"$1"
    cat >>"$1" <<CONF
policy = "race"
race_method = "$2"
race_timeout_ms = 200
race_max_legs_per_second = 1000000 # the highest cap: the lab measures races, not the cap

[race]
table_size = $4

[management]
socket = "$work/sr.sock"
CONF
    if [ "$3" = probing ]; then
        printf '\n[probe]\ninterval_ms = 300\ntimeout_ms = 200\ndown_after = 2\n' >>"$1"
    fi
}
# A share check in Python: share NUMERATOR DENOMINATOR -> 0 when >= 95 %.
at_least_95() { python3 -c "import sys; n,d=int('${1:-0}'),int('${2:-0}'); sys.exit(0 if d>0 and n>=0.95*d else 1)"; }

lab_up

# --- OPTIONS races ------------------------------------------------------------------------
start_backends "$root/tests/lab/sipp/race_options_uas.xml"
check "SIPp backends answer after 5, 40 and 80 ms" $?
write_config "$work/options.toml" options probing 4096
lab_start_sipredir "$work/options.toml" 120 "$work/options.json" "$work/options.log"
check "sipredir starts with a race pool" $? "$(cat "$work/options.log")"
wait_state b1 up 50 && wait_state b2 up 50 && wait_state b3 up 50
check "probing finds the three backends up" $? "$(ctl backends)"

out=$(blast 4 50)
sent=$(json "d['sent']" <<<"$out")
check "every INVITE of an OPTIONS race pool gets a 302" \
    "$([ "$(json "d['codes'].get('302', 0)" <<<"$out")" = "$sent" ] && [ "$sent" -gt 0 ]; echo $?)" "$out"
won=$(race_event won)
at_least_95 "$(race_wins b1)" "$won"
check "the fastest backend wins >= 95 % of races" $? \
    "won $won: b1 $(race_wins b1), b2 $(race_wins b2), b3 $(race_wins b3)"
check "the losers' late answers are absorbed and counted" \
    "$([ "$(race_event late_answers)" -gt 0 ]; echo $?)" "late_answers $(race_event late_answers)"

sed -i 's/^race_timeout_ms = 200/race_timeout_ms = 3/' "$work/options.toml"
ctl reload >/dev/null
check "reload to a 3 ms race timeout" $?
timed_before=$(race_event timed_out)
out=$(blast 2 25)
sent=$(json "d['sent']" <<<"$out")
timed=$(($(race_event timed_out) - timed_before))
check "all slower than the timeout: the fallback still redirects every INVITE" \
    "$([ "$(json "d['codes'].get('302', 0)" <<<"$out")" = "$sent" ] && [ "$timed" -ge $((sent * 9 / 10)) ]; echo $?)" \
    "$out; races timed out: $timed"

sed -i 's/^race_timeout_ms = 3/race_timeout_ms = 200/' "$work/options.toml"
ctl reload >/dev/null
lab_kill_backend 1
wait_state b1 down 30
check "a backend that never answers is taken down by probing" $? "$(ctl backends)"
b1_before=$(race_wins b1)
b2_before=$(race_wins b2)
out=$(blast 2 25)
sent=$(json "d['sent']" <<<"$out")
check "then it is raced no more: the next fastest wins" \
    "$([ "$(race_wins b1)" = "$b1_before" ] && at_least_95 $(($(race_wins b2) - b2_before)) "$sent"; echo $?)" \
    "$out; b2 won $(($(race_wins b2) - b2_before))"

kill -INT "$lab_sipredir_pid"
wait "$lab_sipredir_pid"
check "sipredir stops cleanly" $? "$(tail -5 "$work/options.log")"
verdict=$(python3 - "$work/options.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
r = s["race"]
# Only the exception path's filter may drop (the lab kernels' multicast chatter).
ok = (s["accounting_balanced"] and s["dropped"] == s["dropped_by_cause"]["exception_filtered"]
      and s["race_handoffs"] == r["requests"]
      and r["answered"] == r["requests"] and r["answer_failed"] == 0 and r["unreadable"] == 0)
print(0 if ok else 1, json.dumps({k: s[k] for k in ("received_frames", "replies", "race_handoffs", "dropped")} | r))
PY
)
check "every handed-over request was answered, and accounting balances" "${verdict%% *}" "${verdict#* }"

# --- a full race table --------------------------------------------------------------------
start_backends "$root/tests/lab/sipp/race_options_uas.xml" # b1 again
write_config "$work/full.toml" options probing 2
lab_start_sipredir "$work/full.toml" 60 "$work/full.json" "$work/full.log"
wait_state b1 up 50
out=$(blast 1 400)
full=$(race_event table_full)
check "a full race table answers 503, each counted" \
    "$([ "$full" -gt 0 ] && [ "$(json "d['codes'].get('503', 0)" <<<"$out")" = "$full" ]; echo $?)" \
    "$out; table_full $full"
kill -INT "$lab_sipredir_pid"
wait "$lab_sipredir_pid"
lab_stop_backends

# --- INVITE races -------------------------------------------------------------------------
rm -f "$work"/b?.csv "$work"/b?.err
start_backends "$root/tests/lab/sipp/race_invite_uas.xml"
check "SIPp INVITE backends start" $?
write_config "$work/invite.toml" invite none 4096
lab_start_sipredir "$work/invite.toml" 60 "$work/invite.json" "$work/invite.log"
check "sipredir starts with an INVITE race pool" $? "$(cat "$work/invite.log")"
out=$(blast 2 25)
sent=$(json "d['sent']" <<<"$out")
check "every INVITE of an INVITE race pool gets a 302" \
    "$([ "$(json "d['codes'].get('302', 0)" <<<"$out")" = "$sent" ] && [ "$sent" -gt 0 ]; echo $?)" "$out"
won=$(race_event won)
at_least_95 "$(race_wins b1)" "$won"
check "the fastest backend wins >= 95 % of INVITE races" $? \
    "won $won: b1 $(race_wins b1), b2 $(race_wins b2), b3 $(race_wins b3)"
legs=$(race_event legs)
# Each leg ends with our ACK to its 487: wait (bounded) for the last ones, then compare.
waited=0
until [ "$(race_event acks)" -ge "$legs" ] || [ "$waited" -ge 50 ]; do
    sleep 0.1
    waited=$((waited + 1))
done
check "every leg got a CANCEL and its 487 an ACK" \
    "$([ "$(race_event cancels)" = "$legs" ] && [ "$(race_event acks)" = "$legs" ]; echo $?)" \
    "legs $legs, cancels $(race_event cancels), acks $(race_event acks)"
# SIPp writes its statistics once a second: wait (bounded) until the three count every leg.
sipp_calls() { # sipp_calls COLUMN: summed over the backends' last statistics lines
    local f total=0 n
    for f in "$work"/b?.csv; do
        n=$(python3 -c "import csv,sys; rows=list(csv.DictReader(open(sys.argv[1]), delimiter=';')); print(rows[-1].get(sys.argv[2], 0) if rows else 0)" "$f" "$1" 2>/dev/null)
        total=$((total + ${n:-0}))
    done
    echo "$total"
}
waited=0
until [ "$(sipp_calls SuccessfulCall\(C\))" -ge "$legs" ] || [ "$waited" -ge 40 ]; do
    sleep 0.1
    waited=$((waited + 1))
done
check "each backend's SIPp closed every leg cleanly (successful calls = legs, none failed)" \
    "$([ "$(sipp_calls SuccessfulCall\(C\))" = "$legs" ] && [ "$(sipp_calls FailedCall\(C\))" = 0 ]; echo $?)" \
    "legs $legs, successful $(sipp_calls SuccessfulCall\(C\)), failed $(sipp_calls FailedCall\(C\)); $(head -c 1500 "$work"/b?.err 2>/dev/null)"
kill -INT "$lab_sipredir_pid"
wait "$lab_sipredir_pid"
check "sipredir stops cleanly" $? "$(tail -5 "$work/invite.log")"
abandoned=$(json "d['race']['legs_abandoned']" <"$work/invite.json")
check "no INVITE leg was left open" "$([ "$abandoned" = 0 ]; echo $?)" "$(json "d['race']" <"$work/invite.json")"
lab_stop_backends

tap_plan
