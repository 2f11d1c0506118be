#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# hvx_multiboot_test.sh - hvx-run boots multiboot kernels (32/64-bit ELF, a.out kludge): machine state, info block, module, fw_cfg, the exit port, refusals.
dir=$(dirname "$0")
. "$dir/ktap.sh"
. "$dir/guest_boot.sh"
MB=$dir/multiboot
[ -d "$MB" ] || MB=$dir
guest_boot_needs "$MB/mb_kernel.elf"
T=/tmp/hvx-multiboot-test
rm -rf $T
mkdir -p $T
ktap_plan 18

# mb NAME KERNEL [hvx-run options]: one run, console in $T/NAME.out (no
# CRs), messages in $T/NAME.err, exit status in $T/NAME.rc.
mb() {
	name=$1 kernel=$2
	shift 2
	timeout 60 $RUN -k "$MB/$kernel" "$@" </dev/null >$T/$name.raw 2>$T/$name.err
	echo $? >$T/$name.rc
	tr -d '\r' <$T/$name.raw >$T/$name.out
	ktap_diag "$name: exit $(cat $T/$name.rc): $(tail -n 1 $T/$name.err)"
	sed 's/^/#   /' $T/$name.out
}
# line NAME KEY: the rest of the "HVX-MB: KEY ..." line
line() { sed -n "s/^HVX-MB: $2 //p" $T/$1.out | head -n 1; }

echo "module line one" >$T/module.txt
echo "second line" >>$T/module.txt
msize=$(wc -c <$T/module.txt)

# The 32-bit ELF, two vCPUs, 128 MiB, a module, an exit value.
mb elf32 mb_kernel.elf -m 128M -c 2 -i $T/module.txt -p "exit=21 one two"
# (21 << 1) | 1, as QEMU's isa-debug-exit
[ "$(cat $T/elf32.rc)" = 43 ]
ktap_result elf32_exit_port_status $?
# EAX the magic; protected mode, paging off; the bss beyond the file zeroed
[ "$(line elf32 magic)" = "0x2badb002 pe 1 pg 0 bss_zero 1" ]
ktap_result elf32_entry_state $?
# memory info, command line, memory map, module, loader name (flags 0x24d)
[ "$(line elf32 flags)" = "0x0000024d mem_lower 640 mem_upper $((127 * 1024))" ]
ktap_result elf32_info_memory $?
[ "$(line elf32 cmdline)" = "$MB/mb_kernel.elf exit=21 one two" ]
ktap_result elf32_info_cmdline $?
# the map's RAM: 0-0x9fc00 and 1 MiB to the end
[ "$(line elf32 mmap_ram_kib)" = $((639 + 127 * 1024)) ]
ktap_result elf32_info_memory_map $?
[ "$(line elf32 module)" = "$msize bytes, aligned 1: module line one" ]
ktap_result elf32_module $?
[ "$(line elf32 fw_cfg)" = "QEMU cpus 2 ram_mib 128" ]
ktap_result elf32_fw_cfg $?

# The same program as a 64-bit ELF; no exit value: it halts (status 0).
mb elf64 mb_kernel64.elf -m 64M
[ "$(cat $T/elf64.rc)" = 0 ] && grep -q '^HVX-MB: halt$' $T/elf64.out
ktap_result elf64_halts_status_0 $?
[ "$(line elf64 magic)" = "0x2badb002 pe 1 pg 0 bss_zero 1" ] &&
	[ "$(line elf64 fw_cfg)" = "QEMU cpus 1 ram_mib 64" ] &&
	[ "$(line elf64 cmdline)" = "$MB/mb_kernel64.elf" ]
ktap_result elf64_state_and_info $?
# flags without the module bit
[ "$(line elf64 flags)" = "0x00000245 mem_lower 640 mem_upper $((63 * 1024))" ]
ktap_result elf64_no_module $?

# The a.out kludge: load addresses from the header, bss cleared.
mb aout mb_kernel_aout.bin -p "exit=2"
[ "$(cat $T/aout.rc)" = 5 ] && [ "$(line aout magic)" = "0x2badb002 pe 1 pg 0 bss_zero 1" ]
ktap_result aout_kludge_boots $?

# Loaded at 32 KiB, below the BIOS area: the module and the info block
# follow it there.
mb low mb_kernel_low.elf -i $T/module.txt -p "exit=7"
[ "$(cat $T/low.rc)" = 15 ] && [ "$(line low magic)" = "0x2badb002 pe 1 pg 0 bss_zero 1" ] &&
	[ "$(line low module)" = "$msize bytes, aligned 1: module line one" ] &&
	[ "$(line low cmdline)" = "$MB/mb_kernel_low.elf exit=7" ]
ktap_result low_kernel_below_640k $?

# Memory above 4 GiB: in the map, not in mem_upper; fw_cfg counts all of it.
mb high_ram mb_kernel.elf -m 4G -p "exit=0"
[ "$(cat $T/high_ram.rc)" = 1 ] &&
	[ "$(line high_ram fw_cfg)" = "QEMU cpus 1 ram_mib 4096" ] &&
	[ "$(line high_ram mmap_ram_kib)" = $((639 + 4 * 1024 * 1024 - 1024)) ]
ktap_result ram_above_4g_in_map $?

# Refused, one line, status 2, nothing run: a required video mode, a
# segment in the MMIO hole, a file that is neither kind of kernel, an
# -i that is not there.
refused() {
	name=$1 want=$2
	shift 2
	$RUN "$@" </dev/null >$T/$name.out 2>$T/$name.err
	rc=$?
	ktap_diag "$name: exit $rc: $(cat $T/$name.err)"
	[ $rc -eq 2 ] && [ "$(wc -l <$T/$name.err)" -eq 1 ] && [ ! -s $T/$name.out ] &&
		grep -q "$want" $T/$name.err
	ktap_result $name $?
}
refused refuses_video_mode_flag "requires features 0x4" -k "$MB/mb_kernel_video.elf"
refused refuses_segment_past_ram "past the end of RAM" -k "$MB/mb_kernel_high.elf"
head -c 4096 /dev/zero >$T/zero.bin
refused refuses_unknown_kernel "nor a multiboot kernel" -k $T/zero.bin
# a truncated copy: the header is there, the segment's bytes are not
head -c 4200 "$MB/mb_kernel.elf" >$T/short.elf
refused refuses_truncated_elf "outside the file" -k $T/short.elf
refused refuses_missing_module "no-such-module" -k "$MB/mb_kernel.elf" -i $T/no-such-module

ktap_finish
