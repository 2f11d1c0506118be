#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# run_tests.sh - in-host runner: runs each selftest and nests its KTAP under one result line.
# Per test; make soak asks for more (hvxtimeout= on the host command line).
TIMEOUT=${HVX_TEST_TIMEOUT:-300}

echo "TAP version 13"
echo "1..$#"
n=0
for t in "$@"; do
	n=$((n + 1))
	echo "# selftest: $t"
	start=$(cut -d' ' -f1 /proc/uptime)
	{ timeout $TIMEOUT /tests/$t 2>&1; echo $? >/tmp/rc; } | sed 's/^/    /'
	rc=$(cat /tmp/rc)
	# The host's own clock: under Bochs it counts instructions, so the
	# figure says where a CI run's minutes go.
	echo "# $t took $(awk -v s="$start" '{ printf "%.1f", $1 - s }' /proc/uptime) s"
	case $rc in
	0) echo "ok $n $t" ;;
	4) echo "ok $n $t # SKIP" ;;
	*) echo "not ok $n $t # exit=$rc" ;;
	esac
done
