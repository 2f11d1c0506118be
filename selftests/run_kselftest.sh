#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# run_kselftest.sh - runs hvx's selftests from the directory it lives in and prints one KTAP result per test, as kselftest's runner does.
#
# Each test's own KTAP is nested under its result, indented by four spaces
# (KTAP's nesting); "# " lines are diagnostics.  Exit code 4 from a test
# means skipped.  The per-test timeout is settings' timeout= (seconds);
# HVX_TEST_TIMEOUT overrides it (the test hosts' hvxtimeout=).
# Outside the emulated test hosts (whose /init exports HVX_TESTHOST and
# judges the module load itself) hvx.ko must be loaded first.
dir=$(cd "$(dirname "$0")" && pwd)
me=$(basename "$0")
list=$dir/kselftest-list.txt

usage() {
	cat <<EOF
Usage: $me [-t NAME]... [-l] [-h] [NAME...]
Runs hvx's selftests in $dir against the loaded hvx.ko and prints KTAP:
every test of kselftest-list.txt, or only those named.
  -t NAME   run NAME (hvx:NAME or NAME); repeat it for several
  -l        list the tests (hvx:NAME, one a line) and exit
  -h        this help
Per-test timeout: timeout= in $dir/settings, or HVX_TEST_TIMEOUT=SECONDS.
Where the tests find what they need beyond this directory: HVX_KO (the
hvx.ko to load back), HVX_RUN, HVX_GUEST_KERNEL, HVX_GUEST_INITRD (the
hvx-run guest boots; README.md, "Running the suite on a real host").
Exit status: 0 when every test passed or skipped, 1 when one failed or
timed out (or hvx.ko is not loaded), 2 on a usage error.
EOF
}

# The tests to run, one a line (a line may carry arguments after the name).
sel=
add() {
	sel="$sel${sel:+
}${1#hvx:}"
}
listonly=
while [ $# -gt 0 ]; do
	case $1 in
	-t) [ $# -ge 2 ] || { usage >&2; exit 2; }; add "$2"; shift 2 ;;
	-t*) add "${1#-t}"; shift ;;
	-l) listonly=1; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	-*) echo "$me: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) break ;;
	esac
done
for t in "$@"; do
	add "$t"
done

if [ -n "$listonly" ] || [ -z "$sel" ]; then
	if [ ! -r "$list" ]; then
		echo "$me: no $list (make install writes it); name the tests with -t NAME" >&2
		exit 2
	fi
	if [ -n "$listonly" ]; then
		grep '^hvx:' "$list"
		exit 0
	fi
	sel=$(sed -n 's/^hvx://p' "$list")
fi

# One positional parameter per test, spaces kept.
IFS='
'
set -f
set -- $sel
set +f
unset IFS
for t in "$@"; do
	prog=${t%% *}
	if [ ! -f "$dir/$prog" ] || [ ! -x "$dir/$prog" ]; then
		echo "$me: no test $prog in $dir ($me -l lists them)" >&2
		exit 2
	fi
done

timeout=$(sed -n 's/^timeout=\([0-9][0-9]*\)$/\1/p' "$dir/settings" 2>/dev/null | tail -n 1)
timeout=${HVX_TEST_TIMEOUT:-${timeout:-45}}

# hvx.ko loaded, its /dev/hvx there: outside the test hosts, nothing runs
# without it.  Inside, a missing module is the host's verdict to give
# ("insmod hvx.ko failed"), and novirt_test.sh runs without one.
nomod=
if [ ! -d /sys/module/hvx ]; then
	nomod="hvx.ko is not loaded"
	hint="load it first: sudo insmod hvx.ko (the one make builds), or sudo modprobe hvx when installed"
elif [ ! -c /dev/hvx ]; then
	nomod="hvx.ko is loaded but /dev/hvx is missing"
	hint="no devtmpfs or udev here?"
fi
if [ -n "$nomod" ] && [ -z "$HVX_TESTHOST" ]; then
	echo "$me: $nomod: $hint" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hvx-kselftest.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() {
	cut -d' ' -f1 /proc/uptime
}

echo "TAP version 13"
echo "1..$#"
[ -n "$nomod" ] && echo "# $nomod"
# Since 6.10 KVM holds VMX/SVM from its load on, unless told to wait for
# its first VM: then hvx can create no VM (README: Living beside KVM).
if [ "$(cat /sys/module/kvm/parameters/enable_virt_at_load 2>/dev/null)" = Y ] &&
   { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
	echo "# warning: KVM holds VMX/SVM (kvm enable_virt_at_load=Y): hvx's VMs will fail; reload kvm with enable_virt_at_load=0"
fi
cd "$dir" || exit 1
n=0
failed=0
for t in "$@"; do
	n=$((n + 1))
	echo "# selftests: hvx: $t"
	start=$(now)
	# $t unquoted: a name may carry its arguments ("hvx_migrate_pair.sh src").
	# Line by line, unbuffered (busybox sed holds its output back to a pipe):
	# when the machine dies mid-test, what the test printed is on record.
	{ timeout "$timeout" "$dir/"$t; echo $? >"$tmp/rc"; } 2>&1 |
		while IFS= read -r line || [ -n "$line" ]; do printf '    %s\n' "$line"; done
	rc=$(cat "$tmp/rc")
	took=$(awk -v s="$start" '{ printf "%.1f", $1 - s }' /proc/uptime)
	# The host's own clock: under Bochs it counts instructions, so the
	# figure says where a CI run's minutes go.
	echo "# $t took $took s"
	case $rc in
	0) echo "ok $n selftests: hvx: $t" ;;
	4) echo "ok $n selftests: hvx: $t # SKIP" ;;
	*)
		failed=$((failed + 1))
		# coreutils' timeout exits 124; busybox's ends the test by SIGTERM.
		if [ "${took%.*}" -ge "$timeout" ]; then
			echo "not ok $n selftests: hvx: $t # TIMEOUT $timeout seconds"
		else
			echo "not ok $n selftests: hvx: $t # exit=$rc"
		fi
		;;
	esac
done
[ $failed -eq 0 ]
