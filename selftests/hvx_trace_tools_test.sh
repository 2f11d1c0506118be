#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# hvx_trace_tools_test.sh - Debian's perf and trace-cmd see hvx's tracepoints, and the packaged hvx-stat reads a running VM, as an operator would use them.
# Runs in the test host deb-check.sh boots, after deb_install_test.sh:
# perf, trace-cmd and the packaged hvx-stat (with their libraries) are
# under /lib/hvx/deb; elsewhere the subtests skip.  The workload is
# stats_test --run-cpuids: a VM doing exactly N CPUIDs and one ucall.
dir=$(dirname "$0")
. "$dir/ktap.sh"
D=/lib/hvx/deb
N=1000
T=/tmp/trace-tools
WORK="$dir/stats_test --run-cpuids $N"
TESTS="perf_stat_counts_hvx_exits perf_stat_all_hvx_events trace_cmd_records_hvx_exits
       hvx_stat_reads_running_vm hvx_stat_live_plain_when_piped hvx_stat_refuses_other_user
       hvx_stat_lets_finished_vm_go"

ktap_plan 7
if [ ! -x $D/perf ] || [ ! -x $D/trace-cmd ] || [ ! -x $D/hvx-stat ]; then
	for t in $TESTS; do
		ktap_skip $t "no packaged perf, trace-cmd and hvx-stat here (deb-check.sh's host has them)"
	done
	ktap_finish
fi
mkdir -p $T
[ -d /sys/module/hvx ] || insmod $D/hvx.ko || insmod /lib/hvx/hvx.ko
# What the package's udev rule does (deb_install_test.sh checks the rule).
chgrp kvm /dev/hvx && chmod 660 /dev/hvx
[ -d /sys/kernel/tracing/events ] || mount -t tracefs tracefs /sys/kernel/tracing

# perf stat on one tracepoint with a filter: kind 3 is a CPUID exit.
$D/perf stat -x, -e hvx:hvx_exit --filter 'kind == 3' -o $T/perf1.csv -- $WORK >$T/perf1.out 2>&1
rc=$?
count=$(awk -F, '$3 == "hvx:hvx_exit" { print $1 }' $T/perf1.csv)
ktap_diag "perf stat -e hvx:hvx_exit --filter 'kind == 3': exit $rc, count '$count' (want $N)"
[ $rc -eq 0 ] && [ "$count" = "$N" ]
ktap_result perf_stat_counts_hvx_exits $?

# perf stat -e 'hvx:*', as the README shows it: every event is known, the
# workload's one exit to userspace and its N + 1 exits at least.
$D/perf stat -x, -e 'hvx:*' -o $T/perf2.csv -- $WORK >$T/perf2.out 2>&1
rc=$?
events=$(awk -F, '$3 ~ /^hvx:/ { n++ } END { print n + 0 }' $T/perf2.csv)
user=$(awk -F, '$3 == "hvx:hvx_user_exit" { print $1 }' $T/perf2.csv)
exits=$(awk -F, '$3 == "hvx:hvx_exit" { print $1 }' $T/perf2.csv)
ktap_diag "perf stat -e 'hvx:*': exit $rc, $events events, hvx_user_exit $user, hvx_exit $exits"
[ $rc -eq 0 ] && [ "$events" -eq 8 ] && [ "$user" = 1 ] && [ "${exits:-0}" -gt $N ]
ktap_result perf_stat_all_hvx_events $?

# trace-cmd record and report: N CPUID exits with their decoded kind.
$D/trace-cmd record -q -o $T/trace.dat -e hvx:hvx_exit -f 'kind == 3' $WORK >$T/tc.out 2>&1
rc=$?
$D/trace-cmd report -i $T/trace.dat >$T/report.txt 2>$T/report.err
count=$(grep -c 'hvx_exit: *vcpu 0 cpuid hw ' $T/report.txt)
ktap_diag "trace-cmd record -e hvx:hvx_exit -f 'kind == 3': exit $rc, report has $count cpuid exits (want $N)"
[ $rc -eq 0 ] && [ "$count" -eq $N ]
rc=$?
[ $rc -eq 0 ] || sed -n '1,6p;$p' $T/tc.out $T/report.txt $T/report.err | sed 's/^/# /'
ktap_result trace_cmd_records_hvx_exits $rc

# The packaged hvx-stat on a VM that stays up after its N CPUIDs.
$WORK --hold >$T/hold.out 2>&1 &
pid=$!
i=0
while ! grep -q ready $T/hold.out && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
$D/hvx-stat -p $pid -a >$T/all.out 2>&1
rc=$?
ktap_diag "hvx-stat -p $pid -a: exit $rc, $(grep -E '^exits_cpuid ' $T/all.out)"
[ $rc -eq 0 ] && grep -qx "exits_cpuid $N" $T/all.out && grep -qx "exits_hw_cpuid $N" $T/all.out
ktap_result hvx_stat_reads_running_vm $?

# Live mode into a pipe: plain blocks (no terminal codes), one per sample.
$D/hvx-stat -p $pid -d 0.2 -n 2 >$T/live.out 2>&1
rc=$?
blocks=$(grep -c '^hvx-stat .* every 0.20 s, 1 VM' $T/live.out)
esc=$(grep -c "$(printf '\033')" $T/live.out)
ktap_diag "hvx-stat -d 0.2 -n 2 | ...: exit $rc, $blocks blocks, $esc lines with escapes"
[ $rc -eq 0 ] && [ "$blocks" -eq 2 ] && [ "$esc" -eq 0 ]
ktap_result hvx_stat_live_plain_when_piped $?

# A kvm member may open /dev/hvx but not read root's VM: one clear line.
su -s /bin/sh hvxuser -c "$D/hvx-stat -p $pid" >$T/user.out 2>&1
rc=$?
ktap_diag "hvx-stat -p $pid as hvxuser: exit $rc: $(head -n 1 $T/user.out)"
[ $rc -eq 1 ] && grep -q "run as root or as the VMM's user" $T/user.out
ktap_result hvx_stat_refuses_other_user $?

# A live hvx-stat must not keep a VM its VMM has closed: with -p it ends
# when the process does; watching all VMs it drops the VM at its next
# sample, so the VM is freed (hvx-info: "(0 now)") while it keeps running.
$D/hvx-stat -p $pid -d 0.2 -n 100 >$T/live2.out 2>&1 &
stat_pid=$!
$D/hvx-stat -d 0.2 -n 100 >$T/live3.out 2>&1 &
all_pid=$!
sleep 1
kill $pid
wait $pid 2>/dev/null
i=0
while kill -0 $stat_pid 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 1
vms=$($D/hvx-info | sed -n 's/^max vms:.*(\([0-9]*\) now)$/\1/p')
ended=$(kill -0 $stat_pid 2>/dev/null && echo no || echo yes)
watching=$(kill -0 $all_pid 2>/dev/null && echo yes || echo no)
kill $stat_pid $all_pid 2>/dev/null
wait $stat_pid $all_pid
ktap_diag "after the VMM exited: VMs now '$vms'; hvx-stat -p ended: $ended ($(tail -n 1 $T/live2.out)); hvx-stat on all still running: $watching"
[ "$vms" = 0 ] && [ $ended = yes ] && [ $watching = yes ] &&
	grep -q "process $pid has exited" $T/live2.out
ktap_result hvx_stat_lets_finished_vm_go $?
ktap_finish
