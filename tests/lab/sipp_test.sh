#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Integration test in network namespaces: SIPp callers dial a number N times through sipredir
# on net_af_packet; every INVITE gets its 302, whose Contact keeps the number, every ACK is
# absorbed, the three backends get an even split (wrr), the calls then complete at the backends
# (which refuse an INVITE not for the number dialled), and nothing is dropped.
# Usage: sipp_test.sh SIPREDIR ROOT. TAP output; needs root (skips otherwise).
set -uo pipefail
lab_sipredir=$1
root=$2
calls=${SIPREDIR_LAB_CALLS:-300}
dialled=+15551234567

LAB_PREFIX=${LAB_PREFIX:-srt}
# shellcheck source=../../scripts/lib/lab.sh
source "$root/scripts/lib/lab.sh"
lab_skip_unless_able
work=$(mktemp -d)
trap 'lab_down; rm -rf "$work"' EXIT

lab_up
lab_start_sipredir "$root/config/lab.toml" 120 "$work/stats.json" "$work/sipredir.log"
check "sipredir starts on net_af_packet" $? "$(cat "$work/sipredir.log")"
lab_start_backends "$root/tests/lab/sipp/backend.xml" "$work"

ip netns exec "$lab_ns_callers" ping -c 1 -W 5 198.18.0.1 >/dev/null
check "the appliance answers ping through the exception path" $?

# The backends' check has teeth: an INVITE without a user (SIPp's own uac, no service) is
# refused with 404 and the call fails.
(cd "$work" && timeout 20 ip netns exec "$lab_ns_callers" sipp 198.18.1.1:5060 -sn uac -s '' \
    -i 198.18.0.2 -p 5071 -m 1 -nostdin -timeout 10s -trace_err -error_file "$work/nouser.err" \
    >"$work/nouser.out" 2>&1)
nouser=$?
check "a backend refuses an INVITE without the dialled user (404, the call fails)" \
    "$([ "$nouser" -ne 0 ] && grep -qs 'SIP/2.0 404 Not Found' "$work/nouser.err" && echo 0 || echo 1)" \
    "exit $nouser; $(tail -5 "$work/nouser.out"; head -c 1000 "$work/nouser.err" 2>/dev/null)"

(cd "$work" && timeout 120 ip netns exec "$lab_ns_callers" sipp 198.18.0.1:5060 \
    -sf "$root/tests/lab/sipp/caller.xml" -i 198.18.0.2 -p 5070 -t u1 -nostdin -s "$dialled" \
    -m "$calls" -r 200 -l 100 -timeout 100s -trace_err -error_file "$work/caller.err" \
    -trace_logs -log_file "$work/caller.log" >"$work/caller.out" 2>&1)
check "SIPp completes $calls calls to $dialled through the redirect, each INVITE at a backend for $dialled" $? \
    "$(tail -20 "$work/caller.out"; head -c 2000 "$work/caller.err" 2>/dev/null)"
contacts=$(grep -c "^302 Contact: <sip:$dialled@198\.18\.1\.[1-3]:5060;transport=udp>\$" \
    "$work/caller.log")
check "every 302's Contact is <sip:$dialled@backend:5060;transport=udp>" \
    "$([ "$contacts" -eq "$calls" ] && echo 0 || echo 1)" \
    "$contacts of $calls; $(grep -v "^302 Contact: <sip:$dialled@" "$work/caller.log" | head -5)"

kill -INT "$lab_sipredir_pid"
wait "$lab_sipredir_pid"
check "sipredir stops cleanly on SIGINT" $? "$(tail -5 "$work/sipredir.log")"
lab_stop_backends

verdicts=$(python3 - "$work/stats.json" "$calls" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
checks = [
    (s["replies_by_code"]["302"] == n, f"{n} INVITEs, {n} 302s", s["replies_by_code"]),
    (s["absorbed"] == n, f"{n} ACKs absorbed", s["absorbed"]),
    (sorted(s["redirects_by_backend"].values()) == [n // 3] * 3 if n % 3 == 0 else False,
     "an even split across the three backends", s["redirects_by_backend"]),
    # The exception path's filter may refuse the lab kernels' multicast chatter; nothing else.
    (s["dropped"] == s["dropped_by_cause"]["exception_filtered"],
     "nothing dropped but what the exception filter refused",
     {k: v for k, v in s["dropped_by_cause"].items() if v}),
    (s["accounting_balanced"], "rx = replied + absorbed + to_exception + dropped",
     {k: s[k] for k in ("received_frames", "replies", "absorbed", "exception_frames", "dropped")}),
]
for ok, name, detail in checks:
    print(f"{0 if ok else 1}\t{name}\t{json.dumps(detail)}")
PY
)
while IFS=$'\t' read -r status name detail; do
    check "$name" "$status" "$detail"
done <<<"$verdicts"

tap_plan
