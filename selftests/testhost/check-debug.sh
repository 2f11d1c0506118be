#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check-debug.sh - 'make check-debug': the whole suite in the SVM test hosts (1 and 2 CPUs) booting a debug kernel (lockdep, KASAN, kmemleak, UBSAN, list debugging); any report fails.
# Usage: check-debug.sh BUILDDIR KVER...   (each KVER: a Debian kernel whose sources become a debug kernel)
#
# For each KVER: build-debug-kernel.sh builds (or finds cached) the debug
# kernel from that Debian kernel's sources; hvx.ko is built against it; the
# guests under hvx-run stay Debian's KVER kernel (a debug guest kernel
# would only slow the run down, and the guest is not what is checked).
# The first KVER's host has 1 CPU, the second's 2 (with one KVER: both).
# The hosts' init clears kmemleak's boot-time reports before the tests and
# scans after them; ktap-summary.awk fails a log with any report.
set -uo pipefail
build=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
logs=$build/logs-debug
rm -rf "$logs"
mkdir -p "$logs"
kvers=("$@")
[ ${#kvers[@]} -eq 1 ] && kvers+=("$1")

# prepare KVER: the debug kernel, hvx.ko for it, the host's initramfs.
prepare() {
	local kver=$1 dir release
	"$here/build-debug-kernel.sh" "$kver" || return 1
	dir=$("$here/build-debug-kernel.sh" --path "$kver")
	release=$(cat "$dir/release")
	HOST_KDIR=$dir/build "$here/build-kmods.sh" "$kver" "$build/debug-$kver/kmods" || return 1
	HOST_KVER=$release HOST_MODROOT=$dir/root \
		"$here/build-initramfs.sh" "$kver" "$build/debug-$kver/kmods" \
		"$build/debug-$kver/host.cpio.gz" || return 1
}

start=$(date +%s)
ok=0
for k in $(printf '%s\n' "${kvers[@]}" | sort -u); do
	prepare "$k" || { echo "check-debug.sh: could not prepare the debug host for $k" >&2; exit 1; }
done
# Upper bounds: the debug kernel is several times slower than Debian's.
cpus=1
for k in "${kvers[@]}"; do
	name=svm-debug-smp$cpus
	dir=$("$here/build-debug-kernel.sh" --path "$k")
	"$here/run-qemu.sh" "$name" "$k" "$build/debug-$k/host.cpio.gz" "$logs" \
		-smp $cpus -mem 2048 -timeout 7200 -kernel "$dir/bzImage" \
		-append "hvxtimeout=3000 hvxkmemleak=1 hvxtimescale=4" >"$logs/$name.out" 2>&1 &
	cpus=2
done
wait
for f in "$logs"/*.out; do
	cat "$f"
	grep -Eq '^[^ ]+: [0-9]+ passed, 0 failed' "$f" || ok=1
done
echo "== check-debug: $(($(date +%s) - start)) s, logs in $logs"
exit $ok
