#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# hvx_migrate_test.sh - live migration between two hvx-run processes in this host: a counting guest with a disk, a tap and a TCP stream moves without a gap; parameters, a refused connection, a cancel, a receiver killed mid-stream, a guest dirtying memory.
dir=$(dirname "$0")
. "$dir/ktap.sh"
. "$dir/guest_boot.sh"
guest_boot_needs ip nc /dev/net/tun
QC=$dir/qmp_client
MEM_MB=128
CMDLINE="console=ttyS0 earlyprintk=serial,ttyS0 reboot=k panic=-1 tsc=reliable"
T=/tmp/hvx-migrate-test
BOOT_TIMEOUT=120
MIG_TIMEOUT=120
[ -n "$guest_boot_slow" ] && BOOT_TIMEOUT=900 MIG_TIMEOUT=600
scale_timeouts BOOT_TIMEOUT MIG_TIMEOUT
# Made by the first hvx-run (multi-queue): the receiver attaches to it too.
TAP=hvxmig0
MAC=52:54:00:12:34:58
TCP_PORT=5002
DISK_MIB=8

. "$dir/qmp_lib.sh"


ktap_plan 26
mkdir -p $T
rm -f $T/*
DEV="-d $T/disk.img -n tap=$TAP,mac=$MAC"

refused incoming_bad_address_is_usage_error --incoming tcp:nowhere -m ${MEM_MB}M
refused incoming_bad_port_is_usage_error --incoming tcp:127.0.0.1:99999 -m ${MEM_MB}M

if [ -z "$skip" ]; then
	ip link set lo up	# the two hvx-runs talk over 127.0.0.1
	head -c $((DISK_MIB << 20)) /dev/zero >$T/disk.img
	# busybox nc ends at EOF on its stdin: keep one open.
	rm -f $T/hold && mkfifo $T/hold
	nc -l -p $TCP_PORT <$T/hold >$T/tcp.out &
	nc_pid=$!
	exec 9>$T/hold
	start src -k "$KERNEL" -i "$GUEST" -m ${MEM_MB}M -p "$CMDLINE hvxguest=count hvxtcp=$TCP_PORT" $DEV
	n=0
	while [ ! -e /sys/class/net/$TAP ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	ip addr add 10.0.2.1/24 dev $TAP && ip link set $TAP up || ktap_diag "tap $TAP: cannot set it up"
	wait_for src 'HVX-GUEST: count 15$'
	booted=$?
	[ $booted -eq 0 ] || { tail -n 20 $T/src.out | defuse; defuse <$T/src.err; }
fi
check guest_counts ${booted:-1}

# Parameters.
if [ -z "$skip" ]; then
	qmp src '{"execute": "query-migrate-parameters"}'
	grep -q '"downtime-limit": 300' $T/src.reply && grep -q '"max-bandwidth": 134217728' $T/src.reply
	check default_parameters $?
	qmp src '{"execute": "migrate-set-parameters", "arguments": {"downtime-limit": 500, "max-bandwidth": 4194304}}' \
		'{"execute": "query-migrate-parameters"}'
	grep -q '"downtime-limit": 500' $T/src.reply && grep -q '"max-bandwidth": 4194304' $T/src.reply
	check set_parameters $?
	ok=0
	qmp src '{"execute": "migrate-set-parameters", "arguments": {"downtime-limit": -1}}'
	grep -q "downtime_limit" $T/src.reply || ok=1
	qmp src '{"execute": "migrate-set-parameters", "arguments": {"max-bandwidth": "fast"}}'
	grep -q "Invalid parameter type for 'max-bandwidth'" $T/src.reply || ok=1
	qmp src '{"execute": "migrate-set-parameters", "arguments": {"speed": 1}}'
	grep -q "Parameter 'speed' is unexpected" $T/src.reply || ok=1
	[ $ok -eq 0 ]
	check bad_parameters_refused $?
fi

# Nobody listening: an error, and the guest runs on.
if [ -z "$skip" ]; then
	qmp src '{"execute": "migrate", "arguments": {"uri": "tcp:127.0.0.1:4499"}}'
	grep -q 'Failed to connect' $T/src.reply &&
		wait_for src "HVX-GUEST: count $(($(last_count $T/src.out) + 2))\$" 60
	check refused_connection_leaves_guest_running $?
fi

# Bochs (minutes a boot) runs the migration that goes through: the
# cancel, the cut, the refusal and the dirtying guest are hvx-run's
# vendor-neutral paths, run in the SVM hosts.
slow="the SVM hosts run hvx-run's vendor-neutral failure paths"
slow_skip() {
	for t in "$@"; do ktap_skip $t "$slow"; done
}

# Cancelled at 4 MiB/s: the source runs on, the receiver gives up with one line.
if [ -n "$guest_boot_slow" ]; then
	slow_skip migration_runs cancel_leaves_source_running cancelled_receiver_exits_cleanly \
		cut_connection_leaves_source_running mismatched_receiver_refuses
elif [ -z "$skip" ]; then
	start dst1 --incoming tcp:127.0.0.1:4501 -m ${MEM_MB}M $DEV
	sleep 1
	qmp src '{"execute": "migrate", "arguments": {"uri": "tcp:127.0.0.1:4501"}}'
	sleep 3
	qmp src '{"execute": "query-migrate"}'
	ktap_diag "before cancel: $(cat $T/src.reply)"
	grep -q '"status": "active"' $T/src.reply
	check migration_runs $?
	qmp src '{"execute": "migrate_cancel"}'
	migration_status src 30
	ktap_diag "after cancel: $mst"
	[ "$mst" = cancelled ] && wait_for src "HVX-GUEST: count $(($(last_count $T/src.out) + 2))\$" 60
	check cancel_leaves_source_running $?
	wait_exit dst1 60
	ktap_diag "dst1: exit $rc: $(cat $T/dst1.err)"
	[ "$rc" = 2 ] && [ "$(wc -l <$T/dst1.err)" -eq 1 ] && ! grep -q 'HVX-GUEST' $T/dst1.out
	check cancelled_receiver_exits_cleanly $?
fi

# The receiver killed mid-stream: failed, the source runs on.
if [ -z "$skip" ] && [ -z "$guest_boot_slow" ]; then
	start dst2 --incoming tcp:127.0.0.1:4502 -m ${MEM_MB}M $DEV
	sleep 1
	qmp src '{"execute": "migrate", "arguments": {"uri": "tcp:127.0.0.1:4502"}}'
	sleep 3
	kill -9 $(cat $T/dst2.pid)
	migration_status src 60
	qmp src '{"execute": "query-migrate"}'
	ktap_diag "receiver killed: $mst: $(grep -o '"error-desc": "[^"]*"' $T/src.reply)"
	[ "$mst" = failed ] && wait_for src "HVX-GUEST: count $(($(last_count $T/src.out) + 2))\$" 60
	check cut_connection_leaves_source_running $?
fi

# A receiver of another machine (256 MiB) refuses: the source runs on.
if [ -z "$skip" ] && [ -z "$guest_boot_slow" ]; then
	start dstm --incoming tcp:127.0.0.1:4505 -m 256M $DEV
	sleep 1
	qmp src '{"execute": "migrate", "arguments": {"uri": "tcp:127.0.0.1:4505"}}'
	migration_status src 60
	wait_exit dstm 30
	ktap_diag "mismatched receiver: $mst; dstm: exit $rc: $(cat $T/dstm.err)"
	[ "$mst" = failed ] && [ "$rc" = 2 ] && grep -q 'saved with -m 128M' $T/dstm.err &&
		wait_for src "HVX-GUEST: count $(($(last_count $T/src.out) + 2))\$" 60
	check mismatched_receiver_refuses $?
fi

# The real thing, at full speed.
if [ -z "$skip" ]; then
	qmp src '{"execute": "migrate-set-parameters", "arguments": {"downtime-limit": 300, "max-bandwidth": 0}}'
	start dst3 --incoming tcp:127.0.0.1:4503 -m ${MEM_MB}M $DEV -v
	sleep 1
	qmp src '{"execute": "migrate", "arguments": {"uri": "tcp:127.0.0.1:4503"}}'
	migration_status src $MIG_TIMEOUT
	qmp src '{"execute": "query-migrate"}' '{"execute": "query-status"}'
	ktap_diag "migrated: $(grep -o '"status": "[a-z]*", "total-time": [0-9]*, "downtime": [0-9]*' $T/src.qmp | tail -n 1), $(grep -o '"transferred": [0-9]*\|"dirty-sync-count": [0-9]*' $T/src.reply | tr '\n' ' ')"
	[ "$mst" = completed ] && grep -q '"status": "postmigrate"' $T/src.reply
	ok=$?
	[ $ok -eq 0 ] || { sed 's/^/# /' $T/src.reply; sed 's/^/# dst3: /' $T/dst3.err; }
	check migration_completes $ok
	at=$(last_count $T/src.out)
	wait_for dst3 "HVX-GUEST: count $((at + 12))\$" 120
	ok=$?
	[ $ok -eq 0 ] || { ktap_diag "dst3: exit $(cat $T/dst3.rc 2>/dev/null)"; tail -n 5 $T/dst3.err | sed 's/^/# dst3: /';
		tail -n 5 $T/dst3.out | defuse; }
	check receiver_counts_on $ok
	consecutive $T/src.out $T/dst3.out
	check count_without_a_gap $?
	b=$(last_count $T/src.out)
	sleep 2
	[ "$b" = "$(last_count $T/src.out)" ] && [ ! -f $T/dst3.rc ]
	check only_the_receiver_runs $?
	wait_for dst3 "HVX-GUEST: ping-ok" 120 &&
		grep -q "announced 52:54:00:12:34:58 (RARP)" $T/dst3.err
	check network_follows_the_guest $?
	t1=$(grep -c '^tcp ' $T/tcp.out)
	sleep 3
	t2=$(grep -c '^tcp ' $T/tcp.out)
	ktap_diag "TCP stream: $t1 lines, 3 s later $t2; pings before the switch: $(grep -c ping-ok $T/src.out)"
	[ "$t2" -gt "$t1" ] && awk '$2 != NR { bad = 1 } END { exit bad }' $T/tcp.out
	check tcp_stream_survives $?
	qmp src '{"execute": "quit"}'
	wait_exit src
	[ "$rc" = 0 ]
	check source_quits $?
	qmp dst3 '{"execute": "quit"}'
	wait_exit dst3
	[ "$rc" = 0 ]
	check receiver_quits $?
fi

# A guest rewriting 24 MiB as fast as it can, migrated at 4 MiB/s (here a
# few times less than it dirties): auto-converge throttles it until the rest
# fits, or the migration fails and the guest stays with the source; either
# way one side runs, counting without a gap.
# Only with HVX_MIGRATE_DIRTY=1 (on a test host's command line): three
# times in about eight SVM host runs (1 and 2 CPUs) the whole host fell
# silent for good while this guest migrated (no console line, no test
# timeout, no kernel report; QEMU kept a core busy).  Whether QEMU's
# nested SVM or hvx.ko hangs the host is not known yet: README.md, "Open".
dirty_skip=
[ -z "$guest_boot_slow" ] && [ "${HVX_MIGRATE_DIRTY:-0}" != 1 ] &&
	dirty_skip="open bug: an SVM host has hung here (README.md); HVX_MIGRATE_DIRTY=1 runs it"
if [ -n "$guest_boot_slow" ] || [ -n "$dirty_skip" ]; then
	[ -n "$dirty_skip" ] && slow=$dirty_skip
	slow_skip dirtying_guest_boots dirtying_guest_converges_or_fails_cleanly \
		auto_converge_when_needed cont_after_migration_resumes_sender
elif [ -z "$skip" ]; then
	start busy -k "$KERNEL" -i "$GUEST" -m ${MEM_MB}M -p "$CMDLINE hvxguest=count hvxdirty=24"
	wait_for busy 'HVX-GUEST: count 5$'
	check dirtying_guest_boots $?
	start dst4 --incoming tcp:127.0.0.1:4504 -m ${MEM_MB}M
	sleep 1
	qmp busy '{"execute": "migrate-set-parameters", "arguments": {"max-bandwidth": 4194304}}' \
		'{"execute": "migrate", "arguments": {"uri": "tcp:127.0.0.1:4504"}}'
	migration_status busy $((MIG_TIMEOUT * 2))
	qmp busy '{"execute": "query-migrate"}'
	ktap_diag "dirtying guest: $mst: $(grep -o '"dirty-sync-count": [0-9]*\|"cpu-throttle-percentage": [0-9]*\|"downtime": [0-9]*\|"dirty-pages-rate": [0-9]*' $T/busy.reply | tr '\n' ' ')"
	case $mst in
	completed)
		wait_for dst4 "HVX-GUEST: count $(($(last_count $T/busy.out) + 3))\$" 120 &&
			consecutive $T/busy.out $T/dst4.out ;;
	failed)
		wait_for busy "HVX-GUEST: count $(($(last_count $T/busy.out) + 2))\$" 60 &&
			wait_exit dst4 && [ "$rc" = 2 ] ;;
	*)
		false ;;
	esac
	check dirtying_guest_converges_or_fails_cleanly $?
	# Throttled, unless the guest dirtied memory slower than the link anyway.
	rate=$(grep -o '"dirty-pages-rate": [0-9]*' $T/busy.qmp | awk '{ if ($2 > m) m = $2 } END { print m + 0 }')
	grep -q '"cpu-throttle-percentage": [1-9]' $T/busy.qmp || [ $((rate * 4096)) -lt 4194304 ]
	check auto_converge_when_needed $?
	# cont on the sender after a completed migration runs its copy again
	# (the user's call; this guest has no disk or network to share).
	if [ "$mst" = completed ]; then
		qmp busy '{"execute": "cont"}' '{"execute": "query-status"}'
		grep -q '"status": "running"' $T/busy.reply &&
			wait_for busy "HVX-GUEST: count $(($(last_count $T/busy.out) + 2))\$" 60
	else
		true
	fi
	check cont_after_migration_resumes_sender $?
	for n in busy dst4; do
		[ -f $T/$n.rc ] || qmp $n '{"execute": "quit"}'
		wait_exit $n
	done
fi

if [ -z "$skip" ]; then
	used=$(awk '$1 == "hvx" { print $3 }' /proc/modules)
	ktap_diag "hvx.ko use count after all runs: $used"
	[ "$used" = 0 ]
	check no_vm_left $?
	! grep -E 'WARNING: CPU:|Call Trace|BUG:|Oops|I/O error|insmod-failed' $T/*.out | defuse | grep .
	check guest_logs_are_clean $?
fi
ktap_finish
