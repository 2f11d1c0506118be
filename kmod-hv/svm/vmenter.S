/* SPDX-License-Identifier: GPL-2.0 */
/* svm/vmenter.S - the SVM world switch: VMSAVE/VMLOAD around VMRUN, guest GPRs in and out. */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

#include "../vmenter.h"

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
	HVX_PUSH_CALLEE_SAVED
	push %rsi		/* 16(%rsp): regs */
	push %rdx		/*  8(%rsp): host save area */
	push %rdi		/*  0(%rsp): guest VMCB */

	mov %rdx, %rax
	vmsave %rax

	mov %rsi, %rax
	HVX_LOAD_GUEST_GPRS

	mov (%rsp), %rax
	vmload %rax
	vmrun %rax
	vmsave %rax

	mov 16(%rsp), %rax
	HVX_SAVE_GUEST_GPRS

	mov 8(%rsp), %rax
	vmload %rax

	/* The guest may have trained the return stack: refill it. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	HVX_SCRUB_GPRS

	add $24, %rsp
	HVX_POP_CALLEE_SAVED
	RET
SYM_FUNC_END(svm_vmrun_asm)
