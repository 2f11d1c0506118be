// SPDX-License-Identifier: GPL-2.0
/* vmx/vmx.c - Intel VMX backend: probe, VMXON per CPU, VMCS, VPIDs, VM entry and exit decoding. */
#include <linux/bitmap.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <asm/apic.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/msr.h>
#include <asm/mtrr.h>
#include <asm/nospec-branch.h>
#include <asm/segment.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>
#include <asm/vmx.h>

#include "../hvx.h"

/* The VMXON region of each CPU, allocated only while VMX is on there. */
static DEFINE_PER_CPU(struct page *, vmx_vmxon_page);
/* The vCPU that last ran on each CPU, for IBPB; never dereferenced. */
static DEFINE_PER_CPU(void *, vmx_last_vcpu);
static u32 vmx_vmcs_revision;

/*
 * Preemption-timer reload: 2^20 ticks of TSC >> IA32_VMX_MISC[4:0], about
 * a millisecond on current CPUs.
 */
#define VMX_PREEMPT_TICKS	(1u << 20)
static u64 vmx_basic_msr;

/*
 * IA32_VMX_BASIC fields (SDM vol. 3D, A.1), named here because the
 * kernel's own names for them changed in 6.12.
 */
#define HVX_VMX_BASIC_32BIT_ADDR	BIT_ULL(48)
#define HVX_VMX_BASIC_MEM_TYPE(basic)	(((basic) >> 50) & 0xf)
#define HVX_VMX_BASIC_MEM_TYPE_WB	6

/* VPIDs 1..65535 for vCPUs; 0 is the host's. */
static DEFINE_SPINLOCK(vmx_vpid_lock);
static unsigned long vmx_vpid_used[BITS_TO_LONGS(65536)];

/*
 * CPUID.1:ECX.VMX[bit 5] (SDM vol. 2A, Table 3-10), read raw: the kernel
 * clears X86_FEATURE_VMX also when firmware locked VMX off, which
 * vmx_probe() reports apart.
 */
static bool vmx_cpu_has_vmx(void)
{
	return cpuid_ecx(1) & BIT(5);
}

/*
 * Leave VMX operation on this CPU.  VMXOFF faults (#UD) when the CPU is
 * not in VMX operation; CR4.VMXE is cleared either way.
 */
static void vmx_vmxoff(void)
{
	asm volatile("1: vmxoff\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     ::: "cc", "memory");
	cr4_clear_bits(X86_CR4_VMXE);
}

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

	if (!vmx_cpu_has_vmx()) {
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
	if ((basic & HVX_VMX_BASIC_32BIT_ADDR) ||
	    HVX_VMX_BASIC_MEM_TYPE(basic) != HVX_VMX_BASIC_MEM_TYPE_WB) {
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
	vmx_basic_msr = basic;
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
	vmx_vmxoff();
	this_cpu_write(vmx_vmxon_page, NULL);
	__free_page(page);
}

/* ---- VMCS access ------------------------------------------------------- */

static __always_inline unsigned long vmcs_read(unsigned long field)
{
	unsigned long value;

	asm volatile("vmread %[field], %[value]"
		     : [value] "=r"(value) : [field] "r"(field) : "cc");
	return value;
}

static __always_inline void vmcs_write(unsigned long field, unsigned long value)
{
	asm volatile("vmwrite %[value], %[field]"
		     : : [field] "r"(field), [value] "r"(value) : "cc", "memory");
}

struct vmx_vcpu {
	u32 *vmcs;		/* first word: the VMCS revision identifier */
	u64 vmcs_pa;
	u16 vpid;
	int last_cpu;		/* where the VPID and EPT tags were last flushed */
	int host_cpu;		/* whose per-CPU host fields the VMCS holds, or -1 */
	bool launched;		/* never true across vmx_vmcs_put(): VMCLEAR */
	bool need_setup;
	u64 cr2;		/* not in the VMCS: switched around each entry */
	/* MSRs VM entry and exit do not switch: swapped around each entry. */
	u64 kernel_gs_base, star, lstar, cstar, sfmask;
	u8 fpu[512] __aligned(16);
};

static struct vmx_vcpu *to_vmx(struct hvx_vcpu *vcpu)
{
	return vcpu->vendor;
}

/*
 * hvx never leaves a VMCS current on a CPU outside these two calls: it is
 * loaded for an entry or an ioctl and cleared right after.  That makes
 * migration between CPUs and VMXOFF (unload, CPU offline) trivially safe,
 * at the cost of a VMPTRLD and a VMCLEAR per entry.
 */
static void vmx_vmcs_load(struct vmx_vcpu *vmx)
{
	asm volatile("vmptrld %0" : : "m"(vmx->vmcs_pa) : "cc", "memory");
}

static void vmx_vmcs_put(struct vmx_vcpu *vmx)
{
	asm volatile("vmclear %0" : : "m"(vmx->vmcs_pa) : "cc", "memory");
	vmx->launched = false;
}

/* Desired control bits adjusted to what the CPU allows (SDM A.3). */
static u32 vmx_adjust_ctl(u32 want, u32 msr)
{
	u64 cap;

	rdmsrl(msr, cap);
	return (want | (u32)cap) & (u32)(cap >> 32);
}

static u32 vmx_ctl_msr(u32 true_msr, u32 msr)
{
	return (vmx_basic_msr & VMX_BASIC_TRUE_CTLS) ? true_msr : msr;
}

/* ---- segments ------------------------------------------------------------ */

#define VMX_AR_UNUSABLE		BIT(16)

static u32 vmx_seg_ar(const struct hvx_segment *s)
{
	if (s->unusable || !s->present)
		return VMX_AR_UNUSABLE;
	return (s->type & 0xf) | (s->s << 4) | ((s->dpl & 3) << 5) |
	       (s->present << 7) | (s->avl << 12) | (s->l << 13) |
	       (s->db << 14) | (s->g << 15);
}

static void vmx_seg_from_ar(struct hvx_segment *s, u32 ar)
{
	s->unusable = !!(ar & VMX_AR_UNUSABLE);
	s->type = ar & 0xf;
	s->s = (ar >> 4) & 1;
	s->dpl = (ar >> 5) & 3;
	s->present = (ar >> 7) & 1;
	s->avl = (ar >> 12) & 1;
	s->l = (ar >> 13) & 1;
	s->db = (ar >> 14) & 1;
	s->g = (ar >> 15) & 1;
}

/* Field encodings of one segment register: selector, base, limit, rights. */
struct vmx_seg_fields {
	u32 sel, base, limit, ar;
};

#define VMX_SEG(name) { GUEST_##name##_SELECTOR, GUEST_##name##_BASE, \
			GUEST_##name##_LIMIT, GUEST_##name##_AR_BYTES }

static const struct vmx_seg_fields vmx_segs[] = {
	VMX_SEG(CS), VMX_SEG(DS), VMX_SEG(ES), VMX_SEG(FS),
	VMX_SEG(GS), VMX_SEG(SS), VMX_SEG(TR), VMX_SEG(LDTR),
};

static struct hvx_segment *vmx_sregs_seg(struct hvx_sregs *sr, int i)
{
	struct hvx_segment *segs[] = {
		&sr->cs, &sr->ds, &sr->es, &sr->fs, &sr->gs, &sr->ss, &sr->tr, &sr->ldt,
	};

	return segs[i];
}

/* ---- setup ----------------------------------------------------------------- */

static u64 vmx_guest_cr0(u64 cr0)
{
	/* Unrestricted guest: PE and PG are the guest's; NE stays on. */
	return cr0 | X86_CR0_NE;
}

/* Controls and reset-state guest fields; the VMCS is current. */
static void vmx_setup_vmcs(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 exit_ctl, entry_ctl;
	unsigned int i;

	/*
	 * Host interrupts exit the guest; the preemption timer bounds the time
	 * between exits too, so the host gets its CPU back from a busy guest
	 * even where an emulator delivers interrupts late.
	 */
	vmcs_write(PIN_BASED_VM_EXEC_CONTROL,
		   vmx_adjust_ctl(PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING |
				  PIN_BASED_VMX_PREEMPTION_TIMER,
				  vmx_ctl_msr(MSR_IA32_VMX_TRUE_PINBASED_CTLS,
					      MSR_IA32_VMX_PINBASED_CTLS)));
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL,
		   vmx_adjust_ctl(CPU_BASED_HLT_EXITING | CPU_BASED_UNCOND_IO_EXITING |
				  CPU_BASED_MWAIT_EXITING | CPU_BASED_MONITOR_EXITING |
				  CPU_BASED_USE_TSC_OFFSETTING |
				  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
				  vmx_ctl_msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
					      MSR_IA32_VMX_PROCBASED_CTLS)));
	vmcs_write(SECONDARY_VM_EXEC_CONTROL,
		   vmx_adjust_ctl(SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID |
				  SECONDARY_EXEC_UNRESTRICTED_GUEST,
				  MSR_IA32_VMX_PROCBASED_CTLS2));
	exit_ctl = vmx_adjust_ctl(VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_IA32_EFER |
				  VM_EXIT_LOAD_IA32_EFER | VM_EXIT_SAVE_IA32_PAT |
				  VM_EXIT_LOAD_IA32_PAT,
				  vmx_ctl_msr(MSR_IA32_VMX_TRUE_EXIT_CTLS, MSR_IA32_VMX_EXIT_CTLS));
	vmcs_write(VM_EXIT_CONTROLS, exit_ctl);
	entry_ctl = vmx_adjust_ctl(VM_ENTRY_LOAD_IA32_EFER | VM_ENTRY_LOAD_IA32_PAT,
				   vmx_ctl_msr(MSR_IA32_VMX_TRUE_ENTRY_CTLS,
					       MSR_IA32_VMX_ENTRY_CTLS));
	vmcs_write(VM_ENTRY_CONTROLS, entry_ctl);

	vmcs_write(EXCEPTION_BITMAP, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(CR3_TARGET_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write(TSC_OFFSET, 0);
	/* The guest owns CR0 and CR4 but for NE and VMXE, which VMX needs on. */
	vmcs_write(CR0_GUEST_HOST_MASK, X86_CR0_NE);
	vmcs_write(CR4_GUEST_HOST_MASK, X86_CR4_VMXE);
	vmcs_write(VIRTUAL_PROCESSOR_ID, vmx->vpid);
	vmcs_write(EPT_POINTER, page_to_phys(vcpu->vm->tdp_root) | VMX_EPTP_MT_WB |
				VMX_EPTP_PWL_4);
	vmcs_write(VMCS_LINK_POINTER, ~0ull);

	/* Host fields that stay the same on every CPU. */
	vmcs_write(HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write(HOST_SS_SELECTOR, __KERNEL_DS);
	vmcs_write(HOST_DS_SELECTOR, 0);
	vmcs_write(HOST_ES_SELECTOR, 0);
	vmcs_write(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	vmcs_write(HOST_IA32_SYSENTER_CS, 0);
	vmcs_write(HOST_IA32_SYSENTER_EIP, 0);

	/* Guest reset state (SDM vol. 3, 9.1.1). */
	for (i = 0; i < ARRAY_SIZE(vmx_segs); i++) {
		vmcs_write(vmx_segs[i].sel, 0);
		vmcs_write(vmx_segs[i].base, 0);
		vmcs_write(vmx_segs[i].limit, 0xffff);
		vmcs_write(vmx_segs[i].ar, 0x93);
	}
	vmcs_write(GUEST_CS_SELECTOR, 0xf000);
	vmcs_write(GUEST_CS_BASE, 0xffff0000);
	vmcs_write(GUEST_CS_AR_BYTES, 0x9b);
	vmcs_write(GUEST_TR_AR_BYTES, 0x8b);
	vmcs_write(GUEST_LDTR_AR_BYTES, 0x82);
	vmcs_write(GUEST_GDTR_BASE, 0);
	vmcs_write(GUEST_GDTR_LIMIT, 0xffff);
	vmcs_write(GUEST_IDTR_BASE, 0);
	vmcs_write(GUEST_IDTR_LIMIT, 0xffff);
	vmcs_write(GUEST_CR0, vmx_guest_cr0(X86_CR0_ET));
	vmcs_write(CR0_READ_SHADOW, X86_CR0_ET);
	vmcs_write(GUEST_CR4, X86_CR4_VMXE);
	vmcs_write(CR4_READ_SHADOW, 0);
	vmcs_write(GUEST_CR3, 0);
	vmcs_write(GUEST_DR7, 0x400);
	vmcs_write(GUEST_IA32_EFER, 0);
	vmcs_write(GUEST_IA32_PAT, 0x0007040600070406ull);
	vmcs_write(GUEST_SYSENTER_CS, 0);
	vmcs_write(GUEST_SYSENTER_ESP, 0);
	vmcs_write(GUEST_SYSENTER_EIP, 0);
	vmcs_write(GUEST_ACTIVITY_STATE, 0);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(GUEST_IA32_DEBUGCTL, 0);
	vmx->need_setup = false;
}

static int vmx_vcpu_create(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = kzalloc(sizeof(*vmx), GFP_KERNEL_ACCOUNT);
	struct page *page;
	unsigned long vpid;

	if (!vmx)
		return -ENOMEM;
	spin_lock(&vmx_vpid_lock);
	vpid = find_next_zero_bit(vmx_vpid_used, 65536, 1);
	if (vpid < 65536)
		__set_bit(vpid, vmx_vpid_used);
	spin_unlock(&vmx_vpid_lock);
	if (vpid >= 65536) {
		kfree(vmx);
		return -ENOSPC;
	}
	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page) {
		spin_lock(&vmx_vpid_lock);
		__clear_bit(vpid, vmx_vpid_used);
		spin_unlock(&vmx_vpid_lock);
		kfree(vmx);
		return -ENOMEM;
	}
	vmx->vmcs = page_address(page);
	vmx->vmcs[0] = vmx_vmcs_revision;
	vmx->vmcs_pa = page_to_phys(page);
	vmx->vpid = vpid;
	vmx->last_cpu = -1;
	vmx->host_cpu = -1;
	vmx->need_setup = true;
	*(u16 *)&vmx->fpu[0] = 0x37f;
	*(u32 *)&vmx->fpu[24] = 0x1f80;
	vcpu->vendor = vmx;

	/* Initialise the VMCS now, so the ioctls see the reset state. */
	preempt_disable();
	vmx_vmcs_load(vmx);
	vmx_setup_vmcs(vcpu);
	vmx_vmcs_put(vmx);
	preempt_enable();
	return 0;
}

static void vmx_vcpu_free(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	spin_lock(&vmx_vpid_lock);
	__clear_bit(vmx->vpid, vmx_vpid_used);
	spin_unlock(&vmx_vpid_lock);
	free_page((unsigned long)vmx->vmcs);
	kfree(vmx);
	vcpu->vendor = NULL;
}

/* ---- entry and exit ---------------------------------------------------------- */

int vmx_vmenter_asm(u64 *regs, int launched);

struct invept_desc {
	u64 eptp, reserved;
};

struct invvpid_desc {
	u64 vpid, gva;
};

/* Drop what this CPU may cache under the vCPU's VPID and EPTP (SDM 28.3.3). */
static void vmx_flush_tags(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct invvpid_desc v = { .vpid = vmx->vpid };
	struct invept_desc e = {
		.eptp = page_to_phys(vcpu->vm->tdp_root) | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4,
	};

	asm volatile("invvpid %0, %1" : : "m"(v), "r"((u64)VMX_VPID_EXTENT_SINGLE_CONTEXT)
		     : "cc", "memory");
	asm volatile("invept %0, %1" : : "m"(e), "r"((u64)VMX_EPT_EXTENT_CONTEXT)
		     : "cc", "memory");
}

/* The base of the current CPU's TSS, from the TR descriptor in its GDT. */
static unsigned long vmx_host_tr_base(void)
{
	struct desc_struct *gdt = get_current_gdt_ro();
	struct ldttss_desc *tss = (struct ldttss_desc *)&gdt[GDT_ENTRY_TSS];

	return get_desc_base((struct desc_struct *)tss) | ((u64)tss->base3 << 32);
}

/*
 * The host state a VM exit loads.  What can change under the vCPU thread
 * is written at every entry: CR3 (its PCID is reassigned on context
 * switches), CR4 (per-task bits such as TSD) and FS base (the thread's
 * TLS, which userspace may move between HVX_RUN calls).  The rest is
 * constant for a CPU (its GDT, TSS, per-CPU GS base and SYSENTER stack)
 * or for the whole host (CR0, IDT, EFER, PAT): the VMCS keeps it across
 * VMCLEAR and VMPTRLD, so it is written again only on another CPU.
 */
static void vmx_write_host_state(struct vmx_vcpu *vmx, int cpu)
{
	struct desc_ptr gdt, idt;
	u64 val;

	vmcs_write(HOST_CR3, __read_cr3());
	vmcs_write(HOST_CR4, cr4_read_shadow());
	rdmsrl(MSR_FS_BASE, val);
	vmcs_write(HOST_FS_BASE, val);
	if (likely(vmx->host_cpu == cpu))
		return;
	vmx->host_cpu = cpu;
	vmcs_write(HOST_CR0, read_cr0());
	native_store_gdt(&gdt);
	store_idt(&idt);
	vmcs_write(HOST_GDTR_BASE, gdt.address);
	vmcs_write(HOST_IDTR_BASE, idt.address);
	vmcs_write(HOST_TR_BASE, vmx_host_tr_base());
	rdmsrl(MSR_GS_BASE, val);
	vmcs_write(HOST_GS_BASE, val);
	rdmsrl(MSR_IA32_SYSENTER_ESP, val);
	vmcs_write(HOST_IA32_SYSENTER_ESP, val);
	rdmsrl(MSR_EFER, val);
	vmcs_write(HOST_IA32_EFER, val);
	rdmsrl(MSR_IA32_CR_PAT, val);
	vmcs_write(HOST_IA32_PAT, val);
}

static void vmx_decode_exit(struct hvx_vcpu *vcpu, int failed)
{
	struct hvx_exit *x = &vcpu->exit;
	u32 reason, vect;
	u64 qual;

	memset(x, 0, sizeof(*x));
	if (failed) {
		x->kind = HVX_X_FAIL_ENTRY;
		x->hw_code = ~0ull;
		x->vm_insn_error = vmcs_read(VM_INSTRUCTION_ERROR);
		return;
	}
	reason = vmcs_read(VM_EXIT_REASON);
	qual = vmcs_read(EXIT_QUALIFICATION);
	x->hw_code = reason;
	x->info1 = qual;
	x->insn_len = vmcs_read(VM_EXIT_INSTRUCTION_LEN);
	if (reason & VMX_EXIT_REASONS_FAILED_VMENTRY) {
		x->kind = HVX_X_FAIL_ENTRY;
		return;
	}

	/* An event cut short by the exit is delivered again on next entry. */
	vect = vmcs_read(IDT_VECTORING_INFO_FIELD);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	if (vect & VECTORING_INFO_VALID_MASK) {
		/* Real-mode events carry no error code (SDM 26.2.1.3). */
		if (!(vmcs_read(GUEST_CR0) & X86_CR0_PE))
			vect &= ~VECTORING_INFO_DELIVER_CODE_MASK;
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, vect & ~INTR_INFO_UNBLOCK_NMI);
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE,
			   vmcs_read(IDT_VECTORING_ERROR_CODE));
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, x->insn_len);
	}

	switch ((u16)reason) {
	case EXIT_REASON_EXCEPTION_NMI:
		/* NMI exiting is on: give the host its NMI back. */
		if ((vmcs_read(VM_EXIT_INTR_INFO) & INTR_INFO_INTR_TYPE_MASK) ==
		    INTR_TYPE_NMI_INTR)
			apic->send_IPI_self(NMI_VECTOR);
		x->kind = HVX_X_NONE;
		return;
	case EXIT_REASON_EXTERNAL_INTERRUPT:
	case EXIT_REASON_PREEMPTION_TIMER:
	case EXIT_REASON_INTERRUPT_WINDOW:
		x->kind = HVX_X_NONE;	/* interrupts are taken once back on */
		return;
	case EXIT_REASON_TRIPLE_FAULT:
		x->kind = HVX_X_SHUTDOWN;
		return;
	case EXIT_REASON_CPUID:
		x->kind = HVX_X_CPUID;
		return;
	case EXIT_REASON_HLT:
		x->kind = HVX_X_HLT;
		return;
	case EXIT_REASON_VMCALL:
		x->kind = HVX_X_HYPERCALL;
		return;
	case EXIT_REASON_MSR_READ:
		x->kind = HVX_X_RDMSR;
		return;
	case EXIT_REASON_MSR_WRITE:
		x->kind = HVX_X_WRMSR;
		return;
	case EXIT_REASON_IO_INSTRUCTION:
		/* Exit qualification for I/O (SDM table 28-5). */
		x->kind = HVX_X_IO;
		x->io.size = (qual & 7) + 1;
		x->io.in = qual & BIT(3);
		x->io.string = qual & BIT(4);
		x->io.rep = qual & BIT(5);
		x->io.port = qual >> 16;
		return;
	case EXIT_REASON_EPT_VIOLATION:
		x->kind = HVX_X_TDP_FAULT;
		x->gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
		x->write = qual & BIT(1);
		x->fetch = qual & BIT(2);
		return;
	case EXIT_REASON_CR_ACCESS:
		x->kind = HVX_X_CR_ACCESS;
		return;
	case EXIT_REASON_INVD:
		vcpu->rip += x->insn_len;
		x->kind = HVX_X_NONE;
		return;
	case EXIT_REASON_VMCLEAR: case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMPTRLD: case EXIT_REASON_VMPTRST:
	case EXIT_REASON_VMREAD: case EXIT_REASON_VMRESUME:
	case EXIT_REASON_VMWRITE: case EXIT_REASON_VMOFF:
	case EXIT_REASON_VMON: case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID: case EXIT_REASON_XSETBV:
	case EXIT_REASON_MWAIT_INSTRUCTION: case EXIT_REASON_MONITOR_INSTRUCTION:
		/* Not offered to guests (no nested VMX, no XSAVE): #UD. */
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID_MASK |
			   INTR_TYPE_HARD_EXCEPTION | X86_TRAP_UD);
		x->kind = HVX_X_NONE;
		return;
	default:
		x->info2 = qual;
		x->kind = HVX_X_UNHANDLED;
		return;
	}
}

static void vmx_swap_msrs(struct vmx_vcpu *vmx, bool to_guest)
{
	static const u32 idx[] = {
		MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	};
	u64 *guest[] = { &vmx->kernel_gs_base, &vmx->star, &vmx->lstar,
			 &vmx->cstar, &vmx->sfmask };
	static DEFINE_PER_CPU(u64 [5], vmx_host_msrs);
	u64 *host = this_cpu_ptr(vmx_host_msrs);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(idx); i++) {
		if (to_guest) {
			rdmsrl(idx[i], host[i]);
			wrmsrl(idx[i], *guest[i]);
		} else {
			rdmsrl(idx[i], *guest[i]);
			wrmsrl(idx[i], host[i]);
		}
	}
}

static int vmx_vcpu_enter(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u16 ds, es, fs, gs, ldt;
	u64 fs_base, kgs;
	int cpu, failed;
	bool flush;

	kernel_fpu_begin();
	asm volatile("fxrstor64 %0" : : "m"(*vmx->fpu));
	local_irq_disable();
	cpu = smp_processor_id();

	vmx_vmcs_load(vmx);
	flush = hvx_guest_mode_enter(vcpu, cpu);
	if (vmx->last_cpu != cpu || flush) {
		vmx_flush_tags(vcpu);
		vmx->last_cpu = cpu;
	}
	hvx_lapic_deliver(vcpu);
	if (this_cpu_read(vmx_last_vcpu) != vmx) {
		indirect_branch_prediction_barrier();
		this_cpu_write(vmx_last_vcpu, vmx);
	}
	vmx_write_host_state(vmx, cpu);
	vmcs_write(VMX_PREEMPTION_TIMER_VALUE, VMX_PREEMPT_TICKS);
	vmcs_write(GUEST_RSP, vcpu->regs[HVX_RSP]);
	vmcs_write(GUEST_RIP, vcpu->rip);
	vmcs_write(GUEST_RFLAGS, vcpu->rflags);

	/* VM exit loads null DS/ES, FS/GS from the fields, no LDT: keep ours. */
	savesegment(ds, ds);
	savesegment(es, es);
	savesegment(fs, fs);
	savesegment(gs, gs);
	asm volatile("sldt %0" : "=r"(ldt));
	rdmsrl(MSR_FS_BASE, fs_base);
	rdmsrl(MSR_KERNEL_GS_BASE, kgs);
	vmcs_write(HOST_FS_SELECTOR, (fs & 7) ? 0 : fs);
	vmcs_write(HOST_GS_SELECTOR, (gs & 7) ? 0 : gs);
	vmx_swap_msrs(vmx, true);
	/* Nothing here can fault between the CR2 switches: interrupts are off. */
	if (read_cr2() != vmx->cr2)
		write_cr2(vmx->cr2);

	failed = vmx_vmenter_asm(vcpu->regs, vmx->launched);
	hvx_guest_mode_exit(vcpu, cpu);
	vmx->launched = !failed;
	vmx->cr2 = read_cr2();

	vmx_swap_msrs(vmx, false);
	loadsegment(ds, ds);
	loadsegment(es, es);
	if (fs & 7) {
		loadsegment(fs, fs);
		wrmsrl(MSR_FS_BASE, fs_base);
	}
	if (gs & 7) {
		load_gs_index(gs);
		wrmsrl(MSR_KERNEL_GS_BASE, kgs);
	}
	if (ldt)
		asm volatile("lldt %0" : : "r"(ldt));
	/* VM exit leaves a 0x67 TSS limit: the I/O bitmap must be re-set. */
	invalidate_tss_limit();
	if (hw_breakpoint_active())
		hw_breakpoint_restore();

	if (!failed) {
		vcpu->regs[HVX_RSP] = vmcs_read(GUEST_RSP);
		vcpu->rip = vmcs_read(GUEST_RIP);
		vcpu->rflags = vmcs_read(GUEST_RFLAGS);
	}
	vmx_decode_exit(vcpu, failed);
	if (hvx_exit_skips_insn(vcpu->exit.kind))
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
			   vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
			   ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
	vmx_vmcs_put(vmx);

	asm volatile("fxsave64 %0" : "=m"(*vmx->fpu));
	local_irq_enable();
	kernel_fpu_end();
	return 0;
}

/*
 * The CR0 and CR4 the guest sees: its own bits from the VMCS (it changes
 * them without exits), the bits hvx owns (NE, VMXE) from the read shadows.
 * The VMCS must be current.
 */
static u64 vmx_read_cr0(void)
{
	return (vmcs_read(GUEST_CR0) & ~(u64)X86_CR0_NE) |
	       (vmcs_read(CR0_READ_SHADOW) & X86_CR0_NE);
}

static u64 vmx_read_cr4(void)
{
	return (vmcs_read(GUEST_CR4) & ~(u64)X86_CR4_VMXE) |
	       (vmcs_read(CR4_READ_SHADOW) & X86_CR4_VMXE);
}

/* MOV to or from CR0/CR4 the guest made on a bit hvx owns (SDM table 28-3). */
static int vmx_handle_cr_access(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 qual = vcpu->exit.info1;
	unsigned int cr = qual & 15, type = (qual >> 4) & 3, gpr = (qual >> 8) & 15;
	u64 val = vcpu->regs[gpr];
	int ret = 0;

	preempt_disable();
	vmx_vmcs_load(vmx);
	if (type == 0 && cr == 0) {
		u64 efer = vmcs_read(GUEST_IA32_EFER);
		u32 entry = vmcs_read(VM_ENTRY_CONTROLS);

		vmcs_write(CR0_READ_SHADOW, val);
		vmcs_write(GUEST_CR0, vmx_guest_cr0(val));
		/* Paging on with LME set enters IA-32e mode (SDM 9.8.5). */
		if ((efer & EFER_LME) && (val & X86_CR0_PG)) {
			efer |= EFER_LMA;
			entry |= VM_ENTRY_IA32E_MODE;
		} else {
			efer &= ~(u64)EFER_LMA;
			entry &= ~VM_ENTRY_IA32E_MODE;
		}
		vmcs_write(GUEST_IA32_EFER, efer);
		vmcs_write(VM_ENTRY_CONTROLS, entry);
	} else if (type == 0 && cr == 4) {
		vmcs_write(CR4_READ_SHADOW, val);
		vmcs_write(GUEST_CR4, val | X86_CR4_VMXE);
	} else if (type == 2) {		/* CLTS */
		u64 cr0 = vmx_read_cr0() & ~(u64)X86_CR0_TS;

		vmcs_write(CR0_READ_SHADOW, cr0);
		vmcs_write(GUEST_CR0, vmx_guest_cr0(cr0));
	} else {
		ret = -EOPNOTSUPP;
	}
	vmx_vmcs_put(vmx);
	preempt_enable();
	if (!ret)
		vcpu->rip += vcpu->exit.insn_len;
	return ret;
}

/* ---- external interrupts (from the in-kernel local APIC) ------------------ */

static bool vmx_irq_window_open(struct hvx_vcpu *vcpu)
{
	return (vcpu->rflags & X86_EFLAGS_IF) &&
	       !(vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
		 (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)) &&
	       !(vmcs_read(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID_MASK);
}

static void vmx_inject_irq(struct hvx_vcpu *vcpu, u8 vector)
{
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD,
		   INTR_INFO_VALID_MASK | INTR_TYPE_EXT_INTR | vector);
}

/* Interrupt-window exiting: an exit as soon as the guest can take one. */
static void vmx_set_irq_window(struct hvx_vcpu *vcpu, bool on)
{
	u64 ctl = vmcs_read(CPU_BASED_VM_EXEC_CONTROL);

	if (!!(ctl & CPU_BASED_INTR_WINDOW_EXITING) == on)
		return;
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, ctl ^ CPU_BASED_INTR_WINDOW_EXITING);
}

static void vmx_inject_exception(struct hvx_vcpu *vcpu, u8 vector,
				 bool has_error, u32 error)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	preempt_disable();
	vmx_vmcs_load(vmx);
	if (!(vmcs_read(GUEST_CR0) & X86_CR0_PE))
		has_error = false;	/* real mode: no error codes */
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID_MASK |
		   INTR_TYPE_HARD_EXCEPTION | vector |
		   (has_error ? INTR_INFO_DELIVER_CODE_MASK : 0));
	vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, error);
	vmx_vmcs_put(vmx);
	preempt_enable();
}

/* ---- state for save and restore ------------------------------------------- */

static u8 *vmx_fpu(struct hvx_vcpu *vcpu)
{
	return to_vmx(vcpu)->fpu;
}

/* The shadow and NMI bits have the same places in the uapi and the VMCS. */
static void vmx_get_events(struct hvx_vcpu *vcpu, struct hvx_vcpu_events *ev)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 intr, info;

	preempt_disable();
	vmx_vmcs_load(vmx);
	intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	ev->shadow = intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);
	ev->nmi_masked = !!(intr & GUEST_INTR_STATE_NMI);
	info = vmcs_read(VM_ENTRY_INTR_INFO_FIELD);
	if (info & INTR_INFO_VALID_MASK) {
		ev->inject_info = info & (INTR_INFO_VALID_MASK | INTR_INFO_DELIVER_CODE_MASK |
					  INTR_INFO_INTR_TYPE_MASK | INTR_INFO_VECTOR_MASK);
		if (info & INTR_INFO_DELIVER_CODE_MASK)
			ev->inject_error = vmcs_read(VM_ENTRY_EXCEPTION_ERROR_CODE);
		if (HVX_EVENT_TYPE(info) >= HVX_EVENT_SOFT_INTR)
			ev->inject_insn_len = vmcs_read(VM_ENTRY_INSTRUCTION_LEN);
	}
	vmx_vmcs_put(vmx);
	preempt_enable();
}

static int vmx_set_events(struct hvx_vcpu *vcpu, const struct hvx_vcpu_events *ev)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 intr;

	/* Software events need their instruction's length on entry (SDM 26.6.1.1). */
	if ((ev->inject_info & HVX_EVENT_VALID) &&
	    HVX_EVENT_TYPE(ev->inject_info) >= HVX_EVENT_SOFT_INTR && !ev->inject_insn_len)
		return -EINVAL;
	preempt_disable();
	vmx_vmcs_load(vmx);
	intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
	       ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS | GUEST_INTR_STATE_NMI);
	intr |= ev->shadow | (ev->nmi_masked ? GUEST_INTR_STATE_NMI : 0);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, intr);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, ev->inject_info);
	vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, ev->inject_error);
	vmcs_write(VM_ENTRY_INSTRUCTION_LEN, ev->inject_insn_len);
	vmx_vmcs_put(vmx);
	preempt_enable();
	return 0;
}

/* ---- registers --------------------------------------------------------------- */

static void vmx_get_sregs(struct hvx_vcpu *vcpu, struct hvx_sregs *sr)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	unsigned int i;

	preempt_disable();
	vmx_vmcs_load(vmx);
	for (i = 0; i < ARRAY_SIZE(vmx_segs); i++) {
		struct hvx_segment *s = vmx_sregs_seg(sr, i);

		s->selector = vmcs_read(vmx_segs[i].sel);
		s->base = vmcs_read(vmx_segs[i].base);
		s->limit = vmcs_read(vmx_segs[i].limit);
		vmx_seg_from_ar(s, vmcs_read(vmx_segs[i].ar));
	}
	sr->gdt.base = vmcs_read(GUEST_GDTR_BASE);
	sr->gdt.limit = vmcs_read(GUEST_GDTR_LIMIT);
	sr->idt.base = vmcs_read(GUEST_IDTR_BASE);
	sr->idt.limit = vmcs_read(GUEST_IDTR_LIMIT);
	sr->cr0 = vmx_read_cr0();
	sr->cr3 = vmcs_read(GUEST_CR3);
	sr->cr4 = vmx_read_cr4();
	sr->efer = vmcs_read(GUEST_IA32_EFER);
	vmx_vmcs_put(vmx);
	preempt_enable();
	sr->cr2 = vmx->cr2;
	sr->cr8 = 0;
}

static void vmx_set_sregs(struct hvx_vcpu *vcpu, const struct hvx_sregs *sr)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct hvx_sregs copy = *sr;
	unsigned int i;
	u32 entry;

	preempt_disable();
	vmx_vmcs_load(vmx);
	for (i = 0; i < ARRAY_SIZE(vmx_segs); i++) {
		struct hvx_segment *s = vmx_sregs_seg(&copy, i);

		vmcs_write(vmx_segs[i].sel, s->selector);
		vmcs_write(vmx_segs[i].base, s->base);
		vmcs_write(vmx_segs[i].limit, s->limit);
		vmcs_write(vmx_segs[i].ar, vmx_seg_ar(s));
	}
	vmcs_write(GUEST_GDTR_BASE, sr->gdt.base);
	vmcs_write(GUEST_GDTR_LIMIT, sr->gdt.limit);
	vmcs_write(GUEST_IDTR_BASE, sr->idt.base);
	vmcs_write(GUEST_IDTR_LIMIT, sr->idt.limit);
	vmcs_write(CR0_READ_SHADOW, sr->cr0);
	vmcs_write(GUEST_CR0, vmx_guest_cr0(sr->cr0));
	vmcs_write(GUEST_CR3, sr->cr3);
	vmx->cr2 = sr->cr2;
	vmcs_write(CR4_READ_SHADOW, sr->cr4);
	vmcs_write(GUEST_CR4, sr->cr4 | X86_CR4_VMXE);
	vmcs_write(GUEST_IA32_EFER, sr->efer);
	entry = vmcs_read(VM_ENTRY_CONTROLS) & ~VM_ENTRY_IA32E_MODE;
	if (sr->efer & EFER_LMA)
		entry |= VM_ENTRY_IA32E_MODE;
	vmcs_write(VM_ENTRY_CONTROLS, entry);
	vmx_vmcs_put(vmx);
	preempt_enable();
}

static u64 *vmx_msr_shadow(struct vmx_vcpu *vmx, u32 index)
{
	switch (index) {
	case MSR_KERNEL_GS_BASE:	return &vmx->kernel_gs_base;
	case MSR_STAR:			return &vmx->star;
	case MSR_LSTAR:			return &vmx->lstar;
	case MSR_CSTAR:			return &vmx->cstar;
	case MSR_SYSCALL_MASK:		return &vmx->sfmask;
	default:			return NULL;
	}
}

/* MSRs whose guest values the VMCS holds. */
static u32 vmx_msr_field(u32 index)
{
	switch (index) {
	case MSR_IA32_SYSENTER_CS:	return GUEST_SYSENTER_CS;
	case MSR_IA32_SYSENTER_ESP:	return GUEST_SYSENTER_ESP;
	case MSR_IA32_SYSENTER_EIP:	return GUEST_SYSENTER_EIP;
	case MSR_FS_BASE:		return GUEST_FS_BASE;
	case MSR_GS_BASE:		return GUEST_GS_BASE;
	case MSR_IA32_CR_PAT:		return GUEST_IA32_PAT;
	case MSR_EFER:			return GUEST_IA32_EFER;
	case MSR_IA32_TSC:		return TSC_OFFSET;
	default:			return 0;
	}
}

static int vmx_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 *shadow = vmx_msr_shadow(vmx, index);
	u32 field = vmx_msr_field(index);

	if (shadow) {
		*data = *shadow;
		return 0;
	}
	if (!field)
		return -ENOENT;
	preempt_disable();
	vmx_vmcs_load(vmx);
	*data = vmcs_read(field);
	vmx_vmcs_put(vmx);
	preempt_enable();
	if (index == MSR_IA32_TSC)
		*data += rdtsc();
	return 0;
}

static int vmx_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 *shadow = vmx_msr_shadow(vmx, index);
	u32 field = vmx_msr_field(index);

	if (shadow) {
		*shadow = data;
		return 0;
	}
	if (!field)
		return -ENOENT;
	preempt_disable();
	vmx_vmcs_load(vmx);
	if (index == MSR_EFER) {
		/* LMA is the CPU's to set, and it goes with the entry control. */
		data = (data & ~(u64)EFER_LMA) |
		       (vmcs_read(GUEST_IA32_EFER) & EFER_LMA);
	} else if (index == MSR_IA32_TSC) {
		data -= rdtsc();
	}
	vmcs_write(field, data);
	vmx_vmcs_put(vmx);
	preempt_enable();
	return 0;
}

/* EPT entries: read, write, execute; leaves are write-back (SDM 28.3.2). */
static u64 vmx_tdp_leaf(phys_addr_t pa, bool writable)
{
	return pa | VMX_EPT_READABLE_MASK | VMX_EPT_EXECUTABLE_MASK |
	       (writable ? VMX_EPT_WRITABLE_MASK : 0) |
	       (MTRR_TYPE_WRBACK << VMX_EPT_MT_EPTE_SHIFT);
}

static u64 vmx_tdp_table(phys_addr_t pa)
{
	return pa | VMX_EPT_RWX_MASK;
}

const struct hvx_vendor_ops hvx_vmx_ops = {
	.name		= "vmx",
	.tdp_name	= "EPT",
	.probe		= vmx_probe,
	.cpu_enable	= vmx_cpu_enable,
	.cpu_disable	= vmx_cpu_disable,
	.vcpu_create	= vmx_vcpu_create,
	.vcpu_free	= vmx_vcpu_free,
	.vcpu_enter	= vmx_vcpu_enter,
	.handle_cr_access = vmx_handle_cr_access,
	.get_sregs	= vmx_get_sregs,
	.set_sregs	= vmx_set_sregs,
	.get_msr	= vmx_get_msr,
	.set_msr	= vmx_set_msr,
	.inject_exception = vmx_inject_exception,
	.fpu		= vmx_fpu,
	.get_events	= vmx_get_events,
	.set_events	= vmx_set_events,
	.tdp_leaf	= vmx_tdp_leaf,
	.tdp_table	= vmx_tdp_table,
	.irq_window_open = vmx_irq_window_open,
	.inject_irq	= vmx_inject_irq,
	.set_irq_window	= vmx_set_irq_window,
};
