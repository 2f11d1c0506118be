#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# hvx_migrate_pair.sh - one half of the two-host live migration (run-migrate-pair.sh): "src" boots a counting guest and migrates it to the other host, "dst" receives it.
# Usage: hvx_migrate_pair.sh src|dst   (the hosts are 192.168.77.1 and .2)
#
# The guest's disk is copied beforehand: each host makes the same zero
# image and attaches it read-only, so nothing on it changes in flight.
# The guest's console goes into this host's log as "# src| LINE" or
# "# dst| LINE" lines (and whether the last one was cut), for the
# harness to check that the count runs on across the hosts.
dir=$(dirname "$0")
. "$dir/ktap.sh"
. "$dir/guest_boot.sh"
side=$1
QC=$dir/qmp_client
T=/tmp/hvx-pair
TAP=hvxmig0
MAC=52:54:00:12:34:59
PORT=4444
mkdir -p $T
head -c $((8 << 20)) /dev/zero >$T/disk.img
DEV="-d $T/disk.img,ro -n tap=$TAP,mac=$MAC"

qmp() {
	$QC -t 60 $T/vm.sock "$@" >$T/reply 2>&1
}

# The console's counts; not a last line still being written ("count 4"
# may be the start of "count 45").
counts() {
	{ cat $T/vm.out; echo " (end)"; } | tr -d '\r' | sed -n 's/.*HVX-GUEST: count \([0-9][0-9]*\)$/\1/p'
}

tap_up() {
	local n=0
	while [ ! -e /sys/class/net/$TAP ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
	ip addr add 10.0.2.1/24 dev $TAP && ip link set $TAP up
}

# The guest's markers (not its kernel's messages), with the receiver's
# first line and the sender's last, which the switch-over may have cut.
show_console() {
	local total n=0
	total=$(wc -l <$T/vm.out)
	tr -d '\r' <$T/vm.out | while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		case $line in
		*HVX-GUEST:*) printf '# %s| %s\n' $side "$line" ;;
		*) { [ $side = dst ] && [ $n -eq 1 ]; } || [ $n -gt $total ] &&
			printf '# %s| %s\n' $side "$line" ;;
		esac
	done
	[ -n "$(tail -c 1 $T/vm.out | tr -d '\n')" ] && echo "# $side-cut yes"
}

ktap_plan 4
if [ "$side" = src ]; then
	$RUN -k "$KERNEL" -i "$GUEST" -m 128M -p "console=ttyS0 reboot=k panic=-1 tsc=reliable hvxguest=count" \
		$DEV --qmp $T/vm.sock </dev/null >$T/vm.out 2>$T/vm.err &
	pid=$!
	tap_up
	n=0
	while ! counts | grep -qx 15 && [ $n -lt 600 ]; do sleep 0.2; n=$((n + 1)); done
	counts | grep -qx 15
	ktap_result guest_counts $?
	# The other host may still be booting: try for five minutes.
	n=0
	while :; do
		qmp '{"execute": "migrate", "arguments": {"uri": "tcp:192.168.77.2:'$PORT'"}}'
		grep -q '"return"' $T/reply && break
		[ $n -ge 300 ] && break
		sleep 1
		n=$((n + 1))
	done
	st=
	n=0
	while [ $n -lt 1500 ]; do
		qmp '{"execute": "query-migrate"}'
		st=$(sed -n 's/.*"status": "\([a-z]*\)".*/\1/p' $T/reply | tail -n 1)
		case $st in completed|failed|cancelled) break ;; esac
		sleep 0.2
		n=$((n + 1))
	done
	ktap_diag "migration: $(tail -n 1 $T/reply)"
	[ "$st" = completed ]
	ktap_result migration_completes $?
	a=$(counts | tail -n 1)
	sleep 3
	[ "$a" = "$(counts | tail -n 1)" ]
	ktap_result source_stopped_after $?
	qmp '{"execute": "quit"}'
	wait $pid
	rc=$?
	ktap_diag "hvx-run: exit $rc: $(tail -n 1 $T/vm.err)"
	[ $rc -eq 0 ]
	ktap_result source_quits $?
else
	$RUN --incoming tcp:0.0.0.0:$PORT -m 128M $DEV -v --qmp $T/vm.sock \
		</dev/null >$T/vm.out 2>$T/vm.err &
	pid=$!
	tap_up
	n=0
	while ! [ -s $T/vm.out ] && kill -0 $pid 2>/dev/null && [ $n -lt 4500 ]; do
		sleep 0.2
		n=$((n + 1))
	done
	[ -s $T/vm.out ]
	ktap_result guest_arrives $?
	n=0
	while [ "$(counts | wc -l)" -lt 12 ] && kill -0 $pid 2>/dev/null && [ $n -lt 600 ]; do
		sleep 0.2
		n=$((n + 1))
	done
	ktap_diag "counts here: $(counts | head -n 1) to $(counts | tail -n 1)"
	counts | awk 'NR > 1 && $1 != p + 1 { bad = 1 } { p = $1 } END { exit bad || NR < 12 }'
	ktap_result guest_counts_on $?
	n=0
	while ! grep -q 'HVX-GUEST: ping-ok' $T/vm.out && [ $n -lt 600 ]; do sleep 0.2; n=$((n + 1)); done
	grep -q 'HVX-GUEST: ping-ok' $T/vm.out && grep -q 'announced 52:54:00:12:34:59 (RARP)' $T/vm.err
	ktap_result network_on_the_new_host $?
	qmp '{"execute": "quit"}'
	wait $pid
	rc=$?
	ktap_diag "hvx-run: exit $rc: $(tail -n 1 $T/vm.err)"
	[ $rc -eq 0 ]
	ktap_result receiver_quits $?
fi
show_console
ktap_finish
