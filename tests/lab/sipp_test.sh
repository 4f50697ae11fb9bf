#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Integration test in network namespaces: SIPp callers place N calls through sipredir on
# net_af_packet; every INVITE gets its 302, every ACK is absorbed, the three backends get an
# even split (wrr), the calls then complete at the backends, and nothing is dropped.
# Usage: sipp_test.sh SIPREDIR ROOT. TAP output; needs root (skips otherwise).
set -uo pipefail
lab_sipredir=$1
root=$2
calls=${SIPREDIR_LAB_CALLS:-300}

LAB_PREFIX=srt
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

(cd "$work" && timeout 120 ip netns exec "$lab_ns_callers" sipp 198.18.0.1:5060 \
    -sf "$root/tests/lab/sipp/caller.xml" -i 198.18.0.2 -p 5070 -t u1 -nostdin \
    -m "$calls" -r 200 -l 100 -timeout 100s -trace_err -error_file "$work/caller.err" \
    >"$work/caller.out" 2>&1)
check "SIPp completes $calls calls through the redirect, no errors" $? \
    "$(tail -20 "$work/caller.out"; head -c 2000 "$work/caller.err" 2>/dev/null)"

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
    (s["dropped"] == 0, "nothing dropped", {k: v for k, v in s["dropped_by_cause"].items() if v}),
    (s["accounting_balanced"], "rx = replied + absorbed + to_exception + dropped",
     {k: s[k] for k in ("rx", "replied", "absorbed", "to_exception", "dropped")}),
]
for ok, name, detail in checks:
    print(f"{0 if ok else 1}\t{name}\t{json.dumps(detail)}")
PY
)
while IFS=$'\t' read -r status name detail; do
    check "$name" "$status" "$detail"
done <<<"$verdicts"

tap_plan
