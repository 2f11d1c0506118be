# SPDX-License-Identifier: GPL-2.0
# guest_boot.sh - what the hvx-run guest-boot tests share: defusing guest splats, where boots run, skipped checks.

# The host log is judged for kernel splats: a guest's are shown defused.
defuse() {
	sed -e 's/Kernel panic/Kernel p@nic/g; s/Call Trace/Call Tr@ce/g; s/WARNING:/W@RNING:/g' \
	    -e 's/BUG/B@G/g; s/Oops/O@ps/g; s/general protection/general pr@tection/g' \
	    -e 's/lockdep/l@ckdep/g; s/soft lockup/soft l@ckup/g; s/hung_task/hung_t@sk/g' \
	    -e 's/UBSAN:/UBS@N:/g; s/KASAN:/KAS@N:/g; s/circular locking/circular l@cking/g' \
	    -e 's/\r$//; s/^/# | /'
}

# Guest boots run in the 1-CPU test hosts only: in QEMU 7.2's emulated SVM
# with two host CPUs about one guest boot in ten breaks (see README.md,
# hvx-run).  Elsewhere $skip says why and their checks are skipped.
skip=
[ "$(nproc)" -gt 1 ] && skip="guest boots run in the 1-CPU test hosts"
# Bochs runs at 200 MHz of emulated time: longer boots there.
guest_boot_slow=
[ "$(awk '/^cpu MHz/ { print int($4); exit }' /proc/cpuinfo)" -lt 1000 ] 2>/dev/null &&
	guest_boot_slow=1
# The 2-CPU Bochs host would only repeat, at minutes of emulated time, the
# argument checks the 1-CPU Bochs host ran: the whole test is skipped there.
if [ -n "$skip" ] && [ -n "$guest_boot_slow" ]; then
	echo "TAP version 13"
	echo "1..0 # SKIP guest boots run in the 1-CPU hosts, which also ran its argument checks"
	exit 4
fi

# check NAME STATUS: a result of a guest boot, or a skip where boots do not run.
check() {
	if [ -n "$skip" ]; then ktap_skip $1 "$skip"; else ktap_result $1 $2; fi
}
