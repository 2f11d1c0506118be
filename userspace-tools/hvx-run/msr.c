// SPDX-License-Identifier: GPL-2.0
/* msr.c - the MSRs hvx.ko does not keep, answered like KVM's ignore_msrs: read 0, write dropped. */
#include "hvx-run.h"

/*
 * Never #GP: Linux reads many MSRs with plain rdmsr (not rdmsr_safe) once
 * CPUID suggests they exist, and a #GP there is an "unchecked MSR access"
 * warning.  CPUID hides what is not offered, so what still arrives here
 * is mostly probing that a 0 answers well.  A few get a better answer.
 */
static uint64_t msr_read(uint32_t index)
{
	switch (index) {
	case 0xc0010015:	/* AMD HWCR */
		/*
		 * TscFreqSel: the TSC counts at the P0 frequency.  Linux warns
		 * ("TSC doesn't count with P0 frequency!") when it is clear on
		 * a CPU with an invariant TSC.
		 */
		return 1ull << 24;
	case 0x1a0:		/* IA32_MISC_ENABLE */
		/* Fast strings on; no branch trace store, no PEBS (no PMU). */
		return (1ull << 0) | (1ull << 11) | (1ull << 12);
	default:
		return 0;
	}
}

void msr_exit(struct vcpu *vcpu)
{
	struct hvx_run *run = vcpu->run;

	run->msr.error = 0;
	if (run->msr.is_write) {
		vlog("vCPU %d: wrmsr 0x%x = 0x%llx (ignored)", vcpu->id, run->msr.index,
		     (unsigned long long)run->msr.data);
		return;
	}
	run->msr.data = msr_read(run->msr.index);
	vlog("vCPU %d: rdmsr 0x%x -> 0x%llx", vcpu->id, run->msr.index,
	     (unsigned long long)run->msr.data);
}
