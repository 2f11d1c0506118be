#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# hvx_snapshot_test.sh - hvx-run's QMP socket and snapshots: a counting guest stopped, saved, restored and cloned without a gap; disk and network after; bad files and bad QMP input refused.
dir=$(dirname "$0")
. "$dir/ktap.sh"
. "$dir/guest_boot.sh"
guest_boot_needs tunctl ip /dev/net/tun
QC=$dir/qmp_client
# Small: the snapshots live in the test host's RAM (its /tmp).
MEM_MB=128
CMDLINE="console=ttyS0 earlyprintk=serial,ttyS0 reboot=k panic=-1 tsc=reliable"
T=/tmp/hvx-snapshot-test
BOOT_TIMEOUT=120
CYCLES=20
# Bochs: minutes per boot; a few cycles show the same.
[ -n "$guest_boot_slow" ] && BOOT_TIMEOUT=900 CYCLES=3
scale_timeouts BOOT_TIMEOUT
TAP=hvxsnap0
TAP2=hvxsnap1
MAC=52:54:00:12:34:57
DISK_MIB=8

. "$dir/qmp_lib.sh"


ktap_plan 38
mkdir -p $T
rm -f $T/*
DISK="-d $T/disk.img"

refused incoming_exec_is_usage_error --incoming exec:cat
refused incoming_missing_file_is_usage_error --incoming file:$T/none.snap

if [ -z "$skip" ]; then
	tunctl -t $TAP >/dev/null && ip addr add 10.0.2.1/24 dev $TAP && ip link set $TAP up ||
		ktap_diag "tap $TAP: cannot set it up"
	tunctl -t $TAP2 >/dev/null && ip link set $TAP2 up || ktap_diag "tap $TAP2: cannot set it up"
	head -c $((DISK_MIB << 20)) /dev/zero >$T/disk.img
	start src -k "$KERNEL" -i "$GUEST" -m ${MEM_MB}M -p "$CMDLINE hvxguest=count" \
		$DISK -n tap=$TAP,mac=$MAC
	wait_for src 'HVX-GUEST: count 15'
	booted=$?
	[ $booted -eq 0 ] || { tail -n 20 $T/src.out | defuse; cat $T/src.err | defuse; }
fi
check guest_counts $booted

# Status, stop and cont, with events.
if [ -z "$skip" ]; then
	qmp src '{"execute": "query-status"}'
	grep -q '"status": "running"' $T/src.reply
	check qmp_query_status_running $?
	qmp src '{"execute": "stop"}' '{"execute": "query-status"}'
	grep -q '"status": "paused"' $T/src.reply && grep -q '"event": "STOP"' $T/src.qmp
	check qmp_stop $?
	a=$(last_count $T/src.out)
	sleep 2
	b=$(last_count $T/src.out)
	ktap_diag "stopped: count $a, 2 s later $b"
	[ "$a" = "$b" ]
	check stopped_guest_does_not_count $?
	qmp src '{"execute": "cont"}'
	grep -q '"event": "RESUME"' $T/src.qmp && wait_for src "HVX-GUEST: count $((b + 3))\$" 60
	check qmp_cont_counts_on $?
	qmp src '{"execute": "query-cpus-fast"}'
	grep -q '"cpu-index": 0' $T/src.reply && grep -q '"thread-id": [1-9]' $T/src.reply
	check qmp_query_cpus_fast $?
fi

# Bad input on the socket: errors, and the server goes on.
if [ -z "$skip" ]; then
	ok=0
	qmp src '{"execute": }' '{"execute": "query-status"}'
	grep -q '"class": "GenericError"' $T/src.reply && grep -q '"status": "running"' $T/src.reply || ok=1
	qmp src '{"execute": "frobnicate"}'
	grep -q '"class": "CommandNotFound"' $T/src.reply || ok=1
	qmp src '{"execute": "migrate", "arguments": {"uri": 5}}'
	grep -q "Invalid parameter type for 'uri'" $T/src.reply || ok=1
	qmp src '{"execute": "migrate", "arguments": {"uri": "exec:cat >/dev/null"}}'
	grep -q 'not supported' $T/src.reply || ok=1
	qmp src '{"execute": "migrate"}'
	grep -q "Parameter 'uri' is missing" $T/src.reply || ok=1
	qmp src '{"execute": "stop", "arguments": {"now": true}}'
	grep -q "Parameter 'now' is unexpected" $T/src.reply || ok=1
	qmp src '{"execute": "migrate", "arguments": {"uri": "file:/nonexistent/dir/x.snap"}}'
	grep -q '"class": "GenericError"' $T/src.reply || ok=1
	qmp src '[1, 2]' '"text"' '{"execute": "query-status", "id": {"n": [1]}}'
	grep -q '"id": {"n": \[1\]}' $T/src.reply || ok=1
	[ $ok -eq 0 ] || tail -n 20 $T/src.qmp | sed 's/^/# /'
	[ $ok -eq 0 ] && [ ! -f $T/src.rc ]
	check qmp_bad_input_answered $?
	wait_for src "HVX-GUEST: count $(($(last_count $T/src.out) + 2))\$" 60
	check guest_runs_on_after_bad_input $?
fi

# Save to a file; the source stays stopped until cont.
if [ -z "$skip" ]; then
	qmp src '{"execute": "migrate", "arguments": {"uri": "file:'$T/a.snap'"}}' \
		'{"execute": "query-migrate"}' '{"execute": "query-status"}'
	saved=$(last_count $T/src.out)
	cp $T/src.out $T/src-at-save.out
	ktap_diag "saved at count $saved: $(grep -o '"total-time": [0-9]*, "downtime": [0-9]*' $T/src.qmp | tail -n 1), $(ls -l $T/a.snap | awk '{ print $5 }') bytes"
	grep -q '"status": "postmigrate"' $T/src.reply && [ -s $T/a.snap ] &&
		grep -q '"status": "completed"' $T/src.qmp
	check migrate_to_file $?
	grep -q '"event": "MIGRATION", "data": {"status": "completed"}\|"data": {"status": "completed"}, "event": "MIGRATION"' $T/src.qmp
	check migration_events $?
	cp $T/disk.img $T/disk1.img
	qmp src '{"execute": "cont"}'
	wait_for src "HVX-GUEST: count $((saved + 3))\$" 60
	check source_runs_on_after_save $?
fi

# A clone while the source runs: its own disk copy and tap, counting on
# from the save; the token written before the save read back from its disk.
if [ -z "$skip" ]; then
	start clone1 --incoming file:$T/a.snap -m ${MEM_MB}M -d $T/disk1.img -n tap=$TAP2,mac=$MAC
	wait_for clone1 "HVX-GUEST: count $((saved + 12))\$" 120
	check restore_while_source_runs $?
	consecutive $T/src-at-save.out $T/clone1.out
	check clone_counts_on_without_a_gap $?
	ktap_diag "clone1: wrote $(marker src-at-save disk-wrote), reads $(marker clone1 disk-read)"
	[ -n "$(marker src-at-save disk-wrote)" ] &&
		[ "$(marker src-at-save disk-wrote)" = "$(marker clone1 disk-read)" ]
	check disk_data_after_restore $?
	[ ! -f $T/src.rc ] && [ ! -f $T/clone1.rc ] && wait_for src "HVX-GUEST: count $(($(last_count $T/src.out) + 2))\$" 60
	check source_and_clone_run_together $?
	qmp src '{"execute": "quit"}'
	wait_exit src
	ktap_diag "src: exit $rc: $(tail -n 1 $T/src.err)"
	[ "$rc" = 0 ] && [ ! -e $T/src.sock ]
	check qmp_quit $?
	qmp clone1 '{"execute": "quit"}'
	wait_exit clone1
	[ "$rc" = 0 ]
	check clone_quits $?
fi

# The same file again, on the source's tap: an independent clone from the
# same point, whose network works and which announced itself.
if [ -z "$skip" ]; then
	cp $T/disk1.img $T/disk2.img
	start clone2 --incoming file:$T/a.snap -m ${MEM_MB}M -d $T/disk2.img -n tap=$TAP,mac=$MAC -v
	wait_for clone2 "HVX-GUEST: ping-ok" 120
	check network_after_restore $?
	grep -q 'announced 52:54:00:12:34:57 (RARP)' $T/clone2.err
	check restored_nic_announces_itself $?
	consecutive $T/src-at-save.out $T/clone2.out
	check second_clone_from_the_same_point $?
fi

# Save and restore again and again: each run a restore of the last save.
# next_count NAME: until the chain and NAME's console, joined, have one
# count more than now; 1 after 60 s or when NAME ends.  Joined, because
# the line a save cut in two has its halves in two files.
next_count() {
	local want=$(($(last_count $T/chain.out $T/$1.out) + 1)) n=0
	while ! counts $T/chain.out $T/$1.out | grep -qx $want; do
		[ -f $T/$1.rc ] && return 1
		[ $n -ge 300 ] && return 1
		sleep 0.2
		n=$((n + 1))
	done
}

# stuck NAME: what a run that stopped counting last printed and said.
stuck() {
	ktap_diag "$1 console: $(tr -d '\r' <$T/$1.out | tail -n 3 | tr '\n' '|')"
	ktap_diag "$1 says: $(tail -n 3 $T/$1.err | tr '\n' '|') rc $(cat $T/$1.rc 2>/dev/null)"
}
if [ -z "$skip" ]; then
	ok=0
	cp $T/src-at-save.out $T/chain.out
	prev=clone2 snap=$T/a.snap
	for i in $(seq 1 $CYCLES); do
		next_count $prev || { ok=1; ktap_diag "cycle $i: $prev does not count"; stuck $prev; break; }
		# A restore reads the whole file at start: the last one can go.
		[ "$snap" = $T/a.snap ] || rm -f $snap
		qmp $prev '{"execute": "migrate", "arguments": {"uri": "file:'$T/c$i.snap'"}}'
		grep -q '"return"' $T/$prev.reply ||
			{ ok=1; ktap_diag "cycle $i: $(cat $T/$prev.reply)"; break; }
		qmp $prev '{"execute": "quit"}'
		wait_exit $prev
		[ "$rc" = 0 ] || { ok=1; ktap_diag "cycle $i: $prev exit $rc: $(tail -n 1 $T/$prev.err)"; break; }
		cat $T/$prev.out >>$T/chain.out
		[ "$prev" = clone2 ] || rm -f $T/$prev.out $T/$prev.err $T/$prev.qmp
		snap=$T/c$i.snap
		start cyc$i --incoming file:$snap -m ${MEM_MB}M -d $T/disk2.img -n tap=$TAP,mac=$MAC
		prev=cyc$i
	done
	next_count $prev || { ok=1; ktap_diag "last: $prev does not count"; stuck $prev; }
	rm -f $snap
	ktap_diag "after $CYCLES save/restore cycles: count $(last_count $T/chain.out $T/$prev.out)"
	consecutive $T/chain.out $T/$prev.out || ok=1
	[ $ok -eq 0 ]
	check save_restore_cycles_count_on $?
fi

# Bad snapshots, refused before anything runs.
if [ -z "$skip" ]; then
	size=$(ls -l $T/a.snap | awk '{ print $5 }')
	head -c $((size / 2)) $T/a.snap >$T/trunc.snap
	refused truncated_snapshot_refused --incoming file:$T/trunc.snap -m ${MEM_MB}M $DISK -n tap=$TAP2,mac=$MAC
	rm -f $T/trunc.snap
	# One byte in the middle changed, then changed back.
	at=$((size / 3))
	dd if=$T/a.snap of=$T/byte bs=1 skip=$at count=1 2>/dev/null
	orig=$(od -An -tu1 $T/byte | tr -d ' ')
	[ "$orig" = 255 ] && new=0 || new=377
	printf "\\$new" | dd of=$T/a.snap bs=1 seek=$at conv=notrunc 2>/dev/null
	refused corrupt_snapshot_refused --incoming file:$T/a.snap -m ${MEM_MB}M $DISK -n tap=$TAP2,mac=$MAC
	dd if=$T/byte of=$T/a.snap bs=1 seek=$at conv=notrunc 2>/dev/null
	refused other_memory_size_refused --incoming file:$T/a.snap -m 256M $DISK -n tap=$TAP2,mac=$MAC
	refused other_cpu_count_refused --incoming file:$T/a.snap -m ${MEM_MB}M -c 2 $DISK -n tap=$TAP2,mac=$MAC
	refused missing_devices_refused --incoming file:$T/a.snap -m ${MEM_MB}M
	printf 'HVXSNAP\n\002\000\000\000\020\000\000\000' >$T/version.snap
	refused other_version_refused --incoming file:$T/version.snap -m ${MEM_MB}M
	refused not_a_snapshot_refused --incoming file:$KERNEL -m ${MEM_MB}M
	: >$T/empty.snap
	refused empty_snapshot_refused --incoming file:$T/empty.snap -m ${MEM_MB}M
else
	for t in truncated corrupt other_memory_size other_cpu_count missing_devices other_version \
		 not_a empty; do
		ktap_skip ${t}_snapshot_refused "$skip"
	done
fi

# system_powerdown: Ctrl-Alt-Del; Linux reboots, which ends the run as a power-off.
if [ -z "$skip" ]; then
	qmp $prev '{"execute": "system_powerdown"}'
	grep -q '"event": "POWERDOWN"' $T/$prev.qmp
	check qmp_system_powerdown $?
	wait_exit $prev 120
	ktap_diag "$prev: exit $rc: $(tail -n 1 $T/$prev.err)"
	[ "$rc" = 0 ] && grep -q 'after system_powerdown' $T/$prev.err
	check guest_powers_down $?
fi

# An external snapshot (QEMU's blockdev-snapshot-sync) of a qcow2 disk
# the guest is writing without pause: the image below must freeze, the
# guest count on and read its token through the new overlay, which holds
# the later writes.  hvx-run's block code is vendor-neutral: the 2-CPU
# SVM host runs it (Bochs takes minutes a boot; the 1-CPU SVM host shares
# make check's longer lane).
ext_skip=$skip
[ -n "$ext_skip" ] || { [ -z "$guest_boot_slow" ] && [ "$(nproc)" -gt 1 ]; } ||
	ext_skip="the 2-CPU SVM host runs it: hvx-run's block code is the same on both vendors"
ext_check() {
	if [ -n "$ext_skip" ]; then ktap_skip $1 "$ext_skip"; else ktap_result $1 $2; fi
}
if [ -z "$ext_skip" ]; then
	E=$T/ext
	mkdir -p $E
	head -c $((16 << 20)) /dev/zero >$E/disk.img
	qcow2_overlay $E
	start ext -k "$KERNEL" -i "$GUEST" -m ${MEM_MB}M -p "$CMDLINE hvxguest=count hvxdiskload=1" \
		-d $E/disk.qcow2
	wait_for ext 'HVX-GUEST: count 15'
	ok=$?
	grep -q 'HVX-GUEST: disk-load on' $T/ext.out || ok=1
	qmp ext '{"execute": "blockdev-snapshot-sync", "arguments": {"device": "virtio-blk0", "snapshot-file": "'$E'/snap1.qcow2", "format": "qcow2"}}'
	ktap_diag "blockdev-snapshot-sync: $(tr -d '\n' <$T/ext.reply | head -c 200)"
	grep -q '"return": {}' $T/ext.reply || ok=1
	frozen=$(md5sum <$E/disk.qcow2)
	n=$(last_count $T/ext.out)
	wait_for ext "HVX-GUEST: count $((n + 25))\$" 60 || ok=1
	token=$(tr -d '\r' <$T/ext.out | sed -n 's/^HVX-GUEST: disk-wrote //p')
	read_back=$(tr -d '\r' <$T/ext.out | sed -n 's/^HVX-GUEST: disk-read //p' | tail -n 1)
	ktap_diag "after it: counts $n to $(last_count $T/ext.out), token $token read back as $read_back, overlay $(wc -c <$E/snap1.qcow2) bytes"
	[ "$(md5sum <$E/disk.qcow2)" = "$frozen" ] && [ -n "$token" ] && [ "$read_back" = "$token" ] || ok=1
fi
ext_check external_snapshot_under_load_freezes_the_image_below ${ok:-1}
if [ -z "$ext_skip" ]; then
	bad=0
	qmp ext '{"execute": "blockdev-snapshot-sync", "arguments": {"device": "virtio-blk7", "snapshot-file": "'$E'/x.qcow2"}}'
	grep -q "no disk 'virtio-blk7'" $T/ext.reply || bad=1
	qmp ext '{"execute": "blockdev-snapshot-sync", "arguments": {"device": "virtio-blk0", "snapshot-file": "'$E'/snap1.qcow2"}}'
	grep -q 'File exists' $T/ext.reply || bad=1
	qmp ext '{"execute": "blockdev-snapshot-sync", "arguments": {"device": "virtio-blk0", "snapshot-file": "'$E'/x.qcow2", "format": "vmdk"}}'
	grep -q 'qcow2 snapshots only' $T/ext.reply || bad=1
	qmp ext '{"execute": "blockdev-snapshot-sync", "arguments": {"device": "virtio-blk0"}}'
	grep -q "Parameter 'snapshot-file' is missing" $T/ext.reply || bad=1
	[ ! -e $E/x.qcow2 ] || bad=1
	qmp ext '{"execute": "query-status"}'
	grep -q '"status": "running"' $T/ext.reply || bad=1
fi
ext_check external_snapshot_bad_requests_refused ${bad:-1}
if [ -z "$ext_skip" ]; then
	qmp ext '{"execute": "quit"}'
	wait_exit ext 60
	"$dir/block_io" read $E/snap1.qcow2 $E/now.raw >$E/read.out 2>&1 &&
		"$dir/block_io" read $E/disk.qcow2 $E/then.raw >>$E/read.out 2>&1
	r=$?
	ktap_diag "ext: exit $rc; $(cat $E/read.out)"
	# The later writes are in the overlay only; the token in both.
	[ $r -eq 0 ] && ! cmp -s $E/now.raw $E/then.raw &&
		[ "$(head -c ${#token} $E/then.raw)" = "$token" ] && [ "$(head -c ${#token} $E/now.raw)" = "$token" ]
	ok=$?
	rm -rf $E
fi
ext_check external_snapshot_holds_the_later_writes ${ok:-1}

# Nothing left behind: no VM alive, hvx.ko's memory back.
if [ -z "$skip" ]; then
	used=$(awk '$1 == "hvx" { print $3 }' /proc/modules)
	ktap_diag "hvx.ko use count after all runs: $used"
	[ "$used" = 0 ]
	check no_vm_left $?
	! grep -E 'WARNING: CPU:|Call Trace|BUG:|Oops|I/O error|insmod-failed' $T/*.out | defuse | grep .
	check guest_logs_are_clean $?
fi
ip link del $TAP 2>/dev/null
ip link del $TAP2 2>/dev/null
ktap_finish
