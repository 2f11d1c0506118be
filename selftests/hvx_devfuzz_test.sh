#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# hvx_devfuzz_test.sh - a guest makes random port and MMIO accesses to every device hvx-run emulates; each run ends in one of hvx-run's defined exits, with the host clean.
dir=$(dirname "$0")
. "$dir/ktap.sh"
. "$dir/guest_boot.sh"
guest_boot_needs
# HVX_FUZZ_SEED (make fuzz passes a new one; 1 by default, as the other
# fuzzers in make check); runs and operations per run.
SEED=${HVX_FUZZ_SEED:-1}
RUNS=${HVX_DEVFUZZ_RUNS:-2}
OPS=${HVX_DEVFUZZ_OPS:-2000}
# no_timer_check: a slow (emulated, loaded) host must not make the guest
# give up on its IO-APIC timer at boot, which would end the run unfuzzed.
# printk.devkmsg=on: the fuzzer reports through /dev/kmsg, whose writers
# are otherwise held to 10 lines in 5 s.
CMDLINE="console=ttyS0 reboot=k panic=-1 tsc=reliable no_timer_check printk.devkmsg=on"
# The guest boots (up to BOOT_TIMEOUT s until the fuzzer starts), then has
# FUZZ_TIMEOUT s to finish; one that hangs itself (a masked timer, a stuck
# device) is then ended with SIGTERM, on which hvx-run must exit as its
# help says (143).  A run whose fuzzer never started fails.
# Both runs fit the runner's 300 s even at their worst.
BOOT_TIMEOUT=100
FUZZ_TIMEOUT=30
scale_timeouts BOOT_TIMEOUT FUZZ_TIMEOUT
T=/tmp/hvx-devfuzz-test

ktap_plan $((RUNS * 2 + 1))
mkdir -p $T
ktap_diag "seed $SEED, $RUNS runs of $OPS operations (replay: HVX_FUZZ_SEED=$SEED)"
i=0
while [ $i -lt $RUNS ]; do
	s=$((SEED + i))
	head -c $((4 << 20)) /dev/zero >$T/disk.img
	t0=$(date +%s)
	$RUN -k "$KERNEL" -i "$GUEST" -m 128M -c 2 \
		-p "$CMDLINE hvxguest=devfuzz hvxdevfuzz=$s:$OPS" -d $T/disk.img -n tap=hvxfz0 \
		</dev/null >$T/run.out 2>$T/run.err &
	pid=$!
	started= ended=
	while kill -0 $pid 2>/dev/null; do
		now=$(date +%s)
		if [ -z "$started" ] && grep -q 'HVX-DEVFUZZ: seed' $T/run.out; then
			started=$now
		fi
		if { [ -z "$started" ] && [ $((now - t0)) -ge $BOOT_TIMEOUT ]; } ||
		   { [ -n "$started" ] && [ $((now - started)) -ge $FUZZ_TIMEOUT ]; }; then
			ended=sigterm
			kill -TERM $pid
			# Ignoring SIGTERM is a failure too (137), not a hang here.
			( sleep 10; kill -KILL $pid 2>/dev/null ) &
			break
		fi
		sleep 1
	done
	wait $pid
	rc=$?
	grep -q 'HVX-DEVFUZZ: seed' $T/run.out; fuzzed=$?
	# Progress comes through the guest's kernel log: "[ time] HVX-DEVFUZZ: N".
	reached=$(tr -d '\r' <$T/run.out | sed -n 's/.*HVX-DEVFUZZ: \([0-9]*\)$/\1/p' | tail -n 1)
	tr -d '\r' <$T/run.out | grep -q 'HVX-DEVFUZZ: done' && reached="$OPS (done)"
	case $rc in
	0) how="guest powered off" ;;
	10) how="guest reset" ;;
	11) how="guest triple-faulted" ;;
	12) how="guest kernel panicked" ;;
	13) how="hvx-run internal error: $(grep 'internal error' $T/run.err | head -n 1)" ;;
	143) how="guest hung; hvx-run ended by SIGTERM" ;;
	*) how="not a defined exit" ;;
	esac
	ktap_diag "run $i (seed $s): exit $rc after $(($(date +%s) - t0)) s, $how; ${reached:-0} operations reported"
	tr -d '\r' <$T/run.out | grep -q 'HVX-DEVFUZZ: seed' ||
		{ ktap_diag "the fuzzer did not start; the guest's last words:"; tail -n 15 $T/run.out | defuse; }
	# 143 only for our SIGTERM; and the fuzzer must have run.
	case $rc in
	0|10|11|12|13) [ $fuzzed -eq 0 ] ;;
	143) [ "$ended" = sigterm ] && [ $fuzzed -eq 0 ] ;;
	*) tail -n 20 $T/run.err | defuse; false ;;
	esac
	ktap_result run_${i}_ends_in_a_defined_exit_after_fuzzing $?
	# hvx-run's own crash or assertion, whatever the status says.
	! grep -E 'Segmentation|Aborted|assert|core dumped|AddressSanitizer' $T/run.err | defuse | grep .
	ktap_result run_${i}_hvx_run_did_not_crash $?
	i=$((i + 1))
done
# Every run's VM gone.
sleep 1
hvx-info 2>/dev/null | grep -q 'max vms: .*(0 now)'
ktap_result all_vms_freed_after $?
ip link del hvxfz0 2>/dev/null
rm -rf $T
ktap_finish
