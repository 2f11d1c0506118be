// SPDX-License-Identifier: GPL-2.0
/* svm/svm.c - AMD SVM backend: probe, per-CPU enable, VMCB, ASIDs, VMRUN and exit decoding. */
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/fpu/api.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include <asm/svm.h>
#include <asm/trapnr.h>

#include "../hvx.h"

/* CPUID Fn8000_000A EDX bits (APM vol. 3, E.4.9). */
#define SVM_CPUID_NPT			BIT(0)
#define SVM_CPUID_NRIPS			BIT(3)
#define SVM_CPUID_FLUSH_BY_ASID		BIT(6)
#define SVM_CPUID_DECODE_ASSISTS	BIT(7)

/* VM_CR.SVMDIS: firmware has switched SVM off (APM vol. 2, 15.30.1). */
#define SVM_VM_CR_SVMDIS		BIT(4)

/* Reset-state guest PAT: WB, WT, UC-, UC, repeated (APM vol. 2, 7.8.1). */
#define SVM_DEFAULT_PAT			0x0007040600070406ull

/* IOPM is 12 KiB, MSRPM 8 KiB; all ones intercepts every port and MSR. */
#define SVM_IOPM_ORDER			2
#define SVM_MSRPM_ORDER			1

/*
 * Per-CPU state while SVM is on: the host save area VMRUN uses, a page for
 * the host state VMSAVE/VMLOAD move, and the CPU's ASID allocator.  ASIDs
 * are handed out per CPU in generations; when they run out a new
 * generation starts with a flush of every ASID (as KVM does).
 */
struct svm_cpu {
	struct page *hsave;
	struct page *host_save;
	u64 asid_gen;
	u32 next_asid;
	bool flush_all;
	void *last_vcpu;	/* for IBPB on a vCPU switch; never dereferenced */
};
static DEFINE_PER_CPU(struct svm_cpu, svm_cpu);
static atomic64_t svm_asid_gen = ATOMIC64_INIT(0);
static u32 svm_max_asid;
static bool svm_nrips;
static bool svm_vintr;	/* interrupt-window exits through V_IRQ + VINTR */

/* One read-only set of permission maps shared by every VMCB. */
static struct page *svm_iopm, *svm_msrpm;

struct svm_vcpu {
	struct vmcb *vmcb;
	u64 vmcb_pa;
	int cpu;
	u64 asid_gen;
	/* Guest x87/SSE state (FXSAVE format); AVX state is not offered. */
	u8 fpu[512] __aligned(16);
};

static struct svm_vcpu *to_svm(struct hvx_vcpu *vcpu)
{
	return vcpu->vendor;
}

static void svm_unload(void)
{
	if (svm_iopm)
		__free_pages(svm_iopm, SVM_IOPM_ORDER);
	if (svm_msrpm)
		__free_pages(svm_msrpm, SVM_MSRPM_ORDER);
	svm_iopm = svm_msrpm = NULL;
}

/* SVM is an AMD (and Hygon) extension, announced in CPUID Fn8000_0001 ECX. */
static bool svm_cpu_has_svm(const char **why)
{
	if (boot_cpu_data.x86_vendor != X86_VENDOR_AMD &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_HYGON) {
		*why = "not an AMD or Hygon CPU";
		return false;
	}
	if (boot_cpu_data.extended_cpuid_level < 0x8000000a) {
		*why = "no CPUID leaf 0x8000000a";
		return false;
	}
	if (!boot_cpu_has(X86_FEATURE_SVM)) {
		*why = "svm not available";
		return false;
	}
	return true;
}

/*
 * Switch SVM off on this CPU: no host save area any more, then EFER.SVME
 * clear.  hvx runs this with GIF set (it only clears GIF around VMRUN).
 */
static void svm_cpu_svm_off(void)
{
	u64 efer;

	wrmsrl(MSR_VM_HSAVE_PA, 0);
	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME)
		wrmsrl(MSR_EFER, efer & ~EFER_SVME);
}

static int svm_probe(struct hvx_caps *caps, const char **why)
{
	u32 revision, nr_asids, ecx, features;
	u64 vm_cr;

	if (!svm_cpu_has_svm(why))
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
	svm_max_asid = nr_asids - 1;
	svm_nrips = features & SVM_CPUID_NRIPS;
	/*
	 * Nested under another hypervisor (QEMU's TCG in the test hosts),
	 * the VINTR window left the host with interrupts it never took once
	 * in a few Linux guest boots; see svm_set_irq_window().  Still so
	 * with the test hosts' QEMU fixed for its double delivery: a 1-CPU
	 * host stopped for good once in two runs of guest_irq_count_test.
	 */
	svm_vintr = !boot_cpu_has(X86_FEATURE_HYPERVISOR);

	svm_iopm = alloc_pages(GFP_KERNEL, SVM_IOPM_ORDER);
	svm_msrpm = alloc_pages(GFP_KERNEL, SVM_MSRPM_ORDER);
	if (!svm_iopm || !svm_msrpm) {
		svm_unload();
		*why = "out of memory";
		return -ENOMEM;
	}
	memset(page_address(svm_iopm), 0xff, PAGE_SIZE << SVM_IOPM_ORDER);
	memset(page_address(svm_msrpm), 0xff, PAGE_SIZE << SVM_MSRPM_ORDER);
	return 0;
}

static int svm_cpu_enable(void)
{
	struct svm_cpu *sd = this_cpu_ptr(&svm_cpu);
	int node = cpu_to_node(smp_processor_id());
	u64 efer;

	/* Someone else (KVM) has SVM on here: do not share it. */
	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME)
		return -EBUSY;

	sd->hsave = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0);
	sd->host_save = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0);
	if (!sd->hsave || !sd->host_save) {
		if (sd->hsave)
			__free_page(sd->hsave);
		if (sd->host_save)
			__free_page(sd->host_save);
		sd->hsave = sd->host_save = NULL;
		return -ENOMEM;
	}
	/* A fresh generation: no vCPU's old ASID is valid here any more. */
	sd->asid_gen = atomic64_inc_return(&svm_asid_gen);
	sd->next_asid = 1;
	sd->flush_all = true;
	sd->last_vcpu = NULL;

	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, page_to_phys(sd->hsave));
	return 0;
}

static void svm_cpu_disable(void)
{
	struct svm_cpu *sd = this_cpu_ptr(&svm_cpu);

	if (!sd->hsave)
		return;
	svm_cpu_svm_off();
	__free_page(sd->hsave);
	__free_page(sd->host_save);
	sd->hsave = sd->host_save = NULL;
}

/* ---- VMCB --------------------------------------------------------------- */

static void svm_set_intercept(struct vmcb *vmcb, unsigned int bit)
{
	vmcb->control.intercepts[bit / 32] |= BIT(bit % 32);
}

static void svm_clr_intercept(struct vmcb *vmcb, unsigned int bit)
{
	vmcb->control.intercepts[bit / 32] &= ~BIT(bit % 32);
}

static void svm_seg_reset(struct vmcb_seg *seg, u16 attrib)
{
	seg->selector = 0;
	seg->attrib = attrib;
	seg->limit = 0xffff;
	seg->base = 0;
}

/* The x86 reset state (APM vol. 2, 14.1.3), with NPT and our intercepts. */
static void svm_init_vmcb(struct hvx_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	struct vmcb_control_area *c = &vmcb->control;
	struct vmcb_save_area *s = &vmcb->save;
	static const unsigned int intercepts[] = {
		INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_CPUID, INTERCEPT_HLT,
		INTERCEPT_INVD, INTERCEPT_IOIO_PROT, INTERCEPT_MSR_PROT,
		INTERCEPT_SHUTDOWN, INTERCEPT_VMRUN, INTERCEPT_VMMCALL,
		INTERCEPT_VMLOAD, INTERCEPT_VMSAVE, INTERCEPT_STGI,
		INTERCEPT_CLGI, INTERCEPT_SKINIT, INTERCEPT_INVLPGA,
		INTERCEPT_MONITOR, INTERCEPT_MWAIT, INTERCEPT_XSETBV,
		INTERCEPT_RDPRU,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(intercepts); i++)
		svm_set_intercept(vmcb, intercepts[i]);
	c->iopm_base_pa = page_to_phys(svm_iopm);
	c->msrpm_base_pa = page_to_phys(svm_msrpm);
	/* Guest IF masks virtual interrupts only; host interrupts still exit. */
	c->int_ctl = V_INTR_MASKING_MASK;
	c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	c->nested_cr3 = page_to_phys(vcpu->vm->tdp_root);

	svm_seg_reset(&s->cs, SVM_SELECTOR_P_MASK | SVM_SELECTOR_S_MASK |
		      SVM_SELECTOR_CODE_MASK | SVM_SELECTOR_READ_MASK | 1);
	s->cs.selector = 0xf000;
	s->cs.base = 0xffff0000;
	svm_seg_reset(&s->ds, 0x93);
	svm_seg_reset(&s->es, 0x93);
	svm_seg_reset(&s->fs, 0x93);
	svm_seg_reset(&s->gs, 0x93);
	svm_seg_reset(&s->ss, 0x93);
	svm_seg_reset(&s->gdtr, 0);
	svm_seg_reset(&s->idtr, 0);
	svm_seg_reset(&s->ldtr, 0x82);
	svm_seg_reset(&s->tr, 0x8b);
	s->cr0 = X86_CR0_NW | X86_CR0_CD | X86_CR0_ET;
	s->efer = EFER_SVME;
	s->dr6 = DR6_RESERVED;
	s->dr7 = 0x400;		/* DR7 reset value: bit 10 reads as 1 */
	s->g_pat = SVM_DEFAULT_PAT;
}

static int svm_vcpu_create(struct hvx_vcpu *vcpu)
{
	struct svm_vcpu *svm = kzalloc(sizeof(*svm), GFP_KERNEL_ACCOUNT);
	struct page *page;

	if (!svm)
		return -ENOMEM;
	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page) {
		kfree(svm);
		return -ENOMEM;
	}
	svm->vmcb = page_address(page);
	svm->vmcb_pa = page_to_phys(page);
	svm->cpu = -1;
	/* FXSAVE image of the x87/SSE reset state: FCW 0x37f, MXCSR 0x1f80. */
	*(u16 *)&svm->fpu[0] = 0x37f;
	*(u32 *)&svm->fpu[24] = 0x1f80;
	vcpu->vendor = svm;
	svm_init_vmcb(vcpu);
	return 0;
}

static void svm_vcpu_free(struct hvx_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	free_page((unsigned long)svm->vmcb);
	kfree(svm);
	vcpu->vendor = NULL;
}

/* ---- entry and exit ----------------------------------------------------- */

void svm_vmrun_asm(u64 vmcb_pa, u64 *regs, u64 host_save_pa);

/* Give the vCPU an ASID valid on this CPU; called with preemption off. */
static void svm_pick_asid(struct svm_vcpu *svm, struct svm_cpu *sd, int cpu)
{
	struct vmcb *vmcb = svm->vmcb;

	vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	if (svm->cpu != cpu || svm->asid_gen != sd->asid_gen) {
		if (sd->next_asid > svm_max_asid) {
			sd->asid_gen = atomic64_inc_return(&svm_asid_gen);
			sd->next_asid = 1;
			sd->flush_all = true;
		}
		vmcb->control.asid = sd->next_asid++;
		svm->asid_gen = sd->asid_gen;
		svm->cpu = cpu;
	}
	if (sd->flush_all) {
		vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
		sd->flush_all = false;
	}
	/* Another guest ran here last: keep its branch training away. */
	if (sd->last_vcpu != svm) {
		indirect_branch_prediction_barrier();
		sd->last_vcpu = svm;
	}
}

static bool svm_event_needs_reinjection(u32 info)
{
	u32 type = info & SVM_EXITINTINFO_TYPE_MASK;
	u8 vector = info & SVM_EXITINTINFO_VEC_MASK;

	if (!(info & SVM_EXITINTINFO_VALID) || type == SVM_EXITINTINFO_TYPE_SOFT)
		return false;
	return !(type == SVM_EXITINTINFO_TYPE_EXEPT &&
		 (vector == X86_TRAP_BP || vector == X86_TRAP_OF));
}

static void svm_decode_exit(struct hvx_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control_area *c = &svm->vmcb->control;
	struct hvx_exit *x = &vcpu->exit;
	u64 code = ((u64)c->exit_code_hi << 32) | c->exit_code;
	u64 rip_before = vcpu->rip;

	memset(x, 0, sizeof(*x));
	x->hw_code = code;
	x->info1 = c->exit_info_1;
	x->info2 = c->exit_info_2;

	/*
	 * An event cut short by the exit is delivered again on next entry.
	 * Not those an instruction raised (INT n, INT3, INTO): RIP still
	 * points at it, so it runs again; injected, #BP would report the
	 * INT3's own address instead of the next one.
	 */
	c->event_inj = 0;
	if (svm_event_needs_reinjection(c->exit_int_info)) {
		c->event_inj = c->exit_int_info;
		c->event_inj_err = c->exit_int_info_err;
	}

	/* VMEXIT_INVALID is -1; emulators may fill only the low half. */
	if (c->exit_code == (u32)SVM_EXIT_ERR) {
		x->kind = HVX_X_FAIL_ENTRY;
		return;
	}

	switch (code) {
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_VINTR:	/* the interrupt window opened */
		x->kind = HVX_X_NONE;
		return;
	case SVM_EXIT_CPUID:
		x->kind = HVX_X_CPUID;
		x->insn_len = 2;
		break;
	case SVM_EXIT_HLT:
		x->kind = HVX_X_HLT;
		x->insn_len = 1;
		break;
	case SVM_EXIT_VMMCALL:
		x->kind = HVX_X_HYPERCALL;
		x->insn_len = 3;
		break;
	case SVM_EXIT_MSR:
		x->kind = c->exit_info_1 ? HVX_X_WRMSR : HVX_X_RDMSR;
		x->insn_len = 2;
		break;
	case SVM_EXIT_IOIO:
		x->kind = HVX_X_IO;
		x->io.in = c->exit_info_1 & SVM_IOIO_TYPE_MASK;
		x->io.string = c->exit_info_1 & SVM_IOIO_STR_MASK;
		x->io.rep = c->exit_info_1 & SVM_IOIO_REP_MASK;
		x->io.size = (c->exit_info_1 & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT;
		x->io.port = c->exit_info_1 >> 16;
		/* EXITINFO2 is the address of the next instruction (APM 15.10.2). */
		x->insn_len = c->exit_info_2 - rip_before;
		return;
	case SVM_EXIT_NPF:
		x->kind = HVX_X_TDP_FAULT;
		x->gpa = c->exit_info_2;
		x->write = c->exit_info_1 & BIT(1);
		x->fetch = c->exit_info_1 & BIT(4);
		return;
	case SVM_EXIT_SHUTDOWN:
		x->kind = HVX_X_SHUTDOWN;
		return;
	case SVM_EXIT_INVD:
		/* INVD would drop dirty host cache lines: treat it as a no-op. */
		vcpu->rip += 2;
		x->kind = HVX_X_NONE;
		return;
	case SVM_EXIT_VMRUN: case SVM_EXIT_VMLOAD: case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI: case SVM_EXIT_CLGI: case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA: case SVM_EXIT_MONITOR: case SVM_EXIT_MWAIT:
	case SVM_EXIT_XSETBV: case SVM_EXIT_RDPRU:
		/* Not offered to guests (no nested SVM, no XSAVE): #UD. */
		c->event_inj = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT | X86_TRAP_UD;
		x->kind = HVX_X_NONE;
		return;
	default:
		x->kind = HVX_X_UNHANDLED;
		return;
	}
	/* With NRIPS the CPU tells the instruction length exactly. */
	if (svm_nrips && c->next_rip)
		x->insn_len = c->next_rip - rip_before;
}

static int svm_vcpu_enter(struct hvx_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;
	struct svm_cpu *sd;
	int cpu;

	vmcb->save.rax = vcpu->regs[HVX_RAX];
	vmcb->save.rsp = vcpu->regs[HVX_RSP];
	vmcb->save.rip = vcpu->rip;
	vmcb->save.rflags = vcpu->rflags;
	vmcb->control.next_rip = 0;
	vmcb->control.clean = 0;	/* hvx caches nothing in the VMCB */

	/*
	 * The host task's FPU registers are saved by kernel_fpu_begin();
	 * the guest's x87/SSE state is loaded for the entry and saved after.
	 */
	kernel_fpu_begin();
	asm volatile("fxrstor64 %0" : : "m"(*svm->fpu));
	local_irq_disable();
	cpu = smp_processor_id();
	sd = this_cpu_ptr(&svm_cpu);
	/* Stale second-level translations: a fresh ASID holds none. */
	if (hvx_guest_mode_enter(vcpu, cpu))
		svm->asid_gen = 0;
	svm_pick_asid(svm, sd, cpu);
	hvx_lapic_deliver(vcpu);

	/*
	 * With GIF clear, IF=1 lets nothing in on the host side, yet VMRUN
	 * records it as the host IF, so a host interrupt exits the guest
	 * (V_INTR_MASKING).  The interrupt is taken after STGI.
	 */
	asm volatile("clgi" ::: "memory");
	raw_local_irq_enable();
	svm_vmrun_asm(svm->vmcb_pa, vcpu->regs, page_to_phys(sd->host_save));
	raw_local_irq_disable();
	asm volatile("stgi" ::: "memory");
	hvx_guest_mode_exit(vcpu, cpu);

	/* VMRUN leaves DR7 clobbered for the host: restore any breakpoints. */
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	asm volatile("fxsave64 %0" : "=m"(*svm->fpu));
	local_irq_enable();
	kernel_fpu_end();

	vcpu->regs[HVX_RAX] = vmcb->save.rax;
	vcpu->regs[HVX_RSP] = vmcb->save.rsp;
	vcpu->rip = vmcb->save.rip;
	vcpu->rflags = vmcb->save.rflags;
	svm_decode_exit(vcpu);
	if (hvx_exit_skips_insn(vcpu->exit.kind))
		vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	return 0;
}

/* ---- external interrupts (from the in-kernel local APIC) ------------------ */

static bool svm_irq_window_open(struct hvx_vcpu *vcpu)
{
	struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;

	return (vcpu->rflags & X86_EFLAGS_IF) &&
	       !(c->int_state & SVM_INTERRUPT_SHADOW_MASK) &&
	       !(c->event_inj & SVM_EVTINJ_VALID);
}

static void svm_inject_irq(struct hvx_vcpu *vcpu, u8 vector)
{
	struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;

	c->event_inj = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_INTR | vector;
}

/*
 * A virtual interrupt pending (V_IRQ, ignoring V_TPR) with VINTR
 * intercepted exits as soon as the guest could take it: then hvx injects
 * the real vector with EVENTINJ.  Without it (nested: !svm_vintr) the
 * interrupt waits for the vCPU's next exit, at the latest the host's next
 * timer tick: slower, but the emulated SVM of QEMU 7.2 then never loses
 * the host's own interrupts.
 */
static void svm_set_irq_window(struct hvx_vcpu *vcpu, bool on)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u32 bits = V_IRQ_MASK | V_IGN_TPR_MASK | (0xf << V_INTR_PRIO_SHIFT);

	if (on && svm_vintr) {
		vmcb->control.int_ctl |= bits;
		svm_set_intercept(vmcb, INTERCEPT_VINTR);
	} else {
		vmcb->control.int_ctl &= ~bits;
		svm_clr_intercept(vmcb, INTERCEPT_VINTR);
	}
}

static void svm_inject_exception(struct hvx_vcpu *vcpu, u8 vector,
				 bool has_error, u32 error)
{
	struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;

	c->event_inj = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT | vector |
		       (has_error ? SVM_EVTINJ_VALID_ERR : 0);
	c->event_inj_err = error;
}

/* ---- state for save and restore ------------------------------------------- */

static u8 *svm_fpu(struct hvx_vcpu *vcpu)
{
	return to_svm(vcpu)->fpu;
}

/* EVENTINJ has the uapi's layout (APM vol. 2, 15.20). */
static void svm_get_events(struct hvx_vcpu *vcpu, struct hvx_vcpu_events *ev)
{
	struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;

	ev->shadow = c->int_state & SVM_INTERRUPT_SHADOW_MASK ? HVX_SHADOW_STI : 0;
	if (c->event_inj & SVM_EVTINJ_VALID) {
		ev->inject_info = c->event_inj & (SVM_EVTINJ_VALID | SVM_EVTINJ_VALID_ERR |
						  SVM_EVTINJ_TYPE_MASK | SVM_EVTINJ_VEC_MASK);
		if (c->event_inj & SVM_EVTINJ_VALID_ERR)
			ev->inject_error = c->event_inj_err;
	}
}

static int svm_set_events(struct hvx_vcpu *vcpu, const struct hvx_vcpu_events *ev)
{
	struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;
	u32 type = HVX_EVENT_TYPE(ev->inject_info);

	/*
	 * hvx delivers no NMI to SVM guests, and never injects software events
	 * there (the instruction that raised one runs again instead).
	 */
	if (ev->nmi_masked || ev->inject_insn_len ||
	    ((ev->inject_info & HVX_EVENT_VALID) && type >= HVX_EVENT_SOFT_INTR))
		return -EINVAL;
	c->int_state = (c->int_state & ~SVM_INTERRUPT_SHADOW_MASK) |
		       (ev->shadow ? SVM_INTERRUPT_SHADOW_MASK : 0);
	c->event_inj = ev->inject_info;
	c->event_inj_err = ev->inject_error;
	return 0;
}

/* ---- registers ---------------------------------------------------------- */

static void svm_seg_get(const struct vmcb_seg *v, struct hvx_segment *s)
{
	s->base = v->base;
	s->limit = v->limit;
	s->selector = v->selector;
	s->type = v->attrib & SVM_SELECTOR_TYPE_MASK;
	s->s = !!(v->attrib & SVM_SELECTOR_S_MASK);
	s->dpl = (v->attrib & SVM_SELECTOR_DPL_MASK) >> SVM_SELECTOR_DPL_SHIFT;
	s->present = !!(v->attrib & SVM_SELECTOR_P_MASK);
	s->avl = !!(v->attrib & SVM_SELECTOR_AVL_MASK);
	s->l = !!(v->attrib & SVM_SELECTOR_L_MASK);
	s->db = !!(v->attrib & SVM_SELECTOR_DB_MASK);
	s->g = !!(v->attrib & SVM_SELECTOR_G_MASK);
	s->unusable = !s->present;
}

static void svm_seg_set(struct vmcb_seg *v, const struct hvx_segment *s)
{
	v->base = s->base;
	v->limit = s->limit;
	v->selector = s->selector;
	v->attrib = 0;
	if (s->unusable)
		return;
	v->attrib = (s->type & SVM_SELECTOR_TYPE_MASK) |
		    (s->s ? SVM_SELECTOR_S_MASK : 0) |
		    ((s->dpl & 3) << SVM_SELECTOR_DPL_SHIFT) |
		    (s->present ? SVM_SELECTOR_P_MASK : 0) |
		    (s->avl ? SVM_SELECTOR_AVL_MASK : 0) |
		    (s->l ? SVM_SELECTOR_L_MASK : 0) |
		    (s->db ? SVM_SELECTOR_DB_MASK : 0) |
		    (s->g ? SVM_SELECTOR_G_MASK : 0);
}

static void svm_get_sregs(struct hvx_vcpu *vcpu, struct hvx_sregs *sr)
{
	struct vmcb_save_area *s = &to_svm(vcpu)->vmcb->save;

	svm_seg_get(&s->cs, &sr->cs);
	svm_seg_get(&s->ds, &sr->ds);
	svm_seg_get(&s->es, &sr->es);
	svm_seg_get(&s->fs, &sr->fs);
	svm_seg_get(&s->gs, &sr->gs);
	svm_seg_get(&s->ss, &sr->ss);
	svm_seg_get(&s->tr, &sr->tr);
	svm_seg_get(&s->ldtr, &sr->ldt);
	sr->gdt.base = s->gdtr.base;
	sr->gdt.limit = s->gdtr.limit;
	sr->idt.base = s->idtr.base;
	sr->idt.limit = s->idtr.limit;
	sr->cr0 = s->cr0;
	sr->cr2 = s->cr2;
	sr->cr3 = s->cr3;
	sr->cr4 = s->cr4;
	sr->cr8 = to_svm(vcpu)->vmcb->control.int_ctl & V_TPR_MASK;
	sr->efer = s->efer & ~(u64)EFER_SVME;
}

static void svm_set_sregs(struct hvx_vcpu *vcpu, const struct hvx_sregs *sr)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	struct vmcb_save_area *s = &vmcb->save;

	svm_seg_set(&s->cs, &sr->cs);
	svm_seg_set(&s->ds, &sr->ds);
	svm_seg_set(&s->es, &sr->es);
	svm_seg_set(&s->fs, &sr->fs);
	svm_seg_set(&s->gs, &sr->gs);
	svm_seg_set(&s->ss, &sr->ss);
	svm_seg_set(&s->tr, &sr->tr);
	svm_seg_set(&s->ldtr, &sr->ldt);
	s->gdtr.base = sr->gdt.base;
	s->gdtr.limit = sr->gdt.limit;
	s->idtr.base = sr->idt.base;
	s->idtr.limit = sr->idt.limit;
	s->cr0 = sr->cr0;
	s->cr2 = sr->cr2;
	s->cr3 = sr->cr3;
	s->cr4 = sr->cr4;
	s->efer = sr->efer | EFER_SVME;
	s->cpl = (s->cs.attrib & SVM_SELECTOR_DPL_MASK) >> SVM_SELECTOR_DPL_SHIFT;
	vmcb->control.int_ctl = (vmcb->control.int_ctl & ~V_TPR_MASK) |
				(sr->cr8 & V_TPR_MASK);
}

/* The MSRs whose guest values VMRUN and VMLOAD switch live in the VMCB. */
static u64 *svm_msr_slot(struct vmcb_save_area *s, u32 index)
{
	switch (index) {
	case MSR_STAR:			return &s->star;
	case MSR_LSTAR:			return &s->lstar;
	case MSR_CSTAR:			return &s->cstar;
	case MSR_SYSCALL_MASK:		return &s->sfmask;
	case MSR_KERNEL_GS_BASE:	return &s->kernel_gs_base;
	case MSR_IA32_SYSENTER_CS:	return &s->sysenter_cs;
	case MSR_IA32_SYSENTER_ESP:	return &s->sysenter_esp;
	case MSR_IA32_SYSENTER_EIP:	return &s->sysenter_eip;
	case MSR_FS_BASE:		return &s->fs.base;
	case MSR_GS_BASE:		return &s->gs.base;
	case MSR_IA32_CR_PAT:		return &s->g_pat;
	default:			return NULL;
	}
}

static int svm_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u64 *slot = svm_msr_slot(&vmcb->save, index);

	if (slot) {
		*data = *slot;
		return 0;
	}
	switch (index) {
	case MSR_EFER:
		*data = vmcb->save.efer & ~(u64)EFER_SVME;
		return 0;
	case MSR_IA32_TSC:
		*data = rdtsc() + vmcb->control.tsc_offset;
		return 0;
	default:
		return -ENOENT;
	}
}

static int svm_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u64 *slot = svm_msr_slot(&vmcb->save, index);

	if (slot) {
		*slot = data;
		return 0;
	}
	switch (index) {
	case MSR_EFER:
		/* LMA is the CPU's to set; SVME must stay on under VMRUN. */
		vmcb->save.efer = (data & ~(u64)EFER_LMA) |
				  (vmcb->save.efer & EFER_LMA) | EFER_SVME;
		return 0;
	case MSR_IA32_TSC:
		vmcb->control.tsc_offset = data - rdtsc();
		return 0;
	default:
		return -ENOENT;
	}
}

/* NPT entries are ordinary x86 page-table entries, user-accessible. */
static u64 svm_tdp_leaf(phys_addr_t pa, bool writable)
{
	return pa | _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY |
	       (writable ? _PAGE_RW : 0);
}

static u64 svm_tdp_table(phys_addr_t pa)
{
	return pa | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED;
}

const struct hvx_vendor_ops hvx_svm_ops = {
	.name		= "svm",
	.tdp_name	= "NPT",
	.probe		= svm_probe,
	.unload		= svm_unload,
	.cpu_enable	= svm_cpu_enable,
	.cpu_disable	= svm_cpu_disable,
	.vcpu_create	= svm_vcpu_create,
	.vcpu_free	= svm_vcpu_free,
	.vcpu_enter	= svm_vcpu_enter,
	.get_sregs	= svm_get_sregs,
	.set_sregs	= svm_set_sregs,
	.get_msr	= svm_get_msr,
	.set_msr	= svm_set_msr,
	.inject_exception = svm_inject_exception,
	.fpu		= svm_fpu,
	.get_events	= svm_get_events,
	.set_events	= svm_set_events,
	.tdp_leaf	= svm_tdp_leaf,
	.tdp_table	= svm_tdp_table,
	.irq_window_open = svm_irq_window_open,
	.inject_irq	= svm_inject_irq,
	.set_irq_window	= svm_set_irq_window,
};
