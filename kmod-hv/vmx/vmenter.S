/* SPDX-License-Identifier: GPL-2.0 */
/* vmx/vmenter.S - the VMX world switch: guest GPRs in, VMLAUNCH/VMRESUME, guest GPRs out. */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

#define GPR(n)	((n) * 8)
#define R_RAX	GPR(0)
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
	push %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx
	push %rdi		/* 0(%rsp): regs */

	mov $HOST_RSP_FIELD, %rax
	vmwrite %rsp, %rax
	mov $HOST_RIP_FIELD, %rax
	lea vmx_vmexit(%rip), %rdx
	vmwrite %rdx, %rax

	/* ZF from this test picks VMRESUME or VMLAUNCH below. */
	test %esi, %esi
	mov %rdi, %rax
	mov R_RCX(%rax), %rcx
	mov R_RDX(%rax), %rdx
	mov R_RBX(%rax), %rbx
	mov R_RBP(%rax), %rbp
	mov R_RSI(%rax), %rsi
	mov R_RDI(%rax), %rdi
	mov R_R8(%rax), %r8
	mov R_R9(%rax), %r9
	mov R_R10(%rax), %r10
	mov R_R11(%rax), %r11
	mov R_R12(%rax), %r12
	mov R_R13(%rax), %r13
	mov R_R14(%rax), %r14
	mov R_R15(%rax), %r15
	mov R_RAX(%rax), %rax
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
	pop R_RAX(%rax)
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
	pop %rdi

	/* The guest may have trained the return stack: refill it. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT
	xor %eax, %eax

3:	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	RET
SYM_FUNC_END(vmx_vmenter_asm)
