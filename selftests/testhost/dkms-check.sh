#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dkms-check.sh - proves dkms.conf: dkms add + build of hvx against the installed Debian headers.
# Usage: dkms-check.sh KVER     (needs root; removes what it added)
set -euo pipefail
kver=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
src=/usr/src/hvx-$ver

cleanup() {
	dkms remove "hvx/$ver" --all >/dev/null 2>&1 || :
	rm -rf "$src"
}
cleanup
trap cleanup EXIT
mkdir -p "$src"
cp -r "$top/dkms.conf" "$top/Kbuild" "$top/kmod-hv" "$top/uapi" "$src/"
find "$src" \( -name '*.o' -o -name '.*.cmd' -o -name '*.ko' \) -delete
dkms add "hvx/$ver"
dkms build "hvx/$ver" -k "$kver"
ko=$(find "/var/lib/dkms/hvx/$ver/$kver" -name 'hvx.ko*' | head -n 1)
[ -n "$ko" ] && modinfo "$ko" | grep -q "^vermagic: *$kver "
echo "dkms: hvx/$ver built for $kver: $ko"
