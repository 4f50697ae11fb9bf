#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Builds the Debian package sipredir_VERSION_amd64.deb (debian/) out of tree: the checkout's
# files (committed or not, as git lists them) are copied to OUT/src/sipredir and built there, so
# the checkout stays clean. The .deb lands in OUT (default build-deb/); its path is the last line.
#   scripts/package.sh [OUT]
# Installs what the build needs (scripts/deps.sh, then debhelper, dpkg-dev, help2man). Uses
# ccache when it is installed; OUT stays the same between runs so its cache hits.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$(realpath -m "${1:-$root/build-deb}")

scripts/deps.sh
missing=()
for p in debhelper dpkg-dev help2man; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    echo "package: installing ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
fi

version=$(meson introspect --projectinfo meson.build \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
src="$out/src/sipredir"
rm -rf "$src" "$out"/sipredir_*
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard \
    | tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$src"

if command -v ccache >/dev/null; then
    export CC="ccache gcc" CXX="ccache g++"
fi
# No test run (the project's suite is scripts/test.sh) and no debug-symbol package.
export DEB_BUILD_OPTIONS="nocheck noddebs parallel=${JOBS:-2}"
(cd "$src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1 || {
    tail -40 "$out/build.log"
    echo "package: dpkg-buildpackage failed (log: $out/build.log)" >&2
    exit 1
}
# dpkg-buildpackage writes next to the source directory.
mv "$out"/src/sipredir_* "$out"/
deb="$out/sipredir_${version}-1_amd64.deb"
[ -f "$deb" ] || { echo "package: no $deb" >&2; exit 1; }
echo "package: built in $out"
echo "$deb"
