#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# novirt_test.sh - on a host without usable VMX/SVM, hvx.ko refuses to load with one clear dmesg line.
dir=$(dirname "$0")
. "$dir/ktap.sh"
KO=/lib/hvx/hvx.ko
if [ -z "$HVX_TESTHOST" ]; then
	echo "TAP version 13"
	echo "1..0 # SKIP runs in the novirt test host only (a CPU without VMX/SVM)"
	exit 4
fi

ktap_plan 4
dmesg -c >/dev/null
out=$("$dir/finit_module" $KO)
[ $? -ne 0 ] && [ ! -e /dev/hvx ] && [ ! -e /sys/module/hvx ]
ktap_result insmod_refused $?
echo "$out" | grep -q 'No such device'
ktap_result insmod_error_is_enodev $?
# The kernel's own taint notices on a first out-of-tree load are not ours.
n=$(dmesg | grep -v -e 'taints kernel' -e 'module verification failed' | grep -c 'hvx')
[ "$n" -eq 1 ]
ktap_result exactly_one_dmesg_line $?
dmesg | grep -q 'hvx: no usable hardware virtualization: vmx: .*; svm: '
ktap_result line_names_both_vendors $?
dmesg | grep hvx | sed 's/^/# /'
ktap_finish
