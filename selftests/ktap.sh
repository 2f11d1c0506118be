# SPDX-License-Identifier: GPL-2.0
# ktap.sh - KTAP output helpers for the shell selftests (busybox sh).
ktap_n=0
ktap_failed=0
ktap_planned=0

ktap_plan() {
	ktap_planned=$1
	echo "TAP version 13"
	echo "1..$1"
}

ktap_diag() {
	echo "# $*"
}

# ktap_result NAME STATUS: STATUS 0 passes, anything else fails.
ktap_result() {
	ktap_n=$((ktap_n + 1))
	if [ "$2" -eq 0 ]; then
		echo "ok $ktap_n $1"
	else
		echo "not ok $ktap_n $1"
		ktap_failed=$((ktap_failed + 1))
	fi
}

# ktap_skip NAME REASON: a subtest that did not run here, and why.
ktap_skip() {
	ktap_n=$((ktap_n + 1))
	echo "ok $ktap_n $1 # SKIP $2"
}

ktap_finish() {
	if [ "$ktap_n" -ne "$ktap_planned" ]; then
		ktap_diag "planned $ktap_planned subtests but ran $ktap_n"
		exit 1
	fi
	[ "$ktap_failed" -eq 0 ] || exit 1
	exit 0
}
