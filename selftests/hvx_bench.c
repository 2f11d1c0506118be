// SPDX-License-Identifier: GPL-2.0
/*
 * hvx_bench.c - the same guest workloads on /dev/hvx and on /dev/kvm, in one
 * test-host boot; prints "bench <workload> hvx=<ns> kvm=<ns> ratio=<hvx/kvm>".
 * Under QEMU -icount shift=0 one nanosecond is one emulated instruction, so
 * the figures repeat exactly from boot to boot.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "lib/guest.h"

/* A backend: what the benchmark needs of a hypervisor. */
struct backend {
	const char *name;
	int (*create)(uint64_t mem_size, struct payload p);
	int (*set_rbx_rcx_r8)(uint64_t rbx, uint64_t rcx, uint64_t r8);
	int (*run_to_ucall)(void);	/* 0 on a ucall */
	void (*destroy)(void);
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ---- hvx --------------------------------------------------------------- */

static struct guest_vm hvx_vm;
static struct guest_vcpu hvx_vcpu;

static int hvx_create(uint64_t mem_size, struct payload p)
{
	if (guest_vm_create(&hvx_vm, mem_size) || guest_vcpu_create(&hvx_vm, &hvx_vcpu, 0))
		return -1;
	return guest_load(&hvx_vcpu, MODE_LONG, p);
}

static int hvx_set_regs(uint64_t rbx, uint64_t rcx, uint64_t r8)
{
	struct hvx_regs r;

	if (guest_get_regs(&hvx_vcpu, &r))
		return -1;
	r.rbx = rbx;
	r.rcx = rcx;
	r.r8 = r8;
	return guest_set_regs(&hvx_vcpu, &r);
}

static int hvx_run_to_ucall(void)
{
	return guest_run_to_ucall(&hvx_vcpu, NULL) < 0 ? -1 : 0;
}

static void hvx_destroy(void)
{
	guest_vcpu_destroy(&hvx_vcpu);
	guest_vm_destroy(&hvx_vm);
}

static struct backend hvx = {
	"hvx", hvx_create, hvx_set_regs, hvx_run_to_ucall, hvx_destroy,
};

/* ---- KVM, with the same guest code and page tables ----------------------- */

static int kvm_sys = -1, kvm_vm = -1, kvm_vcpu = -1;
static struct kvm_run *kvm_run;
static size_t kvm_run_size;
static uint8_t *kvm_mem;
static uint64_t kvm_mem_size;

static struct kvm_segment kvm_flat(uint16_t sel, uint8_t type, int l, int db)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .s = 1, .l = l, .db = db, .g = 1,
	};
}

static int kvm_create(uint64_t mem_size, struct payload p)
{
	struct kvm_userspace_memory_region r = { .slot = 0, .memory_size = mem_size };
	struct kvm_sregs s;
	struct kvm_regs regs;

	kvm_sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_sys < 0)
		return -1;
	kvm_vm = ioctl(kvm_sys, KVM_CREATE_VM, 0);
	if (kvm_vm < 0)
		return -1;
	kvm_mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	kvm_mem_size = mem_size;
	r.userspace_addr = (uintptr_t)kvm_mem;
	if (kvm_mem == MAP_FAILED || ioctl(kvm_vm, KVM_SET_USER_MEMORY_REGION, &r))
		return -1;
	kvm_vcpu = ioctl(kvm_vm, KVM_CREATE_VCPU, 0);
	kvm_run_size = ioctl(kvm_sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	kvm_run = mmap(NULL, kvm_run_size, PROT_READ | PROT_WRITE, MAP_SHARED, kvm_vcpu, 0);
	if (kvm_vcpu < 0 || kvm_run == MAP_FAILED)
		return -1;

	/* The same code and page tables as the hvx side. */
	memcpy(kvm_mem + GUEST_CODE, p.start, p.end - p.start);
	guest_build_page_tables(kvm_mem);
	if (ioctl(kvm_vcpu, KVM_GET_SREGS, &s))
		return -1;
	s.cs = kvm_flat(8, 0xb, 1, 0);
	s.ds = s.es = s.fs = s.gs = s.ss = kvm_flat(0x10, 3, 0, 1);
	s.tr = (struct kvm_segment){ .limit = 0x67, .selector = 0x18, .type = 0xb, .present = 1 };
	s.cr0 = 0x80000011;
	s.cr3 = 0x1000;
	s.cr4 = 0x20;
	s.efer = 0x500;
	if (ioctl(kvm_vcpu, KVM_SET_SREGS, &s))
		return -1;
	memset(&regs, 0, sizeof(regs));
	regs.rip = GUEST_CODE;
	regs.rsp = GUEST_STACK;
	regs.rflags = 2;
	return ioctl(kvm_vcpu, KVM_SET_REGS, &regs);
}

static int kvm_set_regs(uint64_t rbx, uint64_t rcx, uint64_t r8)
{
	struct kvm_regs r;

	if (ioctl(kvm_vcpu, KVM_GET_REGS, &r))
		return -1;
	r.rbx = rbx;
	r.rcx = rcx;
	r.r8 = r8;
	return ioctl(kvm_vcpu, KVM_SET_REGS, &r);
}

static int kvm_run_to_ucall(void)
{
	for (;;) {
		if (ioctl(kvm_vcpu, KVM_RUN, 0))
			return -1;
		if (kvm_run->exit_reason != KVM_EXIT_IO) {
			printf("# kvm: unexpected exit %u\n", kvm_run->exit_reason);
			return -1;
		}
		if (kvm_run->io.port == UCALL_PORT)
			return 0;
	}
}

static void kvm_destroy(void)
{
	munmap(kvm_run, kvm_run_size);
	munmap(kvm_mem, kvm_mem_size);
	close(kvm_vcpu);
	close(kvm_vm);
	close(kvm_sys);
}

static struct backend kvm = {
	"kvm", kvm_create, kvm_set_regs, kvm_run_to_ucall, kvm_destroy,
};

/* ---- workloads ------------------------------------------------------------ */

enum { CPUID_PER_ROUND = 2000, CPUID_ROUNDS = 5, PIO_ROUNDS = 5000, TOUCH_PAGES = 4096 };

/* Nanoseconds per CPUID exit handled in the kernel. */
static double bench_cpuid(struct backend *b)
{
	double t0, t1;
	int i;

	if (b->create(GUEST_MEM_DEFAULT, PAYLOAD(bench_cpuid64)) ||
	    b->set_rbx_rcx_r8(0, 0, CPUID_PER_ROUND) || b->run_to_ucall())
		return -1;
	t0 = now_ns();
	for (i = 0; i < CPUID_ROUNDS; i++)
		if (b->run_to_ucall())
			return -1;
	t1 = now_ns();
	b->destroy();
	return (t1 - t0) / (CPUID_ROUNDS * CPUID_PER_ROUND);
}

/* Nanoseconds per port-I/O exit to userspace and back. */
static double bench_pio(struct backend *b)
{
	double t0, t1;
	int i;

	if (b->create(GUEST_MEM_DEFAULT, PAYLOAD(bench_pio64)) || b->run_to_ucall())
		return -1;
	t0 = now_ns();
	for (i = 0; i < PIO_ROUNDS; i++)
		if (b->run_to_ucall())
			return -1;
	t1 = now_ns();
	b->destroy();
	return (t1 - t0) / PIO_ROUNDS;
}

/* Nanoseconds per first touch of a guest page (second-level fault + page). */
static double bench_first_touch(struct backend *b)
{
	double t0, t1;

	if (b->create(64ul << 20, PAYLOAD(touch64)) ||
	    b->set_rbx_rcx_r8(16ul << 20, TOUCH_PAGES, 0))
		return -1;
	t0 = now_ns();
	if (b->run_to_ucall())
		return -1;
	t1 = now_ns();
	b->destroy();
	return (t1 - t0) / TOUCH_PAGES;
}

static void report(const char *name, double (*fn)(struct backend *))
{
	double h = fn(&hvx), k = fn(&kvm);

	if (h < 0 || k < 0) {
		printf("bench %s hvx=%s kvm=%s ratio=n/a\n", name,
		       h < 0 ? "error" : "ok", k < 0 ? "error" : "ok");
		return;
	}
	printf("bench %s hvx=%.0f kvm=%.0f ratio=%.2f\n", name, h, k, h / k);
	fflush(stdout);
}

int main(void)
{
	printf("# ns per operation, guest-visible time of the test host: under QEMU\n"
	       "# -icount shift=0 1 ns is 1 instruction, under Bochs' clock 5 ns are\n");
	report("cpuid_exit", bench_cpuid);
	report("pio_exit_to_user", bench_pio);
	report("first_touch_fault", bench_first_touch);
	return 0;
}
