/* SPDX-License-Identifier: GPL-2.0 */
/* mb_entry.S - the multiboot test kernel's header and 32-bit entry: a stack, then mb_main(EAX, EBX). */
#ifndef MB_FLAGS
#define MB_FLAGS	0x00000003	/* page-aligned modules, memory info */
#endif
#define MB_MAGIC	0x1badb002

	.section .multiboot, "a"
	.align 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
#if MB_FLAGS & 0x10000
	/* the a.out kludge: where this file goes */
	.long mb_header		/* header_addr */
	.long __load_start	/* load_addr */
	.long __load_end	/* load_end_addr */
	.long __bss_end		/* bss_end_addr */
	.long _start		/* entry_addr */
#endif

	.text
	.code32
	.globl _start
_start:
	cli
	mov $stack_top, %esp
	push %ebx
	push %eax
	call mb_main
1:	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits

	.bss
	.align 16
	.space 8192
stack_top:
