# SPDX-License-Identifier: BSD-3-Clause
# What the fleet labs (tests/lab/fleet_test.sh over the mesh and etcd, tests/lab/nats_test.sh
# over NATS) share: three appliances sr-1..3 on the lab bridge, asked through sipredirctl, and
# SIPp callers spread over them. Source after scripts/lib/lab.sh, with $work (the run's
# directory, where the appliances' sockets are) and $ctl_bin set.

# Debian's interpreter: a pyenv shim on PATH costs a second a call on a loaded 2-core machine.
py=/usr/bin/python3
[ -x "$py" ] || py=python3

ctl() { "$ctl_bin" --socket "$work/sr-$1.sock" --json "${@:2}"; }
json() { "$py" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
app_ns() { [ "$1" = 1 ] && echo "$lab_ns_app" || echo "$lab_prefix-app$1"; }
app_dev() { [ "$1" = 1 ] && echo app0 || echo "app$1"; }

# The redirects to BACKEND summed over the appliances given.
fleet_redirects() {
    local b=$1 i total=0 n
    for i in "${@:2}"; do
        n=$(ctl "$i" backends | json "next(x['redirects'] for x in d['backends'] if x['name']=='$b')")
        total=$((total + n))
    done
    echo "$total"
}

# SIPp callers, one per appliance given, CALLS each at RATE/s; status 0 when every call
# completed (INVITE, 302, ACK, then the call to the backend). call CALLS RATE APPLIANCE...
call() {
    local calls=$1 rate=$2 i status=0 callers=()
    for i in "${@:3}"; do
        (cd "$work" && timeout 60 ip netns exec "$lab_ns_callers" sipp "198.18.0.1$i:5060" \
            -sf "$root/tests/lab/sipp/caller.xml" -i 198.18.0.2 -p "507$i" -t u1 -nostdin \
            -m "$calls" -r "$rate" -l 50 -timeout 50s -trace_err -error_file "$work/caller$i.err" \
            >"$work/caller$i.out" 2>&1) &
        callers+=($!)
    done
    for i in "${callers[@]}"; do
        wait "$i" || status=1
    done
    return "$status"
}

until_true() { # until_true SECONDS COMMAND...: polls COMMAND until it succeeds, at most SECONDS
    local deadline=$((SECONDS + $1))
    until "${@:2}"; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

peers_of() { ctl "$1" fleet | json "sorted(p['name'] for p in d['peers'])"; }

# Appliance I's view of probing: "b1=self/up b2=shared/up ...", who probes each backend (this
# appliance, or others whose results it takes) and its verdict.
probing_of() {
    { ctl "$1" fleet; ctl "$1" backends; } | "$py" -c '
import json, sys
text = sys.stdin.read()
fleet, at = json.JSONDecoder().raw_decode(text)
backends = json.JSONDecoder().raw_decode(text[at:].lstrip())[0]
roles = {x["backend"]: x["role"] for x in fleet.get("probing", [])}
print(" ".join("%s=%s/%s" % (b["name"], roles.get(b["name"], "-"), b["probe"])
               for b in backends["backends"]))'
}
# Per backend over the appliances given: how many probe it themselves, and each one's verdict:
# "b1:2:up,up,up b2:...".
fleet_probing() {
    local i
    for i in "$@"; do probing_of "$i"; done | "$py" -c '
import sys
count, states = {}, {}
for line in sys.stdin:
    for item in line.split():
        name, rest = item.split("=")
        role, state = rest.split("/")
        count[name] = count.get(name, 0) + (role == "self")
        states.setdefault(name, []).append(state)
print(" ".join("%s:%d:%s" % (n, count[n], ",".join(states[n])) for n in sorted(count)))'
}

# Appliances 2 and 3 on the lab bridge beside sr-1 (lab_up's), each in its own namespace.
fleet_attach_appliances() {
    local i
    for i in 2 3; do
        lab_attach "$(app_ns "$i")" "$(app_dev "$i")"
        lab_appliance_sysctls "$(app_ns "$i")" "$(app_dev "$i")"
    done
}
