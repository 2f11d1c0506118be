#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# hvx_virtio_hostile_test.sh - a guest driver feeds hvx-run's virtio-blk malformed rings: each ends in a device error, none hangs, a reset recovers.
dir=$(dirname "$0")
. "$dir/ktap.sh"
. "$dir/guest_boot.sh"
guest_boot_needs
MEM_MB=256		# the oversized case points at guest RAM 16-48 MiB
CMDLINE="console=ttyS0 earlyprintk=serial,ttyS0 reboot=k panic=-1 tsc=reliable"
BOOT_TIMEOUT=180
T=/tmp/hvx-virtio-hostile-test
DISK_MIB=16

# Broken rings, in the order the guest runs them, and the reason hvx-run
# must print for each ("hvx-run: virtio-blk0: <reason>: device needs reset").
RING_CASES="head-out-of-range:descriptor index out of range
next-out-of-range:descriptor index out of range
loop:descriptor chain longer than its table (a loop)
buffer-outside-ram:buffer outside RAM
indirect-outside-ram:indirect table outside RAM
indirect-nested:nested indirect table
indirect-bad-length:indirect table length
indirect-not-negotiated:indirect descriptor not negotiated
avail-idx-jump:avail index moved by more than the queue size
readable-after-writable:device-readable buffer after a writable one
oversized-write:chain too large"
# Well-formed rings, wrong requests: a virtio-blk status (1 IOERR, 2 UNSUPP).
# A header shorter than 16 bytes is IOERR in hvx-run (QEMU resets instead).
REQUEST_CASES="read-past-end:1
unknown-type:2
short-header:1"

# hostile CASE: the outcome the guest printed ("HVX-HOSTILE: CASE outcome").
hostile() {
	tr -d '\r' 2>/dev/null <$T/hostile.out | sed -n "s/^HVX-HOSTILE: $1 //p" | head -n 1
}

marker() {
	tr -d '\r' 2>/dev/null <$T/hostile.out | sed -n "s/^HVX-GUEST: $1 //p" | head -n 1
}

[ -n "$guest_boot_slow" ] && BOOT_TIMEOUT=600
scale_timeouts BOOT_TIMEOUT

ktap_plan 30
mkdir -p $T
if [ -z "$skip" ]; then
	head -c $((DISK_MIB << 20)) /dev/urandom >$T/disk.img
	t0=$(date +%s)
	timeout $BOOT_TIMEOUT $RUN -k "$KERNEL" -i "$GUEST" -m ${MEM_MB}M \
		-p "$CMDLINE hvxguest=hostile" -d $T/disk.img \
		</dev/null >$T/hostile.out 2>$T/hostile.err
	rc=$?
	ktap_diag "hostile: exit $rc after $(($(date +%s) - t0)) s"
	tr -d '\r' <$T/hostile.out | grep -e '^HVX-HOSTILE:' -e '^HVX-GUEST:' | defuse
	# The module never got to its cases: the guest's last words say why.
	grep -q '^HVX-HOSTILE: done' $T/hostile.out || tail -n 40 $T/hostile.out | defuse
	defuse <$T/hostile.err
	# The reasons hvx-run gave, one per line, in order.
	sed -n 's/^hvx-run: virtio-blk0: \(.*\): device needs reset$/\1/p' $T/hostile.err \
		>$T/reasons
fi

[ -z "$skip" ] && [ $rc -eq 0 ] && tr -d '\r' <$T/hostile.out | grep -q '^HVX-GUEST: done' &&
	[ "$(tr -d '\r' <$T/hostile.out | grep -c '^HVX-HOSTILE: ')" -eq 16 ]
check guest_runs_every_case_and_powers_off $?

i=0
echo "$RING_CASES" >$T/ring-cases
while IFS=: read -r name why; do
	i=$((i + 1))
	sub=$(echo $name | tr - _)
	[ "$(hostile $name)" = needs-reset ]
	check ${sub}_needs_reset $?
	[ "$(sed -n ${i}p $T/reasons 2>/dev/null)" = "$why" ]
	check ${sub}_reason_on_stderr $?
done <$T/ring-cases

[ -z "$skip" ] && [ "$(wc -l <$T/reasons)" -eq $i ]
check one_needs_reset_per_broken_ring $?

echo "$REQUEST_CASES" >$T/request-cases
while IFS=: read -r name status; do
	[ "$(hostile $name)" = status-$status ]
	check $(echo $name | tr - _)_is_status_$status $?
done <$T/request-cases

# After all of that and a reset: the first 32 bytes of the image, in hex.
want=$(head -c 32 $T/disk.img 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
[ -n "$want" ] && [ "$(hostile sane-read)" = "$want" ]
check sane_read_after_reset_matches_image $?

[ "$(marker rmmod)" = ok ]
check driver_unloads $?

! { tr -d '\r' <$T/hostile.out | grep -E 'WARNING: CPU:|Call Trace|BUG:|Oops|insmod-failed|^HVX-HOSTILE: .* (timeout|setup-failed)';
    grep 'stopped at' $T/hostile.err; } 2>/dev/null | defuse | grep .
check logs_are_clean $?

rm -rf $T
ktap_finish
