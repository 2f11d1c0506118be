#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# reload_test.sh - 20 load/unload cycles, each creating and destroying VMs, leak no memory.
. /tests/ktap.sh
KO=/lib/hvx/hvx.ko
CYCLES=20
VMS_PER_CYCLE=200
# Free memory may wander by a few pages (per-CPU page lists, slab caches);
# a leak of one page per cycle would be 80 KiB.  Allow less than that.
SLACK_KB=64
# Bytes held in slab objects: a leak of one small object per VM would be
# CYCLES * VMS_PER_CYCLE objects of 32 bytes or more: 125 KiB.  Allow less than that.
SLAB_SLACK_BYTES=65536

# meminfo FIELD: the field's value in KiB.
meminfo() {
	awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo
}

# Free memory in KiB, counting the pages parked on per-CPU free lists
# (MemFree does not, and they come and go with every allocation).
free_kb() {
	awk '$1 == "nr_free_pages" || $1 == "count:" { n += $2 }
	     END { print n * 4 }' /proc/zoneinfo
}

# Bytes in live slab objects (active objects times object size, all caches).
slab_bytes() {
	awk 'NR > 2 { sum += $2 * $4 } END { print sum }' /proc/slabinfo
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
	/tests/hvx_hold $VMS_PER_CYCLE </dev/null >/dev/null || return 1
}

ktap_plan 4

# Warm up the allocator paths once before measuring.
cycle && cycle
settle
free0=$(free_kb)
slab0=$(meminfo SUnreclaim)
objs0=$(slab_bytes)
ok=0
i=0
while [ $i -lt $CYCLES ]; do
	cycle || ok=1
	i=$((i + 1))
done
ktap_result "reload_${CYCLES}_cycles" $ok
settle
free1=$(free_kb)
slab1=$(meminfo SUnreclaim)
objs1=$(slab_bytes)
ktap_diag "free ${free0} -> ${free1} kB, SUnreclaim ${slab0} -> ${slab1} kB, slab objects ${objs0} -> ${objs1} B"
[ $((free0 - free1)) -lt $SLACK_KB ]
ktap_result free_memory_does_not_shrink $?
[ $((slab1 - slab0)) -lt $SLACK_KB ]
ktap_result unreclaimable_slab_does_not_grow $?
[ $((objs1 - objs0)) -lt $SLAB_SLACK_BYTES ]
ktap_result live_slab_objects_do_not_grow $?
ktap_finish
