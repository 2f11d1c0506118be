// SPDX-License-Identifier: GPL-2.0
/* vmx/vmx.c - Intel VMX backend: capability probe and per-CPU VMXON/VMXOFF. */
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/virtext.h>
#include <asm/vmx.h>

#include "../hvx.h"

/* The VMXON region of each CPU, allocated only while VMX is on there. */
static DEFINE_PER_CPU(struct page *, vmx_vmxon_page);
static u32 vmx_vmcs_revision;

/* Allowed-1 settings are the high 32 bits of a VMX capability MSR (SDM A.3). */
static bool vmx_ctl_allowed(u64 cap_msr, u32 bits)
{
	return ((cap_msr >> 32) & bits) == bits;
}

static int vmx_probe(struct hvx_caps *caps, const char **why)
{
	u64 basic, procbased, procbased2 = 0, ept_vpid = 0, feat_ctl;
	const u64 ept_needed = VMX_EPT_PAGE_WALK_4_BIT | VMX_EPTP_WB_BIT |
			       VMX_EPT_INVEPT_BIT;

	if (!cpu_has_vmx()) {
		*why = "CPU has no VMX";
		return -ENODEV;
	}
	if (!boot_cpu_has(X86_FEATURE_VMX) ||
	    rdmsrl_safe(MSR_IA32_FEAT_CTL, &feat_ctl) ||
	    !(feat_ctl & FEAT_CTL_LOCKED) ||
	    !(feat_ctl & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		*why = "VMX disabled by firmware (IA32_FEATURE_CONTROL)";
		return -ENODEV;
	}
	if (rdmsrl_safe(MSR_IA32_VMX_BASIC, &basic)) {
		*why = "cannot read IA32_VMX_BASIC";
		return -ENODEV;
	}
	/* VMXON/VMCS must take 64-bit addresses and be write-back (SDM A.1). */
	if ((basic & VMX_BASIC_64) ||
	    ((basic & VMX_BASIC_MEM_TYPE_MASK) >> VMX_BASIC_MEM_TYPE_SHIFT) !=
	    VMX_BASIC_MEM_TYPE_WB) {
		*why = "VMCS not 64-bit write-back";
		return -ENODEV;
	}
	rdmsrl(basic & VMX_BASIC_TRUE_CTLS ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
	       MSR_IA32_VMX_PROCBASED_CTLS, procbased);
	if (vmx_ctl_allowed(procbased, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
		rdmsrl(MSR_IA32_VMX_PROCBASED_CTLS2, procbased2);
	if (!vmx_ctl_allowed(procbased2, SECONDARY_EXEC_ENABLE_EPT)) {
		*why = "no EPT";
		return -ENODEV;
	}
	if (!vmx_ctl_allowed(procbased2, SECONDARY_EXEC_ENABLE_VPID)) {
		*why = "no VPID";
		return -ENODEV;
	}
	if (!vmx_ctl_allowed(procbased2, SECONDARY_EXEC_UNRESTRICTED_GUEST)) {
		*why = "no unrestricted guest";
		return -ENODEV;
	}
	rdmsrl(MSR_IA32_VMX_EPT_VPID_CAP, ept_vpid);
	if ((ept_vpid & ept_needed) != ept_needed) {
		*why = "EPT lacks 4-level walk, write-back or INVEPT";
		return -ENODEV;
	}
	if (!(ept_vpid & ((u64)VMX_VPID_INVVPID_BIT << 32))) {
		*why = "no INVVPID";
		return -ENODEV;
	}

	vmx_vmcs_revision = basic & 0x7fffffff;
	caps->vendor = HVX_VENDOR_INTEL_VMX;
	caps->features = HVX_FEAT_TDP | HVX_FEAT_TAGGED_TLB |
			 HVX_FEAT_UNRESTRICTED_GUEST | HVX_FEAT_NEXT_RIP;
	if (ept_vpid & VMX_EPT_2MB_PAGE_BIT)
		caps->features |= HVX_FEAT_TDP_2M;
	if (ept_vpid & VMX_EPT_1GB_PAGE_BIT)
		caps->features |= HVX_FEAT_TDP_1G;
	if (ept_vpid & ((u64)VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT << 32))
		caps->features |= HVX_FEAT_FLUSH_BY_TAG;
	caps->nr_tlb_tags = 0xffff;	/* VPIDs 1..65535; 0 is the host's */
	caps->vmx_basic = basic;
	caps->vmx_procbased2 = procbased2;
	caps->vmx_ept_vpid_cap = ept_vpid;
	return 0;
}

/* CR0 and CR4 must respect the fixed bits of VMX operation (SDM A.7, A.8). */
static bool vmx_fixed_bits_ok(u64 val, u32 fixed0_msr, u32 fixed1_msr)
{
	u64 fixed0, fixed1;

	rdmsrl(fixed0_msr, fixed0);
	rdmsrl(fixed1_msr, fixed1);
	return (val & fixed0) == fixed0 && !(val & ~fixed1);
}

static int vmx_cpu_enable(void)
{
	struct page *page;
	u64 pa;
	u8 failed = 1;

	/* Someone else (KVM) is in VMX operation here: do not share it. */
	if (cr4_read_shadow() & X86_CR4_VMXE)
		return -EBUSY;
	if (!vmx_fixed_bits_ok(read_cr0(), MSR_IA32_VMX_CR0_FIXED0,
			       MSR_IA32_VMX_CR0_FIXED1) ||
	    !vmx_fixed_bits_ok(__read_cr4() | X86_CR4_VMXE,
			       MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1))
		return -EIO;

	page = alloc_pages_node(cpu_to_node(smp_processor_id()),
				GFP_KERNEL | __GFP_ZERO, 0);
	if (!page)
		return -ENOMEM;
	*(u32 *)page_address(page) = vmx_vmcs_revision;
	pa = page_to_phys(page);

	cr4_set_bits(X86_CR4_VMXE);
	/* CF or ZF set means VMfail; a fault leaves @failed at 1. */
	asm volatile("1: vmxon %[pa]\n\t"
		     "setna %[failed]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [failed] "+qm"(failed)
		     : [pa] "m"(pa)
		     : "cc", "memory");
	if (failed) {
		cr4_clear_bits(X86_CR4_VMXE);
		__free_page(page);
		return -EIO;
	}
	this_cpu_write(vmx_vmxon_page, page);
	return 0;
}

static void vmx_cpu_disable(void)
{
	struct page *page = this_cpu_read(vmx_vmxon_page);

	if (!page)
		return;
	cpu_vmxoff();
	this_cpu_write(vmx_vmxon_page, NULL);
	__free_page(page);
}

const struct hvx_vendor_ops hvx_vmx_ops = {
	.name		= "vmx",
	.tdp_name	= "EPT",
	.probe		= vmx_probe,
	.cpu_enable	= vmx_cpu_enable,
	.cpu_disable	= vmx_cpu_disable,
};
