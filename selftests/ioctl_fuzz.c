// SPDX-License-Identifier: GPL-2.0
/* ioctl_fuzz.c - random but structured calls on every hvx fd type, from racing threads, seeded and bounded. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "fuzz_rng.h"
#include "hvx_util.h"

/*
 * Usage: ioctl_fuzz [-s SEED] [-n CALLS | -d SECONDS] [-t THREADS] [-v]
 * Each thread draws from its own generator (seeded from SEED and its
 * number), so one thread (-t 1) replays a run exactly; -v prints every
 * call before it is made.  The fuzzing runs in a child process whose
 * threads log their last calls in shared memory: when the child dies (a
 * signal, or killed by an Oops in the kernel), the parent prints each
 * thread's trail and fails, so a failing seed comes with what it did.
 * In a test host HVX_FUZZ_SEED and HVX_FUZZ_SECONDS in the environment (the
 * kernel command line) stand for -s and -d.
 *
 * Calls: every hvx ioctl (and unknown numbers) on every fd type (the
 * system fd, VMs, vCPUs, stats fds, eventfds, and fds just closed), with
 * an argument that starts plausible and is then bent: fields set to 0,
 * ~0, boundaries or random bits, sizes and counts near their limits,
 * pointers NULL, unmapped, into the kernel or across into a PROT_NONE
 * page.  Besides ioctls: creating and closing fds, mapping guest memory
 * and writing it, running vCPUs on random code (a watchdog signal ends
 * each run) and reading stats fds.
 */

#define MAX_FDS		48
#define ARG_SIZE	(64 * 1024)

enum fd_kind { FD_NONE, FD_SYS, FD_VM, FD_VCPU, FD_STATS, FD_EVENT, FD_KINDS };

struct slot {
	int fd;
	enum fd_kind kind;
};

static struct slot slots[MAX_FDS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong calls_done, calls_ok, errnos[64], badf_kind[FD_KINDS + 1];
static unsigned long max_calls = 100000;
static bool verbose;
static uint8_t *arg_area;	/* ARG_SIZE bytes, then a PROT_NONE page */
static atomic_bool stop;
static time_t deadline;		/* -d: stop then (max_calls is unbounded) */

/* Each thread's last TRAIL_LEN operations, in memory the parent still reads after a crash. */
#define TRAIL_LEN	32
enum trail_op { OP_IOCTL, OP_OPEN, OP_CLOSE, OP_TOUCH, OP_PREAD, OP_WRITE, OP_SETREGS };
static const char *const trail_ops[] = {
	"ioctl", "open", "close", "touch-guest", "pread", "eventfd-write", "set-regs",
};
struct trail {
	unsigned long n;	/* operations logged so far */
	struct {
		uint32_t op;
		int32_t fd;
		uint64_t cmd, arg;
	} e[TRAIL_LEN];
};
static struct trail *trails;	/* one per thread, MAP_SHARED */
static __thread struct trail *my_trail;

static void log_op(enum trail_op op, int fd, uint64_t cmd, uint64_t arg)
{
	struct trail *t = my_trail;
	unsigned long i = t->n % TRAIL_LEN;

	t->e[i].op = op;
	t->e[i].fd = fd;
	t->e[i].cmd = cmd;
	t->e[i].arg = arg;
	t->n++;
}

static void print_trails(unsigned int nthreads)
{
	unsigned int t;
	unsigned long i;

	for (t = 0; t < nthreads; t++) {
		struct trail *tr = &trails[t];
		unsigned long first = tr->n > TRAIL_LEN ? tr->n - TRAIL_LEN : 0;

		ktap_diag("thread %u: its last %lu of %lu operations:", t, tr->n - first, tr->n);
		for (i = first; i < tr->n; i++) {
			typeof(tr->e[0]) *e = &tr->e[i % TRAIL_LEN];

			ktap_diag("  #%lu %s fd %d cmd 0x%llx arg 0x%llx", i,
				  e->op < sizeof(trail_ops) / sizeof(trail_ops[0]) ?
				  trail_ops[e->op] : "?", e->fd,
				  (unsigned long long)e->cmd, (unsigned long long)e->arg);
		}
	}
}

/* Each fd kind's own requests (the first three are the system fd's). */
static const unsigned long cmds[] = {
	HVX_GET_API_VERSION, HVX_GET_CAPS, HVX_CREATE_VM,
	HVX_SET_MEMORY_REGION, HVX_CREATE_VCPU, HVX_SET_MSR_POLICY, HVX_GET_VM_STATS,
	HVX_GET_PAGE_BITMAP, HVX_SET_DIRTY_LOG, HVX_SET_MERGE, HVX_GET_MERGE_STATS,
	HVX_ENABLE_LAPIC, HVX_SIGNAL_MSI, HVX_IOEVENTFD, HVX_IRQFD, HVX_GET_STATS_FD,
	HVX_RUN, HVX_GET_REGS, HVX_SET_REGS, HVX_GET_SREGS, HVX_SET_SREGS, HVX_SET_CPUID,
	HVX_GET_MSRS, HVX_SET_MSRS, HVX_GET_FPU, HVX_SET_FPU, HVX_GET_LAPIC, HVX_SET_LAPIC,
	HVX_GET_VCPU_EVENTS, HVX_SET_VCPU_EVENTS, HVX_GET_STATS_FD,
};
#define NR_CMDS		(sizeof(cmds) / sizeof(cmds[0]))
#define VM_CMDS		3	/* index of the first VM request */
#define VCPU_CMDS	16	/* ... and of the first vCPU request */

/* A value a field might be given: mostly small or aligned, sometimes extreme. */
static uint64_t interesting(struct rng *r)
{
	static const uint64_t v[] = {
		0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 255, 256, 257, 4095, 4096,
		4097, 0x10000, 0x1fffff, 0x200000, 0xfee00000, 0xfec00000, 0xffffffff,
		0x100000000ull, 1ull << 47, (1ull << 48) - 4096, 1ull << 48, 1ull << 63,
		~0ull, ~0ull - 4095, 0x7fffffff, 0x80000000,
	};

	switch (below(r, 4)) {
	case 0:
		return v[below(r, sizeof(v) / sizeof(v[0]))];
	case 1:
		return below(r, 64) << 12;	/* a page-aligned address */
	case 2:
		return below(r, 512);
	default:
		return rnd(r);
	}
}

/* A request for an fd of @kind: usually its own, now and then anything. */
static unsigned long pick_cmd(struct rng *r, enum fd_kind kind)
{
	if (chance(r, 3))
		return (unsigned long)rnd(r);
	if (chance(r, 10))
		return cmds[below(r, NR_CMDS)];
	switch (kind) {
	case FD_SYS:
		return cmds[below(r, VM_CMDS)];
	case FD_VM:
		return cmds[VM_CMDS + below(r, VCPU_CMDS - VM_CMDS)];
	case FD_VCPU:
		return cmds[VCPU_CMDS + below(r, NR_CMDS - VCPU_CMDS)];
	default:
		return cmds[below(r, NR_CMDS)];
	}
}

static int pick(struct rng *r, enum fd_kind want)
{
	int i, start = below(r, MAX_FDS), fd = -1;

	pthread_mutex_lock(&slots_lock);
	for (i = 0; i < MAX_FDS; i++) {
		struct slot *s = &slots[(start + i) % MAX_FDS];

		if (s->kind != FD_NONE && (want == FD_NONE || s->kind == want)) {
			fd = s->fd;
			break;
		}
	}
	pthread_mutex_unlock(&slots_lock);
	return fd;
}

/*
 * Keeps @fd; when the table is full, an older fd makes room.  Slot 0 is
 * the first system fd (main's), never closed: new VMs need one.
 */
static void add(int fd, enum fd_kind kind)
{
	static unsigned int evict;
	int i, old = -1;

	if (fd < 0)
		return;
	pthread_mutex_lock(&slots_lock);
	for (i = 0; i < MAX_FDS && slots[i].kind != FD_NONE; i++)
		;
	if (i == MAX_FDS) {
		i = 1 + evict++ % (MAX_FDS - 1);
		old = slots[i].fd;
	}
	slots[i].fd = fd;
	slots[i].kind = kind;
	pthread_mutex_unlock(&slots_lock);
	if (old >= 0)
		close(old);
}

/* Closes a random fd (not slot 0's). */
static void drop(struct rng *r)
{
	int i = 1 + below(r, MAX_FDS - 1), fd = -1;

	pthread_mutex_lock(&slots_lock);
	if (slots[i].kind != FD_NONE) {
		fd = slots[i].fd;
		slots[i].kind = FD_NONE;
	}
	pthread_mutex_unlock(&slots_lock);
	if (fd >= 0) {
		log_op(OP_CLOSE, fd, 0, 0);
		close(fd);
	}
}

/* The argument: a plausible struct for @cmd in @buf, then bent. */
static void make_arg(struct rng *r, unsigned long cmd, uint8_t *buf, size_t size)
{
	uint64_t *w = (uint64_t *)buf;
	unsigned int i, n;

	memset(buf, 0, size);
	switch (cmd) {
	case HVX_SET_MEMORY_REGION: {
		struct hvx_memory_region *m = (void *)buf;

		m->slot = below(r, 36);
		m->flags = chance(r, 80) ? 0 : chance(r, 50) ? HVX_MEM_READONLY : interesting(r);
		m->guest_phys_addr = chance(r, 70) ? below(r, 64) << 20 : interesting(r);
		m->size = chance(r, 70) ? (1 + below(r, 256)) << 12 : interesting(r);
		break;
	}
	case HVX_SET_CPUID:
	case HVX_GET_MSRS:
	case HVX_SET_MSRS:
		/* nent / nmsrs first: around the 256-entry limit, or anything. */
		*(uint32_t *)buf = chance(r, 60) ? below(r, 8) : interesting(r);
		for (i = 8; i + 8 <= size && i < 8 + 257 * 32; i += 8)
			w[i / 8] = chance(r, 50) ? below(r, 0x100) | (chance(r, 30) ? 0xc0000000ull : 0) :
							   interesting(r);
		break;
	case HVX_GET_PAGE_BITMAP: {
		struct hvx_page_bitmap *b = (void *)buf;

		b->slot = below(r, 34);
		b->kind = below(r, 3);
		b->first_page = chance(r, 70) ? below(r, 8) * 64 : interesting(r);
		b->nr_pages = chance(r, 70) ? 1 + below(r, 2048) : interesting(r);
		b->bitmap = (uintptr_t)(chance(r, 80) ? arg_area + ARG_SIZE / 2 : (uint8_t *)interesting(r));
		break;
	}
	case HVX_SET_DIRTY_LOG:
	case HVX_SET_MERGE:
		*(uint32_t *)buf = below(r, 34);
		*(uint32_t *)(buf + 4) = chance(r, 70) ? below(r, 5) : interesting(r);
		break;
	case HVX_SIGNAL_MSI:
	case HVX_IRQFD:
	case HVX_IOEVENTFD:
		for (i = 0; i + 8 <= size && i < 48; i += 8)
			w[i / 8] = chance(r, 50) ? 0 : interesting(r);
		if (cmd == HVX_SIGNAL_MSI)
			w[0] = 0xfee00000ull | below(r, 4) << 12;
		if (cmd != HVX_SIGNAL_MSI && chance(r, 70)) {
			int efd = pick(r, FD_EVENT);

			if (cmd == HVX_IRQFD)
				*(int32_t *)buf = efd;
			else
				*(int32_t *)(buf + 12) = efd;
		}
		break;
	default:
		/* Registers, segments, LAPIC pages, events: random words. */
		n = size / 8;
		for (i = 0; i < n; i++)
			w[i] = chance(r, 40) ? 0 : interesting(r);
		break;
	}
	/* Bend a field or two of what was plausible, half the time. */
	n = chance(r, 50) ? 1 + below(r, 2) : 0;
	for (i = 0; i < n && size >= 8; i++) {
		size_t off = below(r, size - 3) & ~3ul;

		if (chance(r, 50))
			*(uint32_t *)(buf + off) = interesting(r);
		else
			buf[off] ^= 1u << below(r, 8);
	}
}

/* A pointer for the ioctl: the argument, or somewhere it cannot be. */
static unsigned long arg_pointer(struct rng *r, uint8_t *buf, size_t size)
{
	switch (below(r, 40)) {
	case 0:
		return 0;
	case 1:
		return 0x1000;				/* unmapped */
	case 2:
		return 0xffff888000000000ul;		/* the kernel's */
	case 3:
		/* The struct runs into the PROT_NONE page after arg_area. */
		return (unsigned long)(arg_area + ARG_SIZE - (size > 1 ? below(r, size) + 1 : 1));
	case 4:
		return interesting(r);
	default:
		return (unsigned long)buf;
	}
}

/* Guest memory of a VM: map a bit of it and write there, as a VMM does. */
static void touch_guest(struct rng *r, int vm)
{
	size_t len = (1 + below(r, 4)) << 12;
	off_t off = (off_t)(chance(r, 80) ? below(r, 256) << 12 : interesting(r) & ~4095ull);
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, vm, off);
	unsigned int i;

	if (p == MAP_FAILED)
		return;
	/*
	 * Only pages inside a region can be touched (others SIGBUS): the
	 * fuzzer writes where it made regions, from 0 up, and tolerates
	 * nothing else, so it writes the first page only when off is 0.
	 */
	if (off == 0)
		for (i = 0; i < 64; i++)
			p[below(r, 4096)] = chance(r, 50) ? 0xf4 : rnd(r);	/* HLT, or anything */
	munmap(p, len);
}

/* Makes an fd of @kind (and what it needs first); -1 if that failed. */
static int make_fd(struct rng *r, enum fd_kind kind)
{
	int parent, fd = -1;

	switch (kind) {
	case FD_SYS:
		fd = open("/dev/hvx", O_RDWR | O_CLOEXEC);
		break;
	case FD_VM:
		parent = pick(r, FD_SYS);
		fd = parent < 0 ? -1 : ioctl(parent, HVX_CREATE_VM, 0);
		break;
	case FD_VCPU:
		parent = pick(r, FD_VM);
		if (parent < 0)
			return make_fd(r, FD_VM);
		if (chance(r, 30))
			ioctl(parent, HVX_ENABLE_LAPIC, 0);	/* before its first vCPU, or EBUSY */
		fd = ioctl(parent, HVX_CREATE_VCPU, below(r, 8));
		break;
	case FD_STATS:
		parent = pick(r, chance(r, 50) ? FD_VM : FD_VCPU);
		fd = parent < 0 ? -1 : ioctl(parent, HVX_GET_STATS_FD, 0);
		break;
	default:
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		break;
	}
	add(fd, kind);
	return pick(r, kind);
}

static void one_call(struct rng *r, uint8_t *buf)
{
	unsigned long cmd;
	enum fd_kind kind;
	uint64_t arg;
	size_t size;
	int fd, ret;

	switch (below(r, 20)) {
	case 0:
		log_op(OP_OPEN, -1, 0, 0);
		add(open("/dev/hvx", O_RDWR | O_CLOEXEC), FD_SYS);
		return;
	case 1:
		fd = pick(r, FD_SYS);
		if (fd >= 0) {
			uint64_t type = chance(r, 90) ? 0 : interesting(r);

			log_op(OP_IOCTL, fd, HVX_CREATE_VM, type);
			add(ioctl(fd, HVX_CREATE_VM, type), FD_VM);
		}
		return;
	case 2:
		fd = pick(r, FD_VM);
		if (fd >= 0) {
			uint64_t id = chance(r, 90) ? below(r, 4) : interesting(r);

			log_op(OP_IOCTL, fd, HVX_CREATE_VCPU, id);
			add(ioctl(fd, HVX_CREATE_VCPU, id), FD_VCPU);
		}
		return;
	case 3:
		fd = pick(r, chance(r, 50) ? FD_VM : FD_VCPU);
		if (fd >= 0) {
			log_op(OP_IOCTL, fd, HVX_GET_STATS_FD, 0);
			add(ioctl(fd, HVX_GET_STATS_FD, 0), FD_STATS);
		}
		return;
	case 4:
		add(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), FD_EVENT);
		return;
	case 5:
		if (chance(r, 50))
			drop(r);
		return;
	case 6:
		fd = pick(r, FD_VM);
		if (fd >= 0) {
			log_op(OP_TOUCH, fd, 0, 0);
			touch_guest(r, fd);
		}
		return;
	case 7:
		fd = pick(r, FD_STATS);
		if (fd >= 0) {
			size_t len = below(r, 8192);
			off_t off = below(r, 4096);

			log_op(OP_PREAD, fd, len, off);
			pread(fd, buf, len, off);
		}
		return;
	case 8:
		fd = pick(r, FD_EVENT);
		if (fd >= 0) {
			uint64_t one = 1;

			log_op(OP_WRITE, fd, 0, 1);
			write(fd, &one, sizeof(one));	/* an irqfd's MSI, or nothing */
		}
		return;
	case 9:
		/* A run: random registers first, now and then. */
		fd = pick(r, FD_VCPU);
		if (fd < 0)
			return;
		if (chance(r, 30)) {
			make_arg(r, HVX_SET_REGS, buf, sizeof(struct hvx_regs));
			((struct hvx_regs *)buf)->rip = below(r, 4096);
			log_op(OP_SETREGS, fd, HVX_SET_REGS, ((struct hvx_regs *)buf)->rip);
			ioctl(fd, HVX_SET_REGS, buf);
		}
		cmd = HVX_RUN;
		kind = FD_VCPU;
		goto call;
	default:
		break;
	}
	kind = chance(r, 80) ? (chance(r, 50) ? FD_VCPU : FD_VM) : below(r, FD_KINDS);
	if (kind == FD_NONE)
		kind = FD_SYS;
	cmd = pick_cmd(r, kind);
	fd = chance(r, 98) ? pick(r, kind) : (int)below(r, 1024);	/* or any number */
	if (fd < 0)
		fd = make_fd(r, kind);
call:
	size = _IOC_SIZE(cmd);
	if (size > ARG_SIZE / 2)
		size = ARG_SIZE / 2;
	if (cmd == HVX_SET_CPUID || cmd == HVX_GET_MSRS || cmd == HVX_SET_MSRS)
		size = 8 + 257 * sizeof(struct hvx_cpuid_entry);
	make_arg(r, cmd, buf, size);
	if (_IOC_DIR(cmd) == _IOC_NONE)	/* a value, not a pointer */
		arg = chance(r, 80) ? (cmd == HVX_RUN ? 0 : below(r, 4)) : interesting(r);
	else
		arg = (uintptr_t)arg_pointer(r, buf, size);
	if (verbose)
		printf("# call fd %d cmd 0x%lx arg 0x%llx\n", fd, cmd, (unsigned long long)arg);
	log_op(OP_IOCTL, fd, cmd, arg);
	ret = ioctl(fd, cmd, arg);
	if (ret >= 0)
		atomic_fetch_add(&calls_ok, 1);
	else
		atomic_fetch_add(&errnos[errno < 64 ? errno : 0], 1);
	if (ret < 0 && errno == EBADF)
		atomic_fetch_add(&badf_kind[fd < 0 ? FD_KINDS : kind], 1);
	/* An fd an ioctl returned (stats, vCPU, VM): keep it, or close it. */
	if (ret > 2 && (cmd == HVX_CREATE_VM || cmd == HVX_CREATE_VCPU || cmd == HVX_GET_STATS_FD))
		add(ret, cmd == HVX_CREATE_VM ? FD_VM : cmd == HVX_CREATE_VCPU ? FD_VCPU : FD_STATS);
}

struct worker {
	pthread_t th;
	uint64_t seed;
	struct trail *trail;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct rng r = { w->seed };

	my_trail = w->trail;
	while (!atomic_load(&stop) && atomic_fetch_add(&calls_done, 1) < max_calls) {
		uint8_t local[ARG_SIZE / 2] __attribute__((aligned(64)));

		one_call(&r, local);
	}
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;	/* ends a HVX_RUN (EINTR), nothing else */
}

/* The fuzzing itself, in the child: exits 0 when every call was made. */
static int fuzz(int sys, uint64_t seed, unsigned int nthreads)
{
	struct worker workers[16];
	struct timespec t0, t1, tick = { 0, 5 * 1000 * 1000 };
	unsigned long done;
	unsigned int i;
	double secs;

	arg_area = mmap(NULL, ARG_SIZE + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (arg_area == MAP_FAILED || mprotect(arg_area + ARG_SIZE, 4096, PROT_NONE))
		return KSFT_FAIL;
	sigaction(SIGUSR1, &(struct sigaction){ .sa_handler = on_alarm }, NULL);
	/* Writes into a guest page the region does not back fault: ignore. */
	signal(SIGBUS, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	add(dup(sys), FD_SYS);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nthreads; i++) {
		workers[i].seed = mix(seed, i);
		workers[i].trail = &trails[i];
		pthread_create(&workers[i].th, NULL, work, &workers[i]);
	}
	/* The watchdog: every 5 ms each thread gets a signal, so no run is endless. */
	while (atomic_load(&calls_done) < max_calls && (!deadline || time(NULL) < deadline)) {
		nanosleep(&tick, NULL);
		for (i = 0; i < nthreads; i++)
			pthread_kill(workers[i].th, SIGUSR1);
	}
	atomic_store(&stop, true);
	for (i = 0; i < nthreads; i++) {
		/* Threads still in HVX_RUN need the signal to come out. */
		while (pthread_tryjoin_np(workers[i].th, NULL)) {
			pthread_kill(workers[i].th, SIGUSR1);
			nanosleep(&tick, NULL);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	done = atomic_load(&calls_done);
	if (done > max_calls)
		done = max_calls;
	ktap_diag("%lu calls in %.1f s: %.0f calls/s, %lu succeeded", done, secs,
		  done / secs, (unsigned long)atomic_load(&calls_ok));
	{
		char line[512];
		int n = 0;

		for (i = 0; i < 64; i++)
			if (atomic_load(&errnos[i]))
				n += snprintf(line + n, sizeof(line) - n, " %s %lu",
					      i ? strerrorname_np(i) : "other",
					      (unsigned long)atomic_load(&errnos[i]));
		ktap_diag("ioctl failures by errno:%s", n ? line : " none");
		ktap_diag("EBADF by kind: none %lu sys %lu vm %lu vcpu %lu stats %lu event %lu nofd %lu",
			  badf_kind[0], badf_kind[1], badf_kind[2], badf_kind[3], badf_kind[4],
			  badf_kind[5], badf_kind[6]);
	}
	/* Everything the child opened closes as it exits. */
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int nthreads = 4;
	/*
	 * A fixed seed by default: make check's run is a regression run whose
	 * calls are the same every time (make fuzz and -s explore others).
	 */
	uint64_t seed = 1;
	unsigned long seconds = 0;
	struct hvx_caps caps;
	int c, sys, status, i;
	pid_t child;

	/* make fuzz passes its settings through the test host's environment. */
	if (getenv("HVX_FUZZ_SEED"))
		seed = strtoull(getenv("HVX_FUZZ_SEED"), NULL, 0);
	if (getenv("HVX_FUZZ_SECONDS"))
		seconds = strtoul(getenv("HVX_FUZZ_SECONDS"), NULL, 0);
	while ((c = getopt(argc, argv, "s:n:d:t:v")) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			max_calls = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			seconds = strtoul(optarg, NULL, 0);
			break;
		case 't':
			nthreads = strtoul(optarg, NULL, 0);
			if (nthreads < 1 || nthreads > 16)
				nthreads = 4;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			fprintf(stderr, "usage: ioctl_fuzz [-s SEED] [-n CALLS | -d SECONDS] [-t THREADS (1-16)] [-v]\n");
			return 2;
		}
	}
	if (seconds) {
		deadline = time(NULL) + seconds;
		max_calls = ~0ul;
	}
	sys = hvx_open_or_exit();
	ktap_plan(3);
	if (seconds)
		ktap_diag("seed %llu, %lu s, %u threads (replay one thread exactly: -t 1 -s SEED)",
			  (unsigned long long)seed, seconds, nthreads);
	else
		ktap_diag("seed %llu, %lu calls, %u threads (replay one thread exactly: -t 1 -s SEED)",
			  (unsigned long long)seed, max_calls, nthreads);
	trails = mmap(NULL, sizeof(*trails) * nthreads, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (trails == MAP_FAILED)
		return KSFT_FAIL;
	fflush(stdout);
	child = fork();
	if (child == 0) {
		status = fuzz(sys, seed, nthreads);
		fflush(stdout);
		_exit(status);
	}
	if (child < 0 || waitpid(child, &status, 0) != child)
		return KSFT_FAIL;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		if (WIFSIGNALED(status))
			ktap_diag("the fuzzing process died of signal %d (%s)", WTERMSIG(status),
				  strsignal(WTERMSIG(status)));
		else
			ktap_diag("the fuzzing process exited %d", WEXITSTATUS(status));
		print_trails(nthreads);
	}
	ktap_result(WIFEXITED(status) && !WEXITSTATUS(status), "fuzz_calls_completed");

	/* The child's fds are closed: every VM must be gone, and hvx must still work. */
	caps.nr_vms = ~0u;
	for (i = 0; i < 100 && !hvx_get_caps(sys, &caps) && caps.nr_vms; i++)
		usleep(10000);
	if (caps.nr_vms)
		ktap_diag("%u VMs left after every fd was closed", caps.nr_vms);
	ktap_result(caps.nr_vms == 0, "all_vms_freed_after");
	c = ioctl(sys, HVX_CREATE_VM, 0);
	ktap_result(c >= 0 && ioctl(c, HVX_CREATE_VCPU, 0) >= 0, "dev_hvx_still_works");
	return ktap_finish();
}
