#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# reload_test.sh - 20 load/unload cycles, each creating and destroying a VM, leak no memory.
. /tests/ktap.sh
KO=/lib/hvx/hvx.ko
CYCLES=20
# Free memory may wander by a few pages (per-CPU page lists, slab caches);
# a leak of one page per cycle would be 80 KiB.  Allow less than that.
SLACK_KB=64

# meminfo FIELD: the field's value in KiB, after letting caches settle.
meminfo() {
	awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo
}

settle() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	echo 2 >/proc/sys/vm/compact_memory 2>/dev/null
	sleep 0.2
}

cycle() {
	rmmod hvx || return 1
	insmod $KO || return 1
	/tests/hvx_hold </dev/null >/dev/null || return 1
}

ktap_plan 3

# Warm up the allocator paths once before measuring.
cycle && cycle
settle
free0=$(meminfo MemFree)
slab0=$(meminfo SUnreclaim)
ok=0
i=0
while [ $i -lt $CYCLES ]; do
	cycle || ok=1
	i=$((i + 1))
done
ktap_result "reload_${CYCLES}_cycles" $ok
settle
free1=$(meminfo MemFree)
slab1=$(meminfo SUnreclaim)
ktap_diag "MemFree ${free0} -> ${free1} kB, SUnreclaim ${slab0} -> ${slab1} kB"
[ $((free0 - free1)) -lt $SLACK_KB ]
ktap_result memfree_does_not_shrink $?
[ $((slab1 - slab0)) -lt $SLACK_KB ]
ktap_result unreclaimable_slab_does_not_grow $?
ktap_finish
