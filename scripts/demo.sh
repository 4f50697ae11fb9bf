#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The demo: installs what it needs, builds, then runs sipredir on net_af_packet in a lab of
# network namespaces (SIPp callers and three SIPp backends, addressed from 198.18.0.0/15),
# places calls to a number that follow the 302's Contact to their backend (which checks the
# number is still there) while sipredir probes the backends with OPTIONS (one dies a third of
# the way in and comes back at two thirds), prints what happened (one 302's Contact too),
# and removes everything it created. Bounded: at most DEMO_CALLS calls (default 3000) at DEMO_RATE calls/s
# (default 300), and 120 s. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
calls=${DEMO_CALLS:-3000}
rate=${DEMO_RATE:-300}

if [ "$(id -u)" -ne 0 ]; then
    echo "demo: run as root (network namespaces, DPDK af_packet)" >&2
    exit 1
fi

echo "== installing dependencies"
scripts/deps.sh
echo "== building"
if [ -f build/build.ninja ]; then
    meson setup --reconfigure build >/dev/null
else
    meson setup build >/dev/null
fi
ninja -C build dpdk-apps/sipredir src/sipredirctl >/dev/null

lab_sipredir=$root/build/dpdk-apps/sipredir
LAB_PREFIX=${LAB_PREFIX:-srdemo}
# The number the callers dial; the backends answer only an INVITE for it (tests/lab/sipp).
dialled=+15551234567
# shellcheck source=lib/lab.sh
source scripts/lib/lab.sh
work=$(mktemp -d)
trap 'lab_down; rm -rf "$work"' EXIT

echo "== lab: callers 198.18.0.2, appliance 198.18.0.1 (DPDK net_af_packet), backends 198.18.1.1-3"
# The lab configuration plus probing every 250 ms and a control socket for sipredirctl.
cat "$root/config/lab.toml" - >"$work/demo.toml" <<CONF

[probe]
interval_ms = 250
timeout_ms = 200

[management]
socket = "$work/sipredir.sock"
CONF
ctl() { "$root/build/src/sipredirctl" --socket "$work/sipredir.sock" --json "$@"; }
field_of() { # field_of BACKEND FIELD: from sipredirctl backends
    ctl backends | python3 -c "import json,sys; print(next(b['$2'] for b in json.load(sys.stdin)['backends'] if b['name']=='$1'))"
}
state_of() { field_of "$1" state; }
# Seconds from time $2 (date +%s.%N) to when probing changed backend $1's verdict, by the
# appliance's own clock (the polling here is slower than the probes).
changed_after() {
    python3 -c "print(f'{$(date +%s.%N) - $(field_of "$1" probe_changed_ms_ago) / 1000 - $2:.2f}')"
}
wait_state() { # wait_state BACKEND STATE: bounded, 10 s
    local i
    for i in $(seq 1 100); do
        [ "$(state_of "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

lab_up
lab_start_sipredir "$work/demo.toml" 150 "$work/stats.json" "$work/sipredir.log"
grep '^sipredir: port' "$work/sipredir.log"
echo "watch it live from another terminal: $root/build/src/sipredirctl --socket $work/sipredir.sock top"
lab_start_backends "$root/tests/lab/sipp/backend.xml" "$work"
ip netns exec "$lab_ns_callers" ping -c 1 -W 5 198.18.0.1 >/dev/null &&
    echo "ping 198.18.0.1: answered by the kernel through sipredir's exception path"

for b in b1 b2 b3; do
    wait_state "$b" up || echo "warning: $b is $(state_of "$b") after 10 s"
done
echo "probing: b1, b2 and b3 answer OPTIONS (rtt: $(ctl backends | python3 -c "import json,sys; print(', '.join(f\"{b['name']} {b['rtt_ms']:.2f} ms\" for b in json.load(sys.stdin)['backends']))"))"

echo "== calling $dialled: $calls calls at $rate/s (INVITE -> 302 -> ACK, then INVITE/200/ACK/BYE to the 302's Contact)"
started=$(date +%s.%N)
set +e
(cd "$work" && timeout 120 ip netns exec "$lab_ns_callers" sipp 198.18.0.1:5060 \
    -sf "$root/tests/lab/sipp/caller.xml" -i 198.18.0.2 -p 5070 -t u1 -nostdin -s "$dialled" \
    -m "$calls" -r "$rate" -l 500 -timeout 110s -trace_rtt -rtt_freq 1 \
    -trace_err -error_file "$work/caller.err" -trace_logs -log_file "$work/caller.log" \
    >"$work/caller.out" 2>&1) &
sipp_pid=$!
# A third of the way in, backend b2 dies (kill -9); at two thirds it comes back.
third=$(python3 -c "print($calls / $rate / 3)")
sleep "$third"
lab_kill_backend 2
killed=$(date +%s.%N)
echo "$(date +%T) b2 killed"
wait_state b2 down && echo "$(date +%T) sipredir: b2 down $(changed_after b2 "$killed") s after it died (probe every 250 ms, 200 ms timeout, down after 2 failures)"
# What an operator sees meanwhile (sipredirctl top, live from another terminal): its second
# screen, with the rates of its last second.
echo "$(date +%T) sipredirctl top, live:"
"$root/build/src/sipredirctl" --socket "$work/sipredir.sock" top --interval 1 --count 2 |
    awk '/^\f/ { page++ } page == 2 && !/^\f/ { print "    " $0 }'
sleep "$third"
lab_start_backend 2 "$root/tests/lab/sipp/backend.xml" "$work"
revived=$(date +%s.%N)
echo "$(date +%T) b2 restarted"
wait_state b2 up && echo "$(date +%T) sipredir: b2 up again $(changed_after b2 "$revived") s after its restart (up after 2 answers)"
ctl stats >"$work/ctl_stats.json" || true
wait "$sipp_pid"
sipp_rc=$?
set -e
finished=$(date +%s.%N)
kill -INT "$lab_sipredir_pid"
wait "$lab_sipredir_pid" || true
lab_stop_backends

python3 - "$work" "$calls" "$sipp_rc" "$started" "$finished" "$dialled" <<'PY'
import glob, json, re, sys
work, calls, sipp_rc, t0, t1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
dialled = sys.argv[6]
s = json.load(open(f"{work}/stats.json"))
out = open(f"{work}/caller.out", errors="replace").read()
def sipp_total(label):
    m = re.search(label + r"\s*\|\s*\d+\s*\|\s*(\d+)", out)
    return int(m.group(1)) if m else None
ok, failed = sipp_total("Successful call"), sipp_total("Failed call")
rtts = []
for path in glob.glob(f"{work}/*_rtt.csv"):
    for line in open(path):
        parts = line.strip().split(";")
        if len(parts) >= 2 and parts[1].replace(".", "", 1).isdigit():
            rtts.append(float(parts[1]))
rtts.sort()
pct = lambda p: rtts[min(len(rtts) - 1, int(p * len(rtts)))] if rtts else float("nan")
seconds = t1 - t0
print()
print("== what sipredir did")
print(f"  frames received           {s['received_frames']:>8}")
print(f"  302 redirects             {s['replies_by_code']['302']:>8}")
print(f"  ACKs absorbed             {s['absorbed']:>8}")
print(f"  other replies             {s['replies'] - s['replies_by_code']['302']:>8}")
print(f"  to the kernel (ARP...)    {s['exception_frames']:>8}")
print(f"  dropped                   {s['dropped']:>8}", ", ".join(f"{k}={v}" for k, v in s['dropped_by_cause'].items() if v))
print(f"  accounting balanced       {'yes' if s['accounting_balanced'] else 'NO'}")
print("  redirects per backend:")
total = sum(s["redirects_by_backend"].values()) or 1
for name, n in s["redirects_by_backend"].items():
    print(f"    {name:<8} {n:>8}  {100.0 * n / total:5.1f} %")
lat = s["latency_ns"]
print(f"  RX-to-TX latency in sipredir (upper bucket edge): p50 <= {lat['p50']/1000:.1f} us, p99 <= {lat['p99']/1000:.1f} us")
try:
    c = json.load(open(f"{work}/ctl_stats.json"))
    print(f"  OPTIONS probes sent {c['probes']['sent']}, answered {c['probes']['replied']}")
except (OSError, ValueError, KeyError):
    pass
print("  backend state changes (sipredir's log):")
for line in open(f"{work}/sipredir.log", errors="replace"):
    m = re.search(r"event=(backend_\w+) backend=(\S+)", line)
    if m:
        print(f"    {m.group(2)} {m.group(1).replace('backend_', '')}")
print()
print("== what the callers saw (SIPp)")
contacts = [line.strip()[len("302 Contact: "):] for line in open(f"{work}/caller.log", errors="replace")
            if line.startswith("302 Contact: ")] if glob.glob(f"{work}/caller.log") else []
print(f"  number dialled            {dialled:>12}")
print(f"  the first call's 302      Contact: {contacts[0] if contacts else '(none logged)'}")
kept = sum(1 for c in contacts if c.startswith(f"<sip:{dialled}@"))
print(f"  302 Contacts keeping it   {kept:>8} of {len(contacts)}")
# The backends answer 404 to an INVITE whose Request-URI is not for the number (and log it).
wrong = sum(open(p, errors="replace").read().count("Failed regexp match")
            for p in glob.glob(f"{work}/backend*.err"))
print(f"  INVITEs not for it (404)  {wrong:>8}  (the backends check each one)")
print(f"  calls completed           {ok if ok is not None else '?':>8} of {calls}")
print(f"  calls failed              {failed if failed is not None else '?':>8}")
print(f"  call rate                 {(ok or 0) / seconds:8.1f} calls/s over {seconds:.1f} s")
if rtts:
    print(f"  INVITE -> 302 round trip  p50 {pct(0.50):.0f} ms, p90 {pct(0.90):.0f} ms, p99 {pct(0.99):.0f} ms ({len(rtts)} samples; SIPp counts whole ms)")
errors = open(f"{work}/caller.err", errors="replace").read().strip() if glob.glob(f"{work}/caller.err") else ""
print(f"  errors                    {'none' if not errors and sipp_rc == 0 else errors[:300] or f'sipp exit {sipp_rc}'}")
print("  (a call redirected to b2 just before it died can fail there, as with any redirect")
print("   server: the 302 had already named it)")
print()
print("The lab's namespaces are removed on exit; the numbers above are from this run only")
print("(a shared 2-core VM with SIPp on the same cores: see perf/RESULTS.md for throughput).")
# Calls redirected to b2 in the moment it died fail at b2; the demo fails on anything else.
sys.exit(0 if s["accounting_balanced"] and (ok or 0) >= 0.9 * calls and wrong == 0
         and contacts and kept == len(contacts) else 1)
PY
