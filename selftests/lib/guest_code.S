/* SPDX-License-Identifier: GPL-2.0 */
/* guest_code.S - guest payloads for the selftests, copied to guest address 0x10000. */

#define UCALL_PORT	0xf1
#define UCALL_DONE	0x600d
#define UCALL_SYNC	0x5111
#define UCALL_FAIL	0xbad

	.section .rodata.payloads, "a"

#define PAYLOAD(name) .globl name##_start, name##_end; name##_start:
#define END(name) name##_end:

/* ---- 16-bit real mode ---- */
	.code16
PAYLOAD(real_io)
	mov $0xbeef, %ax
	out %ax, $0x10
	in $0x11, %al
	out %al, $0x12
	hlt
	mov $0x1234, %bx
	mov %bx, 0x2000		/* DS base 0: to guest address 0x2000 */
	mov 0x2000, %cx
	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
END(real_io)

/* ---- 32-bit protected mode, paging with 4 MiB pages ---- */
	.code32
PAYLOAD(prot32)
	mov %cr0, %ebx
	movl $0xa5a5a5a5, 0x20000
	mov 0x20000, %edi
	mov $0x40000000, %eax
	cpuid
	mov %ebx, %esi
	mov %cr0, %ebx
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
END(prot32)

/* ---- 64-bit long mode ---- */
	.code64
PAYLOAD(long64)
	mov %cr0, %rbx
	mov %cr4, %rcx
	mov %cr2, %rsi
	movabs $0x0123456789abcdef, %rax
	mov %rax, 0x20000
	mov 0x20000, %rdx
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
END(long64)

PAYLOAD(cpuid64)
	mov $0x40000000, %eax
	xor %ecx, %ecx
	cpuid
	mov %eax, %esi
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	mov $0x8badf00d, %eax
	cpuid
	mov %eax, %esi
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
END(cpuid64)

PAYLOAD(hypercall64)
	mov $42, %rax
	mov $1, %rbx
	mov $2, %rcx
	mov $3, %rdx
	mov $4, %rsi
	vmmcall
	mov %rax, %rbx
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
END(hypercall64)

/* The same with VMX's VMCALL: each vendor has its own instruction. */
PAYLOAD(hypercall64_vmcall)
	mov $42, %rax
	mov $1, %rbx
	mov $2, %rcx
	mov $3, %rdx
	mov $4, %rsi
	vmcall
	mov %rax, %rbx
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
END(hypercall64_vmcall)

PAYLOAD(msr64)
	mov $0xc0000082, %ecx		/* LSTAR: kept in the kernel */
	mov $0x11223344, %eax
	mov $0xffff8000, %edx
	wrmsr
	xor %eax, %eax
	xor %edx, %edx
	rdmsr
	mov %eax, %ebx
	mov %edx, %esi
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	mov $0x40001234, %ecx		/* unknown: exits or #GPs by policy */
	rdmsr
	mov %eax, %ebx
	mov %edx, %esi
	mov $0x40001234, %ecx
	mov $0x99, %eax
	xor %edx, %edx
	wrmsr
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
END(msr64)

/* A non-canonical LSTAR: the CPU's WRMSR would #GP, so must hvx's (no IDT: shutdown). */
PAYLOAD(msr_bad64)
	mov $0xc0000082, %ecx
	mov $0x11223344, %eax
	mov $0x00010000, %edx
	wrmsr
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
END(msr_bad64)

PAYLOAD(triple64)
	sub $16, %rsp
	movq $0, (%rsp)
	movq $0, 8(%rsp)
	lidt (%rsp)
	ud2
END(triple64)

PAYLOAD(stringio64)
	mov $0x20000, %rsi
	mov $10000, %rcx
	mov $0x20, %dx
	rep outsb
	mov %rsi, %rbx
	mov %rcx, %r8
	mov $0x24000, %rdi
	mov $3000, %rcx
	mov $0x22, %dx
	rep insw
	mov %rdi, %r9
	mov %rcx, %r10
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
END(stringio64)

PAYLOAD(mmio64)
	mov $0xd0000000, %rbx
	movl $0xdeadbeef, (%rbx)
	movb $0x5a, 4(%rbx)
	movabs $0x1122334455667788, %rax
	mov %rax, 8(%rbx)
	mov (%rbx), %ecx
	movzbl 0x10(%rbx), %edx
	mov 0x18(%rbx), %r9
	mov 0x400000, %r10		/* read-only region: plain read */
	movl $0x77, 0x400000		/* read-only region: write exits */
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
END(mmio64)

/* The accumulator forms with an absolute address (A0-A3), as a constant MMIO pointer compiles to. */
PAYLOAD(mmio_moffs64)
	mov $0x5566, %eax
	movabs %eax, 0xd0000020
	movabs 0xd0000028, %rax
	mov %rax, %r11
	movabs 0xd0000024, %al
	mov %rax, %r12
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
END(mmio_moffs64)

/* An MMIO access the decoder does not know: an emulation error. */
PAYLOAD(mmio_bad64)
	mov $0xd0000000, %rbx
	add %eax, (%rbx)
END(mmio_bad64)

/* INS into MMIO: hvx could not store the data; says so before asking for it. */
PAYLOAD(insb_mmio64)
	mov $0xd0000000, %rdi
	mov $4, %rcx
	mov $0x80, %dx
	rep insb
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
END(insb_mmio64)

PAYLOAD(loop64)
1:	jmp 1b
END(loop64)

/* Counts in RBX and reports every step: registers must survive anything. */
PAYLOAD(counter64)
	xor %ebx, %ebx
1:	inc %rbx
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	jmp 1b
END(counter64)

/*
 * state64: RCX rounds of a mix of integer, SSE and memory work with no
 * exits, for save/restore in the middle: R8 counts rounds, RAX/RBX mix,
 * XMM0 sums XMM1 (1 per lane), 0x20000 holds the count, 0x20008 the mix.
 * Ends with RDX = XMM0's low lane and a DONE ucall.
 */
PAYLOAD(state64)
	pxor %xmm0, %xmm0
	mov $1, %eax
	movq %rax, %xmm1
	punpcklqdq %xmm1, %xmm1
	xor %eax, %eax
	xor %ebx, %ebx
	xor %r8d, %r8d
1:	paddq %xmm1, %xmm0
	add %rcx, %rax
	rol $3, %rax
	xor %rax, %rbx
	inc %r8
	mov %r8, 0x20000
	mov %rbx, 0x20008
	dec %rcx
	jnz 1b
	movq %xmm0, %rdx
	mov %rbx, %rsi
	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
END(state64)

/* Writes one byte to each of RCX pages from RBX: first touches. */
PAYLOAD(touch64)
1:	movb $1, (%rbx)
	add $4096, %rbx
	dec %rcx
	jnz 1b
	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
END(touch64)

/* Sums 64 KiB at 0x20000 into RBX; writes i*7 to 64 KiB at 0x40000. */
PAYLOAD(sum64)
	mov $0x20000, %rsi
	mov $65536, %rcx
	xor %ebx, %ebx
1:	movzbl (%rsi), %eax
	add %rax, %rbx
	inc %rsi
	dec %rcx
	jnz 1b
	mov $0x40000, %rdi
	xor %ecx, %ecx
2:	imul $7, %ecx, %eax
	mov %al, (%rdi,%rcx)
	inc %ecx
	cmp $65536, %ecx
	jne 2b
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
END(sum64)

/* One CPUID exit per ucall round: the benchmark's unit of work. */
PAYLOAD(bench_cpuid64)
1:	mov %r8, %r9		/* CPUID clobbers RCX: count in R9 */
2:	xor %eax, %eax
	cpuid
	dec %r9
	jnz 2b
	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
	jmp 1b
END(bench_cpuid64)

/* One port-I/O exit to userspace per iteration. */
PAYLOAD(bench_pio64)
1:	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
	jmp 1b
END(bench_pio64)

/*
 * peekpoke64: a loop of ucalls the VMM steers through registers: after each
 * UCALL_SYNC, RSI picks what the guest does next with RDI (address) and
 * RDX (value): 0 reads the qword at RDI into RBX, 1 writes RDX there,
 * 2 ends with UCALL_DONE.
 */
PAYLOAD(peekpoke64)
1:	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	cmp $1, %rsi
	je 2f
	cmp $2, %rsi
	je 3f
	mov (%rdi), %rbx
	jmp 1b
2:	mov %rdx, (%rdi)
	jmp 1b
3:	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
END(peekpoke64)

/*
 * merge_stress64: RCX pages from RDI, R8 rounds.  Round r checks that every
 * qword of every page still holds r-1 and writes r over it, then makes a
 * UCALL_SYNC.  A qword that lost a write ends in UCALL_FAIL with the page
 * in RBX and what it found in RDX.
 */
PAYLOAD(merge_stress64)
	mov $1, %r9
1:	xor %r10, %r10
2:	mov %r10, %r11
	shl $12, %r11
	add %rdi, %r11
	mov $512, %r12
	lea -1(%r9), %r13
3:	cmp %r13, (%r11)
	jne 9f
	mov %r9, (%r11)
	add $8, %r11
	dec %r12
	jnz 3b
	inc %r10
	cmp %rcx, %r10
	jne 2b
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	inc %r9
	cmp %r8, %r9
	jbe 1b
	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT
9:	mov %r10, %rbx
	mov (%r11), %rdx
	mov $UCALL_FAIL, %eax
	out %eax, $UCALL_PORT
	hlt
END(merge_stress64)


/*
 * lapic64: loads a GDT and an IDT whose vectors 0x40-0x4f count into
 * 0x20000 (last vector at 0x20008, one count per vector from 0x20100 on:
 * 0x40 at 0x20100, 0x41 at 0x20108, ...) and EOI the local APIC, then obeys the
 * VMM after each UCALL_SYNC: RSI 0 reads APIC register RDI into RBX, 1
 * writes EDX to it, 2 does STI;HLT;CLI, 3 CLI;HLT, 4 spins with
 * interrupts on until the count reaches RDX, 5 ends, 6 writes
 * IA32_TSC_DEADLINE with the TSC plus RDI (0 if RDI is 0; the value in
 * RBX), 7 reads it into RBX, 8 reads the TSC into RBX.  Every SYNC reports
 * the interrupt count in RCX and the last vector in R9.
 */
PAYLOAD(lapic64)
	movq $0, 0x31000
	movabs $0x00af9b000000ffff, %rax
	mov %rax, 0x31008
	movabs $0x00cf93000000ffff, %rax
	mov %rax, 0x31010
	movw $23, 0x31100
	movq $0x31000, 0x31102
	lgdt 0x31100
	lea lapic_stubs(%rip), %rax
	mov $0x40, %ecx
1:	mov %rcx, %rdx
	shl $4, %rdx
	add $0x30000, %rdx
	mov %rax, %rbx
	mov %bx, (%rdx)
	movw $0x8, 2(%rdx)
	movw $0x8e00, 4(%rdx)
	shr $16, %rbx
	mov %bx, 6(%rdx)
	shr $16, %rbx
	mov %ebx, 8(%rdx)
	movl $0, 12(%rdx)
	add $16, %rax
	inc %ecx
	cmp $0x50, %ecx
	jne 1b
	movw $0xfff, 0x31110
	movq $0x30000, 0x31112
	lidt 0x31110
	xor %esi, %esi
	xor %edi, %edi
2:	mov 0x20000, %rcx
	mov 0x20008, %r9
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	mov $0xfee00000, %r8d
	add %rdi, %r8
	cmp $0, %rsi
	jne 3f
	mov (%r8), %ebx
	jmp 2b
3:	cmp $1, %rsi
	jne 4f
	mov %edx, (%r8)
	jmp 2b
4:	cmp $2, %rsi
	jne 5f
	sti
	hlt
	cli
	jmp 2b
5:	cmp $3, %rsi
	jne 6f
	cli
	hlt
	jmp 2b
6:	cmp $4, %rsi
	jne 9f
	sti
7:	cmp %rdx, 0x20000
	jb 7b
	cli
	jmp 2b
9:	cmp $6, %rsi
	jne 10f
	xor %eax, %eax
	xor %edx, %edx
	test %rdi, %rdi
	jz 11f
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	add %rdi, %rax
	mov %rax, %rdx
	shr $32, %rdx
11:	mov %rax, %rbx
	mov $0x6e0, %ecx
	wrmsr
	jmp 2b
10:	cmp $7, %rsi
	jne 12f
	mov $0x6e0, %ecx
	rdmsr
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, %rbx
	jmp 2b
12:	cmp $8, %rsi
	jne 8f
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, %rbx
	jmp 2b
8:	mov $UCALL_DONE, %eax
	out %eax, $UCALL_PORT

lapic_common:
	push %rax
	mov 8(%rsp), %rax
	mov %rax, 0x20008
	incq 0x20000
	incq 0x20100 - 0x40 * 8(,%rax,8)
	mov $0xfee000b0, %eax
	movl $0, (%rax)
	pop %rax
	add $8, %rsp
	iretq

	.balign 16
lapic_stubs:
	.set vec, 0x40
	.rept 16
	.balign 16
	pushq $vec
	jmp lapic_common
	.set vec, vec + 1
	.endr
END(lapic64)



/*
 * notify64: RCX times, OUT of EBX to port 0x510 and a 4-byte store of EBX
 * to MMIO address 0xd0000000; then UCALL_SYNC, and again.
 */
PAYLOAD(notify64)
1:	mov %ebx, %eax
	mov $0x510, %dx
	out %eax, %dx
	mov $0xd0000000, %edi
	mov %ebx, (%rdi)
	dec %rcx
	jnz 1b
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	jmp 1b
END(notify64)

/* ap_real16: what a SIPI starts: reports its CS in RBX, then halts. */
	.code16
PAYLOAD(ap_real16)
	mov %cs, %bx
	mov $UCALL_SYNC, %eax
	out %eax, $UCALL_PORT
	cli
	hlt
END(ap_real16)
	.code64

	.section .note.GNU-stack, "", @progbits
