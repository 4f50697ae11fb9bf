#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The shipped monitoring against a real appliance: a Prometheus (Debian's binary, its own
# temporary storage, 1 s scrape and rule evaluation, on loopback in the appliance's namespace)
# scrapes sipredir with config/prometheus/sipredir-alerts.yml, its for: durations cut to 2 s
# in the test's copy.
#   - the target is up, every rule evaluates, and no alert fires while all is well;
#   - every series the Grafana dashboard reads is in the appliance's /metrics text, and each of
#     its queries runs on Prometheus;
#   - under traffic, a killed backend fires SipredirBackendDown for that backend alone (bounded
#     wait, polling Prometheus' /api/v1/alerts).
# With MONITORING_PLOT_DIR set, draws two of the dashboard's panels from the run's data there
# (tests/lab/monitoring_plot.py; docs/img/monitoring_*.png are such drawings).
# MONITORING_KEEP=1 keeps the work directory (configurations, logs, Prometheus' data).
# Usage: monitoring_test.sh SIPREDIR SIP_BLASTER ROOT. TAP output; needs root.
set -uo pipefail
lab_sipredir=$1
blaster=$2
root=$3

LAB_PREFIX=${LAB_PREFIX:-mon}
# shellcheck source=../../scripts/lib/lab.sh
source "$root/scripts/lib/lab.sh"
lab_skip_unless_able
if ! command -v prometheus >/dev/null; then
    echo "1..0 # SKIP no prometheus (Debian package prometheus, scripts/deps.sh)"
    exit 0
fi
work=$(mktemp -d)
prom_pid=
blast_pid=
cleanup() {
    [ -z "$blast_pid" ] || kill "$blast_pid" 2>/dev/null
    [ -z "$prom_pid" ] || { kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null; }
    lab_down
    [ -n "${MONITORING_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# Prometheus' HTTP API in the appliance's namespace: prom PATH [PARAM=VALUE...] prints the JSON.
prom() {
    ip netns exec "$lab_ns_app" python3 - "$@" <<'PY'
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:9090" + sys.argv[1]
if len(sys.argv) > 2:
    url += "?" + urllib.parse.urlencode([tuple(a.split("=", 1)) for a in sys.argv[2:]])
try:
    print(urllib.request.urlopen(url, timeout=5).read().decode())
except Exception as e:
    print(json.dumps({"status": "unreachable", "error": str(e)}))
PY
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# The value of a PromQL query with one result, or "none".
query() {
    prom /api/v1/query "query=$1" |
        json "d['data']['result'][0]['value'][1] if d.get('status') == 'success' and d['data']['result'] else 'none'"
}
# Waits (bounded: $2 tenths of a second) until the shell condition $1 holds.
wait_for() {
    local waited=0
    until eval "$1"; do
        [ "$waited" -ge "$2" ] && return 1
        sleep 0.1
        waited=$((waited + 1))
    done
}
# The alerts Prometheus has in state $1 (firing, pending), as "NAME backend" lines, sorted.
alerts_in() {
    prom /api/v1/alerts | json "'\n'.join(sorted(a['labels']['alertname'] + ' ' + a['labels'].get('backend', '') for a in d.get('data', {}).get('alerts', []) if a['state'] == '$1'))"
}

for key in fleet b1 b2 b3; do
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/$key.key" &&
        echo >>"$work/$key.key")
done
# Probes every 200 ms; reports (a key per backend) and a fleet of one, so their series are
# exported too.
sed "s|^address = \"198.18.1.\\(.\\):5060\"|&\\nreport_key_file = \"$work/b\\1.key\"|" \
    "$root/config/lab.toml" >"$work/sr.toml"
cat >>"$work/sr.toml" <<CONF

[probe]
interval_ms = 200
timeout_ms = 100

[reports]
port = 5065

[fleet]
name = "sr-1"
key_file = "$work/fleet.key"

[management]
socket = "$work/sr.sock"
metrics = "127.0.0.1:9100"
CONF

# The shipped rules, with every for: of minutes cut to 2 s so the lab needs no minutes.
sed -E 's/^( +for: )[0-9]+m$/\12s/' "$root/config/prometheus/sipredir-alerts.yml" >"$work/alerts.yml"
cat >"$work/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["$work/alerts.yml"]
scrape_configs:
  - job_name: sipredir
    static_configs:
      - targets: ["127.0.0.1:9100"]
CONF

lab_up
lab_start_sipredir "$work/sr.toml" 300 "$work/stats.json" "$work/sipredir.log"
started=$?
check "sipredir starts with probes, reports, a fleet and metrics" $started "$(cat "$work/sipredir.log")"
[ "$started" -eq 0 ] || { tap_plan; exit 1; }
lab_start_backends "$root/tests/lab/sipp/backend.xml" "$work"

ip netns exec "$lab_ns_app" prometheus --config.file="$work/prometheus.yml" \
    --storage.tsdb.path="$work/tsdb" --web.listen-address=127.0.0.1:9090 \
    >"$work/prometheus.log" 2>&1 &
prom_pid=$!
wait_for '[ "$(query "up{job=\"sipredir\"}")" = 1 ]' 200
check "Prometheus scrapes sipredir" $? "$(tail -20 "$work/prometheus.log")"
wait_for '[ "$(query "sum(sipredir_backend_up)")" = 3 ]' 100
check "it sees the three backends up" $? "$(query 'sum(sipredir_backend_up)')"

# Traffic from the callers, for the rates.
blast() { # blast SECONDS: INVITEs at 1000/s from the callers; prints the blaster's JSON
    ip netns exec "$lab_ns_callers" "$blaster" --target 198.18.0.1:5060 --source 198.18.0.2:0 \
        --seconds "$1" --rate 1000 --timeout-ms 2000
}
blast 3 >"$work/blast1.json"
wait_for '[ "$(query "sum(increase(sipredir_redirects_total[10s])) > 1000")" != none ]' 100
check "it counts the redirects" $? "$(query 'sum(increase(sipredir_redirects_total[10s]))')"

# Every rule evaluated, without error, after the first scrapes.
rules_health() {
    prom /api/v1/rules | json "' '.join(sorted({r['health'] for g in d['data']['groups'] for r in g['rules']})) if d.get('status') == 'success' else 'none'"
}
wait_for '[ "$(rules_health)" = ok ]' 50
check "every alert rule evaluates without error ($(rules_health))" $? "$(prom /api/v1/rules)"
firing=$(alerts_in firing; alerts_in pending)
check "no alert while all is well" "$([ -z "$firing" ] && echo 0 || echo 1)" "$firing"

# The dashboard against this appliance: every series it reads is in the text /metrics answers
# (a family with no sample, as the fleet's peers' when none is heard, counts by its TYPE line),
# and each of its queries runs on Prometheus.
ip netns exec "$lab_ns_app" python3 -c '
import re, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:9100/metrics", timeout=5).read().decode()
names = set(re.findall(r"^([a-z_][a-z0-9_]*)[{ ]", text, re.M))
for family, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
    names |= {family + s for s in ("_bucket", "_sum", "_count")} if kind == "histogram" else {family}
print("\n".join(sorted(names)))' >"$work/scraped.txt"
out=$(python3 "$root/tests/tools/dashboard_test.py" "$root" "$work/scraped.txt")
check "every series the dashboard reads is in a real scrape" $? "$(grep -v '^ok' <<<"$out")"
failed_queries=$(ip netns exec "$lab_ns_app" python3 - "$root/config/grafana/sipredir.json" <<'PY'
import json, sys, urllib.parse, urllib.request
d = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
exprs += [a["expr"] for a in d["annotations"]["list"] if "expr" in a]
for e in exprs:
    # Grafana's variables, as a dashboard with every appliance chosen sends them.
    q = e.replace("$instance", ".*").replace("$__rate_interval", "5s").replace("$__interval", "5s")
    url = "http://127.0.0.1:9090/api/v1/query?" + urllib.parse.urlencode({"query": q})
    try:
        ok = json.load(urllib.request.urlopen(url, timeout=5)).get("status") == "success"
    except Exception:
        ok = False
    if not ok:
        print(q)
PY
)
check "each of the dashboard's $(grep -c '"expr"' "$root/config/grafana/sipredir.json") queries runs on Prometheus" \
    "$([ -z "$failed_queries" ] && echo 0 || echo 1)" "$failed_queries"

# --- a backend dies: SipredirBackendDown fires for it, and for it alone -----------------------
# Under traffic, so the drawings show the redirects move to the others.
plot_start=$(date +%s)
blast 12 >"$work/blast.json" &
blast_pid=$!
wait_for '[ "$(query "sum(rate(sipredir_redirects_total[2s])) > 500")" != none ]' 100
check "it sees the redirects/s" $? "$(query 'sum(rate(sipredir_redirects_total[2s]))')"
lab_kill_backend 1
wait_for '[ -n "$(alerts_in firing)" ]' 300
firing=$(alerts_in firing)
check "a killed backend fires SipredirBackendDown for it alone: $(tr '\n' ';' <<<"$firing")" \
    "$([ "$firing" = "SipredirBackendDown b1" ] && echo 0 || echo 1)" \
    "$(prom /api/v1/alerts)"

wait "$blast_pid"
blast_pid=
check "the callers' traffic was answered: $(json "d['codes']" <"$work/blast.json")" \
    "$(json "int(not (d['sent'] > 0 and d['answered'] == d['sent']))" <"$work/blast.json")"

if [ -n "${MONITORING_PLOT_DIR:-}" ]; then
    end=$(date +%s)
    for q in 'sipredir_backend_up' 'sum by (backend) (rate(sipredir_redirects_total[2s]))' \
        'sum by (code) (rate(sipredir_replies_total[2s]))' \
        'histogram_quantile(0.5, sum by (le) (rate(sipredir_reply_latency_seconds_bucket[2s])))' \
        'histogram_quantile(0.99, sum by (le) (rate(sipredir_reply_latency_seconds_bucket[2s])))'; do
        prom /api/v1/query_range "query=$q" "start=$((plot_start - 3))" "end=$end" step=1
    done >"$work/ranges.jsonl"
    /usr/bin/python3 "$root/tests/lab/monitoring_plot.py" "$work/ranges.jsonl" "$MONITORING_PLOT_DIR"
    check "panels drawn in $MONITORING_PLOT_DIR" $?
fi

kill "$prom_pid"
wait "$prom_pid"
check "Prometheus stops cleanly" $?
prom_pid=
kill -INT "$lab_sipredir_pid"
wait "$lab_sipredir_pid"
check "sipredir stops cleanly" $?
lab_stop_backends
tap_plan
