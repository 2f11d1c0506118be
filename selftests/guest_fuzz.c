// SPDX-License-Identifier: GPL-2.0
/* guest_fuzz.c - random instruction bytes and random CPU state run as guest code in every CPU mode; each run must end in a defined exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_rng.h"
#include "hvx_util.h"
#include "lib/guest.h"

/*
 * Usage: guest_fuzz [-s SEED] [-n RUNS | -d SECONDS] [-v]
 *
 * A run: a fresh VM (2 MiB of RAM, the in-kernel LAPIC half the time, the
 * MSR policy exit or #GP), a vCPU set up in real, 32-bit paged or long mode
 * (guest_set_mode), then bent: random GPRs, RFLAGS bits (TF, IF, IOPL, AC,
 * VM), CR0/CR4/EFER bits and segment attributes, now and then (SET_SREGS
 * may refuse a state: that is counted, not a failure).  The code page is
 * random bytes mixed with gadgets that reach what guests use to attack a
 * hypervisor: privileged and virtualization instructions, control and debug
 * registers, MSRs (x2APIC, EFER, PAT, ...), port I/O (string and rep too)
 * and stores to the LAPIC page and to MMIO above RAM.  The VMM answers I/O,
 * MMIO and MSR exits with random data and goes on, up to 64 exits; a 20 ms
 * timer ends an endless loop (EINTR).  Any other HVX_RUN error, or an exit
 * reason outside HVX_EXIT_*, fails the test with the seed and run number:
 * "-s SEED -r RUN -n RUN+1 -v" replays it, printing each exit.  In a test
 * host the environment (kernel command line) says the same:
 * HVX_FUZZ_SEED, HVX_FUZZ_SECONDS, HVX_FUZZ_REPLAY=RUN.
 */

static unsigned long runs = 300;
static bool verbose;

static const uint32_t msrs[] = {
	0x10, 0x1b, 0x3a, 0x48, 0x49, 0x8b, 0xc1, 0x174, 0x175, 0x176, 0x179, 0x1a0,
	0x1d9, 0x277, 0x2ff, 0x6e0, 0x800, 0x802, 0x803, 0x808, 0x80b, 0x80f, 0x830,
	0x832, 0x838, 0x83f, 0x8ff, 0xc0000080, 0xc0000081, 0xc0000082, 0xc0000084,
	0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103, 0xc0010114, 0xc0010117,
	0x480, 0x48d, 0x491, 0xffffffff,
};

/* Instructions a guest uses against its hypervisor, encoded the same in every mode. */
static const uint8_t gadgets[][4] = {
	{ 2, 0x0f, 0xa2 },		/* cpuid */
	{ 2, 0x0f, 0x30 },		/* wrmsr */
	{ 2, 0x0f, 0x32 },		/* rdmsr */
	{ 2, 0x0f, 0x31 },		/* rdtsc */
	{ 3, 0x0f, 0x01, 0xf9 },	/* rdtscp */
	{ 2, 0x0f, 0x33 },		/* rdpmc */
	{ 1, 0xf4 },			/* hlt */
	{ 1, 0xfa },			/* cli */
	{ 1, 0xfb },			/* sti */
	{ 1, 0xcc },			/* int3 */
	{ 2, 0xcd, 0x80 },		/* int 0x80 */
	{ 1, 0xcf },			/* iret */
	{ 2, 0x0f, 0x0b },		/* ud2 */
	{ 1, 0xf1 },			/* icebp */
	{ 3, 0x0f, 0x01, 0xc1 },	/* vmcall */
	{ 3, 0x0f, 0x01, 0xd9 },	/* vmmcall */
	{ 3, 0x0f, 0x01, 0xd8 },	/* vmrun */
	{ 3, 0x0f, 0x01, 0xda },	/* vmload */
	{ 3, 0x0f, 0x01, 0xdb },	/* vmsave */
	{ 3, 0x0f, 0x01, 0xdc },	/* stgi */
	{ 3, 0x0f, 0x01, 0xdd },	/* clgi */
	{ 3, 0x0f, 0x01, 0xde },	/* skinit */
	{ 3, 0x0f, 0x01, 0xdf },	/* invlpga */
	{ 3, 0x0f, 0x01, 0xc4 },	/* vmxoff */
	{ 3, 0x0f, 0x01, 0xc2 },	/* vmlaunch */
	{ 3, 0x0f, 0x01, 0xc3 },	/* vmresume */
	{ 3, 0x0f, 0x78, 0xc0 },	/* vmread */
	{ 3, 0x0f, 0x79, 0xc0 },	/* vmwrite */
	{ 3, 0xf3, 0x0f, 0xc7 },	/* vmxon (modrm follows) */
	{ 3, 0x0f, 0x01, 0xd0 },	/* xgetbv */
	{ 3, 0x0f, 0x01, 0xd1 },	/* xsetbv */
	{ 3, 0x0f, 0x01, 0xc8 },	/* monitor */
	{ 3, 0x0f, 0x01, 0xc9 },	/* mwait */
	{ 3, 0x0f, 0x01, 0xf8 },	/* swapgs */
	{ 2, 0x0f, 0x05 },		/* syscall */
	{ 2, 0x0f, 0x07 },		/* sysret */
	{ 2, 0x0f, 0x34 },		/* sysenter */
	{ 2, 0x0f, 0x35 },		/* sysexit */
	{ 2, 0x0f, 0x09 },		/* wbinvd */
	{ 2, 0x0f, 0x08 },		/* invd */
	{ 3, 0x0f, 0x01, 0x38 },	/* invlpg [eax] */
	{ 3, 0x0f, 0x22, 0xc0 },	/* mov cr0, eax */
	{ 3, 0x0f, 0x22, 0xd8 },	/* mov cr3, eax */
	{ 3, 0x0f, 0x22, 0xe0 },	/* mov cr4, eax */
	{ 3, 0x0f, 0x20, 0xc0 },	/* mov eax, cr0 */
	{ 3, 0x0f, 0x23, 0xf8 },	/* mov dr7, eax */
	{ 3, 0x0f, 0x21, 0xf0 },	/* mov eax, dr6 */
	{ 3, 0x0f, 0x01, 0x10 },	/* lgdt [eax] */
	{ 3, 0x0f, 0x01, 0x18 },	/* lidt [eax] */
	{ 3, 0x0f, 0x00, 0xd8 },	/* ltr ax */
	{ 3, 0x0f, 0x00, 0xd0 },	/* lldt ax */
	{ 2, 0x8e, 0xd8 },		/* mov ds, eax */
	{ 2, 0x8e, 0xd0 },		/* mov ss, eax */
	{ 3, 0x0f, 0xae, 0x20 },	/* xsave [eax] */
	{ 3, 0x0f, 0xae, 0x28 },	/* xrstor [eax] */
	{ 3, 0x0f, 0xae, 0x08 },	/* fxrstor [eax] */
	{ 1, 0xee },			/* out dx, al */
	{ 1, 0xef },			/* out dx, eax */
	{ 1, 0xec },			/* in al, dx */
	{ 1, 0xed },			/* in eax, dx */
	{ 2, 0xf3, 0x6c },		/* rep insb */
	{ 2, 0xf3, 0x6f },		/* rep outsd */
	{ 2, 0xf3, 0xa5 },		/* rep movsd */
	{ 1, 0xf3 },			/* pause (with the next nop) */
	{ 2, 0x0f, 0xfe },		/* paddd */
};
#define NR_GADGETS	(sizeof(gadgets) / sizeof(gadgets[0]))

/* mov reg, imm32 in @mode (real mode needs the operand-size prefix). */
static size_t mov_imm32(uint8_t *p, enum guest_mode mode, unsigned int reg, uint32_t v)
{
	size_t n = 0;

	if (mode == MODE_REAL)
		p[n++] = 0x66;
	p[n++] = 0xb8 + reg;
	memcpy(p + n, &v, 4);
	return n + 4;
}

static uint32_t interesting32(struct rng *r)
{
	static const uint32_t v[] = {
		0, 1, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
		0xfee00000, 0xfee00020, 0xfee00300, 0xfee00380, 0xfec00000, 0x200000,
		0x1fffff, 0x3f8, 0x64, 0xcf8, 0xcfc, 0x70, 0x80000011, 0x60000010,
		0x80050033, 0x620, 0x6f0, 0x1000, 0x20, 0xe0000000,
	};

	return chance(r, 60) ? v[below(r, sizeof(v) / sizeof(v[0]))] : (uint32_t)rnd(r);
}

/* The code page: random bytes and gadgets with their operands loaded first. */
static void fill_code(struct rng *r, uint8_t *code, size_t size, enum guest_mode mode)
{
	size_t i = 0;

	while (i + 24 < size) {
		unsigned int k = below(r, 10);

		if (k < 3) {		/* raw bytes */
			size_t n = 1 + below(r, 8);

			while (n-- && i < size)
				code[i++] = rnd(r);
		} else if (k < 5) {	/* ECX = an MSR, EDX:EAX = a value, then rdmsr/wrmsr */
			i += mov_imm32(code + i, mode, 1, msrs[below(r, sizeof(msrs) / 4)]);
			i += mov_imm32(code + i, mode, 0, interesting32(r));
			i += mov_imm32(code + i, mode, 2, chance(r, 70) ? 0 : interesting32(r));
			code[i++] = 0x0f;
			code[i++] = chance(r, 50) ? 0x30 : 0x32;
		} else if (k < 6) {	/* a store to the LAPIC page or to MMIO (not from real mode) */
			i += mov_imm32(code + i, mode, 3, chance(r, 60) ?
				       0xfee00000 + (below(r, 64) << 4) : interesting32(r));
			i += mov_imm32(code + i, mode, 0, interesting32(r));
			if (mode == MODE_REAL)
				code[i++] = 0x67;	/* [ebx] */
			code[i++] = chance(r, 70) ? 0x89 : 0x8b;	/* mov [ebx], eax or back */
			code[i++] = 0x03;
		} else if (k < 7) {	/* port I/O with DX, EAX and ECX loaded */
			i += mov_imm32(code + i, mode, 2, chance(r, 70) ? interesting32(r) & 0xffff :
				       below(r, 0x10000));
			i += mov_imm32(code + i, mode, 0, interesting32(r));
			i += mov_imm32(code + i, mode, 1, below(r, 4) ? below(r, 8) : interesting32(r));
			code[i++] = (uint8_t[]){ 0xee, 0xef, 0xec, 0xed, 0x6c, 0x6f }[below(r, 6)];
		} else {		/* a gadget, its EAX and ECX loaded */
			const uint8_t *g = gadgets[below(r, NR_GADGETS)];

			uint32_t eax = interesting32(r);

			/*
			 * No breakpoint enables in DR7 (bits 0-7): QEMU's TCG
			 * livelocks on an execution breakpoint at the address its
			 * own #DB handler jumps to (real mode, the IVT's zero
			 * vector at 0:0) and never takes the host's interrupt,
			 * which freezes the SVM test host.  Hardware would exit.
			 */
			if (g[1] == 0x0f && g[2] == 0x23)
				eax &= ~0xffu;
			i += mov_imm32(code + i, mode, 0, eax);
			i += mov_imm32(code + i, mode, 1, below(r, 16));
			memcpy(code + i, g + 1, g[0]);
			i += g[0];
		}
	}
	while (i < size)
		code[i++] = rnd(r);
}

/* Bend the state guest_set_mode() made: any of it may be refused. */
static void bend_state(struct rng *r, struct guest_vcpu *vcpu, unsigned long *refused)
{
	struct hvx_regs regs;
	struct hvx_sregs s;

	if (chance(r, 60) && !guest_get_regs(vcpu, &regs)) {
		uint64_t *gpr = (uint64_t *)&regs;
		unsigned int i;

		for (i = 0; i < 16; i++)
			if (chance(r, 30))
				gpr[i] = chance(r, 50) ? interesting32(r) : rnd(r);
		if (chance(r, 50))
			regs.rflags |= (uint64_t[]){ 0x100, 0x200, 0x3000, 0x40000, 0x20000,
						     0x4000, 0x400, 0x10000 }[below(r, 8)];
		if (chance(r, 10))
			regs.rip = rnd(r);
		if (verbose)
			ktap_diag("  regs: rip 0x%llx rflags 0x%llx rsp 0x%llx", (unsigned long long)regs.rip,
				  (unsigned long long)regs.rflags, (unsigned long long)regs.rsp);
		if (guest_set_regs(vcpu, &regs))
			(*refused)++;
	}
	if (chance(r, 40) && !ioctl(vcpu->fd, HVX_GET_SREGS, &s)) {
		struct hvx_segment *seg[] = { &s.cs, &s.ds, &s.es, &s.fs, &s.gs, &s.ss,
					      &s.tr, &s.ldt };
		struct hvx_segment *g = seg[below(r, 8)];

		switch (below(r, 8)) {
		case 0:
			s.cr0 ^= 1ull << below(r, 32);
			break;
		case 1:
			s.cr4 ^= 1ull << below(r, 24);
			break;
		case 2:
			s.efer ^= 1ull << below(r, 16);
			break;
		case 3:
			g->type = below(r, 16);
			g->s = chance(r, 80);
			break;
		case 4:
			g->dpl = below(r, 4);
			g->present = chance(r, 80);
			break;
		case 5:
			g->limit = interesting32(r);
			g->base = chance(r, 50) ? interesting32(r) : rnd(r);
			break;
		case 6:
			g->l = chance(r, 50);
			g->db = chance(r, 50);
			g->g = chance(r, 50);
			g->unusable = chance(r, 10);
			break;
		default:
			s.gdt.base = interesting32(r);
			s.gdt.limit = below(r, 0x10000);
			s.idt.base = interesting32(r);
			s.idt.limit = below(r, 0x10000);
			s.cr3 = interesting32(r) & ~0xfffull;
			break;
		}
		if (verbose)
			ktap_diag("  sregs: cr0 0x%llx cr4 0x%llx efer 0x%llx cr3 0x%llx cs 0x%x/%llx/%x type %u s %u dpl %u p %u l %u db %u g %u",
				  (unsigned long long)s.cr0, (unsigned long long)s.cr4,
				  (unsigned long long)s.efer, (unsigned long long)s.cr3,
				  s.cs.selector, (unsigned long long)s.cs.base, s.cs.limit, s.cs.type,
				  s.cs.s, s.cs.dpl, s.cs.present, s.cs.l, s.cs.db, s.cs.g);
		if (ioctl(vcpu->fd, HVX_SET_SREGS, &s))
			(*refused)++;
	}
}

static void on_alarm(int sig)
{
	(void)sig;	/* ends HVX_RUN with EINTR */
}

struct tally {
	unsigned long exits[HVX_EXIT_INTR + 1], timeouts, refused, runs, bad;
	unsigned long internal[4];	/* by HVX_INTERNAL_* (0: others) */
};

/* One run; false (having said why) when hvx broke its contract. */
static bool one_run(uint64_t seed, unsigned long n, struct tally *t)
{
	struct rng r = { mix(seed, n) };
	enum guest_mode mode = below(&r, 3);
	/*
	 * Periodic: a signal that lands while the VMM handles an exit is
	 * lost to HVX_RUN, and a one-shot timer would leave an endless guest
	 * loop endless.
	 */
	struct itimerval it = { .it_value = { 0, 20000 }, .it_interval = { 0, 20000 } };
	struct guest_vcpu vcpu;
	struct guest_vm vm;
	unsigned int steps;
	bool ok = true;
	int ret;

	if (guest_vm_create(&vm, GUEST_MEM_DEFAULT)) {
		ktap_diag("run %lu: VM: %s", n, strerror(errno));
		return false;
	}
	if (chance(&r, 50))
		ioctl(vm.fd, HVX_ENABLE_LAPIC, 0);
	if (chance(&r, 50))
		ioctl(vm.fd, HVX_SET_MSR_POLICY, HVX_MSR_POLICY_GP);
	if (guest_vcpu_create(&vm, &vcpu, 0)) {
		ktap_diag("run %lu: vCPU: %s", n, strerror(errno));
		guest_vm_destroy(&vm);
		return false;
	}
	/* Random bytes in RAM a run may jump or point into, then the code. */
	for (steps = 0; steps < 64; steps++)
		((uint64_t *)(vm.mem + GUEST_DATA))[below(&r, 4096)] = rnd(&r);
	if (verbose)
		ktap_diag("run %lu: mode %d", n, mode);
	if (guest_set_mode(&vcpu, mode, GUEST_CODE)) {
		ktap_diag("run %lu: mode %d refused", n, mode);
		ok = false;
		goto out;
	}
	fill_code(&r, vm.mem + GUEST_CODE, 4096, mode);
	if (verbose) {
		char hex[3 * 48 + 1];
		int k;

		for (k = 0; k < 48; k++)
			sprintf(hex + 3 * k, "%02x ", vm.mem[GUEST_CODE + k]);
		ktap_diag("  code: %s", hex);
	}
	if (chance(&r, 70))
		bend_state(&r, &vcpu, &t->refused);

	setitimer(ITIMER_REAL, &it, NULL);
	for (steps = 0; steps < 64; steps++) {
		struct hvx_run *run = vcpu.run;

		ret = ioctl(vcpu.fd, HVX_RUN, 0);
		if (ret && errno == EINTR) {	/* the timer: an endless loop, or slow */
			t->timeouts++;
			break;
		}
		if (ret) {
			ktap_diag("run %lu (mode %d): HVX_RUN failed: %s", n, mode, strerror(errno));
			ok = false;
			break;
		}
		if (run->exit_reason > HVX_EXIT_INTR) {
			ktap_diag("run %lu: exit reason %u is not an HVX_EXIT_*", n, run->exit_reason);
			ok = false;
			break;
		}
		t->exits[run->exit_reason]++;
		if (verbose)
			ktap_diag("run %lu step %u: %s", n, steps, guest_exit_name(run->exit_reason));
		switch (run->exit_reason) {
		case HVX_EXIT_IO:
			if (run->io.direction == 0)	/* in: random data */
				memset(guest_io_data(&vcpu), rnd(&r),
				       (size_t)run->io.size * run->io.count);
			continue;
		case HVX_EXIT_MMIO:
			if (!run->mmio.is_write) {
				uint64_t v = rnd(&r);

				memcpy(run->mmio.data, &v, 8);
			}
			continue;
		case HVX_EXIT_MSR:
			run->msr.error = chance(&r, 50);
			run->msr.data = rnd(&r);
			continue;
		case HVX_EXIT_HYPERCALL:
			run->hypercall.ret = rnd(&r);
			continue;
		case HVX_EXIT_UNKNOWN:
			if (verbose)
				ktap_diag("  hw exit 0x%llx info 0x%llx",
					  (unsigned long long)run->hw.exit_code,
					  (unsigned long long)run->hw.info1);
			break;
		case HVX_EXIT_INTR:
			t->timeouts++;
			break;
		case HVX_EXIT_INTERNAL_ERROR:
			t->internal[run->internal.suberror < 4 ? run->internal.suberror : 0]++;
			if (verbose)
				ktap_diag("  suberror %u data 0x%llx 0x%llx", run->internal.suberror,
					  (unsigned long long)run->internal.data[0],
					  (unsigned long long)run->internal.data[1]);
			break;
		default:
			break;
		}
		break;	/* HLT, shutdown, failed entry, internal error: the run is over */
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
out:
	guest_vcpu_destroy(&vcpu);
	guest_vm_destroy(&vm);
	t->runs++;
	return ok;
}

int main(int argc, char **argv)
{
	/*
	 * A fixed seed by default: make check's run is a regression run whose
	 * calls are the same every time (make fuzz and -s explore others).
	 */
	uint64_t seed = 1;
	unsigned long first = 0, n, seconds = 0;
	struct tally t = { 0 };
	struct hvx_caps caps;
	time_t end = 0;
	int c, sys;
	bool ok = true;

	/* make fuzz passes its settings through the test host's environment. */
	if (getenv("HVX_FUZZ_SEED"))
		seed = strtoull(getenv("HVX_FUZZ_SEED"), NULL, 0);
	if (getenv("HVX_FUZZ_SECONDS"))
		seconds = strtoul(getenv("HVX_FUZZ_SECONDS"), NULL, 0);
	if (getenv("HVX_FUZZ_VERBOSE"))
		verbose = true;
	if (getenv("HVX_FUZZ_REPLAY")) {	/* one run, verbose, as -r R -n R+1 -v */
		first = strtoul(getenv("HVX_FUZZ_REPLAY"), NULL, 0);
		runs = first + 1;
		verbose = true;
	}
	while ((c = getopt(argc, argv, "s:n:d:r:v")) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			runs = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			seconds = strtoul(optarg, NULL, 0);
			break;
		case 'r':	/* replay from run R (with -n R+1: that run alone) */
			first = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			verbose = true;
			break;
		default:
			fprintf(stderr, "usage: guest_fuzz [-s SEED] [-n RUNS | -d SECONDS] [-r FIRST] [-v]\n");
			return 2;
		}
	}
	guest_require_vcpus();
	sys = hvx_open_or_exit();
	sigaction(SIGALRM, &(struct sigaction){ .sa_handler = on_alarm }, NULL);
	signal(SIGBUS, SIG_IGN);
	if (seconds) {
		end = time(NULL) + seconds;
		runs = ~0ul;
	}
	ktap_plan(3);
	ktap_diag("seed %llu, %s %lu (replay run R alone: -s SEED -r R -n R+1 -v)",
		  (unsigned long long)seed, seconds ? "seconds" : "runs", seconds ? seconds : runs);
	for (n = first; n < runs && (!end || time(NULL) < end); n++) {
		if (!one_run(seed, n, &t)) {
			ok = false;
			if (++t.bad >= 5)
				break;
		}
	}
	ktap_diag("%lu runs, %lu ended by the 20 ms timer, %lu bent states refused by SET_*REGS",
		  t.runs, t.timeouts, t.refused);
	ktap_diag("exits: io %lu mmio %lu hlt %lu shutdown %lu hypercall %lu msr %lu unknown %lu fail_entry %lu internal %lu",
		  t.exits[HVX_EXIT_IO], t.exits[HVX_EXIT_MMIO], t.exits[HVX_EXIT_HLT],
		  t.exits[HVX_EXIT_SHUTDOWN], t.exits[HVX_EXIT_HYPERCALL], t.exits[HVX_EXIT_MSR],
		  t.exits[HVX_EXIT_UNKNOWN], t.exits[HVX_EXIT_FAIL_ENTRY],
		  t.exits[HVX_EXIT_INTERNAL_ERROR]);
	ktap_diag("internal errors: emulation %lu bad_state %lu unhandled %lu other %lu",
		  t.internal[HVX_INTERNAL_EMULATION], t.internal[HVX_INTERNAL_BAD_STATE],
		  t.internal[HVX_INTERNAL_UNHANDLED], t.internal[0]);
	ktap_result(ok, "every_run_ended_in_a_defined_exit");
	/* Every run's VM closed: none may be left, and hvx must still run guests. */
	caps.nr_vms = ~0u;
	hvx_get_caps(sys, &caps);
	ktap_result(caps.nr_vms == 0, "all_vms_freed_after");
	{
		struct guest_vcpu vcpu;
		struct guest_vm vm;
		struct hvx_regs regs;

		/* long64 stores a pattern, reads it back for the SYNC, then DONE. */
		ok = !guest_vm_create(&vm, GUEST_MEM_DEFAULT) && !guest_vcpu_create(&vm, &vcpu, 0) &&
		     !guest_load(&vcpu, MODE_LONG, PAYLOAD(long64)) &&
		     guest_run_to_ucall(&vcpu, &regs) == UCALL_SYNC &&
		     regs.rdx == 0x0123456789abcdefull &&
		     guest_run_to_ucall(&vcpu, &regs) == UCALL_DONE;
		ktap_result(ok, "a_guest_still_runs_after");
	}
	return ktap_finish();
}
