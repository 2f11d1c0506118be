#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build-initramfs.sh - packs the test host's initramfs: busybox, hvx.ko, Debian's KVM, selftests, tools, hvx-run's guest, make and the selftests' sources.
# Usage: build-initramfs.sh KVER KMODDIR OUT.cpio.gz   (KMODDIR: build-kmods.sh's .ko files for KVER)
#   HOST_KVER=RELEASE HOST_MODROOT=DIR: the host boots another kernel (make
#   check-debug's debug kernel, its modules under DIR/lib/modules/RELEASE,
#   hvx.ko in KMODDIR built for it); KVER stays the guest's kernel.
set -euo pipefail
kver=$1
kmods=$2
out=$3
host_kver=${HOST_KVER:-$kver}
modroot=${HOST_MODROOT:-/}
top=$(cd "$(dirname "$0")/../.." && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,proc,sys,dev,tmp,tests,lib/hvx/kmod}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$top/selftests/testhost/init" "$root/init"
cp "$kmods/hvx.ko" "$root/lib/hvx/hvx.ko"
cp "$top/userspace-tools/hvx-info" "$top/userspace-tools/hvx-stat" "$top/userspace-tools/hvx-run/hvx-run" "$root/usr/bin/"
# hvx-run's test guest: this same Debian kernel and a small busybox
# initramfs.  The tests find the guest kernel by the host's release
# (/boot/vmlinuz-$(uname -r)): a debug host boots Debian's kernel as guest.
mkdir -p "$root/boot"
cp "/boot/vmlinuz-$kver" "$root/boot/vmlinuz-$host_kver"
"$top/selftests/testhost/build-guest-initramfs.sh" "$root/boot/hvx-guest.cpio.gz" "$kver" \
	"$kmods/hvx_vblk.ko" "$kmods/hvx_vnet.ko" "$kmods/hvx_vq_hostile.ko"

# add_kmod FILE: one of Debian's modules into lib/hvx/kmod, uncompressed
# (6.12's are .ko.xz; busybox insmod takes plain .ko files only); prints
# its name there.
add_kmod() {
	local name
	name=$(basename "$1")
	case $name in
	*.ko.xz) name=${name%.xz}; xz -dc "$1" >"$root/lib/hvx/kmod/$name" ;;
	*.ko.zst) name=${name%.zst}; zstd -qdc "$1" >"$root/lib/hvx/kmod/$name" ;;
	*) cp "$1" "$root/lib/hvx/kmod/$name" ;;
	esac
	echo "$name"
}

# The modules Debian's KVM needs, in load order.
for m in msr tun; do
	add_kmod "$(modinfo -b "$modroot" -k "$host_kver" -n "$m")" >/dev/null
done
for v in amd intel; do
	modprobe -d "$modroot" -S "$host_kver" --show-depends "kvm_$v" | awk '$1 == "insmod" { print $2 }' |
	while read -r ko; do
		add_kmod "$ko"
	done >"$root/lib/hvx/kmod/kvm_$v.list"
done

# The host's own NIC for the two-host migration test (virtio-net-pci; on 6.1
# virtio_pci is a module too).
for m in virtio_pci virtio_net; do
	modprobe -d "$modroot" -S "$host_kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }' |
	while read -r ko; do
		add_kmod "$ko"
	done
done | awk '!seen[$0]++' >"$root/lib/hvx/kmod/hostnet.list"

make -s -C "$top/selftests" install DESTDIR="$root/tests"
# hvx_virtio_test.sh's qcow2 disk, made by qemu-img as users make theirs:
# an empty 16 MiB overlay whose backing file is the raw "disk.img" beside it.
ov=$(mktemp -d)
truncate -s 16M "$ov/disk.img"
qemu-img create -q -f qcow2 -b disk.img -F raw "$ov/disk-overlay.qcow2" 16M
cp "$ov/disk-overlay.qcow2" "$root/tests/"
rm -rf "$ov"

# For the host that runs the suite as a user does (run-qemu.sh -runner
# make: make -C /src/selftests run_tests): GNU make with the libraries it
# links, and what selftests/Makefile reads, at the same places relative to
# each other.  The programs and scripts are /tests's, hard-linked (stored
# once): make install copied them after they were built, so they are newer
# than their sources, and the kernel keeps the archive's modification times
# (CONFIG_INITRAMFS_PRESERVE_MTIME): make finds nothing to build there.
cp "$(command -v make)" "$root/usr/bin/make"
ldd "$(command -v make)" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | sort -u |
while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
(cd "$top" && {
	find selftests -maxdepth 1 \( -name Makefile -o -name '*.[ch]' \)
	find selftests/lib -name '*.[chSo]'
	find selftests/multiboot -type f
	find uapi userspace-tools -name '*.[ch]'
} | cpio -pdm --quiet "$root/src")
ln "$root"/tests/* "$root/src/selftests/"
# What make would do there: nothing (had a source changed since the build,
# it would try to compile, and the host has no compiler).
if ! make -q -C "$root/src/selftests" all >/dev/null 2>&1; then
	echo "build-initramfs.sh: /src/selftests would rebuild (a source changed while packing?):" >&2
	make -n -C "$root/src/selftests" all >&2
	exit 1
fi

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out"
