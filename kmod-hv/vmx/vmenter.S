/* SPDX-License-Identifier: GPL-2.0 */
/* vmx/vmenter.S - the VMX world switch: guest GPRs in, VMLAUNCH/VMRESUME, guest GPRs out. */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

#include "../vmenter.h"

#define HOST_RSP_FIELD	0x6c14
#define HOST_RIP_FIELD	0x6c16

	.section .noinstr.text, "ax"

/*
 * int vmx_vmenter_asm(u64 *regs, int launched)
 *
 * Called with interrupts off and the vCPU's VMCS current.  RSP, RIP and
 * RFLAGS of the guest live in the VMCS, the other GPRs in @regs.  A VM
 * exit lands at vmx_vmexit with the host RSP written here, so the stack
 * holds everything needed to finish.  Returns 0 after a VM exit, 1 if
 * VMLAUNCH/VMRESUME itself failed (the caller reads the error field).
 */
SYM_FUNC_START(vmx_vmenter_asm)
	HVX_PUSH_CALLEE_SAVED
	push %rdi		/* 0(%rsp): regs */

	mov $HOST_RSP_FIELD, %rax
	vmwrite %rsp, %rax
	mov $HOST_RIP_FIELD, %rax
	lea vmx_vmexit(%rip), %rdx
	vmwrite %rdx, %rax

	/* ZF from this test picks VMRESUME or VMLAUNCH below. */
	test %esi, %esi
	mov %rdi, %rax
	HVX_LOAD_GUEST_GPRS
	mov HVX_GPR_RAX(%rax), %rax
	/* The stack at the VM exit is the one here: tell objtool. */
	UNWIND_HINT_SAVE
	jnz 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:
	/* Only a failed VMLAUNCH/VMRESUME gets here: the host state is ours. */
	pop %rdi
	mov $1, %eax
	jmp 3f

SYM_INNER_LABEL(vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	push %rax
	mov 8(%rsp), %rax	/* regs */
	pop HVX_GPR_RAX(%rax)
	HVX_SAVE_GUEST_GPRS
	pop %rdi

	/* The guest may have trained the return stack: refill it. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT
	xor %eax, %eax

3:	HVX_SCRUB_GPRS
	HVX_POP_CALLEE_SAVED
	RET
SYM_FUNC_END(vmx_vmenter_asm)
