#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# hvx_virtio_test.sh - hvx-run's PCI bus, virtio-blk (-d) and virtio-net (-n): a Linux guest writes, reads, discards, flushes, talks to the host over a tap; the host checks images and data.
dir=$(dirname "$0")
. "$dir/ktap.sh"
. "$dir/guest_boot.sh"
guest_boot_needs tunctl ip nc httpd md5sum /dev/net/tun
MEM_MB=256
# As hvx_run_test.sh: console from the first line, i8042 reboot, reset on panic.
CMDLINE="console=ttyS0 earlyprintk=serial,ttyS0 reboot=k panic=-1 tsc=reliable"
BOOT_TIMEOUT=180
T=/tmp/hvx-virtio-test
DISK_MIB=16		# disk.img: random, the guest writes 1 MiB at 4 MiB
PATTERN_MIB=4		# and discards 1 MiB at 8 MiB
DISCARD_MIB=8
RO_MIB=4
view=$T/disk.img	# what the guest's read-write disk holds, after a boot

# marker NAME KEY: the value of a "HVX-GUEST: KEY value" line.
marker() {
	tr -d '\r' 2>/dev/null <$T/$1.out | sed -n "s/^HVX-GUEST: $2 //p" | head -n 1
}

show_tail() {
	tail -n "${2:-25}" $T/$1.out | defuse
	tail -n 20 $T/$1.err | defuse
}

# irqs NAME DEVICE: "notifications by_exit irqfd signal_msi intx" from
# hvx-run -v's report at exit.
irqs() {
	sed -n "s/^hvx-run: $2: \([0-9]*\) queue notifications (\([0-9]*\) by MMIO exit); interrupts: \([0-9]*\) by irqfd, \([0-9]*\) by HVX_SIGNAL_MSI, \([0-9]*\) INTx$/\1 \2 \3 \4 \5/p" $T/$1.err
}

# irq_path NAME irqfd|intx: both devices were notified through their
# ioeventfds (no MMIO exit) and interrupted only through the irqfds
# (MSI-X), or only by INTx.
irq_path() {
	for dev in virtio-blk0 virtio-net0; do
		counts=$(irqs $1 $dev)
		[ -n "$skip" ] || ktap_diag "$1: $dev: notifications (by exit), irqfd, HVX_SIGNAL_MSI, INTx: $counts"
		echo $counts | awk -v want=$2 'NF != 5 || $1 == 0 || $2 != 0 { exit 1 }
			want == "irqfd" && !($3 > 0 && $4 == 0 && $5 == 0) { exit 1 }
			want == "intx" && !($3 == 0 && $4 == 0 && $5 > 0) { exit 1 }' || return 1
	done
}

# md5 FILE SKIP_MIB COUNT_MIB: md5sum of a region of an image.
md5() {
	dd if="$1" bs=1M skip=$2 count=$3 2>/dev/null | md5sum | cut -d' ' -f1
}

# usage_error NAME ARGS...: exit status 2 and exactly one line on stderr.
usage_error() {
	name=$1
	shift
	$RUN "$@" </dev/null >$T/$name.out 2>$T/$name.err
	rc=$?
	ktap_diag "$name: exit $rc: $(cat $T/$name.err)"
	[ $rc -eq 2 ] && [ "$(wc -l <$T/$name.err)" -eq 1 ] && [ ! -s $T/$name.out ]
	ktap_result $name $?
}

[ -n "$guest_boot_slow" ] && BOOT_TIMEOUT=600
scale_timeouts BOOT_TIMEOUT

# The network: a persistent tap with the host at 10.0.2.1; per boot an nc
# listener takes the guest's pattern and httpd serves the host's.
TAP=hvxtap0
MAC=52:54:00:12:34:56
NET_KIB=256

net_start() {
	mkdir -p $T/www
	head -c $((NET_KIB << 10)) /dev/urandom >$T/www/pattern
	rm -f $T/hold && mkfifo $T/hold
	nc -l -p 5001 <$T/hold >$T/$1.net-rx &
	nc_pid=$!
	exec 9>$T/hold	# the listener's stdin stays open: it ends on the guest's EOF
	httpd -f -p 10.0.2.1:8080 -h $T/www &
	httpd_pid=$!
}

net_stop() {
	exec 9>&-
	kill $nc_pid $httpd_pid 2>/dev/null
	wait $nc_pid $httpd_pid 2>/dev/null
}

# boot NAME VARIANT [CMDLINE]: fresh images, one guest run with both disks
# and the network.  With hvxend=kill in CMDLINE, hvx-run is killed (SIGKILL)
# once the guest has flushed.  With FORMAT=qcow2 the read-write disk is a
# qcow2 overlay made by qemu-img (qcow2_overlay)
# over the random raw disk.img, its backing file; $T/disk.view is then
# what the guest's disk holds (block_io read), and disk.img must not change.
boot() {
	[ -n "$skip" ] && return
	name=$1
	head -c $((DISK_MIB << 20)) /dev/urandom >$T/disk.img
	disk=$T/disk.img
	if [ "${FORMAT:-raw}" = qcow2 ]; then
		qcow2_overlay $T
		disk=$T/disk.qcow2
		base_md5=$(md5sum <$T/disk.img | cut -d' ' -f1)
	fi
	head -c $((RO_MIB << 20)) /dev/urandom >$T/ro.img
	ro_md5=$(md5sum <$T/ro.img | cut -d' ' -f1)
	ro_head_md5=$(md5 $T/ro.img 0 1)
	net_start $name
	t0=$(date +%s)
	: >$T/$name.out
	timeout $BOOT_TIMEOUT $RUN $VERBOSE -k "$KERNEL" -i "$GUEST" -m ${MEM_MB}M \
		-p "$CMDLINE hvxguest=$2 $3" -d $disk -d $T/ro.img,ro -n tap=$TAP,mac=$MAC \
		</dev/null >$T/$name.out 2>$T/$name.err &
	pid=$!
	case "$3" in
	*hvxend=kill*)
		i=0
		while ! grep -q '^HVX-GUEST: killme' $T/$name.out && [ $i -lt $((BOOT_TIMEOUT * 5)) ]; do
			sleep 0.2
			i=$((i + 1))
		done
		kill -KILL $(pidof hvx-run)
		;;
	esac
	wait $pid
	echo $? >$T/$name.rc
	net_stop
	view=$T/disk.img
	if [ "${FORMAT:-raw}" = qcow2 ]; then
		view=$T/disk.view
		"$dir/block_io" read $T/disk.qcow2 $view >$T/$name.view 2>&1 ||
			ktap_diag "$name: block_io read: $(cat $T/$name.view)"
		ktap_diag "$name: qcow2 overlay $(wc -c <$T/disk.qcow2) bytes over a $DISK_MIB MiB raw backing file"
	fi
	ktap_diag "$name: exit $(cat $T/$name.rc) after $(($(date +%s) - t0)) s, $(tail -n 1 $T/$name.err)"
	grep 'stopped at' $T/$name.err | while read -r line; do ktap_diag "$line"; done
}

# check_boot NAME [killed]: the guest's markers, the images and the data
# that crossed the network afterwards.
check_boot() {
	n=$1
	if [ "${2:-}" = killed ]; then
		end=killme rc=137 t=${n}_killed_after_flush_is_status_137
	else
		end=done rc=0 t=${n}_poweroff_is_status_0
	fi
	[ -n "$skip" ] || if [ "$(cat $T/$n.rc)" -eq $rc ] && grep -q "^HVX-GUEST: $end" $T/$n.out; then
		show_tail $n 40
		true
	else
		show_tail $n 200
		false
	fi
	check $t $?

	[ -n "$skip" ] || ktap_diag "$n: PCI IDs $(marker $n pci-devices); disks $(marker $n disks); interrupts $(marker $n irq-mode)"
	[ "$(marker $n rw-sectors)" = $((DISK_MIB * 2048)) ] && [ "$(marker $n ro-flag)" = 1 ]
	check ${n}_guest_sees_rw_and_ro_disk $?

	pattern=$(marker $n pattern-md5)
	[ -n "$pattern" ] && [ "$(marker $n readback-md5)" = "$pattern" ] &&
		[ "$(marker $n seq-read)" = ok ]
	check ${n}_guest_reads_back_its_writes $?

	[ -n "$pattern" ] && [ "$(md5 $view $PATTERN_MIB 1)" = "$pattern" ]
	check ${n}_pattern_is_in_the_image $?

	if [ "${FORMAT:-raw}" = qcow2 ]; then
		[ -z "$skip" ] && [ "$(md5sum <$T/disk.img | cut -d' ' -f1)" = "$base_md5" ] &&
			[ "$(wc -c <$T/disk.qcow2)" -lt $((DISK_MIB << 20)) ]
		check ${n}_qcow2_backing_file_unchanged $?
	fi

	[ "$(marker $n ro-write)" = rejected ]
	check ${n}_ro_disk_rejects_writes $?

	[ "$(md5sum <$T/ro.img | cut -d' ' -f1)" = "$ro_md5" ] &&
		[ "$(marker $n ro-md5)" = "$ro_head_md5" ]
	check ${n}_ro_image_unchanged_and_readable $?

	[ "$(marker $n discard)" = ok ] &&
		[ "$(md5 $view $DISCARD_MIB 1)" = "$(head -c 1048576 /dev/zero | md5sum | cut -d' ' -f1)" ]
	check ${n}_discard_zeroes_the_image $?

	[ "$(marker $n flush)" = ok ]
	check ${n}_flush_succeeds $?

	[ -n "$skip" ] || ktap_diag "$n: network $(marker $n net-dev), packets rx/tx $(marker $n net-stats), $(marker $n net-errors)"
	set -- $(marker $n net-dev)
	[ "${2:-}" = $MAC ] && [ "$(marker $n net-carrier)" = 1 ]
	check ${n}_net_device_has_mac_and_link $?

	[ "$(marker $n ping)" = ok ]
	check ${n}_guest_pings_host $?

	sent=$(marker $n net-tx-md5)
	[ -n "$sent" ] && [ "$(md5sum <$T/$n.net-rx 2>/dev/null | cut -d' ' -f1)" = "$sent" ] &&
		[ "$(wc -c <$T/$n.net-rx)" -eq $((NET_KIB << 10)) ]
	check ${n}_guest_to_host_data_intact $?

	[ "$(marker $n net-rx-md5)" = "$(md5sum <$T/www/pattern | cut -d' ' -f1)" ]
	check ${n}_host_to_guest_data_intact $?

	# Both drivers take the offloads (CSUM, GUEST_CSUM, GUEST_TSO4,
	# HOST_TSO4: feature bits 0, 1, 7, 11) ...
	marker $n net-errors | awk '{ f = $NF; exit !(substr(f, 1, 1) == 1 &&
		substr(f, 2, 1) == 1 && substr(f, 8, 1) == 1 && substr(f, 12, 1) == 1) }'
	check ${n}_net_offloads_negotiated $?
	# ... and use them: the frames of a transfer average more than a
	# 1514-byte Ethernet frame only if TSO frames carried it.
	[ -n "$skip" ] || ktap_diag "$n: frames and bytes before and after: tx $(marker $n net-tx-frames), rx $(marker $n net-rx-frames)"
	{ marker $n net-tx-frames; marker $n net-rx-frames; } | awk '
		{ p = $3 - $1; b = $4 - $2; if (!(p > 0 && b > 1514 * p)) bad = 1; n++ }
		END { exit bad || n != 2 }'
	check ${n}_net_tso_frames_both_ways $?

	! { grep -E 'WARNING: CPU:|Call Trace|BUG:|Oops|I/O error|insmod-failed|dd-write-failed|wget-failed|ping-failed' $T/$n.out;
	    grep 'needs reset' $T/$n.err; } | defuse | grep .
	check ${n}_logs_are_clean $?
}

ktap_plan 60
mkdir -p $T
head -c 4096 /dev/zero >$T/small.img

usage_error missing_disk_file_is_usage_error -k "$KERNEL" -d /nonexistent/disk.img
usage_error unknown_disk_option_is_usage_error -k "$KERNEL" -d $T/small.img,rw
usage_error empty_disk_name_is_usage_error -k "$KERNEL" -d ,ro
usage_error ninth_disk_is_usage_error -k "$KERNEL" -d $T/small.img -d $T/small.img \
	-d $T/small.img -d $T/small.img -d $T/small.img -d $T/small.img -d $T/small.img \
	-d $T/small.img -d $T/small.img
usage_error net_without_tap_is_usage_error -k "$KERNEL" -n mac=$MAC
usage_error bad_mac_is_usage_error -k "$KERNEL" -n tap=$TAP,mac=52:54:00:12:34
usage_error multicast_mac_is_usage_error -k "$KERNEL" -n tap=$TAP,mac=01:00:5e:00:00:01
usage_error unknown_net_option_is_usage_error -k "$KERNEL" -n tap=$TAP,vhost=on
usage_error fifth_net_is_usage_error -k "$KERNEL" -n tap=hvxt0 -n tap=hvxt1 -n tap=hvxt2 \
	-n tap=hvxt3 -n tap=hvxt4
$RUN --help >$T/help.out 2>&1
[ $? -eq 0 ] && grep -q -- '-d, --disk FILE\[,ro\]' $T/help.out &&
	grep -q -- '-n, --net tap=NAME\[,mac=MAC\]' $T/help.out
ktap_result help_lists_disk_and_net_options $?

# The tap all boots share, with the host's address on it.
[ -n "$skip" ] || { tunctl -t $TAP >/dev/null && ip addr add 10.0.2.1/24 dev $TAP &&
	ip link set $TAP up; } || ktap_diag "tap $TAP: cannot set it up"

# In Bochs (a guest boot takes minutes there) only the boot with our
# drivers runs: it drives the same hvx.ko paths on VMX (ioeventfd, irqfd,
# MMIO exits) as the other two, whose differences (guest driver, INTx,
# hvx-run killed) are hvx-run's vendor-neutral code, run in the SVM host.
all_boots_skip=$skip
[ -n "$skip" ] || [ -z "$guest_boot_slow" ] ||
	skip="the SVM host runs this boot; in Bochs only the boot with our drivers"

# Debian's virtio_pci + virtio_blk + virtio_net (MSI-X); the guest flushes
# and hvx-run is killed: what was flushed is in the image.  Then virtio_pci
# + our hvx_vblk.ko and hvx_vnet.ko.
# The read-write disk is a qcow2 overlay on a raw backing file here.
FORMAT=qcow2
boot virtio virtio hvxend=kill
check_boot virtio killed
[ "$(marker virtio serial)" = hvx-disk0 ]
check virtio_serial_is_get_id $?

# -v: hvx-run reports how each device's notifications and interrupts went.
VERBOSE=-v
some_boots_skip=$skip
skip=$all_boots_skip
boot own virtio-own
check_boot own
irq_path own irqfd
check own_interrupts_go_through_irqfds $?
skip=$some_boots_skip

# MSI off in the guest: INTx through the MP table to level-triggered
# I/O APIC pins, lowered by the ISR read.  A raw disk again.
FORMAT=raw
boot intx virtio pci=nomsi
check_boot intx
[ "$(marker intx irq-mode)" = intx ] && irq_path intx intx
check intx_guest_uses_intx $?

[ -n "$all_boots_skip" ] || tunctl -d $TAP >/dev/null
rm -rf $T
ktap_finish
