# SPDX-License-Identifier: GPL-2.0
# guest_boot.sh - what the hvx-run guest-boot tests share: what a boot needs, defusing guest splats, which hosts boot what, skipped checks.
dir=${dir:-$(dirname "$0")}

# A guest boot needs hvx-run, the guest kernel and the test guest's
# initramfs (build-guest-initramfs.sh): in the test hosts /usr/bin/hvx-run
# and the host's own kernel in /boot with the guest beside it.  Elsewhere
# HVX_RUN, HVX_GUEST_KERNEL and HVX_GUEST_INITRD say where they are
# (hvx-run: else the source tree's build, then the PATH).
RUN=${HVX_RUN:-/usr/bin/hvx-run}
if [ -z "$HVX_RUN" ] && [ -z "$HVX_TESTHOST" ] && [ ! -x "$RUN" ]; then
	if [ -x "$dir/../userspace-tools/hvx-run/hvx-run" ]; then
		RUN=$dir/../userspace-tools/hvx-run/hvx-run
	elif command -v hvx-run >/dev/null; then
		RUN=$(command -v hvx-run)
	fi
fi
KERNEL=${HVX_GUEST_KERNEL:-/boot/vmlinuz-$(uname -r)}
GUEST=${HVX_GUEST_INITRD:-/boot/hvx-guest.cpio.gz}

# guest_boot_needs [COMMAND|/PATH]...: outside the test hosts, skip the
# whole test (exit 4, one line saying why) unless hvx-run, the guest
# kernel, its initramfs and each COMMAND (on the PATH) or /PATH are here.
# In a test host they all are: a missing one fails the test there.
guest_boot_needs() {
	gb_why=''
	[ -n "$HVX_TESTHOST" ] && return 0
	if [ ! -x "$RUN" ]; then
		gb_why="no hvx-run (set HVX_RUN=/path/to/hvx-run)"
	elif [ ! -r "$KERNEL" ]; then
		gb_why="no guest kernel $KERNEL (set HVX_GUEST_KERNEL)"
	elif [ ! -r "$GUEST" ]; then
		gb_why="no test guest initramfs $GUEST (testhost/build-guest-initramfs.sh makes it; or set HVX_GUEST_INITRD)"
	fi
	for gb_need in "$@"; do
		[ -z "$gb_why" ] || break
		case $gb_need in
		/*) [ -e "$gb_need" ] || gb_why="needs $gb_need" ;;
		*) command -v "$gb_need" >/dev/null || gb_why="needs $gb_need (busybox's, as in the test hosts)" ;;
		esac
	done
	[ -z "$gb_why" ] && return 0
	echo "TAP version 13"
	echo "1..0 # SKIP $gb_why"
	exit 4
}

# The host log is judged for kernel splats: a guest's are shown defused.
defuse() {
	sed -e 's/Kernel panic/Kernel p@nic/g; s/Call Trace/Call Tr@ce/g; s/WARNING:/W@RNING:/g' \
	    -e 's/BUG/B@G/g; s/Oops/O@ps/g; s/general protection/general pr@tection/g' \
	    -e 's/lockdep/l@ckdep/g; s/soft lockup/soft l@ckup/g; s/hung_task/hung_t@sk/g' \
	    -e 's/UBSAN:/UBS@N:/g; s/KASAN:/KAS@N:/g; s/circular locking/circular l@cking/g' \
	    -e 's/\r$//; s/^/# | /'
}

# Guest boots run in every test host.  (They once ran in 1-CPU hosts only:
# Debian's QEMU delivers an injected interrupt twice with two emulated CPUs,
# which broke about one boot in two; the SVM hosts now run our patched QEMU,
# see selftests/testhost/qemu/.)  $skip, when set, says why a boot's checks
# are skipped.
skip=
# Bochs runs at 200 MHz of emulated time: longer boots there.
guest_boot_slow=
[ "$(awk '/^cpu MHz/ { print int($4); exit }' /proc/cpuinfo)" -lt 1000 ] 2>/dev/null &&
	guest_boot_slow=1
# A host kernel built with its checkers (make check-debug: KASAN, lockdep,
# kmemleak) runs every exit and every hvx-run system call several times
# slower: its /init exports HVX_TIME_SCALE (hvxtimescale=N on the host's
# command line), and scale_timeouts VAR... multiplies a test's timeouts
# by it once they are set.
HVX_TIME_SCALE=${HVX_TIME_SCALE:-1}
scale_timeouts() {
	for st_var in "$@"; do
		eval "$st_var=\$((\$$st_var * HVX_TIME_SCALE))"
	done
}
# In the 2-CPU Bochs host a boot takes minutes of emulated time for each
# CPU: there hvx_run_test boots only the power-off and two-vCPU guests and
# the virtio tests are skipped whole (the 1-CPU Bochs host boots them on
# the same VMX paths, the SVM hosts on two CPUs).  The hostile rings are
# hvx-run's own parsing, through the notify and MMIO paths hvx_virtio_test
# drives: the SVM hosts alone run them.
bochs_smp=
[ -n "$guest_boot_slow" ] && [ "$(nproc)" -gt 1 ] && bochs_smp=1
if [ -n "$bochs_smp" ] && [ "$(basename "$0")" != hvx_run_test.sh ]; then
	echo "TAP version 13"
	echo "1..0 # SKIP the 1-CPU Bochs host and both SVM hosts run these boots"
	exit 4
fi
if [ -n "$guest_boot_slow" ] && [ "$(basename "$0")" = hvx_virtio_hostile_test.sh ]; then
	echo "TAP version 13"
	echo "1..0 # SKIP hvx-run's ring parsing: the SVM hosts run it (in Bochs hvx_virtio_test drives the same VMX paths)"
	exit 4
fi
# Likewise the device fuzzer: hvx-run's device models are the same on both
# vendors; guest_fuzz sends random I/O and MMIO exits through VMX.
if [ -n "$guest_boot_slow" ] && [ "$(basename "$0")" = hvx_devfuzz_test.sh ]; then
	echo "TAP version 13"
	echo "1..0 # SKIP hvx-run's device models: the SVM hosts run it (guest_fuzz drives VMX's I/O and MMIO exits)"
	exit 4
fi

# qcow2_overlay DIR: DIR/disk.qcow2, an empty 16 MiB qcow2 overlay whose
# backing file is the raw DIR/disk.img, as qemu-img makes it: the test
# hosts carry one (build-initramfs.sh made it beside the tests, for they
# have no qemu-img); elsewhere qemu-img makes it.
qcow2_overlay() {
	if [ -r "$dir/disk-overlay.qcow2" ]; then
		cp "$dir/disk-overlay.qcow2" "$1/disk.qcow2"
	else
		(cd "$1" && qemu-img create -q -f qcow2 -b disk.img -F raw disk.qcow2 16M)
	fi
}

# check NAME STATUS: a result of a guest boot, or a skip where boots do not run.
check() {
	if [ -n "$skip" ]; then ktap_skip $1 "$skip"; else ktap_result $1 $2; fi
}
