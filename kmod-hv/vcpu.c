// SPDX-License-Identifier: GPL-2.0
/* vcpu.c - the vCPU fd: registers, CPUID, MSRs, the run loop and vendor-neutral exit handling. */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/fpu/api.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "compat.h"
#include "hvx.h"
#include "trace.h"

/* Guest-writable bits of CR4 and EFER; anything else is EINVAL / #GP. */
#define HVX_CR4_VALID	(X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE | \
			 X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE | \
			 X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | \
			 X86_CR4_UMIP | X86_CR4_FSGSBASE | X86_CR4_PCIDE | \
			 X86_CR4_OSXSAVE | X86_CR4_SMEP | X86_CR4_SMAP)
#define HVX_EFER_VALID	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)

#define HVX_APIC_BASE_DEFAULT	(0xfee00000ull | MSR_IA32_APICBASE_ENABLE)

/* Mask of the address bits a string instruction with @addr_size uses. */
static u64 hvx_addr_mask(u8 addr_size)
{
	return addr_size == 8 ? ~0ull : addr_size == 4 ? 0xffffffffull : 0xffffull;
}

static void hvx_skip_insn(struct hvx_vcpu *vcpu, u8 len)
{
	vcpu->rip += len;
	vcpu->rflags &= ~X86_EFLAGS_RF;
}

static void hvx_inject_gp(struct hvx_vcpu *vcpu)
{
	hvx_ops->inject_exception(vcpu, X86_TRAP_GP, true, 0);
}

/* ---- MSRs ------------------------------------------------------------ */

static int hvx_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data)
{
	int ret = hvx_ops->get_msr(vcpu, index, data);

	if (ret != -ENOENT)
		return ret;
	switch (index) {
	case MSR_IA32_APICBASE:
		*data = vcpu->msr_apic_base;
		return 0;
	case MSR_MTRRcap:
		*data = 0;	/* no MTRRs: guests keep write-back */
		return 0;
	case MSR_IA32_TSC_DEADLINE:
		if (!vcpu->lapic)
			return -ENOENT;
		*data = hvx_lapic_get_deadline(vcpu);
		return 0;
	default:
		return -ENOENT;
	}
}

/* PAT entries: UC, WC, WT, WP, WB, UC- (2 and 3 are reserved). */
static bool hvx_pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 type = pat >> (i * 8);

		if (type > 7 || type == 2 || type == 3)
			return false;
	}
	return true;
}

/*
 * What the CPU's WRMSR would refuse with #GP: hvx loads these values into
 * the hardware MSRs at entry (VMX switches the SYSCALL MSRs by hand) or the
 * VMCS checks them at entry, so a value the CPU refuses must be refused
 * here, not written to the host's MSR.
 */
static bool hvx_msr_value_valid(u32 index, u64 data)
{
	switch (index) {
	case MSR_EFER:
		return !(data & ~(u64)HVX_EFER_VALID);
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		/* Canonical for 48-bit linear addresses (hvx offers no LA57). */
		return (u64)((s64)(data << 16) >> 16) == data;
	case MSR_SYSCALL_MASK:
		return !(data >> 32);
	case MSR_IA32_CR_PAT:
		return hvx_pat_valid(data);
	default:
		return true;
	}
}

static int hvx_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data)
{
	int ret;

	if (!hvx_msr_value_valid(index, data))
		return -EINVAL;
	ret = hvx_ops->set_msr(vcpu, index, data);
	if (ret != -ENOENT)
		return ret;
	switch (index) {
	case MSR_IA32_APICBASE:
		/* Only the base and the enable bit (x2APIC is not offered). */
		if (data & ~(0xffffff000ull | MSR_IA32_APICBASE_ENABLE |
			     MSR_IA32_APICBASE_BSP))
			return -EINVAL;
		/* The in-kernel APIC stays at its page: it may shadow RAM. */
		if (vcpu->lapic && (data ^ vcpu->msr_apic_base) & 0xffffff000ull)
			return -EINVAL;
		vcpu->msr_apic_base = data;
		return 0;
	case MSR_IA32_TSC_DEADLINE:
		return vcpu->lapic ? hvx_lapic_set_deadline(vcpu, data) : -ENOENT;
	default:
		return -ENOENT;
	}
}

/* ---- exits ----------------------------------------------------------- */

static void hvx_handle_cpuid(struct hvx_vcpu *vcpu)
{
	u32 fn = vcpu->regs[HVX_RAX], idx = vcpu->regs[HVX_RCX];
	const struct hvx_cpuid_entry *e = NULL;
	u32 i;

	for (i = 0; i < vcpu->cpuid_nent; i++) {
		const struct hvx_cpuid_entry *c = &vcpu->cpuid[i];

		if (c->function == fn &&
		    (!(c->flags & HVX_CPUID_FLAG_SIGNIFICANT_INDEX) || c->index == idx)) {
			e = c;
			break;
		}
	}
	vcpu->regs[HVX_RAX] = e ? e->eax : 0;
	vcpu->regs[HVX_RBX] = e ? e->ebx : 0;
	vcpu->regs[HVX_RCX] = e ? e->ecx : 0;
	vcpu->regs[HVX_RDX] = e ? e->edx : 0;
	hvx_skip_insn(vcpu, vcpu->exit.insn_len);
}

static int hvx_handle_msr(struct hvx_vcpu *vcpu, bool write)
{
	u32 index = vcpu->regs[HVX_RCX];
	u64 data = (vcpu->regs[HVX_RDX] << 32) | (u32)vcpu->regs[HVX_RAX];
	struct hvx_run *run = vcpu->run;
	int ret;

	ret = write ? hvx_set_msr(vcpu, index, data) : hvx_get_msr(vcpu, index, &data);
	if (!ret) {
		if (!write) {
			vcpu->regs[HVX_RAX] = (u32)data;
			vcpu->regs[HVX_RDX] = data >> 32;
		}
		hvx_skip_insn(vcpu, vcpu->exit.insn_len);
		return 1;
	}
	if (ret != -ENOENT || READ_ONCE(vcpu->vm->msr_policy) == HVX_MSR_POLICY_GP) {
		hvx_inject_gp(vcpu);
		return 1;
	}
	run->exit_reason = HVX_EXIT_MSR;
	run->msr.index = index;
	run->msr.is_write = write;
	run->msr.error = 0;
	run->msr.data = write ? data : 0;
	vcpu->pending = write ? HVX_PENDING_WRMSR : HVX_PENDING_RDMSR;
	vcpu->pending_len = vcpu->exit.insn_len;
	return 0;
}

/* Guest linear address of a string I/O operand: DS:RSI for OUTS, ES:RDI for INS. */
static int hvx_string_io_gpa(struct hvx_vcpu *vcpu, const struct hvx_sregs *sregs,
			     u64 *gpa, u32 *room)
{
	bool in = vcpu->exit.io.in;
	u64 off = vcpu->regs[in ? HVX_RDI : HVX_RSI] &
		  hvx_addr_mask(vcpu->exit.io.addr_size);
	u64 gva = (in ? sregs->es.base : sregs->ds.base) + off;
	int ret = hvx_gva_to_gpa(vcpu, sregs, gva, in, gpa);

	*room = PAGE_SIZE - offset_in_page(*gpa);
	return ret;
}

static void hvx_internal_error(struct hvx_vcpu *vcpu, u32 suberror)
{
	struct hvx_run *run = vcpu->run;

	run->exit_reason = HVX_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.ndata = 4;
	run->internal.data[0] = vcpu->exit.hw_code;
	run->internal.data[1] = vcpu->exit.info1;
	run->internal.data[2] = vcpu->exit.info2;
	run->internal.data[3] = vcpu->rip;
}

/*
 * Port I/O always goes to userspace.  String forms move at most one page
 * of data and never cross a guest page per exit; a REP that is not done
 * re-executes the instruction and exits again.
 */
static int hvx_handle_io(struct hvx_vcpu *vcpu)
{
	struct hvx_run *run = vcpu->run;
	void *data = page_address(vcpu->io_page);
	u8 size = vcpu->exit.io.size;
	struct hvx_sregs sregs;
	u64 count = 1, gpa, mask;
	u32 room;
	int ret;

	run->exit_reason = HVX_EXIT_IO;
	run->io.direction = vcpu->exit.io.in ? HVX_IO_IN : HVX_IO_OUT;
	run->io.size = size;
	run->io.port = vcpu->exit.io.port;
	run->io.data_offset = HVX_RUN_IO_DATA_OFFSET;
	run->io.count = 1;

	if (!vcpu->exit.io.string) {
		if (vcpu->exit.io.in) {
			vcpu->pending = HVX_PENDING_IO_IN;
			vcpu->pending_len = vcpu->exit.insn_len;
			return 0;
		}
		hvx_skip_insn(vcpu, vcpu->exit.insn_len);
		if (hvx_ioeventfd_write(vcpu->vm, true, run->io.port, size,
					vcpu->regs[HVX_RAX]))
			return 1;
		memcpy(data, &vcpu->regs[HVX_RAX], size);
		return 0;
	}

	/*
	 * The address size comes from the code segment: QEMU's emulated SVM
	 * reports EXITINFO1.ASIZE one bit off, so the field is not trusted.
	 * (An 0x67 prefix on string I/O is not supported.)
	 */
	hvx_ops->get_sregs(vcpu, &sregs);
	vcpu->exit.io.addr_size = ((sregs.efer & EFER_LMA) && sregs.cs.l) ? 8 :
				  sregs.cs.db ? 4 : 2;
	mask = hvx_addr_mask(vcpu->exit.io.addr_size);
	if (vcpu->exit.io.rep) {
		count = vcpu->regs[HVX_RCX] & mask;
		if (!count) {
			hvx_skip_insn(vcpu, vcpu->exit.insn_len);
			return 1;
		}
	}
	ret = hvx_string_io_gpa(vcpu, &sregs, &gpa, &room);
	if (ret) {
		hvx_internal_error(vcpu, HVX_INTERNAL_EMULATION);
		return 0;
	}
	/* Backwards (DF=1) or unaligned at a page edge: one element. */
	if ((vcpu->rflags & X86_EFLAGS_DF) || room < size)
		count = 1;
	else
		count = min_t(u64, count, room / size);
	run->io.count = count;
	vcpu->io_count = count;
	vcpu->io_gpa = gpa;
	if (vcpu->exit.io.in) {
		/*
		 * INS into MMIO or read-only memory is not emulated: say so
		 * now, before userspace produces data hvx could not store.
		 */
		struct hvx_region *region = hvx_find_region(vcpu->vm, gpa);

		if (!region || (region->flags & HVX_MEM_READONLY) ||
		    gpa + count * size - region->gpa > region->size) {
			hvx_internal_error(vcpu, HVX_INTERNAL_EMULATION);
			return 0;
		}
		vcpu->pending = HVX_PENDING_IO_IN;
		vcpu->pending_len = vcpu->exit.insn_len;
		return 0;
	}
	if (hvx_read_guest(vcpu->vm, gpa, data, count * size)) {
		hvx_internal_error(vcpu, HVX_INTERNAL_EMULATION);
		return 0;
	}
	vcpu->pending = HVX_PENDING_IO_OUT;
	vcpu->pending_len = vcpu->exit.insn_len;
	return 0;
}

/* Advance RSI/RDI and RCX past a completed string I/O chunk. */
static void hvx_finish_string_io(struct hvx_vcpu *vcpu)
{
	u64 mask = hvx_addr_mask(vcpu->exit.io.addr_size);
	u64 bytes = (u64)vcpu->io_count * vcpu->exit.io.size;
	enum hvx_reg idx = vcpu->exit.io.in ? HVX_RDI : HVX_RSI;
	u64 val = vcpu->regs[idx];

	val = (vcpu->rflags & X86_EFLAGS_DF) ? val - bytes : val + bytes;
	vcpu->regs[idx] = (vcpu->regs[idx] & ~mask) | (val & mask);
	if (vcpu->exit.io.rep) {
		u64 rcx = (vcpu->regs[HVX_RCX] & mask) - vcpu->io_count;

		vcpu->regs[HVX_RCX] = (vcpu->regs[HVX_RCX] & ~mask) | (rcx & mask);
		if (rcx & mask)
			return;	/* re-execute for the rest */
	}
	hvx_skip_insn(vcpu, vcpu->pending_len);
}

/*
 * A second-level fault in guest RAM maps the page: writable if the region
 * and the page allow it.  A read of a shared frame maps it read-only; a
 * write to one gets the guest a private copy first.
 */
static int hvx_handle_tdp_fault(struct hvx_vcpu *vcpu)
{
	struct hvx_vm *vm = vcpu->vm;
	u64 gpa = vcpu->exit.gpa;
	struct hvx_region *region = hvx_find_region(vm, gpa);
	bool write = vcpu->exit.write, readonly;
	struct hvx_stable *dropped;
	struct page *page;
	int ret;

	if (hvx_lapic_covers(vcpu, gpa))
		return hvx_emulate_mmio(vcpu, gpa, write);
	if (region) {
		readonly = region->flags & HVX_MEM_READONLY;
		if (!(readonly && write)) {
			mutex_lock(&vm->mmu_lock);
			page = hvx_region_page(vm, region, gpa, write, true,
					       &dropped);
			/*
			 * While the dirty log is on, a read maps the page
			 * read-only: its first write must fault to be logged.
			 */
			ret = IS_ERR(page) ? PTR_ERR(page) :
			      tdp_map(vm, gpa & PAGE_MASK, page,
				      !readonly && !hvx_page_stable(page) &&
				      (write || !region->dirty));
			if (!ret && write)
				hvx_mark_dirty(vm, region, gpa);
			mutex_unlock(&vm->mmu_lock);
			hvx_release_dropped(dropped);
			if (ret)
				return ret;
			atomic64_inc(&vm->tdp_faults);
			vcpu->stats.tdp_faults++;
			trace_hvx_tdp_fault(vcpu, gpa, write, vcpu->exit.fetch, false);
			return 1;
		}
	}
	atomic64_inc(&vm->mmio_exits);
	vcpu->stats.mmio_exits++;
	trace_hvx_tdp_fault(vcpu, gpa, write, vcpu->exit.fetch, true);
	return hvx_emulate_mmio(vcpu, gpa, vcpu->exit.write);
}

/* HLT with interrupts on: sleep until the local APIC has one (or a signal). */
static void hvx_halt_wait(struct hvx_vcpu *vcpu)
{
	u64 start = ktime_get_ns();

	vcpu->stats.halt_waits++;
	if (!wait_event_interruptible(vcpu->wq, hvx_lapic_pending(vcpu)))
		vcpu->stats.halt_wakeups++;
	vcpu->stats.halt_wait_ns += ktime_get_ns() - start;
}

/* >0: keep running; 0: exit to userspace (run filled in); <0: error. */
static int hvx_handle_exit(struct hvx_vcpu *vcpu)
{
	struct hvx_run *run = vcpu->run;
	struct hvx_exit *x = &vcpu->exit;

	switch (x->kind) {
	case HVX_X_NONE:
		return 1;
	case HVX_X_CPUID:
		hvx_handle_cpuid(vcpu);
		return 1;
	case HVX_X_RDMSR:
		return hvx_handle_msr(vcpu, false);
	case HVX_X_WRMSR:
		return hvx_handle_msr(vcpu, true);
	case HVX_X_IO:
		return hvx_handle_io(vcpu);
	case HVX_X_TDP_FAULT:
		return hvx_handle_tdp_fault(vcpu);
	case HVX_X_HLT:
		hvx_skip_insn(vcpu, x->insn_len);
		/*
		 * With the local APIC in the kernel, HLT waits here for an
		 * interrupt (a signal ends the wait: the loop returns EINTR).
		 * With interrupts off nothing could end it: the VMM decides.
		 */
		if (!vcpu->lapic || !(vcpu->rflags & X86_EFLAGS_IF)) {
			run->exit_reason = HVX_EXIT_HLT;
			return 0;
		}
		hvx_halt_wait(vcpu);
		return 1;
	case HVX_X_HYPERCALL:
		run->exit_reason = HVX_EXIT_HYPERCALL;
		run->hypercall.nr = vcpu->regs[HVX_RAX];
		run->hypercall.args[0] = vcpu->regs[HVX_RBX];
		run->hypercall.args[1] = vcpu->regs[HVX_RCX];
		run->hypercall.args[2] = vcpu->regs[HVX_RDX];
		run->hypercall.args[3] = vcpu->regs[HVX_RSI];
		run->hypercall.ret = 0;
		vcpu->pending = HVX_PENDING_HYPERCALL;
		vcpu->pending_len = x->insn_len;
		return 0;
	case HVX_X_SHUTDOWN:
		run->exit_reason = HVX_EXIT_SHUTDOWN;
		return 0;
	case HVX_X_CR_ACCESS:
		if (!hvx_ops->handle_cr_access(vcpu))
			return 1;
		hvx_internal_error(vcpu, HVX_INTERNAL_EMULATION);
		return 0;
	case HVX_X_FAIL_ENTRY:
	case HVX_X_UNHANDLED:
		run->exit_reason = x->kind == HVX_X_FAIL_ENTRY ?
				   HVX_EXIT_FAIL_ENTRY : HVX_EXIT_UNKNOWN;
		run->hw.exit_code = x->hw_code;
		run->hw.info1 = x->info1;
		run->hw.info2 = x->info2;
		run->hw.vm_instruction_error = x->vm_insn_error;
		return 0;
	}
	hvx_internal_error(vcpu, HVX_INTERNAL_UNHANDLED);
	return 0;
}

/* Finish the exit userspace has just handled, with what it left in run. */
static int hvx_complete_pending(struct hvx_vcpu *vcpu)
{
	struct hvx_run *run = vcpu->run;
	void *data = page_address(vcpu->io_page);
	enum hvx_pending pending = vcpu->pending;
	int ret = 0;

	vcpu->pending = HVX_PENDING_NONE;
	switch (pending) {
	case HVX_PENDING_NONE:
		break;
	case HVX_PENDING_IO_IN:
		if (vcpu->exit.io.string) {
			ret = hvx_write_guest(vcpu->vm, vcpu->io_gpa, data,
					      vcpu->io_count * vcpu->exit.io.size);
			if (!ret)
				hvx_finish_string_io(vcpu);
			break;
		}
		if (vcpu->exit.io.size == 4)
			vcpu->regs[HVX_RAX] = *(u32 *)data;
		else
			memcpy(&vcpu->regs[HVX_RAX], data, vcpu->exit.io.size);
		hvx_skip_insn(vcpu, vcpu->pending_len);
		break;
	case HVX_PENDING_IO_OUT:
		hvx_finish_string_io(vcpu);
		break;
	case HVX_PENDING_MMIO_READ:
		ret = hvx_complete_mmio_read(vcpu, vcpu->run->mmio.data);
		break;
	case HVX_PENDING_RDMSR:
	case HVX_PENDING_WRMSR:
		if (READ_ONCE(run->msr.error)) {
			hvx_inject_gp(vcpu);
			break;
		}
		if (pending == HVX_PENDING_RDMSR) {
			u64 val = READ_ONCE(run->msr.data);

			vcpu->regs[HVX_RAX] = (u32)val;
			vcpu->regs[HVX_RDX] = val >> 32;
		}
		hvx_skip_insn(vcpu, vcpu->pending_len);
		break;
	case HVX_PENDING_HYPERCALL:
		vcpu->regs[HVX_RAX] = READ_ONCE(run->hypercall.ret);
		hvx_skip_insn(vcpu, vcpu->pending_len);
		break;
	}
	return ret;
}

/* An exit to userspace, by reason, for the stats and the trace. */
static void hvx_count_user_exit(struct hvx_vcpu *vcpu)
{
	struct hvx_run *run = vcpu->run;
	u32 reason = run->exit_reason;
	u64 addr = 0;

	if (reason < HVX_STATS_USER_BUCKETS)
		vcpu->stats.exits_user[reason]++;
	if (reason == HVX_EXIT_IO)
		addr = run->io.port;
	else if (reason == HVX_EXIT_MMIO)
		addr = run->mmio.phys_addr;
	else if (reason == HVX_EXIT_MSR)
		addr = run->msr.index;
	trace_hvx_user_exit(vcpu, reason, addr);
}

static int hvx_vcpu_run(struct hvx_vcpu *vcpu)
{
	struct hvx_vcpu_stats *st = &vcpu->stats;
	struct hvx_run *run = vcpu->run;
	u64 entered, exited = 0;
	int ret;

	if (!READ_ONCE(vcpu->vm->nr_regions))
		return -ENOEXEC;
	ret = hvx_complete_pending(vcpu);
	if (ret) {
		/* INS data hvx could not store after all: the guest's RAM went. */
		hvx_internal_error(vcpu, HVX_INTERNAL_EMULATION);
		hvx_count_user_exit(vcpu);
		return 0;
	}

	for (;;) {
		if (READ_ONCE(run->immediate_exit) || signal_pending(current) ||
		    (vcpu->lapic && hvx_lapic_mp_events(vcpu))) {
			run->exit_reason = HVX_EXIT_INTR;
			hvx_count_user_exit(vcpu);
			return -EINTR;
		}
		cond_resched();
		trace_hvx_entry(vcpu);
		/*
		 * TSC cycles, two reads an exit (the clock's read costs more
		 * than the rest of a CPUID exit's accounting); stats.c turns
		 * them into nanoseconds.  An exit's handling ends here, at the
		 * next entry, or at the return to userspace.
		 */
		entered = rdtsc();
		if (exited)
			st->exit_tsc += entered - exited;
		ret = hvx_ops->vcpu_enter(vcpu);
		exited = rdtsc();
		st->guest_tsc += exited - entered;
		if (ret)
			return ret;
		st->exits++;
		st->exits_kind[vcpu->exit.kind]++;
		st->exits_hw[hvx_stats_hw_bucket(vcpu->exit.hw_code)]++;
		trace_hvx_exit(vcpu);
		ret = hvx_handle_exit(vcpu);
		if (ret <= 0) {
			st->exit_tsc += rdtsc() - exited;
			if (!ret)
				hvx_count_user_exit(vcpu);
			return ret;
		}
	}
}

/* ---- register ioctls -------------------------------------------------- */

static void hvx_get_regs(struct hvx_vcpu *vcpu, struct hvx_regs *r)
{
	const u64 *g = vcpu->regs;

	*r = (struct hvx_regs) {
		.rax = g[HVX_RAX], .rbx = g[HVX_RBX], .rcx = g[HVX_RCX],
		.rdx = g[HVX_RDX], .rsi = g[HVX_RSI], .rdi = g[HVX_RDI],
		.rsp = g[HVX_RSP], .rbp = g[HVX_RBP],
		.r8 = g[HVX_R8], .r9 = g[HVX_R9], .r10 = g[HVX_R10],
		.r11 = g[HVX_R11], .r12 = g[HVX_R12], .r13 = g[HVX_R13],
		.r14 = g[HVX_R14], .r15 = g[HVX_R15],
		.rip = vcpu->rip, .rflags = vcpu->rflags,
	};
}

static void hvx_set_regs(struct hvx_vcpu *vcpu, const struct hvx_regs *r)
{
	u64 *g = vcpu->regs;

	g[HVX_RAX] = r->rax; g[HVX_RBX] = r->rbx; g[HVX_RCX] = r->rcx;
	g[HVX_RDX] = r->rdx; g[HVX_RSI] = r->rsi; g[HVX_RDI] = r->rdi;
	g[HVX_RSP] = r->rsp; g[HVX_RBP] = r->rbp;
	g[HVX_R8] = r->r8; g[HVX_R9] = r->r9; g[HVX_R10] = r->r10;
	g[HVX_R11] = r->r11; g[HVX_R12] = r->r12; g[HVX_R13] = r->r13;
	g[HVX_R14] = r->r14; g[HVX_R15] = r->r15;
	vcpu->rip = r->rip;
	/* Bit 1 always reads as 1; reserved bits are dropped. */
	vcpu->rflags = (r->rflags & 0x3f7fd7) | X86_EFLAGS_FIXED;
}

/* What the hardware would refuse to enter with is refused here. */
static int hvx_check_sregs(const struct hvx_sregs *s)
{
	if (memchr_inv(s->reserved, 0, sizeof(s->reserved)))
		return -EINVAL;
	if ((s->cr0 >> 32) || ((s->cr0 & X86_CR0_PG) && !(s->cr0 & X86_CR0_PE)) ||
	    ((s->cr0 & X86_CR0_NW) && !(s->cr0 & X86_CR0_CD)))
		return -EINVAL;
	if (s->cr4 & ~(u64)HVX_CR4_VALID)
		return -EINVAL;
	if (s->efer & ~(u64)HVX_EFER_VALID)
		return -EINVAL;
	if ((s->efer & EFER_LME) && (s->cr0 & X86_CR0_PG) && !(s->cr4 & X86_CR4_PAE))
		return -EINVAL;
	if (s->cr8 > 15)
		return -EINVAL;
	if (s->apic_base & ~(0xffffff000ull | MSR_IA32_APICBASE_ENABLE |
			     MSR_IA32_APICBASE_BSP))
		return -EINVAL;
	return 0;
}

static noinline_for_stack long hvx_set_sregs_ioctl(struct hvx_vcpu *vcpu,
						    void __user *argp)
{
	struct hvx_sregs s;
	int ret;

	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	ret = hvx_check_sregs(&s);
	if (ret)
		return ret;
	/* EFER.LMA follows from LME and paging; it is not the VMM's to set. */
	s.efer &= ~(u64)EFER_LMA;
	if ((s.efer & EFER_LME) && (s.cr0 & X86_CR0_PG))
		s.efer |= EFER_LMA;
	if (vcpu->lapic && (s.apic_base ^ vcpu->msr_apic_base) & 0xffffff000ull)
		return -EINVAL;		/* the in-kernel APIC stays at its page */
	vcpu->msr_apic_base = s.apic_base;
	hvx_ops->set_sregs(vcpu, &s);
	return 0;
}

static noinline_for_stack long hvx_set_cpuid(struct hvx_vcpu *vcpu,
					      struct hvx_cpuid __user *argp)
{
	struct hvx_cpuid_entry *entries;
	struct hvx_cpuid hdr;
	u32 i;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.padding)
		return -EINVAL;
	if (hdr.nent > HVX_MAX_CPUID_ENTRIES)
		return -E2BIG;
	entries = memdup_user(argp->entries, sizeof(*entries) * hdr.nent);
	if (IS_ERR(entries))
		return PTR_ERR(entries);
	for (i = 0; i < hdr.nent; i++) {
		if ((entries[i].flags & ~HVX_CPUID_FLAG_SIGNIFICANT_INDEX) ||
		    entries[i].reserved[0] || entries[i].reserved[1] ||
		    entries[i].reserved[2]) {
			kfree(entries);
			return -EINVAL;
		}
	}
	kfree(vcpu->cpuid);
	vcpu->cpuid = entries;
	vcpu->cpuid_nent = hdr.nent;
	return 0;
}

static noinline_for_stack long hvx_msrs_ioctl(struct hvx_vcpu *vcpu,
					       struct hvx_msrs __user *argp, bool set)
{
	struct hvx_msr_entry e;
	struct hvx_msrs hdr;
	u32 i;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.padding)
		return -EINVAL;
	if (hdr.nmsrs > HVX_MAX_MSR_ENTRIES)
		return -E2BIG;
	for (i = 0; i < hdr.nmsrs; i++) {
		if (copy_from_user(&e, &argp->entries[i], sizeof(e)))
			return -EFAULT;
		if (e.reserved)
			return -EINVAL;
		if (set) {
			if (hvx_set_msr(vcpu, e.index, e.data))
				break;
		} else {
			if (hvx_get_msr(vcpu, e.index, &e.data))
				break;
			if (copy_to_user(&argp->entries[i], &e, sizeof(e)))
				return -EFAULT;
		}
	}
	return i;
}

/* ---- state for save and restore ----------------------------------------- */

/*
 * The MXCSR bits this CPU implements (FXSAVE's MXCSR_MASK, 0 meaning the
 * architectural default): FXRSTOR of any other bit faults in the kernel.
 */
static u32 hvx_mxcsr_mask(void)
{
	static u32 mask;
	u8 buf[512 + 16];
	u8 *img = PTR_ALIGN(&buf[0], 16);

	if (!READ_ONCE(mask)) {
		kernel_fpu_begin();
		asm volatile("fxsave64 %0" : "=m"(*img));
		kernel_fpu_end();
		WRITE_ONCE(mask, *(u32 *)(img + 28) ?: 0xffbf);
	}
	return mask;
}

static noinline_for_stack long hvx_fpu_ioctl(struct hvx_vcpu *vcpu,
					      struct hvx_fpu __user *argp, bool set)
{
	struct hvx_fpu *fpu;
	long ret = 0;

	fpu = kzalloc(sizeof(*fpu), GFP_KERNEL);
	if (!fpu)
		return -ENOMEM;
	if (!set) {
		memcpy(fpu->fxsave, hvx_ops->fpu(vcpu), sizeof(fpu->fxsave));
		if (copy_to_user(argp, fpu, sizeof(*fpu)))
			ret = -EFAULT;
	} else if (copy_from_user(fpu, argp, sizeof(*fpu))) {
		ret = -EFAULT;
	} else if (memchr_inv(fpu->reserved, 0, sizeof(fpu->reserved)) ||
		   (*(u32 *)(fpu->fxsave + 24) & ~hvx_mxcsr_mask())) {
		ret = -EINVAL;
	} else {
		memcpy(hvx_ops->fpu(vcpu), fpu->fxsave, sizeof(fpu->fxsave));
	}
	kfree(fpu);
	return ret;
}

static noinline_for_stack long hvx_lapic_ioctl(struct hvx_vcpu *vcpu,
						struct hvx_lapic_state __user *argp,
						bool set)
{
	struct hvx_lapic_state *st;
	long ret = 0;

	if (!vcpu->lapic)
		return -ENXIO;
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	if (!set) {
		hvx_lapic_get(vcpu, st);
		if (copy_to_user(argp, st, sizeof(*st)))
			ret = -EFAULT;
	} else if (copy_from_user(st, argp, sizeof(*st))) {
		ret = -EFAULT;
	} else {
		ret = hvx_lapic_set(vcpu, st);
	}
	kfree(st);
	return ret;
}

static void hvx_get_events(struct hvx_vcpu *vcpu, struct hvx_vcpu_events *ev)
{
	memset(ev, 0, sizeof(*ev));
	hvx_ops->get_events(vcpu, ev);
	ev->mp_state = vcpu->wait_sipi ? HVX_MP_WAIT_SIPI : HVX_MP_RUNNABLE;
	if (test_bit(HVX_MP_INIT, &vcpu->mp_events))
		ev->mp_pending |= HVX_MP_PENDING_INIT;
	if (test_bit(HVX_MP_SIPI, &vcpu->mp_events)) {
		ev->mp_pending |= HVX_MP_PENDING_SIPI;
		ev->sipi_vector = READ_ONCE(vcpu->sipi_vector);
	}
}

/* What no vendor could take; the backend then checks its own limits. */
static int hvx_check_events(struct hvx_vcpu *vcpu, const struct hvx_vcpu_events *ev)
{
	u32 info = ev->inject_info, type = HVX_EVENT_TYPE(info), vector = info & 0xff;

	if (ev->flags || memchr_inv(ev->padding, 0, sizeof(ev->padding)) ||
	    ev->reserved32 || memchr_inv(ev->reserved, 0, sizeof(ev->reserved)))
		return -EINVAL;
	if (ev->shadow & ~(HVX_SHADOW_STI | HVX_SHADOW_MOV_SS) ||
	    ev->shadow == (HVX_SHADOW_STI | HVX_SHADOW_MOV_SS) || ev->nmi_masked > 1)
		return -EINVAL;
	if (ev->mp_state > HVX_MP_WAIT_SIPI ||
	    (ev->mp_state == HVX_MP_WAIT_SIPI && !vcpu->lapic) ||
	    ev->mp_pending & ~(HVX_MP_PENDING_INIT | HVX_MP_PENDING_SIPI) ||
	    (ev->mp_pending && !vcpu->lapic) ||
	    (ev->sipi_vector && !(ev->mp_pending & HVX_MP_PENDING_SIPI)))
		return -EINVAL;
	if (!(info & HVX_EVENT_VALID))
		return info || ev->inject_error || ev->inject_insn_len ? -EINVAL : 0;
	if (info & ~(HVX_EVENT_VALID | HVX_EVENT_HAS_ERROR | 0x7ff))
		return -EINVAL;
	switch (type) {
	case HVX_EVENT_EXT_INTR:
	case HVX_EVENT_SOFT_INTR:
		break;
	case HVX_EVENT_NMI:
		if (vector != 2)
			return -EINVAL;
		break;
	case HVX_EVENT_EXCEPTION:
	case HVX_EVENT_PRIV_SOFT_EXC:
	case HVX_EVENT_SOFT_EXC:
		if (vector >= 32)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if ((info & HVX_EVENT_HAS_ERROR) && type != HVX_EVENT_EXCEPTION)
		return -EINVAL;
	if (!(info & HVX_EVENT_HAS_ERROR) && ev->inject_error)
		return -EINVAL;
	if (ev->inject_insn_len > 15 || (ev->inject_insn_len && type < HVX_EVENT_SOFT_INTR))
		return -EINVAL;
	return 0;
}

static noinline_for_stack long hvx_set_events_ioctl(struct hvx_vcpu *vcpu,
						     const struct hvx_vcpu_events __user *argp)
{
	struct hvx_vcpu_events ev;
	int ret;

	if (copy_from_user(&ev, argp, sizeof(ev)))
		return -EFAULT;
	ret = hvx_check_events(vcpu, &ev);
	if (!ret)
		ret = hvx_ops->set_events(vcpu, &ev);
	if (ret)
		return ret;
	vcpu->wait_sipi = ev.mp_state == HVX_MP_WAIT_SIPI;
	WRITE_ONCE(vcpu->sipi_vector, ev.sipi_vector);
	smp_mb__before_atomic();
	assign_bit(HVX_MP_INIT, &vcpu->mp_events, ev.mp_pending & HVX_MP_PENDING_INIT);
	assign_bit(HVX_MP_SIPI, &vcpu->mp_events, ev.mp_pending & HVX_MP_PENDING_SIPI);
	return 0;
}

/*
 * The state ioctls above are noinline_for_stack: inlined here, their
 * buffers (the FPU image, the LAPIC page, the MSR and CPUID entries) made
 * this frame 2144 bytes under KASAN, past the kernel's 2048-byte limit.
 */
static long hvx_vcpu_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct hvx_vcpu *vcpu = file->private_data;
	void __user *argp = (void __user *)arg;
	struct hvx_sregs sregs;
	struct hvx_regs regs;
	long ret;

	/* A running vCPU's counters are read without stopping it. */
	if (cmd == HVX_GET_STATS_FD)
		return arg ? -EINVAL : hvx_vcpu_stats_fd(vcpu, file);
	/* Another thread in HVX_RUN must not be waited for forever. */
	if (!mutex_trylock(&vcpu->mutex))
		return -EBUSY;

	switch (cmd) {
	case HVX_RUN:
		ret = arg ? -EINVAL : hvx_vcpu_run(vcpu);
		break;
	case HVX_GET_REGS:
		hvx_get_regs(vcpu, &regs);
		ret = copy_to_user(argp, &regs, sizeof(regs)) ? -EFAULT : 0;
		break;
	case HVX_SET_REGS:
		ret = -EFAULT;
		if (!copy_from_user(&regs, argp, sizeof(regs))) {
			hvx_set_regs(vcpu, &regs);
			ret = 0;
		}
		break;
	case HVX_GET_SREGS:
		memset(&sregs, 0, sizeof(sregs));
		hvx_ops->get_sregs(vcpu, &sregs);
		sregs.apic_base = vcpu->msr_apic_base;
		ret = copy_to_user(argp, &sregs, sizeof(sregs)) ? -EFAULT : 0;
		break;
	case HVX_SET_SREGS:
		ret = hvx_set_sregs_ioctl(vcpu, argp);
		break;
	case HVX_SET_CPUID:
		ret = hvx_set_cpuid(vcpu, argp);
		break;
	case HVX_GET_MSRS:
		ret = hvx_msrs_ioctl(vcpu, argp, false);
		break;
	case HVX_SET_MSRS:
		ret = hvx_msrs_ioctl(vcpu, argp, true);
		break;
	case HVX_GET_FPU:
	case HVX_SET_FPU:
		ret = hvx_fpu_ioctl(vcpu, argp, cmd == HVX_SET_FPU);
		break;
	case HVX_GET_LAPIC:
	case HVX_SET_LAPIC:
		ret = hvx_lapic_ioctl(vcpu, argp, cmd == HVX_SET_LAPIC);
		break;
	case HVX_GET_VCPU_EVENTS: {
		struct hvx_vcpu_events ev;

		hvx_get_events(vcpu, &ev);
		ret = copy_to_user(argp, &ev, sizeof(ev)) ? -EFAULT : 0;
		break;
	}
	case HVX_SET_VCPU_EVENTS:
		ret = hvx_set_events_ioctl(vcpu, argp);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&vcpu->mutex);
	return ret;
}

static vm_fault_t hvx_vcpu_fault(struct vm_fault *vmf)
{
	struct hvx_vcpu *vcpu = vmf->vma->vm_file->private_data;
	struct page *page;

	if (vmf->pgoff == 0)
		page = virt_to_page(vcpu->run);
	else if (vmf->pgoff == HVX_RUN_IO_DATA_OFFSET / PAGE_SIZE)
		page = vcpu->io_page;
	else
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct hvx_vcpu_vm_ops = {
	.fault = hvx_vcpu_fault,
};

static int hvx_vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff ||
	    vma->vm_end - vma->vm_start > HVX_RUN_MMAP_SIZE)
		return -EINVAL;
	vm_flags_set(vma, VM_DONTEXPAND);
	vma->vm_ops = &hvx_vcpu_vm_ops;
	return 0;
}

static void hvx_vcpu_destroy(struct hvx_vcpu *vcpu)
{
	hvx_lapic_free(vcpu);
	if (vcpu->vendor)
		hvx_ops->vcpu_free(vcpu);
	if (vcpu->run)
		free_page((unsigned long)vcpu->run);
	if (vcpu->io_page)
		__free_page(vcpu->io_page);
	kfree(vcpu->cpuid);
	kfree(vcpu);
}

static int hvx_vcpu_release(struct inode *inode, struct file *file)
{
	struct hvx_vcpu *vcpu = file->private_data;
	struct file *vm_file = vcpu->vm_file;	/* vcpu is freed before the put */
	struct hvx_vm *vm = vcpu->vm;

	mutex_lock(&vm->lock);
	vm->vcpus[vcpu->id] = NULL;
	vm->nr_vcpus--;
	/* The VM's totals stay whole when a vCPU goes. */
	hvx_stats_add(&vm->closed_vcpus, &vcpu->stats);
	mutex_unlock(&vm->lock);
	hvx_vcpu_destroy(vcpu);
	fput(vm_file);
	return 0;
}

static const struct file_operations hvx_vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= hvx_vcpu_release,
	.unlocked_ioctl	= hvx_vcpu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= hvx_vcpu_mmap,
	.llseek		= noop_llseek,
};

int hvx_create_vcpu(struct hvx_vm *vm, struct file *vm_file, unsigned long id)
{
	struct hvx_vcpu *vcpu;
	struct file *file;
	int fd, ret;

	if (id >= HVX_MAX_VCPUS)
		return -EINVAL;

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	mutex_init(&vcpu->mutex);
	vcpu->rip = 0xfff0;
	vcpu->rflags = X86_EFLAGS_FIXED;
	vcpu->msr_apic_base = HVX_APIC_BASE_DEFAULT |
			      (id == 0 ? MSR_IA32_APICBASE_BSP : 0);
	vcpu->guest_cpu = -1;
	init_waitqueue_head(&vcpu->wq);
	vcpu->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	vcpu->io_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	ret = -ENOMEM;
	if (!vcpu->run || !vcpu->io_page)
		goto destroy;
	ret = hvx_ops->vcpu_create(vcpu);
	if (ret)
		goto destroy;

	mutex_lock(&vm->lock);
	if (vm->vcpus[id]) {
		ret = -EEXIST;
		goto unlock;
	}
	if (vm->lapic_enabled) {
		ret = hvx_lapic_create(vcpu);
		if (ret)
			goto unlock;
		/* Application processors wait for INIT/SIPI, as on hardware. */
		vcpu->wait_sipi = id != 0;
	}
	fd = hvx_anon_fd("hvx-vcpu", &hvx_vcpu_fops, vcpu, &file);
	if (fd < 0) {
		ret = fd;
		goto unlock;
	}
	vcpu->vm_file = get_file(vm_file);
	vm->vcpus[id] = vcpu;
	vm->nr_vcpus++;
	mutex_unlock(&vm->lock);
	fd_install(fd, file);
	return fd;

unlock:
	mutex_unlock(&vm->lock);
destroy:
	hvx_vcpu_destroy(vcpu);
	return ret;
}
