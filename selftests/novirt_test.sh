#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# novirt_test.sh - on a host without usable VMX/SVM, hvx.ko refuses to load with one clear dmesg line.
. /tests/ktap.sh
KO=/lib/hvx/hvx.ko

ktap_plan 3
dmesg -c >/dev/null
insmod $KO 2>/dev/null
[ $? -ne 0 ] && [ ! -e /dev/hvx ] && [ ! -e /sys/module/hvx ]
ktap_result insmod_refused $?
n=$(dmesg | grep -c 'hvx')
[ "$n" -eq 1 ]
ktap_result exactly_one_dmesg_line $?
dmesg | grep -q 'hvx: no usable hardware virtualization: vmx: .*; svm: '
ktap_result line_names_both_vendors $?
dmesg | grep hvx | sed 's/^/# /'
ktap_finish
