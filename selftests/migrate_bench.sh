#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# migrate_bench.sh - live migration on the loopback of this host: hvx-run against QEMU on Debian's KVM, guests of 256 MiB and 1 GiB, idle and dirtying memory at a fixed rate.
#
# Usage: migrate_bench.sh   (in the SVM bench host: make bench)
#
# Each case boots the test guest (hvxguest=count; dirtying: hvxdirty=32
# hvxdirtyrate=8, 8 MiB/s going round 32 MiB) under hvx-run and under QEMU
# (-M pc, KVM, 1 vCPU), starts a receiver of the same kind on 127.0.0.1,
# sets both to QEMU's defaults written out (downtime-limit 300 ms,
# max-bandwidth 128 MiB/s), migrates once the guest counts, and reads
# query-migrate when it completes: total time, downtime, bytes sent,
# passes (dirty-sync-count).  Prints "bench migrate_SIZE_LOAD_METRIC
# hvx=X qemu_kvm=Y ratio=X/Y".
dir=$(dirname "$0")
. "$dir/guest_boot.sh"
QC=$dir/qmp_client
KERNEL=/boot/vmlinuz-$(uname -r)
GUEST=/boot/hvx-guest.cpio.gz
CMDLINE="console=ttyS0 reboot=k panic=-1 tsc=reliable ipv6.disable=1 hvxguest=count"
T=/tmp/migrate-bench
PORT=4600
mkdir -p $T
ip link set lo up

wait_line() {
	local n=0
	while ! tr -d '\r' <$1 2>/dev/null | grep -q "$2"; do
		[ $n -ge $(($3 * 10)) ] && return 1
		sleep 0.1
		n=$((n + 1))
	done
}

# start NAME KIND MIB EXTRA [incoming]
start() {
	local name=$1 kind=$2 mib=$3 extra=$4 incoming=$5
	rm -f $T/$name.sock
	case $kind in
	hvx)
		if [ -n "$incoming" ]; then
			hvx-run --incoming tcp:127.0.0.1:$PORT -m ${mib}M --qmp $T/$name.sock \
				</dev/null >$T/$name.out 2>$T/$name.err &
		else
			hvx-run -k "$KERNEL" -i "$GUEST" -m ${mib}M -p "$CMDLINE $extra" \
				--qmp $T/$name.sock </dev/null >$T/$name.out 2>$T/$name.err &
		fi ;;
	qemu)
		[ -n "$incoming" ] && set -- -incoming tcp:127.0.0.1:$PORT || set --
		qemu-system-x86_64 -M pc -enable-kvm -cpu host -m $mib -smp 1 \
			-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
			-kernel "$KERNEL" -initrd "$GUEST" -append "$CMDLINE $extra" \
			-qmp unix:$T/$name.sock,server=on,wait=off "$@" \
			</dev/null >$T/$name.out 2>$T/$name.err & ;;
	esac
	pid=$!
	local n=0
	while [ ! -S $T/$name.sock ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
}

# field NAME KEY: a number from the last query-migrate reply
field() {
	grep -o "\"$2\": [0-9]*" $T/$1.q | tail -n 1 | awk '{ print $2 }'
}

# one KIND MIB LOAD EXTRA: results in $T/KIND-MIB-LOAD.res
one() {
	local kind=$1 mib=$2 load=$3 extra=$4 res=$T/$1-$2-$3.res st n=0
	: >$res
	start src $kind $mib "$extra"
	src=$pid
	if ! wait_line $T/src.out 'HVX-GUEST: count 10$' 600; then
		echo "# $kind $mib $load: the guest did not count"
		kill $src
		wait $src
		return
	fi
	start dst $kind $mib "" incoming
	dst=$pid
	sleep 1
	$QC $T/src.sock '{"execute": "migrate-set-parameters", "arguments": {"downtime-limit": 300, "max-bandwidth": 134217728}}' \
		'{"execute": "migrate", "arguments": {"uri": "tcp:127.0.0.1:'$PORT'"}}' >$T/src.q
	while [ $n -lt 3000 ]; do
		$QC -t 30 $T/src.sock '{"execute": "query-migrate"}' >$T/src.q
		st=$(sed -n 's/.*"status": "\([a-z-]*\)".*/\1/p' $T/src.q | tail -n 1)
		case $st in completed|failed|cancelled) break ;; esac
		sleep 0.1
		n=$((n + 1))
	done
	echo "# $kind $mib MiB $load: $st: $(grep -o '"total-time": [0-9]*\|"downtime": [0-9]*\|"transferred": [0-9]*\|"dirty-sync-count": [0-9]*' $T/src.q | tr '\n' ' ')"
	if [ "$st" = completed ]; then
		echo "total_ms $(field src total-time)" >>$res
		echo "downtime_ms $(field src downtime)" >>$res
		echo "sent_MiB $(awk -v b="$(field src transferred)" 'BEGIN { printf "%.1f", b / 1048576 }')" >>$res
		echo "passes $(field src dirty-sync-count)" >>$res
	fi
	for s in src dst; do
		$QC -t 30 $T/$s.sock '{"execute": "quit"}' >/dev/null 2>&1
	done
	# One that does not go (a receiver still waiting, say) is killed.
	n=0
	while { kill -0 $src || kill -0 $dst; } 2>/dev/null && [ $n -lt 300 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -9 $src $dst 2>/dev/null
	wait $src $dst
}

for mib in 256 1024; do
	for load in idle dirty; do
		extra=
		[ $load = dirty ] && extra="hvxdirty=32 hvxdirtyrate=8"
		one hvx $mib $load "$extra"
		one qemu $mib $load "$extra"
		for m in total_ms downtime_ms sent_MiB passes; do
			h=$(awk -v m=$m '$1 == m { print $2 }' $T/hvx-$mib-$load.res)
			q=$(awk -v m=$m '$1 == m { print $2 }' $T/qemu-$mib-$load.res)
			echo "bench migrate_${mib}M_${load}_$m hvx=${h:-n/a} qemu_kvm=${q:-n/a} ratio=$(awk -v h="$h" -v q="$q" \
				'BEGIN { if (h != "" && q > 0) printf "%.2f", h / q; else print "n/a" }')"
		done
	done
done
