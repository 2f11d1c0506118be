#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build-debug-kernel.sh - builds (once, cached outside the clone) the debug kernel make check-debug's SVM hosts boot: Debian's 6.1 sources with lockdep, KASAN, kmemleak, UBSAN and list debugging.
# Usage: build-debug-kernel.sh BASE_KVER   (BASE_KVER: the Debian kernel whose sources to build, e.g. 6.1.0-50-amd64)
#        build-debug-kernel.sh --path BASE_KVER   prints the cache directory (no build)
#
# The cache ($HVX_CACHE or ~/.cache/hvx)/debug-<source version>-<config hash>/
# holds bzImage, build/ (the O= tree, which out-of-tree modules build
# against), root/lib/modules/<release>/ (modules_install) and release (the
# kernel's name, <version>-hvxdebug).  A changed config below is another
# hash, so the kernel is rebuilt when this script changes what it asks for.
#
# The config: x86_64_defconfig and kvm_guest.config (what a QEMU guest
# needs), KVM and the modules the test hosts load (kvm_amd, kvm_intel, tun,
# msr), tracepoints for stats_test and debugfs for kmemleak, then the
# checkers.  Large subsystems no test host touches (graphics, sound,
# wireless, USB, netfilter) are off, to keep the build about half an hour
# on two CPUs.
set -euo pipefail
path_only=0
if [ "${1:-}" = --path ]; then
	path_only=1
	shift
fi
base=${1:?usage: build-debug-kernel.sh [--path] BASE_KVER}
cache=${HVX_CACHE:-$HOME/.cache/hvx}

# linux-source of the installed Debian kernel's version (its own source
# version is the signing package's, 6.1.176+1).
srcver=$(dpkg-query -W -f '${Version}' "linux-image-$base")
major=$(echo "$base" | cut -d. -f1,2)	# 6.1.0-50-amd64 -> 6.1, 6.12.117+deb12-amd64 -> 6.12

config_opts() {
	cat <<'OPTS'
# what the test hosts load as modules
MODULES=y MODULE_UNLOAD=y MODULE_FORCE_UNLOAD=n MODVERSIONS=n MODULE_SIG=n
KVM=m KVM_AMD=m KVM_INTEL=m TUN=m X86_MSR=m
VIRTIO_PCI=y VIRTIO_NET=y VIRTIO_BLK=y
BLK_DEV_INITRD=y INITRAMFS_PRESERVE_MTIME=y DEVTMPFS=y DEVTMPFS_MOUNT=y
# stats_test's tracefs, hvx's tracepoints; kmemleak's debugfs
FTRACE=y ENABLE_DEFAULT_TRACERS=y DEBUG_FS=y KALLSYMS_ALL=y
# the checkers (issue 21)
DEBUG_KERNEL=y PROVE_LOCKING=y DEBUG_ATOMIC_SLEEP=y DEBUG_LIST=y
KASAN=y KASAN_GENERIC=y KASAN_INLINE=y KASAN_STACK=n
DEBUG_KMEMLEAK=y DEBUG_KMEMLEAK_DEFAULT_OFF=n DEBUG_KMEMLEAK_AUTO_SCAN=n
DEBUG_KMEMLEAK_MEM_POOL_SIZE=65536
UBSAN=y UBSAN_BOUNDS=y UBSAN_SHIFT=y UBSAN_DIV_ZERO=y UBSAN_BOOL=y UBSAN_ENUM=y
UBSAN_SANITIZE_ALL=y UBSAN_TRAP=n
# a splat must be seen, not eaten by a reboot
PANIC_ON_OOPS=n BOOTPARAM_SOFTLOCKUP_PANIC=n
# off: what no test host uses, and debug info (kallsyms names the frames)
DEBUG_INFO_NONE=y DRM=n SOUND=n WLAN=n CFG80211=n USB_SUPPORT=n NETFILTER=n
WIRELESS=n HID=n INPUT_JOYSTICK=n INPUT_TABLET=n INPUT_TOUCHSCREEN=n AGP=n
FB=n ACPI_VIDEO=n MEDIA_SUPPORT=n SECURITY_SELINUX=n AUDIT=n
IKCONFIG=y IKCONFIG_PROC=y LOCALVERSION="-hvxdebug" LOCALVERSION_AUTO=n
OPTS
}
hash=$( { echo "$srcver"; config_opts; } | sha256sum | cut -c1-12)
dir=$cache/debug-$srcver-$hash
if [ $path_only -eq 1 ]; then
	echo "$dir"
	exit 0
fi
if [ -f "$dir/release" ]; then
	echo "build-debug-kernel.sh: cached: $dir ($(cat "$dir/release"))"
	exit 0
fi

t0=$(date +%s)
rm -rf "$dir"
mkdir -p "$dir"
work=$dir/work
mkdir -p "$work"
echo "build-debug-kernel.sh: linux-source-$major $srcver into $dir"
(cd "$work" && apt-get download -q "linux-source-$major=$srcver")
dpkg-deb -x "$work"/linux-source-"$major"_*.deb "$work/pkg"
tar -C "$work" -xf "$work/pkg/usr/src/linux-source-$major.tar.xz"
src=$work/linux-source-$major
rm -rf "$work/pkg" "$work"/*.deb

b=$dir/build
mkdir -p "$b"
make -s -C "$src" O="$b" x86_64_defconfig
make -s -C "$src" O="$b" kvm_guest.config
config_opts | grep -v '^#' | tr ' ' '\n' | grep . | while IFS='=' read -r k v; do
	case $v in
	y) "$src/scripts/config" --file "$b/.config" -e "$k" ;;
	n) "$src/scripts/config" --file "$b/.config" -d "$k" ;;
	m) "$src/scripts/config" --file "$b/.config" -m "$k" ;;
	\"*) "$src/scripts/config" --file "$b/.config" --set-str "$k" "${v//\"/}" ;;
	*) "$src/scripts/config" --file "$b/.config" --set-val "$k" "$v" ;;
	esac
done
make -s -C "$src" O="$b" olddefconfig
# What olddefconfig refused (an unmet dependency) would be a silent gap.
for k in KASAN PROVE_LOCKING DEBUG_KMEMLEAK UBSAN DEBUG_LIST DEBUG_ATOMIC_SLEEP KVM_AMD TUN FTRACE; do
	grep -Eq "^CONFIG_$k=[ym]" "$b/.config" || { echo "build-debug-kernel.sh: CONFIG_$k did not stay on" >&2; exit 1; }
done
jobs=${HVX_BUILD_JOBS:-$(nproc)}
make -s -C "$src" O="$b" -j"$jobs" bzImage modules
release=$(make -s -C "$src" O="$b" kernelrelease)
make -s -C "$src" O="$b" INSTALL_MOD_PATH="$dir/root" modules_install
rm -f "$dir/root/lib/modules/$release/build" "$dir/root/lib/modules/$release/source"
cp "$b/arch/x86/boot/bzImage" "$dir/bzImage"
# External modules need the O= tree and the sources it points to; keep
# both, drop the objects only the kernel itself needed.
find "$b" -name '*.o' ! -path '*/scripts/*' ! -path '*/tools/*' -delete
echo "$release" >"$dir/release"
echo "build-debug-kernel.sh: $release built in $(($(date +%s) - t0)) s"
