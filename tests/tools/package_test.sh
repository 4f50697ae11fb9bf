#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The Debian package: scripts/package.sh builds it, dpkg installs it, and the installed programs
# answer: --version says the project's version, the shipped example configuration checks, the
# sipredir account exists and the units start /usr/bin/... Then the package is purged, also
# on failure, so the machine is left as it was. Root only (dpkg -i); skipped otherwise.
# Usage: package_test.sh SOURCE_ROOT VERSION [OUT]
set -uo pipefail
root=$1 version=$2 out=${3:-$root/build-deb}

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: installing a package needs root (dpkg -i)"
    exit 77
fi
if dpkg-query -W -f='${Status}' sipredir 2>/dev/null | grep -q 'install ok installed'; then
    echo "SKIP: a sipredir package is installed already; this test would purge it"
    exit 77
fi

failures=0
check() {
    local name=$1 ok=$2 detail=${3:-}
    if [ "$ok" = 1 ]; then
        echo "ok - $name"
    else
        echo "FAILED - $name${detail:+: $detail}"
        failures=$((failures + 1))
    fi
}

work=$(mktemp -d)
had_user=0
getent passwd sipredir >/dev/null && had_user=1
cleanup() {
    dpkg --purge sipredir >/dev/null 2>&1
    # The package's sysusers file created the account; a purge leaves accounts (Debian
    # policy), so the test removes the one it made.
    if [ "$had_user" = 0 ] && getent passwd sipredir >/dev/null; then
        userdel sipredir >/dev/null 2>&1
        getent group sipredir >/dev/null && groupdel sipredir >/dev/null 2>&1
    fi
    rm -rf "$work"
}
trap cleanup EXIT

start=$SECONDS
if ! built=$("$root/scripts/package.sh" "$out" 2>&1); then
    echo "$built" | tail -40
    check "scripts/package.sh builds the package" 0
    exit 1
fi
deb=$(tail -1 <<<"$built")
check "scripts/package.sh builds sipredir_${version}-1_amd64.deb ($((SECONDS - start)) s)" \
    "$([ "$(basename "$deb")" = "sipredir_${version}-1_amd64.deb" ] && [ -f "$deb" ] && echo 1)" "$deb"

if ! installed=$(DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" 2>&1); then
    echo "$installed"
    check "dpkg -i installs it" 0
    exit 1
fi
check "dpkg -i installs it" 1

for prog in sipredir sipredirctl sipredir-agent sipredir-etcd-watch; do
    got=$("/usr/bin/$prog" --version 2>&1)
    check "/usr/bin/$prog --version says $version" \
        "$([ "$got" = "$prog $version" ] && echo 1)" "$got"
    check "man page for $prog" \
        "$([ -f "/usr/share/man/man1/$prog.1.gz" ] && echo 1)"
done

# The example names its rules file relative to itself: check a copy with its rules beside it.
examples=/usr/share/doc/sipredir/examples
cp -r "$examples/example.toml" "$examples/rules" "$work/"
got=$(/usr/bin/sipredir --check-config "$work/example.toml" 2>&1)
check "the shipped example configuration checks" "$([ $? -eq 0 ] && echo 1)" "$got"
check "no configuration in /etc/sipredir: the appliance is configured first" \
    "$([ ! -e /etc/sipredir/sipredir.toml ] && echo 1)"

check "the sipredir user and group exist" \
    "$(getent passwd sipredir >/dev/null && getent group sipredir >/dev/null && echo 1)"
unit=/lib/systemd/system/sipredir.service
check "sipredir.service starts /usr/bin/sipredir" \
    "$(grep -q '^ExecStart=/usr/bin/sipredir ' "$unit" && echo 1)"
check "no unit starts anything from /usr/local" \
    "$(! grep -q /usr/local /lib/systemd/system/sipredir*.service && echo 1)"
if command -v systemctl >/dev/null; then
    state=$(systemctl is-enabled sipredir.service 2>/dev/null)
    check "sipredir.service is not enabled on install" \
        "$([ "$state" != enabled ] && echo 1)" "$state"
fi
check "bash completion for sipredirctl" \
    "$([ -f /usr/share/bash-completion/completions/sipredirctl ] && echo 1)"
check "monitoring files" "$([ -f /usr/share/sipredir/grafana/sipredir.json ] \
    && [ -f /usr/share/sipredir/prometheus/sipredir-alerts.yml ] && echo 1)"

dpkg --purge sipredir >/dev/null 2>&1
check "dpkg --purge removes it" "$([ ! -e /usr/bin/sipredir ] && echo 1)"
echo "package test: $((SECONDS - start)) s"
[ "$failures" -eq 0 ]
