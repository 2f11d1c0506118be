#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check.sh - 'make check': warning-free build, every test host, the guest drivers in QEMU, DKMS; one closing summary line.
# Usage: check.sh KVER BUILDDIR   (BUILDDIR/host.cpio.gz must exist)
set -uo pipefail
kver=$1 build=$2
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
initrd=$build/host.cpio.gz
logs=$build/logs
rm -rf "$logs"
mkdir -p "$logs"
summary=$logs/summary.txt
: >"$summary"

# step NAME CMD...: run one step; its "NAME: N passed, N failed, N skipped"
# line is its verdict, a missing line counts as one failure.
step() {
	local name=$1
	shift
	"$@" 2>&1 | tee "$logs/$name.out"
	local line
	line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$" "$logs/$name.out" | tail -n 1)
	[ -n "$line" ] || line="$name: 0 passed, 1 failed, 0 skipped"
	echo "$line" >>"$summary"
}

# A pass/fail step that is not a test host (build hygiene, packaging).
plain() {
	local name=$1
	shift
	if "$@"; then
		echo "$name: 1 passed, 0 failed, 0 skipped"
	else
		echo "$name: 0 passed, 1 failed, 0 skipped"
	fi
}

# hvx.ko must build without a single warning under W=1 and sparse.
lint() {
	touch "$top"/kmod-hv/*.c "$top"/kmod-hv/*/*.c
	make -C "/lib/modules/$kver/build" M="$top" W=1 C=1 modules >"$logs/lint.log" 2>&1 &&
		! grep -E 'warning:|error:' "$logs/lint.log"
}

start=$(date +%s)
step lint plain lint lint
step svm-smp1 "$here/run-qemu.sh" svm-smp1 "$kver" "$initrd" "$logs" -smp 1
step svm-smp2 "$here/run-qemu.sh" svm-smp2 "$kver" "$initrd" "$logs" -smp 2
step novirt "$here/run-qemu.sh" novirt "$kver" "$initrd" "$logs" -mode novirt -cpu EPYC,-svm
step vmx "$here/run-bochs.sh" vmx "$kver" "$initrd" "$logs"
step vmx-smp2 "$here/run-bochs.sh" vmx-smp2 "$kver" "$initrd" "$logs" -cpus 2
step virtio-drivers make -s -C "$top/guest-drivers" KVER="$kver" OUT="$build/guest-drivers" check
step dkms plain dkms "$here/dkms-check.sh" "$kver"

echo "== summary ($(($(date +%s) - start)) s, logs in $logs)"
cat "$summary"
awk '{ p += $2; f += $4; s += $6 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s; exit f ? 1 : 0 }' "$summary"
