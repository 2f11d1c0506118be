#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check.sh - 'make check': warning-free builds, every test host (two at a time), the guest drivers in QEMU, DKMS, the qcow2 code against qemu-img; one closing summary line.
# Usage: check.sh BUILDDIR KVER_61 KVER_612   (BUILDDIR/KVER/host.cpio.gz must exist for both)
#
# Which kernel each host boots: every hvx.ko test runs on 6.1 and on 6.12,
# on SVM and on VMX, and the guests under hvx-run are the host's kernel.
#   svm-smp1  6.1   QEMU, 1 CPU      vmx       6.1   Bochs, 1 CPU
#             (svm-smp1 runs its list as a user does: make run_tests)
#   svm-smp2  6.12  QEMU, 2 CPUs     vmx-smp2  6.12  Bochs, 2 CPUs
#   migrate-pair 6.12: two 1-CPU QEMU hosts, a live migration between them
#   deb       6.1   QEMU, 1 CPU: what the Debian packages installed
# The emulators are single-threaded, so independent hosts run side by
# side, $HVX_CHECK_JOBS at a time (default: the number of CPUs), the
# longest first.
set -uo pipefail
build=$1 k61=$2 k612=$3
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
logs=$build/logs
rm -rf "$logs"
mkdir -p "$logs"
summary=$logs/summary.txt
: >"$summary"
jobs=${HVX_CHECK_JOBS:-$(nproc)}
initrd() { echo "$build/$1/host.cpio.gz"; }

# A pass/fail step that is not a test host (build hygiene, packaging).
plain() {
	local name=$1
	shift
	if "$@"; then
		echo "$name: 1 passed, 0 failed, 0 skipped"
	else
		echo "$name: 0 passed, 1 failed, 0 skipped"
	fi
}

# hvx.ko and the guest drivers must build without a single warning under
# W=1 and sparse, for each kernel.
lint() {
	local k ok=0
	for k in "$k61" "$k612"; do
		touch "$top"/kmod-hv/*.c "$top"/kmod-hv/*/*.c "$top"/guest-drivers/*.c
		{ make -C "/lib/modules/$k/build" M="$top" W=1 C=1 modules &&
		  make -C "/lib/modules/$k/build" M="$top/guest-drivers" W=1 C=1 modules; } \
			>"$logs/lint-$k.log" 2>&1 || ok=1
		grep -E 'warning:|error:' "$logs/lint-$k.log" && ok=1
		echo "lint: $k: $(grep -c '^  CHECK' "$logs/lint-$k.log") files checked by sparse"
	done
	make -s -C "/lib/modules/$k612/build" M="$top/guest-drivers" clean
	return $ok
}

# verdict NAME: its "NAME: N passed, N failed, N skipped" line; a missing
# line counts as one failure.
verdict() {
	local line
	line=$(grep -E "^$1: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$" "$logs/$1.out" | tail -n 1)
	echo "${line:-$1: 0 passed, 1 failed, 0 skipped}"
}

# step NAME CMD...: run one step in the background once a slot is free;
# when it ends, show its failures and verdict.
order=()
step() {
	local name=$1
	shift
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	order+=("$name")
	echo "== $name: started ($(date +%T))"
	(
		t0=$(date +%s)
		"$@" >"$logs/$name.out" 2>&1
		grep -E '^(FAIL|PROBLEM) ' "$logs/$name.out"
		echo "== $(verdict "$name") in $(($(date +%s) - t0)) s"
	) &
}

# native NAME CMD...: a test that runs here, not in a test host; its KTAP
# becomes FAIL lines and the verdict line (a missing result is a failure).
native() {
	local name=$1
	shift
	"$@" >"$logs/$name.ktap" 2>&1
	awk -v name="$name" -v rc=$? '
		/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0 }
		/^ok / { if (/# SKIP/) s++; else p++ }
		/^not ok / { f++; print "FAIL " name ": " $0; show = 1 }
		END {
			if (plan != p + f + s) f += (plan > p + f + s ? plan - p - f - s : 1)
			if (rc && rc != 4 && !f) f = 1
			printf "%s: %d passed, %d failed, %d skipped\n", name, p, f, s
		}' "$logs/$name.ktap"
}

start=$(date +%s)
# The build steps first and alone: they use every CPU.
plain lint lint >"$logs/lint.out" 2>&1
cat "$logs/lint.out"
order+=(lint)
# hvx-run's qcow2 code against qemu-img, on this machine: beside the
# hosts (mostly file I/O), outside their two slots (not a job of this
# shell, which step counts).
( (native qcow2 timeout 900 "$top/selftests/qcow2_test.sh" >"$logs/qcow2.out" 2>&1; : >"$logs/qcow2.done") & )
echo "== qcow2: started ($(date +%T))"
# Upper bounds for a slow machine; the hosts take about half.
step vmx "$here/run-bochs.sh" vmx "$k61" "$(initrd "$k61")" "$logs" -timeout 2400
step vmx-smp2 "$here/run-bochs.sh" vmx-smp2 "$k612" "$(initrd "$k612")" "$logs" -cpus 2 -timeout 2400
# vmx-smp2 ends first and takes svm-smp2, the shorter SVM host, so that
# its lane also has room for the short steps after it.
step svm-smp2 "$here/run-qemu.sh" svm-smp2 "$k612" "$(initrd "$k612")" "$logs" -smp 2 -timeout 1800
step svm-smp1 "$here/run-qemu.sh" svm-smp1 "$k61" "$(initrd "$k61")" "$logs" -smp 1 -timeout 1800 -runner make
# Live migration between two hosts (two emulators at once, for a while).
step migrate-pair "$here/run-migrate-pair.sh" migrate-pair "$k612" "$(initrd "$k612")" "$logs"
for k in "$k61" "$k612"; do
	v=${k%%-*}
	v=${v%.*}	# 6.1.0 -> 6.1, 6.12.117+deb12 -> 6.12
	v=${v%.0}
	step "virtio-drivers-$v" env RESULT_NAME="virtio-drivers-$v" KMODS="$build/$k/kmods" \
		"$top/guest-drivers/tests/run-virtio-qemu.sh" "$k" "$build/guest-drivers-$k"
	step "novirt-$v" "$here/run-qemu.sh" "novirt-$v" "$k" "$(initrd "$k")" "$logs" \
		-mode novirt -cpu EPYC,-svm
done
# The Debian packages: built, lintian, installed here (DKMS for both
# kernels), at work in an SVM host, purged (make dkms-check is the manual
# DKMS path, which these packages automate).
step deb "$here/deb-check.sh" "$build" "$k61" "$k612" "$logs"
while [ ! -e "$logs/qcow2.done" ]; do
	sleep 1
done
grep -E '^FAIL ' "$logs/qcow2.out"
echo "== $(verdict qcow2)"
order+=(qcow2)
wait

for name in "${order[@]}"; do
	verdict "$name" >>"$summary"
done
echo "== summary ($(($(date +%s) - start)) s, logs in $logs)"
cat "$summary"
awk '{ p += $2; f += $4; s += $6 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s; exit f ? 1 : 0 }' "$summary"
