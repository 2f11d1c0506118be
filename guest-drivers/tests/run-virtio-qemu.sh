#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run-virtio-qemu.sh - tests hvx_vblk/hvx_vnet against QEMU's virtio-blk-pci and virtio-net-pci in a plain TCG guest.
#
#   guest-drivers/tests/run-virtio-qemu.sh KVER OUTDIR
#
# Builds the modules and a busybox initramfs, boots Debian's kernel KVER in
# QEMU (no KVM, no hvx) with two virtio disks (one read-only) and a virtio NIC
# on user-mode networking, and runs tests/guest-init.sh as /init. The guest
# prints KTAP; this script answers its "HVXREQ" lines on the QEMU monitor,
# then checks the disk images and the network capture from the host side.
# Last line: "NAME: N passed, N failed, N skipped" (NAME is $RESULT_NAME,
# default virtio-drivers); exit 1 on any failure.  With $KMODS set, the
# modules are taken from that folder (built elsewhere, e.g. for another
# kernel by selftests/testhost/build-kmods.sh) instead of built here.

set -euo pipefail

KVER=${1:?usage: run-virtio-qemu.sh KVER OUTDIR}
OUT=${2:?usage: run-virtio-qemu.sh KVER OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$HERE")
TIMEOUT=${TIMEOUT:-240}

DISK_MIB=64		# hvda: filesystem in the first FS_MIB, patterns above it
FS_MIB=32
PATTERNS="40:4 50:2 63:1"	# MiB offset:length of the checksummed patterns
DISCARD_MIB=34		# discard and write-zeroes: between the filesystem
ZERO_MIB=37		# and the patterns
RESIZE_MIB=80
RO_MIB=8
MAC=52:54:00:12:34:56

pass=0 fail=0 skipped=0
result() {	# result ok|fail|skip NAME [why]
	case $1 in
	ok) pass=$((pass + 1)); echo "ok - host: $2" ;;
	skip) skipped=$((skipped + 1)); echo "ok - host: $2 # SKIP $3" ;;
	*) fail=$((fail + 1)); echo "not ok - host: $2${3:+ ($3)}" ;;
	esac
}
summary() {
	echo "${RESULT_NAME:-virtio-drivers}: $pass passed, $fail failed, $skipped skipped"
	[ $fail = 0 ] && [ $pass -gt 0 ]
}

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT/initramfs" "$OUT"/*.img "$OUT"/net-* "$OUT"/console.log "$OUT"/mon.*

# ---- build ----
KO=${KMODS:-$SRC}
[ -n "${KMODS:-}" ] || make -s -C "$SRC" KVER="$KVER" modules >"$OUT/build.log" 2>&1 || {
	cat "$OUT/build.log"; result fail build; summary; exit 1; }
gcc -static -O2 -Wall -o "$OUT/vtest" "$HERE/vtest.c"

# ---- initramfs ----
R=$OUT/initramfs
mkdir -p "$R"/{bin,sbin,dev,proc,sys,tmp,mnt,etc,modules}
cp /bin/busybox "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
cp "$OUT/vtest" "$R/bin/vtest"
cp "$KO/hvx_vblk.ko" "$KO/hvx_vnet.ko" "$R/modules/"
cp "$HERE/guest-init.sh" "$R/init"
chmod +x "$R/init"

# The virtio transport and ext4, in dependency order; never virtio_blk/net.
: >"$R/modules/order"
for m in virtio_pci ext4; do
	modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
	case $ko in *.ko.xz) xz -dc "$ko" >"$R/modules/$(basename "${ko%.xz}")"; ko=${ko%.xz} ;;
	*.ko.zst) zstd -qdc "$ko" >"$R/modules/$(basename "${ko%.zst}")"; ko=${ko%.zst} ;;
	*) cp "$ko" "$R/modules/" ;;
	esac
	basename "$ko" >>"$R/modules/order"
done

# e2fsprogs from the host, with the libraries they link.
for prog in /sbin/mke2fs /sbin/e2fsck; do
	cp -L "$prog" "$R/sbin/"
	for lib in $(ldd "$prog" | grep -o '/[^ ]*'); do
		mkdir -p "$R$(dirname "$lib")"
		cp -L "$lib" "$R$lib"
	done
done
[ -e "$R/lib64" ] || ln -s lib "$R/lib64" 2>/dev/null || true

# Images: hvda sparse, hvdb random (read-only); net payload host -> guest.
truncate -s ${DISK_MIB}M "$OUT/disk.img"
head -c $((RO_MIB << 20)) /dev/urandom >"$OUT/ro.img"
head -c $((2 << 20)) /dev/urandom >"$OUT/net-to-guest.bin"
RO_MD5=$(md5sum <"$OUT/ro.img" | cut -d' ' -f1)
NET_MD5=$(md5sum <"$OUT/net-to-guest.bin" | cut -d' ' -f1)
cat >"$R/etc/hvx-test.conf" <<EOF
DISK_MIB=$DISK_MIB
FS_MIB=$FS_MIB
PATTERNS="$PATTERNS"
DISCARD_MIB=$DISCARD_MIB
ZERO_MIB=$ZERO_MIB
RESIZE_MIB=$RESIZE_MIB
RO_MD5=$RO_MD5
HOST_NET_MD5=$NET_MD5
MAC=$MAC
BLK_QUEUES=2
EOF
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT/initramfs.cpio.gz"

# ---- boot ----
mkfifo "$OUT/mon.in" "$OUT/mon.out"
cat "$OUT/mon.out" >"$OUT/monitor.log" &
mon_reader=$!
: >"$OUT/console.log"

timeout "$TIMEOUT" qemu-system-x86_64 \
	-M q35 -m 512 -smp 2 -nographic -no-reboot \
	-kernel "/boot/vmlinuz-$KVER" -initrd "$OUT/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1" \
	-drive file="$OUT/disk.img",if=none,id=d0,format=raw,discard=unmap \
	-device virtio-blk-pci,drive=d0,serial=hvxtest,num-queues=2 \
	-drive file="$OUT/ro.img",if=none,id=d1,format=raw,readonly=on \
	-device virtio-blk-pci,drive=d1,serial=hvxro \
	-netdev "user,id=n0,guestfwd=tcp:10.0.2.100:7001-cmd:tee $OUT/net-from-guest.bin,guestfwd=tcp:10.0.2.100:7002-cmd:cat $OUT/net-to-guest.bin" \
	-device virtio-net-pci,netdev=n0,mac=$MAC,romfile= \
	-chardev pipe,id=mon0,path="$OUT/mon" -mon chardev=mon0,mode=readline \
	</dev/null >"$OUT/console.log" 2>&1 &
qemu=$!

# Answer the guest's requests on the monitor while it runs.
tail -n +1 -F --pid=$qemu "$OUT/console.log" 2>/dev/null | while IFS= read -r line; do
	case $line in
	*HVXREQ*)
		cmd=${line#*HVXREQ }
		cmd=${cmd%$'\r'}
		echo "$cmd" >"$OUT/mon.in"
		;;
	esac
done &
watcher=$!

rc=0
wait $qemu || rc=$?
wait $watcher 2>/dev/null || true
kill $mon_reader 2>/dev/null || true
wait $mon_reader 2>/dev/null || true
tr -d '\r' <"$OUT/console.log" >"$OUT/console.txt"
LOG=$OUT/console.txt

grep -E '^(not )?ok [0-9]+ |^# |^1\.\.' "$LOG" || true
[ $rc = 124 ] && result fail qemu "timed out after ${TIMEOUT}s"

# ---- verdict ----
g_pass=$(grep -cE '^ok [0-9]+ ' "$LOG" || true)
g_skip=$(grep -cE '^ok [0-9]+ .*# SKIP' "$LOG" || true)
g_fail=$(grep -cE '^not ok [0-9]+ ' "$LOG" || true)
pass=$((pass + g_pass - g_skip))
skipped=$((skipped + g_skip))
fail=$((fail + g_fail))

if grep -q '^# HVX-DONE' "$LOG"; then result ok guest_finished; else result fail guest_finished "no HVX-DONE line"; fi
# Kernel trouble anywhere; the one boot-time SRSO notice on AMD CPU models is not ours.
bad=$(grep -E 'BUG:|WARNING:|Oops|Call Trace|Kernel panic' "$LOG" |
	grep -v 'Speculative Return Stack Overflow' || true)
if [ -z "$bad" ]; then result ok console_clean; else echo "$bad" | sed 's/^/# /'; result fail console_clean; fi

# The patterns the guest wrote must be in the image, where it wrote them.
n=0
while read -r _ _ off mib want _; do
	got=$(dd if="$OUT/disk.img" bs=1M skip="$off" count="$mib" 2>/dev/null | md5sum | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then result ok "image_pattern_at_${off}M"; else result fail "image_pattern_at_${off}M"; fi
	n=$((n + 1))
done < <(grep '^# pattern ' "$LOG")
[ $n = 3 ] || result fail image_patterns "guest reported $n patterns"

size=$(stat -c %s "$OUT/disk.img")
if [ "$size" = $((RESIZE_MIB << 20)) ]; then result ok image_resized; else result fail image_resized "$size bytes"; fi
if command -v e2fsck >/dev/null; then
	if e2fsck -f -n "$OUT/disk.img" >"$OUT/fsck.log" 2>&1; then result ok image_fsck_clean
	else result fail image_fsck_clean "see $OUT/fsck.log"; fi
fi
if [ "$(md5sum <"$OUT/ro.img" | cut -d' ' -f1)" = "$RO_MD5" ]; then result ok ro_image_unchanged
else result fail ro_image_unchanged; fi

# tee kept what the guest sent last (the small-buffer round).
sent=$(grep '^# netsent ' "$LOG" | tail -n 1 | cut -d' ' -f3)
if [ -n "$sent" ] && [ -f "$OUT/net-from-guest.bin" ] &&
   [ "$(md5sum <"$OUT/net-from-guest.bin" | cut -d' ' -f1)" = "$sent" ]; then
	result ok host_received_guest_data
else
	result fail host_received_guest_data
fi

summary
