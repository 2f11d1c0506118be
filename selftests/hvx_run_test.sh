#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# hvx_run_test.sh - hvx-run boots the Debian kernel as a guest: console, CPUID, timer, memory, and each ending's exit status.
dir=$(dirname "$0")
. "$dir/ktap.sh"
. "$dir/guest_boot.sh"
. "$dir/hvx_module.sh"
guest_boot_needs
MEM_MB=256
# console/earlyprintk: the console on the UART from the first line on;
# reboot=k: reset through the i8042; panic=-1: reset at once after a panic;
# tsc=reliable: this emulated host loses timer ticks under load, and Linux
# would otherwise blame the TSC (whose rate hvx-run passes as tsc_early_khz).
CMDLINE="console=ttyS0 earlyprintk=serial,ttyS0 reboot=k panic=-1 tsc=reliable"
BOOT_TIMEOUT=120
T=/tmp/hvx-run-test

# boot NAME EXTRA-CMDLINE [hvx-run options]: one guest run, console in
# $T/NAME.out, hvx-run's messages in $T/NAME.err, exit status in $T/NAME.rc.
boot() {
	name=$1 extra=$2
	shift 2
	t0=$(date +%s)
	timeout $BOOT_TIMEOUT $RUN -k "$KERNEL" -i "$GUEST" -m ${MEM_MB}M -p "$CMDLINE $extra" "$@" \
		</dev/null >$T/$name.out 2>$T/$name.err
	echo $? >$T/$name.rc
	ktap_diag "$name: exit $(cat $T/$name.rc) after $(($(date +%s) - t0)) s, $(tail -n 1 $T/$name.err)"
	# A guest stopped by the timeout: where its vCPUs were.
	grep 'stopped at' $T/$name.err | while read -r line; do ktap_diag "$line"; done
}

# marker NAME KEY: the value of a "HVX-GUEST: KEY value" line.
marker() {
	tr -d '\r' <$T/$1.out | sed -n "s/^HVX-GUEST: $2 //p" | head -n 1
}

show_tail() {
	tail -n "${2:-25}" $T/$1.out | defuse
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

# kill_running NAME SIGNAL: boot a guest that waits, send SIGNAL to hvx-run
# once the guest's /init has spoken; its exit status in $rc.
kill_running() {
	: >$T/$1.out
	$RUN -k "$KERNEL" -i "$GUEST" -m ${MEM_MB}M -p "$CMDLINE hvxguest=wait" </dev/null \
		>$T/$1.out 2>$T/$1.err &
	pid=$!
	i=0
	while ! grep -q '^HVX-GUEST: init' $T/$1.out && [ $i -lt $((BOOT_TIMEOUT * 5)) ]; do
		sleep 0.2
		i=$((i + 1))
	done
	kill -$2 $pid
	wait $pid
	rc=$?
}

ktap_plan 23
mkdir -p $T
head -c 8192 /dev/zero >$T/zero.img

usage_error no_kernel_is_usage_error
usage_error unknown_option_is_usage_error -k "$KERNEL" --frobnicate
usage_error bad_memory_size_is_usage_error -k "$KERNEL" -m lots
usage_error missing_kernel_file_is_usage_error -k /nonexistent/bzImage
usage_error non_bzimage_is_usage_error -k $T/zero.img
usage_error missing_initrd_is_usage_error -k "$KERNEL" -i /nonexistent/initrd
$RUN --help >$T/help.out 2>&1
[ $? -eq 0 ] && grep -q '^  143  SIGTERM' $T/help.out
ktap_result help_lists_exit_statuses $?

# Without /dev/hvx: status 3.  hvx.ko is loaded back right after (KO:
# outside the test hosts these checks skip when no file is found).
if ! hvx_module_find; then
	ktap_skip missing_dev_hvx_is_status_3 "$KO_WHY"
elif rmmod hvx 2>/dev/null; then
	$RUN -k "$KERNEL" </dev/null >/dev/null 2>$T/nodev.err
	rc=$?
	insmod "$KO"
	ktap_diag "no_dev_hvx: exit $rc: $(cat $T/nodev.err)"
	[ $rc -eq 3 ] && [ "$(wc -l <$T/nodev.err)" -eq 1 ]
	ktap_result missing_dev_hvx_is_status_3 $?
else
	ktap_result missing_dev_hvx_is_status_3 1
fi

# The Bochs VMX hosts run at 200 MHz of emulated time, where each guest
# boot takes about a minute: longer timeouts there.
[ -n "$guest_boot_slow" ] && BOOT_TIMEOUT=400
scale_timeouts BOOT_TIMEOUT
# In Bochs (about two minutes a boot) the boots whose endings are
# hvx-run's vendor-neutral code (panic and reboot seen on the console or
# the i8042, SIGKILL closing the fds as SIGTERM's handler does) are left
# to the SVM host; the 1-CPU Bochs host boots power-off and SIGTERM, the
# 2-CPU one power-off and two vCPUs.
neutral_skip=
[ -n "$guest_boot_slow" ] &&
	neutral_skip="the SVM host runs this boot: its ending is hvx-run's vendor-neutral code"
term_skip=
[ -n "$bochs_smp" ] && term_skip="the 1-CPU Bochs host and the SVM hosts run this boot"
if [ -n "$skip" ]; then
	for t in guest_reaches_init guest_cpuinfo_has_hypervisor_flag guest_cpuid_signature_is_hvx guest_tsc_deadline_clockevent guest_timer_ticks guest_ram_matches_m guest_log_has_no_warnings poweroff_is_status_0 device_state_round_trips smp_guest_brings_up_two_vcpus panic_is_status_12 reboot_is_status_10 sigterm_is_status_143 vm_gone_after_sigterm vm_gone_after_sigkill; do
		ktap_skip $t "$skip"
	done
else
	# The main boot: every check of the guest's /init, then power-off;
	# at the end hvx-run saves every device's state, loads it back and
	# saves again (HVX_RUN_STATE_CHECK), which must give the same bytes.
	export HVX_RUN_STATE_CHECK=1
	boot poweroff ""
	unset HVX_RUN_STATE_CHECK
	if [ "$(cat $T/poweroff.rc)" -eq 0 ]; then show_tail poweroff 30; else show_tail poweroff 200; fi
	grep -q '^HVX-GUEST: init' $T/poweroff.out
	ktap_result guest_reaches_init $?
	[ "$(marker poweroff hypervisor-flag)" = yes ]
	ktap_result guest_cpuinfo_has_hypervisor_flag $?
	[ "$(marker poweroff cpuid-signature)" = "hvxhvxhvxhvx 0x40000001" ]
	ktap_result guest_cpuid_signature_is_hvx $?
	# The guest's local APIC timer runs in TSC-deadline mode (the ticks below).
	[ "$(marker poweroff tsc-deadline)" = "yes lapic-deadline" ]
	ktap_result guest_tsc_deadline_clockevent $?
	set -- $(marker poweroff uptime) $(marker poweroff jiffies)
	# Over a 1 s sleep: uptime by 0.9-5 s; jiffies (HZ 250) by at least 200.
	awk -v u1="$1" -v u2="$2" -v j1="${3:-0}" -v j2="${4:-0}" \
		'BEGIN { exit !(u1 != "" && u2 - u1 >= 0.9 && u2 - u1 < 5 && (j1 == 0 || j2 - j1 >= 200)) }'
	ktap_result guest_timer_ticks $?
	# The kernel's RAM total is -m less the BIOS area from 639 KiB to 1 MiB.
	kb=$(marker poweroff ram-kb)
	ktap_diag "guest RAM ${kb:-?} kB (MemTotal $(marker poweroff memtotal-kb) kB) for -m ${MEM_MB}M"
	[ -n "$kb" ] && [ "$kb" -le $((MEM_MB * 1024)) ] && [ "$kb" -ge $((MEM_MB * 1024 - 1024)) ]
	ktap_result guest_ram_matches_m $?
	! grep -E 'unchecked MSR access|WARNING: CPU:|Call Trace|BUG:|Oops' $T/poweroff.out | defuse | grep .
	ktap_result guest_log_has_no_warnings $?
	[ "$(cat $T/poweroff.rc)" -eq 0 ] && grep -q '^HVX-GUEST: done' $T/poweroff.out &&
		grep -q 'guest powered off' $T/poweroff.err
	ktap_result poweroff_is_status_0 $?
	grep 'device state:' $T/poweroff.err | while read -r line; do ktap_diag "$line"; done
	grep -q 'device state: [0-9]* bytes, saved, loaded and saved again: identical' $T/poweroff.err
	ktap_result device_state_round_trips $?

	# Two vCPUs: the guest starts the second with INIT/SIPI and powers both
	# off (in Bochs, the 2-CPU host's boot: it is the one there).
	if [ -n "$guest_boot_slow" ] && [ -z "$bochs_smp" ]; then
		ktap_skip smp_guest_brings_up_two_vcpus "the 2-CPU Bochs host runs this boot"
	else
		boot smp "" -c 2
		[ "$(cat $T/smp.rc)" -eq 0 ] && [ "$(marker smp cpus)" = 2 ] &&
			grep -q '^HVX-GUEST: done' $T/smp.out
		ktap_result smp_guest_brings_up_two_vcpus $?
		[ "$(cat $T/smp.rc)" -eq 0 ] || show_tail smp 200
	fi

	if [ -n "$neutral_skip" ]; then
		ktap_skip panic_is_status_12 "$neutral_skip"
		ktap_skip reboot_is_status_10 "$neutral_skip"
	else
		boot panic hvxguest=panic
		[ "$(cat $T/panic.rc)" -eq 12 ] && grep -q 'guest kernel panic' $T/panic.err &&
			! grep -q still-alive $T/panic.out
		ktap_result panic_is_status_12 $?
		[ "$(cat $T/panic.rc)" -eq 12 ] || show_tail panic 200

		boot reboot hvxguest=reboot
		[ "$(cat $T/reboot.rc)" -eq 10 ] && grep -q 'guest reboot' $T/reboot.err
		ktap_result reboot_is_status_10 $?
		[ "$(cat $T/reboot.rc)" -eq 10 ] || show_tail reboot 200
	fi

	if [ -n "$term_skip" ]; then
		ktap_skip sigterm_is_status_143 "$term_skip"
		ktap_skip vm_gone_after_sigterm "$term_skip"
	else
		# SIGTERM while the guest runs: the VM is torn down, status 143.
		kill_running term TERM
		ktap_diag "sigterm: exit $rc, $(tail -n 1 $T/term.err)"
		[ $rc -eq 143 ] && grep -q 'SIGTERM' $T/term.err
		ktap_result sigterm_is_status_143 $?
		# Nothing of the VM is left: hvx.ko unloads only when no VM fd exists.
		if [ -z "$KO" ]; then
			ktap_skip vm_gone_after_sigterm "$KO_WHY"
		else
			rmmod hvx && insmod "$KO"
			ktap_result vm_gone_after_sigterm $?
		fi
	fi

	# SIGKILL while the guest runs: the kernel closes the fds, same result.
	if [ -n "$neutral_skip" ]; then
		ktap_skip vm_gone_after_sigkill "$neutral_skip"
	else
		kill_running kill KILL
		if [ -z "$KO" ]; then
			ktap_skip vm_gone_after_sigkill "$KO_WHY"
		else
			rmmod hvx && insmod "$KO"
			ktap_result vm_gone_after_sigkill $?
		fi
	fi
fi

rm -rf $T
ktap_finish
