/* SPDX-License-Identifier: GPL-2.0 */
/* svm/vmenter.S - the SVM world switch: VMSAVE/VMLOAD around VMRUN, guest GPRs in and out. */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

/* Offsets of the guest GPRs in hvx_vcpu.regs (enum hvx_reg order). */
#define GPR(n)	((n) * 8)
#define R_RCX	GPR(1)
#define R_RDX	GPR(2)
#define R_RBX	GPR(3)
#define R_RBP	GPR(5)
#define R_RSI	GPR(6)
#define R_RDI	GPR(7)
#define R_R8	GPR(8)
#define R_R9	GPR(9)
#define R_R10	GPR(10)
#define R_R11	GPR(11)
#define R_R12	GPR(12)
#define R_R13	GPR(13)
#define R_R14	GPR(14)
#define R_R15	GPR(15)

	.section .noinstr.text, "ax"

/*
 * void svm_vmrun_asm(u64 vmcb_pa, u64 *regs, u64 host_save_pa)
 *
 * Called with GIF clear and interrupts on (GIF=0 holds them pending, but
 * the host IF that VMRUN records lets a host interrupt exit the guest).
 * RAX, RSP, RIP and RFLAGS
 * of the guest live in the VMCB; the other GPRs in @regs.  VMRUN itself
 * saves and restores only part of the host (APM vol. 2, 15.5.1): the
 * segment, syscall and sysenter state that it leaves alone goes through
 * VMSAVE/VMLOAD into the per-CPU host save area.
 */
SYM_FUNC_START(svm_vmrun_asm)
	push %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx
	push %rsi		/* 16(%rsp): regs */
	push %rdx		/*  8(%rsp): host save area */
	push %rdi		/*  0(%rsp): guest VMCB */

	mov %rdx, %rax
	vmsave %rax

	mov %rsi, %rax
	mov R_RCX(%rax), %rcx
	mov R_RDX(%rax), %rdx
	mov R_RBX(%rax), %rbx
	mov R_RBP(%rax), %rbp
	mov R_RDI(%rax), %rdi
	mov R_R8(%rax), %r8
	mov R_R9(%rax), %r9
	mov R_R10(%rax), %r10
	mov R_R11(%rax), %r11
	mov R_R12(%rax), %r12
	mov R_R13(%rax), %r13
	mov R_R14(%rax), %r14
	mov R_R15(%rax), %r15
	mov R_RSI(%rax), %rsi

	mov (%rsp), %rax
	vmload %rax
	vmrun %rax
	vmsave %rax

	mov 16(%rsp), %rax
	mov %rcx, R_RCX(%rax)
	mov %rdx, R_RDX(%rax)
	mov %rbx, R_RBX(%rax)
	mov %rbp, R_RBP(%rax)
	mov %rsi, R_RSI(%rax)
	mov %rdi, R_RDI(%rax)
	mov %r8, R_R8(%rax)
	mov %r9, R_R9(%rax)
	mov %r10, R_R10(%rax)
	mov %r11, R_R11(%rax)
	mov %r12, R_R12(%rax)
	mov %r13, R_R13(%rax)
	mov %r14, R_R14(%rax)
	mov %r15, R_R15(%rax)

	mov 8(%rsp), %rax
	vmload %rax

	/* The guest may have trained the return stack: refill it. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	/* Leave no guest values in registers the caller may not clobber itself. */
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d

	add $24, %rsp
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	RET
SYM_FUNC_END(svm_vmrun_asm)
