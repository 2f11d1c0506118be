#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# novirt_test.sh - on a host without usable VMX/SVM, hvx.ko refuses to load with one clear dmesg line.
. /tests/ktap.sh
KO=/lib/hvx/hvx.ko

ktap_plan 4
dmesg -c >/dev/null
out=$(/tests/finit_module $KO)
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
