/* SPDX-License-Identifier: GPL-2.0 */
/* vmenter.h - what both world switches (svm/vmenter.S, vmx/vmenter.S) do alike to guest GPRs. */
#ifndef HVX_VMENTER_H
#define HVX_VMENTER_H

/* Offsets of the GPRs in hvx_vcpu.regs, in enum hvx_reg order. */
#define HVX_GPR_RAX	(0 * 8)
#define HVX_GPR_RCX	(1 * 8)
#define HVX_GPR_RDX	(2 * 8)
#define HVX_GPR_RBX	(3 * 8)
#define HVX_GPR_RBP	(5 * 8)
#define HVX_GPR_RSI	(6 * 8)
#define HVX_GPR_RDI	(7 * 8)
#define HVX_GPR_R8	(8 * 8)
#define HVX_GPR_R9	(9 * 8)
#define HVX_GPR_R10	(10 * 8)
#define HVX_GPR_R11	(11 * 8)
#define HVX_GPR_R12	(12 * 8)
#define HVX_GPR_R13	(13 * 8)
#define HVX_GPR_R14	(14 * 8)
#define HVX_GPR_R15	(15 * 8)

#ifdef __ASSEMBLY__

/* The callee-saved registers the guest's values will overwrite. */
.macro HVX_PUSH_CALLEE_SAVED
	push %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx
.endm

.macro HVX_POP_CALLEE_SAVED
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
.endm

/* Load every guest GPR but RAX and RSP from the array at %rax. */
.macro HVX_LOAD_GUEST_GPRS
	mov HVX_GPR_RCX(%rax), %rcx
	mov HVX_GPR_RDX(%rax), %rdx
	mov HVX_GPR_RBX(%rax), %rbx
	mov HVX_GPR_RBP(%rax), %rbp
	mov HVX_GPR_RSI(%rax), %rsi
	mov HVX_GPR_RDI(%rax), %rdi
	mov HVX_GPR_R8(%rax), %r8
	mov HVX_GPR_R9(%rax), %r9
	mov HVX_GPR_R10(%rax), %r10
	mov HVX_GPR_R11(%rax), %r11
	mov HVX_GPR_R12(%rax), %r12
	mov HVX_GPR_R13(%rax), %r13
	mov HVX_GPR_R14(%rax), %r14
	mov HVX_GPR_R15(%rax), %r15
.endm

/* Store every guest GPR but RAX and RSP into the array at %rax. */
.macro HVX_SAVE_GUEST_GPRS
	mov %rcx, HVX_GPR_RCX(%rax)
	mov %rdx, HVX_GPR_RDX(%rax)
	mov %rbx, HVX_GPR_RBX(%rax)
	mov %rbp, HVX_GPR_RBP(%rax)
	mov %rsi, HVX_GPR_RSI(%rax)
	mov %rdi, HVX_GPR_RDI(%rax)
	mov %r8, HVX_GPR_R8(%rax)
	mov %r9, HVX_GPR_R9(%rax)
	mov %r10, HVX_GPR_R10(%rax)
	mov %r11, HVX_GPR_R11(%rax)
	mov %r12, HVX_GPR_R12(%rax)
	mov %r13, HVX_GPR_R13(%rax)
	mov %r14, HVX_GPR_R14(%rax)
	mov %r15, HVX_GPR_R15(%rax)
.endm

/*
 * Leave no guest values in the caller-clobbered registers; the
 * callee-saved ones are popped over by the caller's own values.
 */
.macro HVX_SCRUB_GPRS
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
.endm

#endif /* __ASSEMBLY__ */
#endif /* HVX_VMENTER_H */
