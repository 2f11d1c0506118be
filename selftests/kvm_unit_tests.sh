#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kvm_unit_tests.sh - runs kvm-unit-tests' x86 tests (built outside the project) under hvx-run and under QEMU with Debian's KVM in one test host, and prints one table.
#
# Usage: kvm_unit_tests.sh [DIR]   DIR holds x86/*.flat and x86/unittests.cfg
# (the test host's /kut, which make kvm-unit-tests packs); KUT_TESTS=a,b
# runs only those; KUT_TIMEOUT (s, default 90) bounds each run.
#
# Each test runs as unittests.cfg says (vCPUs, arguments): under hvx-run
# (-c, -p, -m 256M), then under QEMU+KVM with the test's qemu_params, both
# with the same environment module (TEST_DEVICE=0: neither has QEMU's
# pc-testdev). Status 1 is a pass, 77 a skip, a run the limit stopped a
# timeout, anything else a failure. A test KVM passes and hvx does not is "not ok".
dir=$(dirname "$0")
. "$dir/ktap.sh"
. "$dir/guest_boot.sh"
KUT=${1:-/kut}
TMO=${KUT_TIMEOUT:-90}
T=/tmp/kut
if [ ! -f "$KUT/x86/unittests.cfg" ]; then
	echo "TAP version 13"
	echo "1..0 # SKIP no kvm-unit-tests build in $KUT (make kvm-unit-tests packs one)"
	exit 4
fi
rm -rf $T
mkdir -p $T
QEMU=$(command -v qemu-system-x86_64)
[ -e /dev/kvm ] || QEMU=

# The tests that need nothing hvx and its test hosts lack by design:
# nested virtualization (vmx, svm), the PMU, Hyper-V, KVM's own
# paravirtual interfaces (asyncpf, kvmclock), ACPI sleep (s3), QEMU's
# test devices (intel_iommu), 32-bit builds, and tests that need a host
# setting (check =) or are not run by default (nodefault).
awk '
function flush() {
	if (name == "" || skip) return
	if (arch != "" && arch != "x86_64") return
	if (groups ~ /(^| )(vmx|svm|pmu|hyperv|nodefault|tsx-ctrl)( |$)/) return
	if (file ~ /^(vmx|svm|svm_npt|hyperv_.*|pmu.*|asyncpf|kvmclock_test|s3|intel-iommu|vmware_backdoors|cet|lam)\.flat$/) return
	if (check != "") return
	printf "%s|%s|%s|%s|%s|%s\n", name, file, smp, args, params, tmo
}
/^\[/ { flush(); name = substr($0, 2, length($0) - 2); file = ""; smp = 1; args = ""; params = ""
	groups = ""; arch = ""; check = ""; tmo = ""; skip = 0; next }
/^[a-z_]+ *=/ {
	key = $0; sub(/ *=.*/, "", key); val = $0; sub(/^[a-z_]+ *= */, "", val)
	gsub(/^["\047]|["\047]$/, "", val)
	if (key == "file") file = val
	else if (key == "smp") smp = val
	else if (key == "test_args") args = val
	else if (key == "qemu_params" || key == "extra_params") params = val
	else if (key == "groups") groups = val
	else if (key == "arch") arch = val
	else if (key == "check") check = val
	else if (key == "accel") { if (val != "kvm") skip = 1 }
}
END { flush() }' "$KUT/x86/unittests.cfg" >$T/list

if [ -n "$KUT_TESTS" ]; then
	for t in $(echo "$KUT_TESTS" | tr , ' '); do grep "^$t|" $T/list; done >$T/list.some
	mv $T/list.some $T/list
fi
echo "TEST_DEVICE=0" >$T/env

ktap_plan "$(wc -l <$T/list)"
ktap_diag "kvm-unit-tests: $(wc -l <$T/list) tests, each at most $TMO s; QEMU+KVM: ${QEMU:-none (no QEMU or /dev/kvm here)}"

# verdict STATUS START: busybox's timeout ends a run by SIGTERM (QEMU then
# exits 0, hvx-run 143), so a run as long as the limit is a timeout.
verdict() {
	if [ $(($(date +%s) - $2)) -ge "$tmo" ]; then
		echo TIMEOUT
		return
	fi
	case $1 in
	1) echo PASS ;;
	77) echo SKIP ;;
	*) echo "FAIL($1)" ;;
	esac
}

# The row's results and the worst line of each log.
: >$T/table
while IFS='|' read -r name file smp args params tmo; do
	[ -n "$tmo" ] || tmo=$TMO
	tmo=${tmo%s}
	[ "$tmo" -gt "$TMO" ] && tmo=$TMO
	t0=$(date +%s)
	timeout "$tmo" $RUN -k "$KUT/x86/$file" -c "$smp" -m 256M -i $T/env -p "$args" \
		</dev/null >$T/$name.hvx 2>&1
	h=$(verdict $? $t0)
	k=n/a
	if [ -n "$QEMU" ]; then
		t0=$(date +%s)
		# shellcheck disable=SC2086 # params are words
		timeout "$tmo" $QEMU -nodefaults -nographic -enable-kvm -cpu host -m 256 -smp "$smp" \
			-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x4 \
			-kernel "$KUT/x86/$file" -initrd $T/env -append "$args" $params \
			</dev/null >$T/$name.kvm 2>&1
		k=$(verdict $? $t0)
	fi
	printf '%-28s %-12s %s\n' "$name" "$h" "$k" >>$T/table
	hf=$(grep -c '^FAIL' $T/$name.hvx)
	ktap_diag "$name: hvx $h ($hf FAIL lines, $(grep -c '^PASS' $T/$name.hvx) PASS), kvm $k"
	if [ "$h" != PASS ] && [ "$h" != SKIP ]; then
		grep -E '^(FAIL|SUMMARY)|hvx-run:' $T/$name.hvx | head -n 8 | sed 's/^/#   /'
	fi
	if [ "$k" != PASS ] && [ "$k" != SKIP ] && [ "$k" != n/a ]; then
		grep -E '^(FAIL|SUMMARY)|qemu-system' $T/$name.kvm | head -n 4 | sed 's/^/#   kvm: /'
	fi
	# A test fails here only where KVM passes and hvx does not.
	[ "$h" = PASS ] || [ "$h" = SKIP ] || [ "$k" != PASS ]
	ktap_result "$name" $?
done <$T/list

echo "# ---- kvm-unit-tests: test, hvx-run, QEMU+KVM ----"
sed 's/^/# /' $T/table
echo "# hvx: $(awk '$2 == "PASS"' $T/table | wc -l) passed; KVM: $(awk '$3 == "PASS"' $T/table | wc -l) passed"
ktap_finish
