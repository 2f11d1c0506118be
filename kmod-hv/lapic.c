// SPDX-License-Identifier: GPL-2.0
/* lapic.c - the in-kernel local APIC: xAPIC registers, timer, IPIs, MSIs and interrupt delivery into the guest. */
#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
/*
 * Since 6.3 smp_send_reschedule() is a macro that traces the IPI: its
 * tracepoint must be declared where the macro is used.
 */
#include <trace/events/ipi.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/tsc.h>

#include "hvx.h"
#include "trace.h"

/* Register offsets and bits: the kernel's own <asm/apicdef.h>. */
#define APIC_LVT_COUNT		((APIC_LVTERR - APIC_LVTT) / 16 + 1)
#define APIC_LVT_TIMER_MODE	(3u << 17)
#define APIC_VERSION_VALUE	(0x14 | ((APIC_LVT_COUNT - 1) << 16))

/* A periodic timer faster than this would let a guest flood the host. */
#define APIC_MIN_PERIOD_NS	200000

struct hvx_lapic {
	struct hvx_vcpu *vcpu;
	u32 tpr, ldr, dfr, svr, icr_hi;
	u32 lvt[APIC_LVT_COUNT];
	u32 timer_initial, timer_dcr;
	u64 timer_period_ns;	/* 0: not running (one-shot or periodic) */
	u64 tsc_deadline;	/* TSC-deadline mode: the guest TSC it fires at; 0: disarmed */
	ktime_t timer_expires;
	struct hrtimer timer;
	/* Requests are raised from any context, so IRR is atomic bits. */
	unsigned long irr[BITS_TO_LONGS(256)];
	unsigned long isr[BITS_TO_LONGS(256)];	/* the vCPU thread only */
};

static bool lapic_enabled(struct hvx_lapic *apic)
{
	return (apic->vcpu->msr_apic_base & MSR_IA32_APICBASE_ENABLE) &&
	       (READ_ONCE(apic->svr) & APIC_SPIV_APIC_ENABLED);
}

static int lapic_isr_top(struct hvx_lapic *apic)
{
	int v = find_last_bit(apic->isr, 256);

	return v < 256 ? v : -1;
}

/* Processor priority: the higher of the task priority and the in-service class. */
static u32 lapic_ppr(struct hvx_lapic *apic)
{
	int isr = lapic_isr_top(apic);
	u32 isrv = isr < 0 ? 0 : isr;

	return (apic->tpr & 0xf0) >= (isrv & 0xf0) ? apic->tpr : (isrv & 0xf0);
}

/* The vector the guest should take next, or -1. */
static int lapic_pending_vector(struct hvx_lapic *apic)
{
	int v;

	if (!lapic_enabled(apic))
		return -1;
	v = find_last_bit(apic->irr, 256);
	if (v >= 256 || (v & 0xf0) <= (lapic_ppr(apic) & 0xf0))
		return -1;
	return v;
}

bool hvx_lapic_pending(struct hvx_vcpu *vcpu)
{
	return vcpu->lapic && lapic_pending_vector(vcpu->lapic) >= 0;
}

/*
 * Make a vCPU notice a new request: a vCPU in guest mode on another CPU
 * is interrupted (it exits and delivers on its next entry), one waiting
 * in HLT is woken.  Pairs with hvx_guest_mode_enter(): either the vCPU
 * sees the request before entering or its CPU gets the IPI.
 */
void hvx_vcpu_kick(struct hvx_vcpu *vcpu)
{
	int cpu;

	smp_mb();
	cpu = READ_ONCE(vcpu->guest_cpu);
	if (cpu >= 0 && cpu != raw_smp_processor_id())
		smp_send_reschedule(cpu);
	wake_up_interruptible(&vcpu->wq);
}

static void lapic_raise(struct hvx_lapic *apic, u8 vector, enum hvx_irq_source source)
{
	if (vector < 16)
		return;		/* illegal vectors: dropped, as the ESR would say */
	atomic64_inc(&apic->vcpu->vm->irq_raised[source]);
	trace_hvx_irq(apic->vcpu->id, vector, source);
	set_bit(vector, apic->irr);
	hvx_vcpu_kick(apic->vcpu);
}

/*
 * Called by the backend with interrupts off, after hvx_guest_mode_enter():
 * inject the highest pending vector if the guest can take it now, or ask
 * for an exit as soon as it can.
 */
void hvx_lapic_deliver(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->lapic;
	int v;

	if (!apic)
		return;
	v = lapic_pending_vector(apic);
	if (v < 0) {
		hvx_ops->set_irq_window(vcpu, false);
		return;
	}
	if (!hvx_ops->irq_window_open(vcpu)) {
		hvx_ops->set_irq_window(vcpu, true);
		return;
	}
	clear_bit(v, apic->irr);
	__set_bit(v, apic->isr);
	hvx_ops->inject_irq(vcpu, v);
	hvx_ops->set_irq_window(vcpu, false);
	atomic64_inc(&vcpu->vm->irq_injections);
	vcpu->stats.irq_injections++;
	trace_hvx_inject(vcpu, v);
}

/* ---- timer ---------------------------------------------------------------- */

static u32 lapic_dcr_divisor(u32 dcr)
{
	u32 v = ((dcr & 8) >> 1) | (dcr & 3);

	return 1u << ((v + 1) & 7);	/* 0b111 divides by 1 */
}

static bool lapic_deadline_mode(struct hvx_lapic *apic)
{
	return (READ_ONCE(apic->lvt[0]) & APIC_LVT_TIMER_MODE) == APIC_LVT_TIMER_TSCDEADLINE;
}

static u32 lapic_timer_divisor(struct hvx_lapic *apic)
{
	return lapic_dcr_divisor(apic->timer_dcr);
}

static enum hrtimer_restart lapic_timer_fn(struct hrtimer *timer)
{
	struct hvx_lapic *apic = container_of(timer, struct hvx_lapic, timer);
	u32 lvt = READ_ONCE(apic->lvt[0]);

	if (!(lvt & APIC_LVT_MASKED) && lapic_enabled(apic))
		lapic_raise(apic, lvt & 0xff, HVX_IRQ_TIMER);
	/* A deadline that has fired reads 0 (SDM vol. 3, 11.5.4.1). */
	if ((lvt & APIC_LVT_TIMER_MODE) == APIC_LVT_TIMER_TSCDEADLINE)
		WRITE_ONCE(apic->tsc_deadline, 0);
	if ((lvt & APIC_LVT_TIMER_MODE) == APIC_LVT_TIMER_PERIODIC &&
	    apic->timer_period_ns) {
		hrtimer_forward_now(timer, ns_to_ktime(apic->timer_period_ns));
		apic->timer_expires = hrtimer_get_expires(timer);
		return HRTIMER_RESTART;
	}
	return HRTIMER_NORESTART;
}

/* (Re)start the timer from the initial count; the bus clock is 1 GHz. */
static void lapic_timer_start(struct hvx_lapic *apic)
{
	u64 ns;

	hrtimer_cancel(&apic->timer);
	apic->timer_period_ns = 0;
	if (!apic->timer_initial ||
	    (apic->lvt[0] & APIC_LVT_TIMER_MODE) > APIC_LVT_TIMER_PERIODIC)
		return;		/* stopped, or TSC-deadline (not offered) */
	ns = (u64)apic->timer_initial * lapic_timer_divisor(apic);
	if ((apic->lvt[0] & APIC_LVT_TIMER_MODE) == APIC_LVT_TIMER_PERIODIC)
		ns = max_t(u64, ns, APIC_MIN_PERIOD_NS);
	apic->timer_period_ns = ns;
	apic->timer_expires = ktime_add_ns(ktime_get(), ns);
	hrtimer_start(&apic->timer, apic->timer_expires, HRTIMER_MODE_ABS_HARD);
}

/*
 * TSC-deadline mode: fire when the guest's TSC reaches @deadline.  The
 * guest's TSC runs at the host's rate (hvx offsets it, never scales it),
 * so the distance converts to host time through tsc_khz.
 */
static void lapic_deadline_arm(struct hvx_lapic *apic, u64 deadline, u64 guest_tsc)
{
	u64 ns = 0;

	hrtimer_cancel(&apic->timer);
	apic->timer_period_ns = 0;
	WRITE_ONCE(apic->tsc_deadline, deadline);
	if (!deadline)
		return;
	if (deadline > guest_tsc)
		ns = mul_u64_u32_div(deadline - guest_tsc, 1000000, tsc_khz);
	apic->timer_expires = ktime_add_ns(ktime_get(), ns);
	hrtimer_start(&apic->timer, apic->timer_expires, HRTIMER_MODE_ABS_HARD);
}

/* IA32_TSC_DEADLINE: 0 outside TSC-deadline mode and once fired. */
u64 hvx_lapic_get_deadline(struct hvx_vcpu *vcpu)
{
	return lapic_deadline_mode(vcpu->lapic) ? READ_ONCE(vcpu->lapic->tsc_deadline) : 0;
}

/* A write outside TSC-deadline mode is ignored; 0 disarms. */
int hvx_lapic_set_deadline(struct hvx_vcpu *vcpu, u64 deadline)
{
	u64 guest_tsc;
	int ret;

	if (!lapic_deadline_mode(vcpu->lapic))
		return 0;
	ret = hvx_ops->get_msr(vcpu, MSR_IA32_TSC, &guest_tsc);
	if (!ret)
		lapic_deadline_arm(vcpu->lapic, deadline, guest_tsc);
	return ret;
}

static u32 lapic_timer_current(struct hvx_lapic *apic)
{
	s64 left;

	if (!apic->timer_period_ns || !hrtimer_active(&apic->timer))
		return 0;
	left = ktime_to_ns(ktime_sub(apic->timer_expires, ktime_get()));
	if (left <= 0)
		return 0;
	return div_u64(left, lapic_timer_divisor(apic));
}

/* ---- interrupt routing ---------------------------------------------------- */

/*
 * INIT and SIPI, the way an OS starts its other CPUs: INIT parks the
 * target until a SIPI, which starts it in real mode at vector << 12.
 * They are handled by the target's own thread (hvx_lapic_mp_events).
 */
static void lapic_mp_event(struct hvx_vcpu *v, u32 dm, u8 vector)
{
	if (dm == APIC_DM_STARTUP) {
		WRITE_ONCE(v->sipi_vector, vector);
		smp_mb__before_atomic();
		set_bit(HVX_MP_SIPI, &v->mp_events);
	} else {
		set_bit(HVX_MP_INIT, &v->mp_events);
	}
	hvx_vcpu_kick(v);
}

/* Does @apic answer destination @dest in @logical or physical mode? */
static bool lapic_match(struct hvx_lapic *apic, u32 dest, bool logical)
{
	u32 ldr = apic->ldr >> 24;

	if (!logical)
		return dest == 0xff || dest == apic->vcpu->id;
	if ((apic->dfr >> 28) == 0xf)		/* flat: one bit per CPU */
		return dest & ldr;
	/* cluster: high nibble selects the cluster, low nibble the CPUs */
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);
}

/*
 * Deliver @vector to the APICs that @dest/@logical/@shorthand select
 * (@self: the sender, for the shorthands).  Lowest priority goes to the
 * first match.  Returns how many took it.
 */
static int lapic_route(struct hvx_vm *vm, struct hvx_vcpu *self, u32 dest,
		       bool logical, u32 shorthand, u32 dm, u8 vector,
		       enum hvx_irq_source source)
{
	unsigned int i;
	int n = 0;

	lockdep_assert_held(&vm->lock);
	for (i = 0; i < HVX_MAX_VCPUS; i++) {
		struct hvx_vcpu *v = vm->vcpus[i];
		bool hit;

		if (!v || !v->lapic)
			continue;
		switch (shorthand) {
		case APIC_DEST_SELF:
			hit = v == self;
			break;
		case APIC_DEST_ALLINC:
			hit = true;
			break;
		case APIC_DEST_ALLBUT:
			hit = v != self;
			break;
		default:
			hit = lapic_match(v->lapic, dest, logical);
			break;
		}
		if (!hit)
			continue;
		if (dm == APIC_DM_INIT || dm == APIC_DM_STARTUP) {
			lapic_mp_event(v, dm, vector);
			n++;
			continue;
		}
		if (!lapic_enabled(v->lapic))
			continue;
		lapic_raise(v->lapic, vector, source);
		n++;
		if (dm == APIC_DM_LOWEST)
			break;
	}
	return n;
}

/* An IPI: the guest wrote the low half of the ICR. */
static void lapic_send_ipi(struct hvx_lapic *apic, u32 icr_lo)
{
	struct hvx_vm *vm = apic->vcpu->vm;
	u32 dm = icr_lo & APIC_DM_FIXED_MASK;

	/* An INIT level de-assert is a no-op on xAPICs; NMI and SMI are not offered. */
	if (dm == APIC_DM_INIT && !(icr_lo & APIC_INT_ASSERT))
		return;
	if (dm != APIC_DM_FIXED && dm != APIC_DM_LOWEST && dm != APIC_DM_INIT &&
	    dm != APIC_DM_STARTUP)
		return;
	mutex_lock(&vm->lock);
	lapic_route(vm, apic->vcpu, GET_XAPIC_DEST_FIELD(apic->icr_hi), icr_lo & APIC_DEST_LOGICAL,
		    icr_lo & APIC_DEST_ALLBUT /* the shorthand bits */, dm,
		    icr_lo & APIC_VECTOR_MASK, HVX_IRQ_IPI);
	mutex_unlock(&vm->lock);
}

/* The state a SIPI starts a CPU in: real mode at @vector << 12. */
static void lapic_sipi_reset(struct hvx_vcpu *vcpu, u8 vector)
{
	struct hvx_segment data = { .limit = 0xffff, .type = 3, .present = 1, .s = 1 };
	struct hvx_sregs s;

	hvx_ops->get_sregs(vcpu, &s);
	s.cs = data;
	s.cs.type = 0xb;
	s.cs.selector = vector << 8;
	s.cs.base = (u64)vector << 12;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.gdt.base = s.idt.base = 0;
	s.gdt.limit = s.idt.limit = 0xffff;
	s.cr0 = X86_CR0_ET;
	s.cr2 = s.cr3 = s.cr4 = s.efer = 0;
	hvx_ops->set_sregs(vcpu, &s);
	memset(vcpu->regs, 0, sizeof(vcpu->regs));
	vcpu->rip = 0;
	vcpu->rflags = X86_EFLAGS_FIXED;
	vcpu->pending = HVX_PENDING_NONE;
}

/*
 * Before each entry: act on INIT and SIPI, and wait while parked for a
 * SIPI.  0 to run the guest, -EINTR on a signal.
 */
int hvx_lapic_mp_events(struct hvx_vcpu *vcpu)
{
	for (;;) {
		if (test_and_clear_bit(HVX_MP_INIT, &vcpu->mp_events))
			vcpu->wait_sipi = true;
		if (!vcpu->wait_sipi) {
			clear_bit(HVX_MP_SIPI, &vcpu->mp_events);	/* ignored */
			return 0;
		}
		if (test_and_clear_bit(HVX_MP_SIPI, &vcpu->mp_events)) {
			lapic_sipi_reset(vcpu, READ_ONCE(vcpu->sipi_vector));
			vcpu->wait_sipi = false;
			return 0;
		}
		if (wait_event_interruptible(vcpu->wq, READ_ONCE(vcpu->mp_events)))
			return -EINTR;
	}
}

/* Is this an MSI hvx can deliver?  0 or -EINVAL. */
int hvx_check_msi(u64 address, u32 data)
{
	u32 dm = data & APIC_DM_FIXED_MASK;	/* MSI data: ICR layout */

	if ((address >> 20) != 0xfee || data >> 16 ||
	    (dm != APIC_DM_FIXED && dm != APIC_DM_LOWEST))
		return -EINVAL;
	return 0;
}

/* Deliver a checked MSI; how many local APICs took it. */
int hvx_deliver_msi(struct hvx_vm *vm, u64 address, u32 data,
		    enum hvx_irq_source source)
{
	int n;

	mutex_lock(&vm->lock);
	n = lapic_route(vm, NULL, (address >> 12) & 0xff, address & BIT(2), 0,
			data & APIC_DM_FIXED_MASK, data & APIC_VECTOR_MASK, source);
	mutex_unlock(&vm->lock);
	return n;
}

int hvx_signal_msi(struct hvx_vm *vm, const struct hvx_msi __user *argp)
{
	struct hvx_msi msi;

	if (copy_from_user(&msi, argp, sizeof(msi)))
		return -EFAULT;
	if (memchr_inv(msi.reserved, 0, sizeof(msi.reserved)))
		return -EINVAL;
	if (msi.flags || hvx_check_msi(msi.address, msi.data))
		return -EINVAL;
	if (!READ_ONCE(vm->lapic_enabled))
		return -ENXIO;
	return hvx_deliver_msi(vm, msi.address, msi.data, HVX_IRQ_MSI);
}

/* ---- registers ------------------------------------------------------------ */

static u32 lapic_read(struct hvx_lapic *apic, u32 reg)
{
	if (reg >= APIC_ISR && reg < APIC_ISR + 0x80)
		return ((u32 *)apic->isr)[(reg - APIC_ISR) / 16];
	if (reg >= APIC_IRR && reg < APIC_IRR + 0x80)
		return READ_ONCE(((u32 *)apic->irr)[(reg - APIC_IRR) / 16]);
	if (reg >= APIC_LVTT && reg <= APIC_LVTERR)
		return apic->lvt[(reg - APIC_LVTT) / 16];
	switch (reg) {
	case APIC_ID:
		return apic->vcpu->id << 24;
	case APIC_LVR:
		return APIC_VERSION_VALUE;
	case APIC_TASKPRI:
		return apic->tpr;
	case APIC_PROCPRI:
		return lapic_ppr(apic);
	case APIC_LDR:
		return apic->ldr;
	case APIC_DFR:
		return apic->dfr;
	case APIC_SPIV:
		return apic->svr;
	case APIC_ICR2:
		return apic->icr_hi;
	case APIC_TMICT:
		return apic->timer_initial;
	case APIC_TMCCT:
		return lapic_timer_current(apic);
	case APIC_TDCR:
		return apic->timer_dcr;
	default:	/* APR, EOI, ESR, ICR low (always idle), reserved */
		return 0;
	}
}

static void lapic_write(struct hvx_lapic *apic, u32 reg, u32 val)
{
	int v;

	if (reg >= APIC_LVTT && reg <= APIC_LVTERR) {
		u32 *lvt = &apic->lvt[(reg - APIC_LVTT) / 16];
		u32 mask = reg == APIC_LVTT ? 0x700ff : 0x1a7ff;

		if (!(apic->svr & APIC_SPIV_APIC_ENABLED))
			val |= APIC_LVT_MASKED;
		/*
		 * Entering or leaving TSC-deadline mode disarms the timer (SDM
		 * vol. 3, 11.5.4.1); between one-shot and periodic it counts on.
		 */
		if (reg == APIC_LVTT &&
		    ((val & APIC_LVT_TIMER_MODE) == APIC_LVT_TIMER_TSCDEADLINE) !=
		    ((*lvt & APIC_LVT_TIMER_MODE) == APIC_LVT_TIMER_TSCDEADLINE)) {
			hrtimer_cancel(&apic->timer);
			apic->timer_period_ns = 0;
			apic->timer_initial = 0;
			WRITE_ONCE(apic->tsc_deadline, 0);
		}
		WRITE_ONCE(*lvt, val & mask);
		return;
	}
	switch (reg) {
	case APIC_TASKPRI:
		apic->tpr = val & 0xff;
		break;
	case APIC_EOI:
		v = lapic_isr_top(apic);
		if (v >= 0)
			__clear_bit(v, apic->isr);
		break;
	case APIC_LDR:
		apic->ldr = val & 0xff000000;
		break;
	case APIC_DFR:
		apic->dfr = val | 0x0fffffff;
		break;
	case APIC_SPIV:
		WRITE_ONCE(apic->svr, val & 0x11ff);
		if (!(val & APIC_SPIV_APIC_ENABLED))
			for (v = 0; v < APIC_LVT_COUNT; v++)
				WRITE_ONCE(apic->lvt[v], apic->lvt[v] | APIC_LVT_MASKED);
		break;
	case APIC_ICR2:
		apic->icr_hi = val & 0xff000000;
		break;
	case APIC_ICR:
		lapic_send_ipi(apic, val);
		break;
	case APIC_TMICT:
		/* In TSC-deadline mode the count is ignored (the MSR rules). */
		if (lapic_deadline_mode(apic))
			break;
		apic->timer_initial = val;
		lapic_timer_start(apic);
		break;
	case APIC_TDCR:
		apic->timer_dcr = val & 0xb;
		break;
	default:	/* read-only and reserved registers ignore writes */
		break;
	}
}

/* Is @gpa this vCPU's APIC page (and the APIC on)? */
bool hvx_lapic_covers(struct hvx_vcpu *vcpu, u64 gpa)
{
	return vcpu->lapic &&
	       (vcpu->msr_apic_base & MSR_IA32_APICBASE_ENABLE) &&
	       (gpa & PAGE_MASK) == (vcpu->msr_apic_base & 0xffffff000ull);
}

/*
 * An access to the APIC page, decoded by the MMIO emulator.  Registers are
 * 32 bits wide at 16-byte steps; other accesses read 0 and are dropped.
 */
void hvx_lapic_mmio(struct hvx_vcpu *vcpu, u64 gpa, bool write, u64 *val,
		    unsigned int size)
{
	u32 reg = gpa & 0xfff;
	bool ok = size == 4 && !(reg & 0xf);

	if (write) {
		if (ok)
			lapic_write(vcpu->lapic, reg, *val);
		return;
	}
	*val = ok ? lapic_read(vcpu->lapic, reg) : 0;
}

/* ---- state for save and restore -------------------------------------------- */

/* The register page as the guest reads it, and where the timer stands. */
void hvx_lapic_get(struct hvx_vcpu *vcpu, struct hvx_lapic_state *st)
{
	struct hvx_lapic *apic = vcpu->lapic;
	s64 left;
	u32 reg;

	if ((apic->timer_period_ns || READ_ONCE(apic->tsc_deadline)) &&
	    hrtimer_active(&apic->timer)) {
		left = ktime_to_ns(ktime_sub(apic->timer_expires, ktime_get()));
		st->flags |= HVX_LAPIC_TIMER_RUNNING;
		st->timer_ns_left = max_t(s64, left, 0);
	}
	st->tsc_deadline = hvx_lapic_get_deadline(vcpu);
	for (reg = 0; reg < sizeof(st->regs); reg += 16)
		st->regs[reg / 4] = lapic_read(apic, reg);
}

/* A register of the saved page (the layout is the page's: word = offset / 4). */
static u32 lapic_saved(const struct hvx_lapic_state *st, u32 reg)
{
	return st->regs[reg / 4];
}

int hvx_lapic_set(struct hvx_vcpu *vcpu, const struct hvx_lapic_state *st)
{
	struct hvx_lapic *apic = vcpu->lapic;
	u32 svr = lapic_saved(st, APIC_SPIV) & 0x11ff;
	u32 lvtt = lapic_saved(st, APIC_LVTT) & 0x700ff;
	u32 initial = lapic_saved(st, APIC_TMICT), dcr = lapic_saved(st, APIC_TDCR) & 0xb;
	bool deadline_mode = (lvtt & APIC_LVT_TIMER_MODE) == APIC_LVT_TIMER_TSCDEADLINE;
	u64 period = 0;
	int i;

	if (st->flags & ~HVX_LAPIC_TIMER_RUNNING || st->reserved32 ||
	    memchr_inv(st->reserved, 0, sizeof(st->reserved)))
		return -EINVAL;
	if (!(svr & APIC_SPIV_APIC_ENABLED))
		lvtt |= APIC_LVT_MASKED;
	/* A deadline only in TSC-deadline mode; running there means armed. */
	if (st->tsc_deadline && !deadline_mode)
		return -EINVAL;
	if (deadline_mode && !st->tsc_deadline != !(st->flags & HVX_LAPIC_TIMER_RUNNING))
		return -EINVAL;
	/* A running timer must be one this APIC could have started. */
	if ((st->flags & HVX_LAPIC_TIMER_RUNNING) && !deadline_mode) {
		period = (u64)initial * lapic_dcr_divisor(dcr);
		if ((lvtt & APIC_LVT_TIMER_MODE) == APIC_LVT_TIMER_PERIODIC)
			period = max_t(u64, period, APIC_MIN_PERIOD_NS);
		if (!initial || (lvtt & APIC_LVT_TIMER_MODE) > APIC_LVT_TIMER_PERIODIC ||
		    st->timer_ns_left > period)
			return -EINVAL;
	}

	hrtimer_cancel(&apic->timer);
	apic->timer_period_ns = 0;
	apic->tpr = lapic_saved(st, APIC_TASKPRI) & 0xff;
	apic->ldr = lapic_saved(st, APIC_LDR) & 0xff000000;
	apic->dfr = lapic_saved(st, APIC_DFR) | 0x0fffffff;
	WRITE_ONCE(apic->svr, svr);
	apic->icr_hi = lapic_saved(st, APIC_ICR2) & 0xff000000;
	for (i = 0; i < APIC_LVT_COUNT; i++) {
		u32 v = i ? lapic_saved(st, APIC_LVTT + 16 * i) & 0x1a7ff : lvtt;

		if (!(svr & APIC_SPIV_APIC_ENABLED))
			v |= APIC_LVT_MASKED;
		WRITE_ONCE(apic->lvt[i], v);
	}
	for (i = 0; i < 8; i++) {
		((u32 *)apic->isr)[i] = lapic_saved(st, APIC_ISR + 16 * i);
		WRITE_ONCE(((u32 *)apic->irr)[i], lapic_saved(st, APIC_IRR + 16 * i));
	}
	/* Vectors 0-15 are illegal: never pending or in service. */
	((u32 *)apic->isr)[0] &= ~0xffffu;
	((u32 *)apic->irr)[0] &= ~0xffffu;
	apic->timer_initial = deadline_mode ? 0 : initial;
	apic->timer_dcr = dcr;
	WRITE_ONCE(apic->tsc_deadline, st->tsc_deadline);
	if (st->flags & HVX_LAPIC_TIMER_RUNNING) {
		apic->timer_period_ns = period;
		apic->timer_expires = ktime_add_ns(ktime_get(), st->timer_ns_left);
		hrtimer_start(&apic->timer, apic->timer_expires, HRTIMER_MODE_ABS_HARD);
	}
	hvx_vcpu_kick(vcpu);
	return 0;
}

/* ---- life cycle ------------------------------------------------------------- */

int hvx_lapic_create(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = kzalloc(sizeof(*apic), GFP_KERNEL_ACCOUNT);
	int i;

	if (!apic)
		return -ENOMEM;
	apic->vcpu = vcpu;
	apic->dfr = 0xffffffff;
	apic->svr = 0xff;
	for (i = 0; i < APIC_LVT_COUNT; i++)
		apic->lvt[i] = APIC_LVT_MASKED;
	hrtimer_init(&apic->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	apic->timer.function = lapic_timer_fn;
	vcpu->lapic = apic;
	return 0;
}

void hvx_lapic_free(struct hvx_vcpu *vcpu)
{
	if (!vcpu->lapic)
		return;
	hrtimer_cancel(&vcpu->lapic->timer);
	kfree(vcpu->lapic);
	vcpu->lapic = NULL;
}

int hvx_enable_lapic(struct hvx_vm *vm, unsigned long arg)
{
	int ret = 0;

	if (arg)
		return -EINVAL;
	mutex_lock(&vm->lock);
	if (vm->lapic_enabled)
		ret = -EEXIST;
	else if (vm->nr_vcpus)
		ret = -EBUSY;
	else
		WRITE_ONCE(vm->lapic_enabled, true);
	mutex_unlock(&vm->lock);
	return ret;
}
