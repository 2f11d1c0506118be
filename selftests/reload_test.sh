#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# reload_test.sh - 40 load/unload cycles, each creating and destroying VMs, leak no memory.
dir=$(dirname "$0")
. "$dir/ktap.sh"
. "$dir/hvx_module.sh"
CYCLES=40
VMS_PER_CYCLE=500
# Free memory wanders by up to ~100 KiB over a run here beyond what the
# unreclaimable slab grew by (per-CPU page lists, module areas); a leak of
# one page per cycle would be 160 KiB.  Allow less than that.  Slab growth
# is taken out of the free-memory figure (it once moved free memory by
# 136 KiB with SUnreclaim up 172 KiB in the 2-CPU SVM host): the slab
# checks below judge it.
SLACK_KB=128
# Slab figures wander by up to ~130 KiB here (SLUB counts objects parked
# in per-CPU slabs as live).  A leak of one object per VM would be
# CYCLES * VMS_PER_CYCLE = 20000 objects: 480 KiB and more for any
# object of 24 bytes or more.
SLAB_SLACK_KB=192

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
	for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f"; done 2>/dev/null
	echo 2 >/proc/sys/vm/compact_memory 2>/dev/null
	sleep 0.2
}

cycle() {
	rmmod hvx || return 1
	insmod "$KO" max_vms=$VMS_PER_CYCLE || return 1
	"$dir/hvx_hold" $VMS_PER_CYCLE </dev/null >/dev/null || return 1
}

# In the 2-CPU Bochs host a cycle takes over a second of emulated time for
# each CPU (half of that host's run): the 1-CPU Bochs host runs it on
# VMX, both SVM hosts on one and two CPUs.
if [ "$(awk '/^cpu MHz/ { print int($4); exit }' /proc/cpuinfo)" -lt 1000 ] 2>/dev/null &&
   [ "$(nproc)" -gt 1 ]; then
	echo "TAP version 13"
	echo "1..0 # SKIP the 1-CPU Bochs host and both SVM hosts run it"
	exit 4
fi
hvx_module_or_skip

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
[ $((free0 - free1 - (slab1 - slab0))) -lt $SLACK_KB ]
ktap_result free_memory_outside_slab_does_not_shrink $?
[ $((slab1 - slab0)) -lt $SLAB_SLACK_KB ]
ktap_result unreclaimable_slab_does_not_grow $?
[ $((objs1 - objs0)) -lt $((SLAB_SLACK_KB * 1024)) ]
ktap_result live_slab_objects_do_not_grow $?
# Leave hvx.ko loaded with its default parameters for the tests after us.
rmmod hvx && insmod "$KO"
ktap_finish
