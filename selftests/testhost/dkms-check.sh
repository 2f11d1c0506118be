#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dkms-check.sh - proves both dkms.conf files: dkms add + build of hvx and of the guest drivers for each kernel given.
# Usage: dkms-check.sh KVER...     (needs root; removes what it added)
set -euo pipefail
kvers=("$@")
top=$(cd "$(dirname "$0")/../.." && pwd)

# dkms_package NAME CONFDIR FILES...: copy FILES to /usr/src/NAME-VER, dkms add
# and build, check every module's vermagic, remove it all again.
dkms_package() {
	local conf=$2/dkms.conf name ver src mod ko
	name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$conf")
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$conf")
	src=/usr/src/$name-$ver
	shift 2
	dkms remove "$name/$ver" --all >/dev/null 2>&1 || :
	rm -rf "$src"
	mkdir -p "$src"
	cp -r "$@" "$src/"
	find "$src" \( -name '*.o' -o -name '.*.cmd' -o -name '*.ko' -o -name '*.mod*' \) -delete
	dkms add "$name/$ver"
	for kver in "${kvers[@]}"; do
		dkms build "$name/$ver" -k "$kver"
		for mod in $(sed -n 's/^BUILT_MODULE_NAME\[[0-9]*\]="\(.*\)"/\1/p' "$conf"); do
			ko=$(find "/var/lib/dkms/$name/$ver/$kver" -name "$mod.ko*" | head -n 1)
			[ -n "$ko" ] && modinfo "$ko" | grep -q "^vermagic: *$kver " || return 1
			# No warning from a build of ours, on any kernel.
			! grep -E 'warning:|error:' "/var/lib/dkms/$name/$ver/build/make.log" || return 1
			echo "dkms: $name/$ver built for $kver: $ko"
		done
	done
	dkms remove "$name/$ver" --all >/dev/null
	rm -rf "$src"
}

dkms_package hvx "$top" "$top/dkms.conf" "$top/Kbuild" "$top/kmod-hv" "$top/uapi"
g=$top/guest-drivers
dkms_package hvx-guest "$g" "$g/dkms.conf" "$g/Kbuild" "$g"/*.c "$g"/*.h
