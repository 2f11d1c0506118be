// SPDX-License-Identifier: GPL-2.0
/* vm.c - the VM: /dev/hvx, guest RAM, vCPUs, their threads and the exits they dispatch. */
#define _GNU_SOURCE	/* pthread_setname_np */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hvx-run.h"

#define RFLAGS_IF	(1ull << 9)

struct vm vm;

static void add_ram(int slot, uint64_t gpa, uint64_t size)
{
	struct hvx_memory_region r = { .slot = slot, .guest_phys_addr = gpa, .size = size };

	if (ioctl(vm.fd, HVX_SET_MEMORY_REGION, &r))
		die(ST_INTERNAL, "HVX_SET_MEMORY_REGION [0x%llx, 0x%llx): %s",
		    (unsigned long long)gpa, (unsigned long long)(gpa + size), strerror(errno));
	/* MAP_FIXED into the reservation: one host address per guest address. */
	if (mmap(vm.ram + gpa, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 vm.fd, gpa) == MAP_FAILED)
		die(ST_INTERNAL, "mmap of guest RAM at 0x%llx: %s",
		    (unsigned long long)gpa, strerror(errno));
}

static void vcpu_create(struct vcpu *v, int id)
{
	v->id = id;
	v->fd = ioctl(vm.fd, HVX_CREATE_VCPU, id);
	if (v->fd < 0)
		die(ST_INTERNAL, "HVX_CREATE_VCPU %d: %s", id, strerror(errno));
	v->run = mmap(NULL, HVX_RUN_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED)
		die(ST_INTERNAL, "mmap of vCPU %d: %s", id, strerror(errno));
	cpuid_setup(v);
}

void vm_create(uint64_t ram_size, int nr_vcpus)
{
	struct hvx_caps caps = { 0 };
	uint64_t span;
	int i;

	vm.sys_fd = open("/dev/hvx", O_RDWR | O_CLOEXEC);
	if (vm.sys_fd < 0)
		die(ST_NODEV, "cannot open /dev/hvx: %s%s", strerror(errno),
		    errno == ENOENT ? " (is hvx.ko loaded?)" : "");
	if (ioctl(vm.sys_fd, HVX_GET_API_VERSION, 0) != HVX_API_VERSION ||
	    ioctl(vm.sys_fd, HVX_GET_CAPS, &caps))
		die(ST_NODEV, "/dev/hvx does not speak hvx API version %d", HVX_API_VERSION);
	if ((uint32_t)nr_vcpus > caps.max_vcpus)
		die(ST_USAGE, "-c %d: hvx.ko allows at most %u vCPUs per VM", nr_vcpus,
		    caps.max_vcpus);

	vm.vendor = caps.vendor;
	vm.fd = ioctl(vm.sys_fd, HVX_CREATE_VM, 0);
	if (vm.fd < 0)
		die(ST_INTERNAL, "HVX_CREATE_VM: %s%s", strerror(errno),
		    errno == EBUSY ? " (another hypervisor holds VMX/SVM)" : "");
	/* MSRs hvx.ko does not keep come to us: msr.c answers them like ignore_msrs. */
	if (ioctl(vm.fd, HVX_SET_MSR_POLICY, HVX_MSR_POLICY_EXIT))
		die(ST_INTERNAL, "HVX_SET_MSR_POLICY: %s", strerror(errno));
	/* The local APIC must exist before the first vCPU. */
	if (ioctl(vm.fd, HVX_ENABLE_LAPIC, 0) == 0)
		vm.lapic = true;
	else if (errno == ENOTTY)
		fprintf(stderr, "hvx-run: this hvx.ko has no in-kernel local APIC "
			"(HVX_ENABLE_LAPIC: ENOTTY): no interrupts, Linux stops at timer setup\n");
	else
		die(ST_INTERNAL, "HVX_ENABLE_LAPIC: %s", strerror(errno));

	/* RAM below the 32-bit MMIO hole (I/O APIC, local APIC), the rest above 4 GiB. */
	vm.ram_size = ram_size;
	vm.low_end = ram_size < MMIO_HOLE_START ? ram_size : MMIO_HOLE_START;
	vm.high_end = ram_size > MMIO_HOLE_START ? MMIO_HOLE_END + ram_size - MMIO_HOLE_START : 0;
	span = vm.high_end ? vm.high_end : vm.low_end;
	vm.ram = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm.ram == MAP_FAILED)
		die(ST_INTERNAL, "cannot reserve %llu MiB of address space: %s",
		    (unsigned long long)(span >> 20), strerror(errno));
	add_ram(0, 0, vm.low_end);
	if (vm.high_end)
		add_ram(1, MMIO_HOLE_END, vm.high_end - MMIO_HOLE_END);

	vm.nr_vcpus = nr_vcpus;
	for (i = 0; i < nr_vcpus; i++)
		vcpu_create(&vm.vcpus[i], i);
}

void *gpa_to_hva(uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa)
		return NULL;
	if (gpa + len <= vm.low_end ||
	    (gpa >= MMIO_HOLE_END && gpa + len <= vm.high_end))
		return vm.ram + gpa;
	return NULL;
}

int ram_regions(struct ram_region r[2])
{
	r[0] = (struct ram_region){ 0, 0, vm.low_end };
	if (!vm.high_end)
		return 1;
	r[1] = (struct ram_region){ 1, MMIO_HOLE_END, vm.high_end - MMIO_HOLE_END };
	return 2;
}

/* One bit per 4 KiB of the guest-physical span, while migrating. */
static uint64_t *dirty_bits;
static volatile bool dirty_on;

void ram_dirty(uint64_t gpa, uint64_t len)
{
	uint64_t p;

	if (!dirty_on || !len)
		return;
	for (p = gpa >> 12; p <= (gpa + len - 1) >> 12; p++)
		__atomic_fetch_or(&dirty_bits[p / 64], 1ull << (p % 64), __ATOMIC_RELAXED);
}

void ram_dirty_start(void)
{
	uint64_t span = vm.high_end ? vm.high_end : vm.low_end;

	if (!dirty_bits)
		dirty_bits = calloc((span >> 12) / 64 + 1, sizeof(*dirty_bits));
	if (!dirty_bits)
		die(ST_INTERNAL, "out of memory");
	__atomic_store_n(&dirty_on, true, __ATOMIC_SEQ_CST);
}

void ram_dirty_stop(void)
{
	__atomic_store_n(&dirty_on, false, __ATOMIC_SEQ_CST);
}

static void devices_hold(void);
static void devices_release(void);

void ram_dirty_take(const struct ram_region *r, uint64_t *bits, bool quiesce)
{
	uint64_t first = r->gpa >> 12, n = r->size >> 12, i;

	/*
	 * A device marks a buffer when it takes the request and fills it
	 * after: no request may be half done across the take, or its data
	 * would be neither in this pass nor marked for the next.
	 */
	if (quiesce)
		devices_hold();
	/* Regions start at multiples of 64 pages (0 and 4 GiB). */
	for (i = 0; i < (n + 63) / 64; i++)
		bits[i] |= __atomic_exchange_n(&dirty_bits[first / 64 + i], 0, __ATOMIC_RELAXED);
	if (quiesce)
		devices_release();
}

/* One line on where a vCPU stands, for the messages of unexpected endings. */
static const char *vcpu_state(struct vcpu *v)
{
	static __thread char buf[200];
	struct hvx_sregs s;
	struct hvx_regs r;

	if (ioctl(v->fd, HVX_GET_REGS, &r) || ioctl(v->fd, HVX_GET_SREGS, &s))
		return "(registers unreadable)";
	snprintf(buf, sizeof(buf), "rip 0x%llx rsp 0x%llx rflags 0x%llx cr0 0x%llx cr3 0x%llx "
		 "cr4 0x%llx efer 0x%llx", (unsigned long long)r.rip, (unsigned long long)r.rsp,
		 (unsigned long long)r.rflags, (unsigned long long)s.cr0,
		 (unsigned long long)s.cr3, (unsigned long long)s.cr4,
		 (unsigned long long)s.efer);
	return buf;
}

static void handle_io(struct vcpu *v)
{
	struct hvx_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool write = run->io.direction == HVX_IO_OUT;
	uint32_t i;

	for (i = 0; i < run->io.count; i++, data += run->io.size) {
		if (io_port(run->io.port, data, run->io.size, write))
			continue;
		/* Nothing decodes this port: reads float high, as on an ISA bus. */
		if (!write)
			memset(data, 0xff, run->io.size);
		vlog("unhandled port %s 0x%x size %u%s", write ? "write" : "read",
		     run->io.port, run->io.size, write ? "" : " -> all ones");
	}
}

static void handle_mmio(struct vcpu *v)
{
	struct hvx_run *run = v->run;
	int len = run->mmio.len;

	if (io_mmio(run->mmio.phys_addr, run->mmio.data, len, run->mmio.is_write))
		return;
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	vlog("unhandled MMIO %s 0x%llx len %d", run->mmio.is_write ? "write" : "read",
	     (unsigned long long)run->mmio.phys_addr, len);
}

static pthread_mutex_t halt_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Pausing: vm_pause() asks every vCPU thread to park and waits until all
 * that still run have.  A thread parks only after an HVX_RUN that returned
 * EINTR, when hvx.ko has completed the last exit: its state is then whole
 * in the vCPU's registers (see the uapi header).  run_lock guards the
 * counts; pause_gen tells a parked thread that it may go on.
 */
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t run_cond = PTHREAD_COND_INITIALIZER;
static bool pause_requested;
static int nr_live, nr_parked;

/*
 * Device threads bracket each piece of work; a hold (a pause, or a
 * migration taking the devices' dirty marks) waits for the work under
 * way and keeps new work back until released.  Holds are counted, not
 * owned: the thread that releases one need not be the one that took it
 * (a live migration's thread stops the VM, a QMP 'cont' resumes it).
 */
static pthread_mutex_t device_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t device_cond = PTHREAD_COND_INITIALIZER;
static int device_holds, device_active;

void device_work_begin(void)
{
	pthread_mutex_lock(&device_lock);
	while (device_holds)
		pthread_cond_wait(&device_cond, &device_lock);
	device_active++;
	pthread_mutex_unlock(&device_lock);
}

void device_work_end(void)
{
	pthread_mutex_lock(&device_lock);
	if (!--device_active)
		pthread_cond_broadcast(&device_cond);
	pthread_mutex_unlock(&device_lock);
}

static void devices_hold(void)
{
	pthread_mutex_lock(&device_lock);
	device_holds++;
	while (device_active)
		pthread_cond_wait(&device_cond, &device_lock);
	pthread_mutex_unlock(&device_lock);
}

static void devices_release(void)
{
	pthread_mutex_lock(&device_lock);
	if (!--device_holds)
		pthread_cond_broadcast(&device_cond);
	pthread_mutex_unlock(&device_lock);
}

/*
 * Auto-converge: while a live migration cannot keep up, a ticker kicks
 * every vCPU out of the guest each THROTTLE_TICK_US and the vCPU sleeps
 * for throttle_pct of it before going back in.
 */
#define THROTTLE_TICK_US	20000
static volatile int throttle_pct;
static bool ticker_started;

static void *throttle_ticker(void *arg)
{
	int i;

	(void)arg;
	for (;;) {
		usleep(THROTTLE_TICK_US);
		if (!throttle_pct || vm_stopping())
			continue;
		for (i = 0; i < vm.nr_running; i++)
			if (vm.vcpus[i].started)
				pthread_kill(vm.vcpus[i].thread, SIGUSR1);
	}
	return NULL;
}

void vcpus_throttle(int pct)
{
	pthread_t t;

	throttle_pct = pct;
	if (pct && !ticker_started && !pthread_create(&t, NULL, throttle_ticker, NULL)) {
		ticker_started = true;
		pthread_setname_np(t, "hvx-throttle");
		pthread_detach(t);
	}
	if (pct)
		vlog("vCPUs throttled to %d%% off", pct);
}

/* After an EINTR: park if a pause asked for it, sleep if throttled. */
static void vcpu_park(struct vcpu *v)
{
	int pct = throttle_pct;

	if (pct && !pause_requested)
		usleep(THROTTLE_TICK_US * pct / 100);
	pthread_mutex_lock(&run_lock);
	if (pause_requested) {
		nr_parked++;
		pthread_cond_broadcast(&run_cond);
		while (pause_requested && !vm_stopping())
			pthread_cond_wait(&run_cond, &run_lock);
		nr_parked--;
		if (!vm_stopping())
			v->run->immediate_exit = 0;
	}
	pthread_mutex_unlock(&run_lock);
}

/*
 * Stop the guest: every vCPU parked after a complete exit, and then the
 * device threads' work finished (an in-flight block request completes
 * first) and held off until vm_resume().  Called by one control thread.
 */
void vm_pause(void)
{
	int i;

	pthread_mutex_lock(&run_lock);
	pause_requested = true;
	for (i = 0; i < vm.nr_running; i++) {
		struct vcpu *v = &vm.vcpus[i];

		v->run->immediate_exit = 1;
		if (v->started)
			pthread_kill(v->thread, SIGUSR1);
	}
	while (nr_parked < nr_live && !vm_stopping())
		pthread_cond_wait(&run_cond, &run_lock);
	pthread_mutex_unlock(&run_lock);
	devices_hold();
}

void vm_resume(void)
{
	devices_release();
	pthread_mutex_lock(&run_lock);
	pause_requested = false;
	pthread_cond_broadcast(&run_cond);
	pthread_mutex_unlock(&run_lock);
}

/* Wake a vm_pause() or parked vCPUs when the VM is stopping. */
void vm_pause_abort(void)
{
	pthread_mutex_lock(&run_lock);
	pthread_cond_broadcast(&run_cond);
	pthread_mutex_unlock(&run_lock);
}

/* Returns false when this vCPU is done. */
static bool handle_exit(struct vcpu *v)
{
	struct hvx_run *run = v->run;
	struct hvx_regs r;

	switch (run->exit_reason) {
	case HVX_EXIT_IO:
		handle_io(v);
		return true;
	case HVX_EXIT_MMIO:
		handle_mmio(v);
		return true;
	case HVX_EXIT_MSR:
		msr_exit(v);
		return true;
	case HVX_EXIT_INTR:
		return true;
	case HVX_EXIT_HLT:
		if (ioctl(v->fd, HVX_GET_REGS, &r)) {
			vm_stop(ST_INTERNAL, "vCPU %d: HVX_GET_REGS: %s", v->id, strerror(errno));
			return false;
		}
		if (!(r.rflags & RFLAGS_IF)) {
			/* Only an NMI could end this HLT, and nothing sends one. */
			vcpu_halted(v);
			return false;
		}
		/*
		 * Without the in-kernel local APIC, HLT with interrupts on
		 * exits here; nothing can interrupt it, so just go on.
		 */
		usleep(1000);
		return true;
	case HVX_EXIT_SHUTDOWN:
		if (serial_panic_seen())
			vm_stop(ST_PANIC, "guest kernel panic (then triple fault)");
		else
			vm_stop(ST_TRIPLE_FAULT, "guest triple fault (shutdown) on vCPU %d: %s",
				v->id, vcpu_state(v));
		return false;
	case HVX_EXIT_HYPERCALL:
		/* No hypercalls are offered: -ENOSYS, as KVM answers unknown ones. */
		vlog("hypercall %llu from vCPU %d: -ENOSYS", (unsigned long long)run->hypercall.nr,
		     v->id);
		run->hypercall.ret = (uint64_t)-ENOSYS;
		return true;
	case HVX_EXIT_FAIL_ENTRY:
	case HVX_EXIT_UNKNOWN:
		vm_stop(ST_INTERNAL, "vCPU %d: %s exit, code 0x%llx info 0x%llx 0x%llx vm-insn-error %llu; %s",
			v->id, run->exit_reason == HVX_EXIT_UNKNOWN ? "unknown" : "failed-entry",
			(unsigned long long)run->hw.exit_code, (unsigned long long)run->hw.info1,
			(unsigned long long)run->hw.info2,
			(unsigned long long)run->hw.vm_instruction_error, vcpu_state(v));
		return false;
	case HVX_EXIT_INTERNAL_ERROR:
		vm_stop(ST_INTERNAL, "vCPU %d: internal error %u (%s), data 0x%llx 0x%llx 0x%llx 0x%llx; %s",
			v->id, run->internal.suberror,
			run->internal.suberror == HVX_INTERNAL_EMULATION ? "instruction not emulated" :
			run->internal.suberror == HVX_INTERNAL_BAD_STATE ? "bad guest state" :
			run->internal.suberror == HVX_INTERNAL_UNHANDLED ? "unhandled hardware exit" : "?",
			(unsigned long long)run->internal.data[0],
			(unsigned long long)run->internal.data[1],
			(unsigned long long)run->internal.data[2],
			(unsigned long long)run->internal.data[3], vcpu_state(v));
		return false;
	default:
		vm_stop(ST_INTERNAL, "vCPU %d: exit reason %u hvx-run does not know; %s",
			v->id, run->exit_reason, vcpu_state(v));
		return false;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;

	v->tid = gettid();
	while (!vm_stopping()) {
		if (ioctl(v->fd, HVX_RUN, 0)) {
			if (errno == EINTR) {
				/* kicked: vm_stopping() or a pause says why */
				vcpu_park(v);
				continue;
			}
			vm_stop(ST_INTERNAL, "vCPU %d: HVX_RUN: %s", v->id, strerror(errno));
			break;
		}
		if (!v->ran) {
			pthread_mutex_lock(&halt_lock);
			v->ran = true;
			pthread_mutex_unlock(&halt_lock);
		}
		if (!handle_exit(v))
			break;
	}
	pthread_mutex_lock(&run_lock);
	nr_live--;
	pthread_cond_broadcast(&run_cond);
	pthread_mutex_unlock(&run_lock);
	/* Stopped from outside (a hung guest is killed): say where it was. */
	if (vm_stopped_by_signal() && v->ran)
		fprintf(stderr, "hvx-run: vCPU %d stopped at %s\n", v->id, vcpu_state(v));
	return NULL;
}

/*
 * A vCPU halted with interrupts off.  Linux's power-off without ACPI ends
 * that way (machine_halt: every CPU stops in HLT with IF=0), so once all
 * vCPUs that run are there the guest is off.  An application processor
 * the guest never started is still parked in HVX_RUN waiting for its
 * SIPI; it has never exited to us (a started one has: its MSR probes
 * alone come here), and does not keep the VM on.
 */
void vcpu_halted(struct vcpu *vcpu)
{
	bool all = true;
	int i;

	pthread_mutex_lock(&halt_lock);
	vcpu->halted = true;
	for (i = 0; i < vm.nr_vcpus; i++)
		if (vm.vcpus[i].ran && !vm.vcpus[i].halted)
			all = false;
	pthread_mutex_unlock(&halt_lock);
	vlog("vCPU %d halted with interrupts off", vcpu->id);
	if (all)
		vm_stop(serial_panic_seen() ? ST_PANIC : ST_POWEROFF,
			serial_panic_seen() ? "guest kernel panic (then halted)" :
			"guest powered off (every vCPU halted with interrupts off)");
}

static void kick(int sig)
{
	(void)sig;
}

void vcpus_start(void)
{
	struct sigaction sa;
	int i, err;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick;	/* no SA_RESTART: HVX_RUN returns EINTR */
	sigaction(SIGUSR1, &sa, NULL);

	/*
	 * With the in-kernel local APIC, vCPUs 1..N-1 are application
	 * processors: their HVX_RUN waits in hvx.ko until the guest sends
	 * them INIT and SIPI.  Without it nothing could start them.
	 */
	vm.nr_running = vm.lapic ? vm.nr_vcpus : 1;
	nr_live = vm.nr_running;
	for (i = 0; i < vm.nr_running; i++) {
		vm.vcpus[i].started = true;
		char name[16];

		err = pthread_create(&vm.vcpus[i].thread, NULL, vcpu_thread, &vm.vcpus[i]);
		if (err)
			die(ST_INTERNAL, "cannot start vCPU thread %d: %s", i, strerror(err));
		/* "vcpuN" in ps/top/perf, and for pinning with taskset -p. */
		snprintf(name, sizeof(name), "vcpu%d", i);
		pthread_setname_np(vm.vcpus[i].thread, name);
	}
}

void vcpus_stop(void)
{
	int i;

	vm_pause_abort();	/* parked threads see vm_stopping() */
	for (i = 0; i < vm.nr_vcpus; i++) {
		struct vcpu *v = &vm.vcpus[i];

		if (!v->started)
			continue;
		/* immediate_exit covers a kick that lands between two HVX_RUNs. */
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, SIGUSR1);
		pthread_join(v->thread, NULL);
	}
}
