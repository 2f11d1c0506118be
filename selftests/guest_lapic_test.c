// SPDX-License-Identifier: GPL-2.0
/* guest_lapic_test.c - the in-kernel local APIC: registers, timer, MSIs, IPIs, TPR, HLT waits. */
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>

#include "hvx_util.h"
#include "lib/guest.h"

enum { OP_READ, OP_WRITE, OP_STI_HLT, OP_CLI_HLT, OP_SPIN, OP_END, OP_DEADLINE_IN,
       OP_DEADLINE_READ, OP_RDTSC };

struct lapic_guest {
	struct guest_vm vm;
	struct guest_vcpu v;
	struct hvx_regs r;	/* at the last ucall: RCX count, R9 last vector */
};

static int step(struct lapic_guest *g, int op, uint64_t rdi, uint64_t rdx)
{
	g->r.rsi = op;
	g->r.rdi = rdi;
	g->r.rdx = rdx;
	if (guest_set_regs(&g->v, &g->r))
		return -1;
	return guest_run_to_ucall(&g->v, &g->r) == UCALL_SYNC ? 0 : -1;
}

static uint32_t apic_read(struct lapic_guest *g, uint32_t reg)
{
	return step(g, OP_READ, reg, 0) ? 0xdeadbeef : (uint32_t)g->r.rbx;
}

static int apic_write(struct lapic_guest *g, uint32_t reg, uint32_t val)
{
	return step(g, OP_WRITE, reg, val);
}

static int msi(struct lapic_guest *g, uint32_t dest, uint32_t data)
{
	struct hvx_msi m = { .address = 0xfee00000 | dest << 12, .data = data };

	return ioctl(g->vm.fd, HVX_SIGNAL_MSI, &m);
}

static void test_api(void)
{
	struct hvx_msi m = { .address = 0xfee00000, .data = 0x41 };
	struct guest_vm vm;
	struct guest_vcpu v;

	if (guest_vm_create(&vm, GUEST_MEM_DEFAULT)) {
		ktap_result(false, "lapic_api");
		return;
	}
	ktap_expect_errno("msi_without_lapic", ioctl(vm.fd, HVX_SIGNAL_MSI, &m), ENXIO);
	ktap_expect_errno("enable_lapic_arg_nonzero", ioctl(vm.fd, HVX_ENABLE_LAPIC, 1), EINVAL);
	ktap_result(!ioctl(vm.fd, HVX_ENABLE_LAPIC, 0), "enable_lapic");
	ktap_expect_errno("enable_lapic_twice", ioctl(vm.fd, HVX_ENABLE_LAPIC, 0), EEXIST);
	m.flags = 1;
	ktap_expect_errno("msi_flags_nonzero", ioctl(vm.fd, HVX_SIGNAL_MSI, &m), EINVAL);
	m = (struct hvx_msi){ .address = 0xfee00000, .data = 0x41, .reserved[1] = 1 };
	ktap_expect_errno("msi_reserved_nonzero", ioctl(vm.fd, HVX_SIGNAL_MSI, &m), EINVAL);
	m = (struct hvx_msi){ .address = 0xfec00000, .data = 0x41 };
	ktap_expect_errno("msi_bad_address", ioctl(vm.fd, HVX_SIGNAL_MSI, &m), EINVAL);
	m = (struct hvx_msi){ .address = 0xfee00000, .data = 0x400 };
	ktap_expect_errno("msi_nmi_refused", ioctl(vm.fd, HVX_SIGNAL_MSI, &m), EINVAL);
	m = (struct hvx_msi){ .address = 0xfee00000, .data = 0x41 };
	ktap_result(ioctl(vm.fd, HVX_SIGNAL_MSI, &m) == 0, "msi_with_no_vcpu_reaches_nobody");
	ktap_result(!guest_vcpu_create(&vm, &v, 0), "vcpu_with_lapic");
	guest_vcpu_destroy(&v);
	guest_vm_destroy(&vm);
	if (!guest_vm_create(&vm, GUEST_MEM_DEFAULT) && !guest_vcpu_create(&vm, &v, 0)) {
		ktap_expect_errno("enable_lapic_after_vcpu", ioctl(vm.fd, HVX_ENABLE_LAPIC, 0),
				  EBUSY);
		guest_vcpu_destroy(&v);
	} else {
		ktap_result(false, "enable_lapic_after_vcpu");
	}
	guest_vm_destroy(&vm);
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

/* After @ms, an MSI with vector @vec, or with @vec 0 a signal. */
struct delayed {
	struct lapic_guest *g;
	pthread_t vcpu_thread;
	int ms, vec;		/* vec 0: SIGUSR1 to the vCPU thread */
};

static void *delayed_fn(void *arg)
{
	struct delayed *d = arg;

	usleep(d->ms * 1000);
	if (d->vec)
		msi(d->g, 0, d->vec);
	else
		pthread_kill(d->vcpu_thread, SIGUSR1);
	return NULL;
}

static void test_guest(void)
{
	struct lapic_guest g;
	struct hvx_vm_stats st;
	struct hvx_lapic_state ls;
	uint64_t deadline;
	struct delayed d;
	pthread_t t;
	uint64_t count;
	bool ok;
	int ret;

	if (guest_vm_create(&g.vm, GUEST_MEM_DEFAULT) || ioctl(g.vm.fd, HVX_ENABLE_LAPIC, 0) ||
	    guest_vcpu_create(&g.vm, &g.v, 0) || guest_load(&g.v, MODE_LONG, PAYLOAD(lapic64)) ||
	    guest_run_to_ucall(&g.v, &g.r) != UCALL_SYNC) {
		ktap_result(false, "lapic_guest_setup");
		return;
	}

	/* Registers answer in the kernel: an MMIO exit would fail the step. */
	ok = apic_read(&g, 0x20) == 0 && apic_read(&g, 0x30) == 0x50014 &&
	     !apic_write(&g, 0xf0, 0x1ff) && apic_read(&g, 0xf0) == 0x1ff &&
	     apic_read(&g, 0xe0) == 0xffffffff && (apic_read(&g, 0x320) & 0x10000);
	ktap_result(ok, "apic_registers_in_kernel");

	/* One-shot timer, 1 ms at divide-by-1: STI;HLT wakes on vector 0x40. */
	ok = !apic_write(&g, 0x3e0, 0xb) && !apic_write(&g, 0x320, 0x40) &&
	     !apic_write(&g, 0x380, 1000000) && !step(&g, OP_STI_HLT, 0, 0) &&
	     g.r.rcx == 1 && g.r.r9 == 0x40 && apic_read(&g, 0x390) == 0;
	ktap_result(ok, "timer_one_shot_wakes_hlt");

	/* Periodic at 1 ms, vector 0x41: five more ticks, then stopped. */
	count = g.r.rcx;
	ok = !apic_write(&g, 0x320, 0x20041) && !apic_write(&g, 0x380, 1000000) &&
	     !step(&g, OP_SPIN, 0, count + 5) && g.r.rcx >= count + 5 && g.r.r9 == 0x41 &&
	     apic_read(&g, 0x390) <= 1000000 && !apic_write(&g, 0x380, 0) &&
	     apic_read(&g, 0x390) == 0;
	/*
	 * A tick that came between the guest's CLI and the stop is still
	 * pending (IRR bit 0x41): take it here, or the next STI would.
	 */
	if (ok && (apic_read(&g, 0x220) & (1u << 1))) {
		ktap_diag("a last periodic tick was pending after the stop");
		ok = !step(&g, OP_STI_HLT, 0, 0) && g.r.r9 == 0x41 &&
		     !(apic_read(&g, 0x220) & (1u << 1));
	}
	ktap_result(ok, "timer_periodic");

	/*
	 * TSC-deadline mode (LVT timer mode 2, vector 0x4a): armed 2 million
	 * TSC cycles ahead, STI;HLT wakes on the timer no earlier than the
	 * deadline, and the MSR then reads 0.
	 */
	count = g.r.rcx;
	ok = !apic_write(&g, 0x320, 0x4004a) && !step(&g, OP_DEADLINE_IN, 2000000, 0);
	deadline = g.r.rbx;
	ok = ok && !step(&g, OP_DEADLINE_READ, 0, 0) && (g.r.rbx == deadline || g.r.rbx == 0) &&
	     !step(&g, OP_STI_HLT, 0, 0) && g.r.rcx == count + 1 && g.r.r9 == 0x4a &&
	     !step(&g, OP_RDTSC, 0, 0) && g.r.rbx >= deadline &&
	     !step(&g, OP_DEADLINE_READ, 0, 0) && g.r.rbx == 0;
	ktap_result(ok, "tsc_deadline_fires_after_deadline");

	/* Armed far ahead: the MSR and HVX_GET_LAPIC show it; 0 disarms it. */
	ok = !step(&g, OP_DEADLINE_IN, 1ull << 40, 0);
	deadline = g.r.rbx;
	ok = ok && !step(&g, OP_DEADLINE_READ, 0, 0) && g.r.rbx == deadline &&
	     !ioctl(g.v.fd, HVX_GET_LAPIC, &ls) && ls.tsc_deadline == deadline &&
	     (ls.flags & HVX_LAPIC_TIMER_RUNNING) && ls.timer_ns_left > 1000000000ull &&
	     !ioctl(g.v.fd, HVX_SET_LAPIC, &ls) &&
	     !step(&g, OP_DEADLINE_READ, 0, 0) && g.r.rbx == deadline &&
	     !step(&g, OP_DEADLINE_IN, 0, 0) && !step(&g, OP_DEADLINE_READ, 0, 0) &&
	     g.r.rbx == 0 && !ioctl(g.v.fd, HVX_GET_LAPIC, &ls) && !ls.tsc_deadline &&
	     !(ls.flags & HVX_LAPIC_TIMER_RUNNING);
	/* a deadline outside TSC-deadline mode, or running without one: EINVAL */
	ls.tsc_deadline = 5;
	ok = ok && ioctl(g.v.fd, HVX_SET_LAPIC, &ls) == -1 && errno == EINVAL;
	ls.tsc_deadline = 0;
	ls.flags = HVX_LAPIC_TIMER_RUNNING;
	ok = ok && ioctl(g.v.fd, HVX_SET_LAPIC, &ls) == -1 && errno == EINVAL;
	ktap_result(ok, "tsc_deadline_read_saved_disarmed");

	/* A deadline already past fires at once; the initial count is ignored. */
	count = g.r.rcx;
	ok = !step(&g, OP_DEADLINE_IN, 1, 0) && !step(&g, OP_STI_HLT, 0, 0) &&
	     g.r.rcx == count + 1 && g.r.r9 == 0x4a && !apic_write(&g, 0x380, 1000000) &&
	     apic_read(&g, 0x390) == 0 && !step(&g, OP_DEADLINE_READ, 0, 0) && g.r.rbx == 0;
	/* back to one-shot: writes to the MSR are ignored there */
	ok = ok && !apic_write(&g, 0x320, 0x1004a) && !step(&g, OP_DEADLINE_IN, 1000, 0) &&
	     !step(&g, OP_DEADLINE_READ, 0, 0) && g.r.rbx == 0;
	ktap_result(ok, "tsc_deadline_past_and_mode_rules");

	/* An MSI from another thread wakes the vCPU out of HLT. */
	count = g.r.rcx;
	d = (struct delayed){ .g = &g, .ms = 50, .vec = 0x42 };
	pthread_create(&t, NULL, delayed_fn, &d);
	ok = !step(&g, OP_STI_HLT, 0, 0) && g.r.rcx == count + 1 && g.r.r9 == 0x42;
	pthread_join(t, NULL);
	if (!ok)
		ktap_diag("woke with %llu interrupts (expected %llu), last vector %#llx",
			  (unsigned long long)g.r.rcx, (unsigned long long)count + 1,
			  (unsigned long long)g.r.r9);
	ktap_result(ok, "msi_wakes_halted_vcpu");

	/* TPR 0x50 holds back vector 0x43; it is taken once TPR drops. */
	count = g.r.rcx;
	ok = !apic_write(&g, 0x80, 0x50) && msi(&g, 0, 0x43) == 1 &&
	     !step(&g, OP_SPIN, 0, 0) && g.r.rcx == count &&
	     (apic_read(&g, 0x220) & (1u << 3)) && !apic_write(&g, 0x80, 0) &&
	     !step(&g, OP_SPIN, 0, count + 1) && g.r.r9 == 0x43 &&
	     !(apic_read(&g, 0x220) & (1u << 3));
	ktap_result(ok, "tpr_masks_lower_priority");

	/* Self-IPI through the ICR shorthand. */
	count = g.r.rcx;
	ok = !apic_write(&g, 0x300, 0x40044) && !step(&g, OP_SPIN, 0, count + 1) &&
	     g.r.r9 == 0x44;
	ktap_result(ok, "self_ipi");

	/* Logical flat destination: LDR bit 0 answers MSI destination 0x01. */
	count = g.r.rcx;
	ok = !apic_write(&g, 0xd0, 0x01000000) &&
	     ioctl(g.vm.fd, HVX_SIGNAL_MSI,
		   &(struct hvx_msi){ .address = 0xfee01004, .data = 0x45 }) == 1 &&
	     ioctl(g.vm.fd, HVX_SIGNAL_MSI,
		   &(struct hvx_msi){ .address = 0xfee02004, .data = 0x46 }) == 0 &&
	     msi(&g, 7, 0x46) == 0 && !step(&g, OP_SPIN, 0, count + 1) && g.r.r9 == 0x45;
	ktap_result(ok, "msi_destinations");

	/* HLT with interrupts off ends in HVX_EXIT_HLT. */
	g.r.rsi = OP_CLI_HLT;
	ok = !guest_set_regs(&g.v, &g.r) && guest_run(&g.v) == HVX_EXIT_HLT &&
	     guest_run_to_ucall(&g.v, &g.r) == UCALL_SYNC;
	ktap_result(ok, "hlt_with_if_clear_exits");

	/* A signal ends a HLT wait with EINTR; an MSI then completes it. */
	sigaction(SIGUSR1, &(struct sigaction){ .sa_handler = on_sigusr1 }, NULL);
	count = g.r.rcx;
	d = (struct delayed){ .g = &g, .ms = 50, .vec = 0, .vcpu_thread = pthread_self() };
	pthread_create(&t, NULL, delayed_fn, &d);
	g.r.rsi = OP_STI_HLT;
	ret = guest_set_regs(&g.v, &g.r) ? -1 : guest_run(&g.v);
	pthread_join(t, NULL);
	ok = ret == -EINTR && g.v.run->exit_reason == HVX_EXIT_INTR && msi(&g, 0, 0x47) == 1 &&
	     guest_run_to_ucall(&g.v, &g.r) == UCALL_SYNC && g.r.rcx == count + 1 &&
	     g.r.r9 == 0x47;
	ktap_result(ok, "signal_ends_hlt_wait");

	ok = !ioctl(g.vm.fd, HVX_GET_VM_STATS, &st) && st.irq_injections == g.r.rcx;
	ktap_diag("irq_injections %llu, interrupts counted by the guest %llu",
		  (unsigned long long)st.irq_injections, (unsigned long long)g.r.rcx);
	ktap_result(ok, "injections_counted");
	step(&g, OP_END, 0, 0);
	guest_vcpu_destroy(&g.v);
	guest_vm_destroy(&g.vm);
}

static void *eventfd_writer(void *arg)
{
	uint64_t one = 1;

	usleep(50000);
	if (write(*(int *)arg, &one, sizeof(one)) != sizeof(one))
		perror("eventfd write");
	return NULL;
}

/* irqfd: a write to the eventfd is an MSI into the guest. */
static void test_irqfd(void)
{
	struct hvx_irqfd irq = { .msi_address = 0xfee00000, .msi_data = 0x48 };
	int efd = eventfd(0, 0), efd2 = eventfd(0, 0);
	struct lapic_guest g;
	struct guest_vm plain;
	uint64_t count, one = 1;
	pthread_t t;
	bool ok;

	irq.fd = efd;
	if (!guest_vm_create(&plain, GUEST_MEM_DEFAULT)) {
		ktap_expect_errno("irqfd_without_lapic", ioctl(plain.fd, HVX_IRQFD, &irq), ENXIO);
		guest_vm_destroy(&plain);
	}
	if (guest_vm_create(&g.vm, GUEST_MEM_DEFAULT) || ioctl(g.vm.fd, HVX_ENABLE_LAPIC, 0) ||
	    guest_vcpu_create(&g.vm, &g.v, 0) || guest_load(&g.v, MODE_LONG, PAYLOAD(lapic64)) ||
	    guest_run_to_ucall(&g.v, &g.r) != UCALL_SYNC) {
		ktap_result(false, "irqfd_setup");
		return;
	}
	apic_write(&g, 0xf0, 0x1ff);
	ktap_expect_errno("irqfd_bad_msi", ioctl(g.vm.fd, HVX_IRQFD,
		&(struct hvx_irqfd){ .fd = efd, .msi_address = 0x1000, .msi_data = 0x48 }), EINVAL);
	ktap_expect_errno("irqfd_bad_flags", ioctl(g.vm.fd, HVX_IRQFD,
		&(struct hvx_irqfd){ .fd = efd, .flags = 2, .msi_address = 0xfee00000 }), EINVAL);
	ktap_expect_errno("irqfd_deassign_unbound", ioctl(g.vm.fd, HVX_IRQFD,
		&(struct hvx_irqfd){ .fd = efd, .flags = HVX_IRQFD_DEASSIGN }), ENOENT);

	/* Written before the binding: delivered when bound. */
	count = g.r.rcx;
	ok = write(efd2, &one, sizeof(one)) == sizeof(one) &&
	     !ioctl(g.vm.fd, HVX_IRQFD, &(struct hvx_irqfd){ .fd = efd2,
			.msi_address = 0xfee00000, .msi_data = 0x49 }) &&
	     !step(&g, OP_SPIN, 0, count + 1) && g.r.r9 == 0x49;
	ktap_result(ok, "irqfd_pending_write_delivered_on_bind");

	count = g.r.rcx;
	ok = !ioctl(g.vm.fd, HVX_IRQFD, &irq) &&
	     write(efd, &one, sizeof(one)) == sizeof(one) &&
	     !step(&g, OP_SPIN, 0, count + 1) && g.r.r9 == 0x48;
	ktap_result(ok, "irqfd_write_injects_msi");
	ktap_expect_errno("irqfd_twice", ioctl(g.vm.fd, HVX_IRQFD, &irq), EEXIST);

	/* From another thread, into a vCPU waiting in HLT. */
	count = g.r.rcx;
	pthread_create(&t, NULL, eventfd_writer, &efd);
	ok = !step(&g, OP_STI_HLT, 0, 0) && g.r.rcx == count + 1 && g.r.r9 == 0x48;
	pthread_join(t, NULL);
	ktap_result(ok, "irqfd_wakes_halted_vcpu");

	/* Unbound: writes reach nobody. */
	count = g.r.rcx;
	ok = !ioctl(g.vm.fd, HVX_IRQFD, &(struct hvx_irqfd){ .fd = efd,
			.flags = HVX_IRQFD_DEASSIGN }) &&
	     write(efd, &one, sizeof(one)) == sizeof(one) && usleep(50000) == 0 &&
	     !step(&g, OP_SPIN, 0, 0) && g.r.rcx == count;
	ktap_result(ok, "irqfd_deassign");
	step(&g, OP_END, 0, 0);
	guest_vcpu_destroy(&g.v);
	guest_vm_destroy(&g.vm);
	close(efd);
	close(efd2);
}

/* vCPU 1's thread: HVX_RUN must wait until vCPU 0 sends INIT and SIPI. */
struct ap {
	struct guest_vcpu v;
	struct hvx_regs r;
	struct hvx_sregs s;
	int ucall;
	volatile bool done;
};

static void *ap_fn(void *arg)
{
	struct ap *ap = arg;

	ap->ucall = guest_run_to_ucall(&ap->v, &ap->r);
	ioctl(ap->v.fd, HVX_GET_SREGS, &ap->s);
	ap->done = true;
	return NULL;
}

static void test_init_sipi(void)
{
	struct lapic_guest g;
	struct ap ap = {};
	pthread_t t;
	bool ok, parked;
	int i;

	if (guest_vm_create(&g.vm, GUEST_MEM_DEFAULT) || ioctl(g.vm.fd, HVX_ENABLE_LAPIC, 0) ||
	    guest_vcpu_create(&g.vm, &g.v, 0) || guest_vcpu_create(&g.vm, &ap.v, 1) ||
	    guest_load(&g.v, MODE_LONG, PAYLOAD(lapic64)) ||
	    guest_run_to_ucall(&g.v, &g.r) != UCALL_SYNC) {
		ktap_result(false, "ap_waits_for_sipi");
		ktap_result(false, "init_sipi_starts_ap_in_real_mode");
		return;
	}
	memcpy(g.vm.mem + 0xa000, PAYLOAD(ap_real16).start,
	       PAYLOAD(ap_real16).end - PAYLOAD(ap_real16).start);
	sigaction(SIGUSR1, &(struct sigaction){ .sa_handler = on_sigusr1 }, NULL);
	pthread_create(&t, NULL, ap_fn, &ap);
	usleep(200000);
	parked = !ap.done;
	ktap_result(parked, "ap_waits_for_sipi");

	/* What Linux sends: INIT assert, INIT de-assert, SIPI (vector 0x0a). */
	ok = !apic_write(&g, 0x310, 1u << 24) && !apic_write(&g, 0x300, 0xc500) &&
	     !apic_write(&g, 0x300, 0x8500) && !apic_write(&g, 0x300, 0x060a);
	for (i = 0; i < 500 && !ap.done; i++)
		usleep(20000);
	if (!ap.done)
		pthread_kill(t, SIGUSR1);	/* unblock it: the test has failed */
	pthread_join(t, NULL);
	ktap_diag("AP: ucall %#x, CS %#llx (base %#llx)", ap.ucall,
		  (unsigned long long)ap.r.rbx, (unsigned long long)ap.s.cs.base);
	ktap_result(ok && parked && ap.ucall == UCALL_SYNC && ap.r.rbx == 0xa00 &&
		    ap.s.cs.base == 0xa000 && !(ap.s.cr0 & 1), "init_sipi_starts_ap_in_real_mode");
	guest_vcpu_destroy(&ap.v);
	guest_vcpu_destroy(&g.v);
	guest_vm_destroy(&g.vm);
}

int main(void)
{
	guest_require_vcpus();
	ktap_plan(35);
	test_api();
	test_guest();
	test_irqfd();
	test_init_sipi();
	return ktap_finish();
}
