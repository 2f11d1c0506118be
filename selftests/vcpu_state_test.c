// SPDX-License-Identifier: GPL-2.0
/* vcpu_state_test.c - saving and restoring a vCPU: FPU, local APIC and event ioctls, and a guest cloned mid-computation. */
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/time.h>

#include "hvx_util.h"
#include "lib/guest.h"

/* The MSRs hvx keeps besides those in the special registers. */
static const uint32_t saved_msrs[] = {
	0x10,		/* TSC */
	0x174, 0x175, 0x176,	/* SYSENTER_CS/ESP/EIP */
	0x277,		/* PAT */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,	/* STAR, LSTAR, CSTAR, SFMASK */
	0xc0000102,	/* KERNEL_GS_BASE */
};
#define NR_SAVED_MSRS	(sizeof(saved_msrs) / sizeof(saved_msrs[0]))

struct vcpu_image {
	struct hvx_regs regs;
	struct hvx_sregs sregs;
	struct {
		struct hvx_msrs hdr;
		struct hvx_msr_entry e[NR_SAVED_MSRS];
	} msrs;
	struct hvx_fpu fpu;
	struct hvx_lapic_state lapic;
	struct hvx_vcpu_events events;
	bool has_lapic;
};

static int save_vcpu(int fd, struct vcpu_image *img, bool lapic)
{
	unsigned int i;

	memset(img, 0, sizeof(*img));
	img->msrs.hdr.nmsrs = NR_SAVED_MSRS;
	for (i = 0; i < NR_SAVED_MSRS; i++)
		img->msrs.e[i].index = saved_msrs[i];
	img->has_lapic = lapic;
	if (ioctl(fd, HVX_GET_REGS, &img->regs) || ioctl(fd, HVX_GET_SREGS, &img->sregs) ||
	    ioctl(fd, HVX_GET_MSRS, &img->msrs) != (int)NR_SAVED_MSRS ||
	    ioctl(fd, HVX_GET_FPU, &img->fpu) || ioctl(fd, HVX_GET_VCPU_EVENTS, &img->events))
		return -1;
	return lapic ? ioctl(fd, HVX_GET_LAPIC, &img->lapic) : 0;
}

/* The order the uapi header gives. */
static int restore_vcpu(int fd, const struct vcpu_image *img)
{
	if (ioctl(fd, HVX_SET_SREGS, &img->sregs) ||
	    ioctl(fd, HVX_SET_MSRS, &img->msrs) != (int)NR_SAVED_MSRS ||
	    ioctl(fd, HVX_SET_REGS, &img->regs) || ioctl(fd, HVX_SET_FPU, &img->fpu))
		return -1;
	if (img->has_lapic && ioctl(fd, HVX_SET_LAPIC, &img->lapic))
		return -1;
	return ioctl(fd, HVX_SET_VCPU_EVENTS, &img->events);
}

static void test_fpu(struct guest_vcpu *v)
{
	struct hvx_fpu f, g;
	uint32_t mxcsr;
	int i;

	memset(&f, 0xee, sizeof(f));
	if (!ktap_result(!ioctl(v->fd, HVX_GET_FPU, &f), "get_fpu"))
		return;
	memcpy(&mxcsr, f.fxsave + 24, 4);
	ktap_result(*(uint16_t *)f.fxsave == 0x37f && mxcsr == 0x1f80 &&
		    !f.reserved[0] && !f.reserved[7], "fpu_reset_state");
	for (i = 160; i < 416; i++)	/* XMM0-15 */
		f.fxsave[i] = i * 7;
	ktap_result(!ioctl(v->fd, HVX_SET_FPU, &f) && !ioctl(v->fd, HVX_GET_FPU, &g) &&
		    !memcmp(f.fxsave + 160, g.fxsave + 160, 256), "fpu_xmm_round_trip");
	g = f;
	mxcsr = 0x80001f80;
	memcpy(g.fxsave + 24, &mxcsr, 4);
	ktap_expect_errno("fpu_mxcsr_reserved_bit", ioctl(v->fd, HVX_SET_FPU, &g), EINVAL);
	g = f;
	g.reserved[7] = 1;
	ktap_expect_errno("fpu_reserved_nonzero", ioctl(v->fd, HVX_SET_FPU, &g), EINVAL);
	ktap_expect_errno("fpu_bad_pointer", ioctl(v->fd, HVX_SET_FPU, (void *)8), EFAULT);
}

static int set_events(struct guest_vcpu *v, struct hvx_vcpu_events e)
{
	return ioctl(v->fd, HVX_SET_VCPU_EVENTS, &e);
}

static void test_events(struct guest_vcpu *v, bool vmx)
{
	struct hvx_vcpu_events e, zero = { 0 };

	memset(&e, 0xee, sizeof(e));
	ktap_result(!ioctl(v->fd, HVX_GET_VCPU_EVENTS, &e) && !memcmp(&e, &zero, sizeof(e)),
		    "events_reset_state");
	ktap_expect_errno("events_flags", set_events(v, (struct hvx_vcpu_events){ .flags = 1 }),
			  EINVAL);
	ktap_expect_errno("events_reserved",
			  set_events(v, (struct hvx_vcpu_events){ .reserved[5] = 1 }), EINVAL);
	ktap_expect_errno("events_both_shadows",
			  set_events(v, (struct hvx_vcpu_events){ .shadow = 3 }), EINVAL);
	ktap_expect_errno("events_wait_sipi_without_lapic",
			  set_events(v, (struct hvx_vcpu_events){ .mp_state = HVX_MP_WAIT_SIPI }),
			  EINVAL);
	ktap_expect_errno("events_type_reserved", set_events(v, (struct hvx_vcpu_events){
			  .inject_info = HVX_EVENT_VALID | 1 << 8 | 0x30 }), EINVAL);
	ktap_expect_errno("events_nmi_not_vector_2", set_events(v, (struct hvx_vcpu_events){
			  .inject_info = HVX_EVENT_VALID | HVX_EVENT_NMI << 8 | 3 }), EINVAL);
	ktap_expect_errno("events_exception_vector_40", set_events(v, (struct hvx_vcpu_events){
			  .inject_info = HVX_EVENT_VALID | HVX_EVENT_EXCEPTION << 8 | 40 }), EINVAL);
	ktap_expect_errno("events_error_code_on_interrupt", set_events(v, (struct hvx_vcpu_events){
			  .inject_info = HVX_EVENT_VALID | HVX_EVENT_HAS_ERROR | 0x30 }), EINVAL);
	ktap_expect_errno("events_error_without_valid",
			  set_events(v, (struct hvx_vcpu_events){ .inject_error = 1 }), EINVAL);
	ktap_expect_errno("events_soft_intr_without_length", set_events(v, (struct hvx_vcpu_events){
			  .inject_info = HVX_EVENT_VALID | HVX_EVENT_SOFT_INTR << 8 | 0x80 }), EINVAL);
	if (vmx)
		ktap_result(!set_events(v, (struct hvx_vcpu_events){
			.inject_info = HVX_EVENT_VALID | HVX_EVENT_SOFT_INTR << 8 | 0x80,
			.inject_insn_len = 2 }), "events_soft_intr_vmx");
	else
		ktap_expect_errno("events_soft_intr_svm", set_events(v, (struct hvx_vcpu_events){
			.inject_info = HVX_EVENT_VALID | HVX_EVENT_SOFT_INTR << 8 | 0x80,
			.inject_insn_len = 2 }), EINVAL);

	/* A #GP with its error code and an STI shadow come back as set. */
	zero = (struct hvx_vcpu_events){
		.shadow = HVX_SHADOW_STI,
		.inject_info = HVX_EVENT_VALID | HVX_EVENT_HAS_ERROR | HVX_EVENT_EXCEPTION << 8 | 13,
		.inject_error = 0x10,
	};
	ktap_result(!set_events(v, zero) && !ioctl(v->fd, HVX_GET_VCPU_EVENTS, &e) &&
		    !memcmp(&e, &zero, sizeof(e)), "events_round_trip");
	ktap_result(!set_events(v, (struct hvx_vcpu_events){ 0 }), "events_cleared");
}

static uint32_t lapic_reg(const struct hvx_lapic_state *s, uint32_t off)
{
	return s->regs[off / 4];
}

static void test_lapic(void)
{
	struct hvx_lapic_state s, t;
	struct hvx_vcpu_events e;
	struct guest_vm vm;
	struct guest_vcpu v, ap;

	if (guest_vm_create(&vm, GUEST_MEM_DEFAULT) || ioctl(vm.fd, HVX_ENABLE_LAPIC, 0) ||
	    guest_vcpu_create(&vm, &v, 0) || guest_vcpu_create(&vm, &ap, 1)) {
		ktap_result(false, "lapic_vm");
		return;
	}
	memset(&s, 0xee, sizeof(s));
	ktap_result(!ioctl(v.fd, HVX_GET_LAPIC, &s) && lapic_reg(&s, 0xf0) == 0xff &&
		    lapic_reg(&s, 0x320) == 0x10000 && lapic_reg(&s, 0x20) == 0 &&
		    s.flags == 0, "lapic_reset_state");
	ktap_result(!ioctl(ap.fd, HVX_GET_LAPIC, &t) && lapic_reg(&t, 0x20) == 1u << 24,
		    "lapic_ap_id");
	ktap_result(!ioctl(ap.fd, HVX_GET_VCPU_EVENTS, &e) && e.mp_state == HVX_MP_WAIT_SIPI,
		    "ap_waits_for_sipi");

	/* Enabled, TPR 0x20, a periodic 1 ms timer 0.5 ms from firing, vector 0x45 pending. */
	s.regs[0xf0 / 4] = 0x1ff;
	s.regs[0x80 / 4] = 0x20;
	s.regs[0xd0 / 4] = 0x01000000;
	s.regs[0x320 / 4] = 0x20040;	/* periodic, vector 0x40 */
	s.regs[0x380 / 4] = 1000000;
	s.regs[0x3e0 / 4] = 0xb;	/* divide by 1 */
	s.regs[(0x200 + 0x40) / 4] = 1u << 5;	/* IRR bit 0x45 */
	s.flags = HVX_LAPIC_TIMER_RUNNING;
	s.timer_ns_left = 500000;
	ktap_result(!ioctl(v.fd, HVX_SET_LAPIC, &s), "lapic_set");
	memset(&t, 0, sizeof(t));
	ktap_result(!ioctl(v.fd, HVX_GET_LAPIC, &t) && lapic_reg(&t, 0x80) == 0x20 &&
		    lapic_reg(&t, 0xd0) == 0x01000000 && lapic_reg(&t, 0x320) == 0x20040 &&
		    lapic_reg(&t, 0x380) == 1000000 && lapic_reg(&t, 0x3e0) == 0xb &&
		    (lapic_reg(&t, 0x240) & 1u << 5) && (t.flags & HVX_LAPIC_TIMER_RUNNING) &&
		    t.timer_ns_left <= 1000000, "lapic_round_trip");
	ktap_diag("timer: %llu ns left, current count %u", (unsigned long long)t.timer_ns_left,
		  lapic_reg(&t, 0x390));

	t = s;
	t.flags = 2;
	ktap_expect_errno("lapic_flags", ioctl(v.fd, HVX_SET_LAPIC, &t), EINVAL);
	t = s;
	t.reserved[0] = 1;
	ktap_expect_errno("lapic_reserved", ioctl(v.fd, HVX_SET_LAPIC, &t), EINVAL);
	t = s;
	t.regs[0x380 / 4] = 0;
	ktap_expect_errno("lapic_running_without_count", ioctl(v.fd, HVX_SET_LAPIC, &t), EINVAL);
	t = s;
	t.timer_ns_left = 2000000;
	ktap_expect_errno("lapic_left_beyond_period", ioctl(v.fd, HVX_SET_LAPIC, &t), EINVAL);
	t = s;
	t.regs[0x320 / 4] = 0x40040;	/* TSC-deadline mode running, but no deadline */
	ktap_expect_errno("lapic_tsc_deadline_running", ioctl(v.fd, HVX_SET_LAPIC, &t), EINVAL);
	t = s;
	t.flags = 0;
	ktap_result(!ioctl(v.fd, HVX_SET_LAPIC, &t) && !ioctl(v.fd, HVX_GET_LAPIC, &t) &&
		    !(t.flags & HVX_LAPIC_TIMER_RUNNING) && lapic_reg(&t, 0x390) == 0,
		    "lapic_timer_stopped");
	ktap_result(!set_events(&ap, (struct hvx_vcpu_events){ .mp_pending = HVX_MP_PENDING_SIPI,
		    .mp_state = HVX_MP_WAIT_SIPI, .sipi_vector = 0x12 }) &&
		    !ioctl(ap.fd, HVX_GET_VCPU_EVENTS, &e) && e.mp_pending == HVX_MP_PENDING_SIPI &&
		    e.sipi_vector == 0x12, "events_pending_sipi_round_trip");
	ktap_expect_errno("events_sipi_vector_without_sipi", set_events(&ap,
			  (struct hvx_vcpu_events){ .sipi_vector = 0x12 }), EINVAL);
	guest_vcpu_destroy(&ap);
	guest_vcpu_destroy(&v);
	guest_vm_destroy(&vm);
}

/* What state64 computes for @n rounds. */
static void state64_expect(uint64_t n, uint64_t *rbx)
{
	uint64_t rax = 0, b = 0;

	for (; n; n--) {
		rax += n;
		rax = rax << 3 | rax >> 61;
		b ^= rax;
	}
	*rbx = b;
}

static void on_alarm(int sig)
{
	(void)sig;
}

struct clone_vm {
	struct guest_vm vm;
	struct guest_vcpu v;
};

/*
 * Run until the alarm interrupts HVX_RUN: 1 with the guest stopped
 * mid-way, 0 if it finished first, -1 on anything else.
 */
static int run_until_alarm(struct clone_vm *c, unsigned int usec)
{
	int ret;

	ualarm(usec, 0);
	ret = guest_run(&c->v);
	ualarm(0, 0);
	if (ret == -EINTR)
		return 1;
	if (ret == HVX_EXIT_IO && c->v.run->io.port == UCALL_PORT &&
	    guest_io_data32(&c->v) == UCALL_DONE)
		return 0;
	ktap_diag("unexpected exit %d", ret);
	return -1;
}

/*
 * The guest is interrupted by a signal at a random point, its vCPU and
 * memory are copied into a new VM, and the copy goes on, five times; the
 * last copy must finish with exactly what the computation gives.
 */
static void test_clone(bool lapic)
{
	const char *name = lapic ? "clone_midrun_with_lapic" : "clone_midrun";
	struct clone_vm a, b;
	struct hvx_caps caps;
	struct vcpu_image img;
	struct hvx_regs r;
	struct sigaction sa;
	uint64_t n = 4000000, rbx;
	unsigned int nr_vms, i, clones = 0, tries;
	int ret, sys = hvx_open_or_exit();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: HVX_RUN returns EINTR */
	sigaction(SIGALRM, &sa, NULL);
	hvx_get_caps(sys, &caps);
	nr_vms = caps.nr_vms;

	for (tries = 0; tries < 5 && clones < 5; tries++, n *= 4) {
		clones = 0;
		if (guest_vm_create(&a.vm, GUEST_MEM_DEFAULT) ||
		    (lapic && ioctl(a.vm.fd, HVX_ENABLE_LAPIC, 0)) ||
		    guest_vcpu_create(&a.vm, &a.v, 0) ||
		    guest_load(&a.v, MODE_LONG, PAYLOAD(state64))) {
			ktap_result(false, name);
			return;
		}
		/* SSE on: CR4.OSFXSR and OSXMMEXCPT, CR0.EM off. */
		{
			struct hvx_sregs sr;

			ioctl(a.v.fd, HVX_GET_SREGS, &sr);
			sr.cr4 |= 0x600;
			sr.cr0 &= ~4ull;
			ioctl(a.v.fd, HVX_SET_SREGS, &sr);
		}
		guest_get_regs(&a.v, &r);
		r.rcx = n;
		guest_set_regs(&a.v, &r);
		for (i = 0; i < 5; i++) {
			ret = run_until_alarm(&a, 3000);
			if (ret <= 0)
				break;
			if (save_vcpu(a.v.fd, &img, lapic) ||
			    guest_vm_create(&b.vm, GUEST_MEM_DEFAULT) ||
			    (lapic && ioctl(b.vm.fd, HVX_ENABLE_LAPIC, 0)) ||
			    guest_vcpu_create(&b.vm, &b.v, 0)) {
				ret = -1;
				break;
			}
			memcpy(b.vm.mem, a.vm.mem, GUEST_MEM_DEFAULT);
			if (restore_vcpu(b.v.fd, &img)) {
				ktap_diag("restore: %s", strerror(errno));
				ret = -1;
				break;
			}
			ktap_diag("copy %u at round %llu of %llu", i + 1,
				  (unsigned long long)img.regs.r8, (unsigned long long)n);
			guest_vcpu_destroy(&a.v);
			guest_vm_destroy(&a.vm);
			a = b;
			clones++;
		}
		if (ret < 0) {
			ktap_result(false, name);
			return;
		}
		if (clones < 5) {	/* finished too soon: a longer run */
			guest_vcpu_destroy(&a.v);
			guest_vm_destroy(&a.vm);
			continue;
		}
		ret = guest_run_to_ucall(&a.v, &r);
		state64_expect(n, &rbx);
		ktap_diag("after %u copies: rbx 0x%llx (want 0x%llx), xmm0 %llu, rounds %llu",
			  clones, (unsigned long long)r.rsi, (unsigned long long)rbx,
			  (unsigned long long)r.rdx, (unsigned long long)r.r8);
		ktap_result(ret == UCALL_DONE && r.rsi == rbx && r.rdx == n && r.r8 == n &&
			    *(uint64_t *)(a.vm.mem + 0x20000) == n &&
			    *(uint64_t *)(a.vm.mem + 0x20008) == rbx, name);
		guest_vcpu_destroy(&a.v);
		guest_vm_destroy(&a.vm);
	}
	if (clones < 5) {
		ktap_result(false, name);
		ktap_diag("the guest always finished before the signal");
	}
	hvx_get_caps(sys, &caps);
	ktap_result(caps.nr_vms == nr_vms, lapic ? "clones_freed_with_lapic" : "clones_freed");
	close(sys);
}

/* 0 when @ret is -1 with errno @want. */
static int ktap_quiet_errno(int ret, int want)
{
	return ret == -1 && errno == want ? 0 : -1;
}

static int page_bitmap(int fd, uint32_t slot, uint32_t kind, uint64_t first, uint64_t n,
		       uint64_t *bits)
{
	struct hvx_page_bitmap b = {
		.slot = slot, .kind = kind, .first_page = first, .nr_pages = n,
		.bitmap = (uintptr_t)bits,
	};

	return ioctl(fd, HVX_GET_PAGE_BITMAP, &b);
}

/* Which pages exist: those the VMM or the guest touched, nothing else. */
static void test_page_bitmap(void)
{
	struct hvx_page_bitmap b = { 0 };
	uint64_t bits[8], npages = GUEST_MEM_DEFAULT / 4096;
	struct guest_vm vm;
	volatile uint8_t c;

	if (guest_vm_create(&vm, GUEST_MEM_DEFAULT)) {
		ktap_result(false, "page_bitmap_vm");
		return;
	}
	memset(bits, 0xee, sizeof(bits));
	ktap_result(!page_bitmap(vm.fd, 0, HVX_BITMAP_ALLOCATED, 0, npages, bits) &&
		    !bits[0] && !bits[7], "page_bitmap_empty");
	vm.mem[3 * 4096] = 1;
	c = vm.mem[70 * 4096];
	(void)c;
	vm.mem[511 * 4096 + 17] = 1;
	ktap_result(!page_bitmap(vm.fd, 0, HVX_BITMAP_ALLOCATED, 0, npages, bits) &&
		    bits[0] == 1ull << 3 && bits[1] == 1ull << 6 && bits[7] == 1ull << 63 &&
		    !bits[2], "page_bitmap_touched");
	ktap_result(!page_bitmap(vm.fd, 0, HVX_BITMAP_ALLOCATED, 448, 64, bits) &&
		    bits[0] == 1ull << 63, "page_bitmap_window");
	ktap_expect_errno("page_bitmap_no_slot",
			  page_bitmap(vm.fd, 5, HVX_BITMAP_ALLOCATED, 0, 64, bits), ENOENT);
	ktap_expect_errno("page_bitmap_kind", page_bitmap(vm.fd, 0, 7, 0, 64, bits), EINVAL);
	ktap_expect_errno("page_bitmap_unaligned",
			  page_bitmap(vm.fd, 0, HVX_BITMAP_ALLOCATED, 3, 64, bits), EINVAL);
	ktap_expect_errno("page_bitmap_past_end",
			  page_bitmap(vm.fd, 0, HVX_BITMAP_ALLOCATED, 448, 65, bits), EINVAL);
	ktap_expect_errno("page_bitmap_empty_range",
			  page_bitmap(vm.fd, 0, HVX_BITMAP_ALLOCATED, 0, 0, bits), EINVAL);
	ktap_expect_errno("page_bitmap_bad_pointer",
			  page_bitmap(vm.fd, 0, HVX_BITMAP_ALLOCATED, 0, 64, (void *)8), EFAULT);
	b.reserved[3] = 1;
	b.nr_pages = 64;
	b.bitmap = (uintptr_t)bits;
	ktap_expect_errno("page_bitmap_reserved", ioctl(vm.fd, HVX_GET_PAGE_BITMAP, &b), EINVAL);
	guest_vm_destroy(&vm);
}

static int dirty_log(int vm_fd, uint32_t slot, uint32_t flags)
{
	struct hvx_dirty_log d = { .slot = slot, .flags = flags };

	return ioctl(vm_fd, HVX_SET_DIRTY_LOG, &d);
}

/* The guest writes one byte to each of @n pages from page @first. */
static int touch(struct guest_vcpu *v, uint64_t first, uint64_t n)
{
	struct hvx_regs r;

	if (guest_load(v, MODE_LONG, PAYLOAD(touch64)) || guest_get_regs(v, &r))
		return -1;
	r.rbx = first * 4096;
	r.rcx = n;
	if (guest_set_regs(v, &r))
		return -1;
	return guest_run_to_ucall(v, &r) == UCALL_DONE ? 0 : -1;
}

/* Guest writes, logged page by page; each get clears what it returns. */
static void test_dirty_log(void)
{
	uint64_t bits[8], npages = GUEST_MEM_DEFAULT / 4096;
	struct hvx_dirty_log d = { 0 };
	struct guest_vm vm;
	struct guest_vcpu v;
	int i, others;

	if (guest_vm_create(&vm, GUEST_MEM_DEFAULT) || guest_vcpu_create(&vm, &v, 0) ||
	    touch(&v, 256, 8)) {
		ktap_result(false, "dirty_log_vm");
		return;
	}
	ktap_expect_errno("dirty_get_without_log",
			  page_bitmap(vm.fd, 0, HVX_BITMAP_DIRTY, 0, npages, bits), ENOENT);
	ktap_result(!dirty_log(vm.fd, 0, HVX_DIRTY_LOG_ON), "dirty_log_on");
	ktap_expect_errno("dirty_log_on_twice", dirty_log(vm.fd, 0, HVX_DIRTY_LOG_ON), EEXIST);
	ktap_result(!page_bitmap(vm.fd, 0, HVX_BITMAP_DIRTY, 0, npages, bits) && !bits[4],
		    "dirty_log_starts_clean");
	ktap_result(!touch(&v, 256, 4) && !page_bitmap(vm.fd, 0, HVX_BITMAP_DIRTY, 0, npages, bits),
		    "dirty_get");
	for (i = 0, others = 0; i < 8; i++)
		others += i != 4 && bits[i];
	ktap_diag("dirty after writing pages 256-259: word 4 0x%llx, %d other words",
		  (unsigned long long)bits[4], others);
	ktap_result(bits[4] == 0xf, "dirty_pages_are_those_written");
	ktap_result(!page_bitmap(vm.fd, 0, HVX_BITMAP_DIRTY, 0, npages, bits) && !bits[4],
		    "dirty_get_clears");
	ktap_result(!touch(&v, 258, 4) && !page_bitmap(vm.fd, 0, HVX_BITMAP_DIRTY, 256, 64, bits) &&
		    bits[0] == 0x3c, "dirty_again_after_clear");
	ktap_expect_errno("dirty_log_no_slot", dirty_log(vm.fd, 3, HVX_DIRTY_LOG_ON), ENOENT);
	ktap_expect_errno("dirty_log_flags", dirty_log(vm.fd, 0, 2), EINVAL);
	d.reserved[2] = 1;
	ktap_expect_errno("dirty_log_reserved", ioctl(vm.fd, HVX_SET_DIRTY_LOG, &d), EINVAL);
	ktap_result(!dirty_log(vm.fd, 0, 0), "dirty_log_off");
	ktap_expect_errno("dirty_log_off_twice", dirty_log(vm.fd, 0, 0), ENOENT);
	ktap_result(!touch(&v, 300, 2) && !ktap_quiet_errno(page_bitmap(vm.fd, 0, HVX_BITMAP_DIRTY,
		    0, npages, bits), ENOENT), "guest_writes_after_log_off");
	guest_vcpu_destroy(&v);
	guest_vm_destroy(&vm);
}

int main(void)
{
	struct guest_vm vm;
	struct guest_vcpu v;
	uint32_t vendor;

	guest_require_vcpus();
	vendor = hvx_vendor_or_exit();
	ktap_plan(62);
	if (guest_vm_create(&vm, GUEST_MEM_DEFAULT) || guest_vcpu_create(&vm, &v, 0)) {
		ktap_result(false, "vm");
		return ktap_finish();
	}
	test_fpu(&v);
	test_events(&v, vendor == HVX_VENDOR_INTEL_VMX);
	{
		struct hvx_lapic_state s;

		ktap_expect_errno("lapic_without_enable", ioctl(v.fd, HVX_GET_LAPIC, &s), ENXIO);
	}
	guest_vcpu_destroy(&v);
	guest_vm_destroy(&vm);
	test_lapic();
	test_page_bitmap();
	test_dirty_log();
	test_clone(false);
	test_clone(true);
	return ktap_finish();
}
