#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build-initramfs.sh - packs the test host's initramfs: busybox, hvx.ko, Debian's KVM, selftests, tools, hvx-run's guest.
# Usage: build-initramfs.sh KVER OUT.cpio.gz
set -euo pipefail
kver=$1
out=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,proc,sys,dev,tmp,tests,lib/hvx/kmod}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$top/selftests/testhost/init" "$root/init"
cp "$top/hvx.ko" "$root/lib/hvx/hvx.ko"
cp "$top/userspace-tools/hvx-info" "$top/userspace-tools/hvx-run/hvx-run" "$root/usr/bin/"
# hvx-run's test guest: this same Debian kernel and a small busybox initramfs.
mkdir -p "$root/boot"
cp "/boot/vmlinuz-$kver" "$root/boot/"
"$top/selftests/testhost/build-guest-initramfs.sh" "$root/boot/hvx-guest.cpio.gz" "$kver" \
	"$top/guest-drivers/hvx_vblk.ko" "$top/guest-drivers/hvx_vnet.ko" \
	"$top/selftests/guest/hvx_vq_hostile.ko"

# The modules Debian's KVM needs, in load order.
mods=/lib/modules/$kver
cp "$mods/kernel/arch/x86/kernel/msr.ko" "$mods/kernel/drivers/net/tun.ko" "$root/lib/hvx/kmod/"
for v in amd intel; do
	modprobe -S "$kver" --show-depends "kvm_$v" | awk '$1 == "insmod" { print $2 }' |
	while read -r ko; do
		cp "$ko" "$root/lib/hvx/kmod/"
		basename "$ko"
	done >"$root/lib/hvx/kmod/kvm_$v.list"
done

make -s -C "$top/selftests" install DESTDIR="$root/tests"

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out"
