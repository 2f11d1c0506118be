// SPDX-License-Identifier: GPL-2.0
/* svm/svm.c - AMD SVM backend: capability probe and per-CPU EFER.SVME on/off. */
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/virtext.h>

#include "../hvx.h"

/* CPUID Fn8000_000A EDX bits (APM vol. 3, E.4.9). */
#define SVM_CPUID_NPT			BIT(0)
#define SVM_CPUID_NRIPS			BIT(3)
#define SVM_CPUID_FLUSH_BY_ASID		BIT(6)
#define SVM_CPUID_DECODE_ASSISTS	BIT(7)

/* VM_CR.SVMDIS: firmware has switched SVM off (APM vol. 2, 15.30.1). */
#define SVM_VM_CR_SVMDIS		BIT(4)

/* The host save area of each CPU, allocated only while SVM is on there. */
static DEFINE_PER_CPU(struct page *, svm_hsave_page);

static int svm_probe(struct hvx_caps *caps, const char **why)
{
	u32 revision, nr_asids, ecx, features;
	u64 vm_cr;

	if (!cpu_has_svm(why))
		return -ENODEV;
	if (rdmsrl_safe(MSR_VM_CR, &vm_cr) || (vm_cr & SVM_VM_CR_SVMDIS)) {
		*why = "SVM disabled by firmware (VM_CR.SVMDIS)";
		return -ENODEV;
	}
	cpuid(0x8000000a, &revision, &nr_asids, &ecx, &features);
	if (!(features & SVM_CPUID_NPT)) {
		*why = "no NPT";
		return -ENODEV;
	}
	if (nr_asids < 2) {
		*why = "no guest ASIDs";
		return -ENODEV;
	}

	caps->vendor = HVX_VENDOR_AMD_SVM;
	/* SVM runs real mode and unpaged guests natively; NPT maps 2M pages. */
	caps->features = HVX_FEAT_TDP | HVX_FEAT_TAGGED_TLB |
			 HVX_FEAT_UNRESTRICTED_GUEST | HVX_FEAT_TDP_2M;
	if (boot_cpu_has(X86_FEATURE_GBPAGES))
		caps->features |= HVX_FEAT_TDP_1G;
	if (features & SVM_CPUID_NRIPS)
		caps->features |= HVX_FEAT_NEXT_RIP;
	if (features & SVM_CPUID_DECODE_ASSISTS)
		caps->features |= HVX_FEAT_DECODE_ASSISTS;
	if (features & SVM_CPUID_FLUSH_BY_ASID)
		caps->features |= HVX_FEAT_FLUSH_BY_TAG;
	caps->nr_tlb_tags = nr_asids - 1;	/* ASID 0 is the host's */
	caps->svm_features = features;
	caps->svm_revision = revision & 0xff;
	return 0;
}

static int svm_cpu_enable(void)
{
	struct page *page;
	u64 efer;

	/* Someone else (KVM) has SVM on here: do not share it. */
	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME)
		return -EBUSY;

	page = alloc_pages_node(cpu_to_node(smp_processor_id()),
				GFP_KERNEL | __GFP_ZERO, 0);
	if (!page)
		return -ENOMEM;
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, page_to_phys(page));
	this_cpu_write(svm_hsave_page, page);
	return 0;
}

static void svm_cpu_disable(void)
{
	struct page *page = this_cpu_read(svm_hsave_page);

	if (!page)
		return;
	cpu_svm_disable();
	this_cpu_write(svm_hsave_page, NULL);
	__free_page(page);
}

const struct hvx_vendor_ops hvx_svm_ops = {
	.name		= "svm",
	.tdp_name	= "NPT",
	.probe		= svm_probe,
	.cpu_enable	= svm_cpu_enable,
	.cpu_disable	= svm_cpu_disable,
};
