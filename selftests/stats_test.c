// SPDX-License-Identifier: GPL-2.0
/* stats_test.c - the stats fds, hvx-stat and the tracepoints count what a guest did: N CPUIDs are N CPUID exits. */
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "hvx_util.h"
#include "lib/guest.h"
#include "../userspace-tools/hvx-stats.h"

#define NR_CPUIDS	1000
#define TRACEFS		"/sys/kernel/tracing"

/* The "exits_hw" bucket of a CPUID exit (VMX reason 10, SVM code 0x72). */
static unsigned int cpuid_bucket(void)
{
	return hvx_vendor_or_exit() == HVX_VENDOR_INTEL_VMX ? 10 : 0x72;
}

static const struct hvx_stats_desc *find_desc(const struct hvx_stats *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->h.nr_desc; i++)
		if (!strcmp(hvx_stats_desc_at(s, i)->name, name))
			return hvx_stats_desc_at(s, i);
	return NULL;
}

static uint64_t element(const struct hvx_stats *s, const char *name, unsigned int i)
{
	const struct hvx_stats_desc *d = find_desc(s, name);
	const uint64_t *v = d ? hvx_stats_values(s, d) : NULL;

	return v && i < d->count ? v[i] : ~0ull;
}

/* Everything the uapi header promises about the layout, checked from the raw bytes. */
static bool layout_valid(int fd, const char *want_id)
{
	struct hvx_stats s;
	bool ok = true;
	unsigned int i, j;
	int ret = hvx_stats_open(&s, dup(fd));

	if (ret) {
		ktap_diag("cannot read stats fd: %s", strerror(-ret));
		return false;
	}
	if (s.h.desc_offset < sizeof(s.h) ||
	    s.h.data_offset < s.h.desc_offset + (uint64_t)s.h.nr_desc * s.h.desc_size ||
	    !s.h.nr_desc || s.h.name_size < 2 || s.h.data_size % 8 ||
	    strncmp(s.h.id, want_id, sizeof(s.h.id)) ||
	    s.h.reserved[0] | s.h.reserved[1] | s.h.reserved[2] | s.h.reserved[3]) {
		ktap_diag("bad header: nr_desc %u desc_size %u name_size %u id '%.32s'",
			  s.h.nr_desc, s.h.desc_size, s.h.name_size, s.h.id);
		ok = false;
	}
	for (i = 0; ok && i < s.h.nr_desc; i++) {
		const struct hvx_stats_desc *d = hvx_stats_desc_at(&s, i);
		size_t len = strnlen(d->name, s.h.name_size);

		if (len == 0 || len == s.h.name_size || strspn(d->name, "abcdefghijklmnopqrstuvwxyz0123456789_") != len ||
		    !hvx_stats_values(&s, d) || !d->count || d->reserved ||
		    (d->flags & ~(HVX_STATS_TYPE_MASK | HVX_STATS_UNIT_MASK | HVX_STATS_VCPU_SUM)) ||
		    (d->flags & HVX_STATS_TYPE_MASK) > HVX_STATS_TYPE_INSTANT ||
		    (d->flags & HVX_STATS_UNIT_MASK) > HVX_STATS_UNIT_NSEC) {
			ktap_diag("bad descriptor %u '%.*s' flags 0x%x offset %u count %u", i,
				  (int)s.h.name_size, d->name, d->flags, d->offset, d->count);
			ok = false;
		}
		for (j = 0; ok && j < i; j++)
			if (!strcmp(hvx_stats_desc_at(&s, j)->name, d->name)) {
				ktap_diag("name '%s' twice", d->name);
				ok = false;
			}
	}
	hvx_stats_close(&s);
	return ok;
}

struct guest {
	struct guest_vm vm;
	struct guest_vcpu v;
	int vm_stats, vcpu_stats;
};

/* A VM running NR_CPUIDS CPUIDs, then one ucall (an OUT to userspace). */
static bool run_cpuids(struct guest *g)
{
	struct hvx_regs r;

	if (guest_vm_create(&g->vm, GUEST_MEM_DEFAULT) || guest_vcpu_create(&g->vm, &g->v, 0) ||
	    guest_load(&g->v, MODE_LONG, PAYLOAD(bench_cpuid64)) || guest_get_regs(&g->v, &r))
		return false;
	r.r8 = NR_CPUIDS;
	if (guest_set_regs(&g->v, &r))
		return false;
	g->vm_stats = ioctl(g->vm.fd, HVX_GET_STATS_FD, 0);
	g->vcpu_stats = ioctl(g->v.fd, HVX_GET_STATS_FD, 0);
	return g->vm_stats >= 0 && g->vcpu_stats >= 0 &&
	       guest_run_to_ucall(&g->v, &r) == UCALL_DONE;
}

static bool counts_match(int fd, bool vm, unsigned int bucket)
{
	struct hvx_stats s;
	uint64_t cpuid, hw, user_io, exits, guest_ns;
	bool ok;

	if (hvx_stats_open(&s, dup(fd)))
		return false;
	cpuid = hvx_stats_get(&s, "exits_cpuid", ~0ull);
	hw = element(&s, "exits_hw", bucket);
	user_io = element(&s, "exits_user", HVX_EXIT_IO);
	exits = hvx_stats_get(&s, "exits", 0);
	guest_ns = hvx_stats_get(&s, "guest_ns", 0);
	ok = cpuid == NR_CPUIDS && hw == NR_CPUIDS && user_io == 1 && exits >= NR_CPUIDS + 1 &&
	     guest_ns > 0 && (!vm || hvx_stats_get(&s, "nr_vcpus", 0) == 1);
	if (!ok)
		ktap_diag("%s: exits_cpuid %llu exits_hw[0x%x] %llu exits_user[io] %llu exits %llu guest_ns %llu",
			  vm ? "vm" : "vcpu", (unsigned long long)cpuid, bucket,
			  (unsigned long long)hw, (unsigned long long)user_io,
			  (unsigned long long)exits, (unsigned long long)guest_ns);
	hvx_stats_close(&s);
	return ok;
}

static void test_bad_args(void)
{
	struct guest_vm vm;
	struct guest_vcpu v;
	bool ok;

	if (guest_vm_create(&vm, GUEST_MEM_DEFAULT) || guest_vcpu_create(&vm, &v, 0)) {
		ktap_result(false, "stats_fd_nonzero_arg_einval");
		ktap_result(false, "stats_fd_on_dev_hvx_enotty");
		return;
	}
	ok = ioctl(vm.fd, HVX_GET_STATS_FD, 1) == -1 && errno == EINVAL;
	ktap_expect_errno("stats_fd_nonzero_arg_einval",
			  ok ? ioctl(v.fd, HVX_GET_STATS_FD, ~0ul) : 0, EINVAL);
	ktap_expect_errno("stats_fd_on_dev_hvx_enotty", ioctl(vm.sys_fd, HVX_GET_STATS_FD, 0),
			  ENOTTY);
	guest_vcpu_destroy(&v);
	guest_vm_destroy(&vm);
}

/* hvx-stat, run on this process, must say what the stats fd says. */
static bool hvx_stat_agrees(const char *tool)
{
	char cmd[768], line[256];
	uint64_t cpuid = ~0ull, hw = ~0ull;
	bool vmx = hvx_vendor_or_exit() == HVX_VENDOR_INTEL_VMX;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s -p %d -a", tool, getpid());
	p = popen(cmd, "r");
	if (!p)
		return false;
	while (fgets(line, sizeof(line), p)) {
		unsigned long long v;

		if (sscanf(line, "exits_cpuid %llu", &v) == 1)
			cpuid = v;
		if (sscanf(line, "exits_hw_cpuid %llu", &v) == 1)
			hw = v;
	}
	if (pclose(p)) {
		ktap_diag("'%s' failed", cmd);
		return false;
	}
	if (cpuid != NR_CPUIDS || hw != NR_CPUIDS) {
		ktap_diag("%s: exits_cpuid %llu exits_hw_cpuid %llu (%s)", cmd,
			  (unsigned long long)cpuid, (unsigned long long)hw, vmx ? "vmx" : "svm");
		return false;
	}
	snprintf(cmd, sizeof(cmd), "%s -p %d --json | grep -q '\"exits_cpuid\":%d[,}]'", tool,
		 getpid(), NR_CPUIDS);
	if (system(cmd)) {
		ktap_diag("'%s' failed", cmd);
		return false;
	}
	snprintf(cmd, sizeof(cmd), "%s | grep -q '^ *%d '", tool, getpid());
	if (system(cmd)) {
		ktap_diag("'%s' (overview) has no line for this process", cmd);
		return false;
	}
	return true;
}

/* hvx-stat of the build tree this test is in, else the installed one. */
static const char *find_hvx_stat(void)
{
	static char path[256];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 64);
	char *slash;

	if (n > 0) {
		path[n] = 0;
		slash = strrchr(path, '/');
		if (slash) {
			strcpy(slash, "/../userspace-tools/hvx-stat");
			if (!access(path, X_OK))
				return path;
		}
	}
	if (!access("/usr/bin/hvx-stat", X_OK))
		return "/usr/bin/hvx-stat";
	return NULL;
}

static void test_counts(void)
{
	unsigned int bucket = cpuid_bucket();
	const char *tool = find_hvx_stat();
	struct guest g;
	char id[32];
	bool ran, ok;

	ran = run_cpuids(&g);
	if (!ran)
		ktap_diag("the CPUID guest did not run to its ucall");
	snprintf(id, sizeof(id), "vm-%d", getpid());
	ktap_result(ran && layout_valid(g.vm_stats, id) && layout_valid(g.vcpu_stats, "vcpu-0"),
		    "stats_layout_describes_itself");
	ktap_result(ran && counts_match(g.vcpu_stats, false, bucket), "vcpu_stats_count_cpuid_exits");
	ktap_result(ran && counts_match(g.vm_stats, true, bucket), "vm_stats_sum_vcpu_counts");
	ok = ran && write(g.vm_stats, "x", 1) == -1 && errno == EBADF;
	ktap_result(ok, "stats_fd_is_read_only");
	if (tool)
		ktap_result(ran && hvx_stat_agrees(tool), "hvx_stat_reports_cpuid_exits");
	else
		ktap_skip("hvx_stat_reports_cpuid_exits", "no hvx-stat in ../userspace-tools or /usr/bin");

	/*
	 * The stats fds outlive the VM's other fds: the vCPU's keeps the vCPU,
	 * and once that goes the VM's sum still counts it.
	 */
	guest_vcpu_destroy(&g.v);
	guest_vm_destroy(&g.vm);
	ok = ran && counts_match(g.vcpu_stats, false, bucket);
	close(g.vcpu_stats);
	if (ok) {
		struct hvx_stats s;

		ok = !hvx_stats_open(&s, dup(g.vm_stats));
		if (ok && (hvx_stats_get(&s, "exits_cpuid", 0) != NR_CPUIDS ||
			   element(&s, "exits_hw", bucket) != NR_CPUIDS ||
			   hvx_stats_get(&s, "nr_vcpus", ~0ull) != 0)) {
			ktap_diag("after close: exits_cpuid %llu nr_vcpus %llu",
				  (unsigned long long)hvx_stats_get(&s, "exits_cpuid", 0),
				  (unsigned long long)hvx_stats_get(&s, "nr_vcpus", ~0ull));
			ok = false;
		}
		hvx_stats_close(&s);
	}
	ktap_result(ok, "stats_fds_outlive_vm_and_vcpu");
	close(g.vm_stats);
}

struct loop_job {
	struct guest_vcpu *v;
	volatile bool started;
	int ret;
};

static void *loop_thread(void *arg)
{
	struct loop_job *job = arg;

	job->started = true;
	job->ret = guest_run(job->v);
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* Reading a running vCPU's stats neither blocks nor stops it. */
static void test_read_while_running(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct loop_job job = { 0 };
	struct guest_vm vm;
	struct guest_vcpu v;
	struct hvx_stats s;
	pthread_t th;
	uint64_t g1 = 0, g2 = 0, intr = 0;
	int fd;
	bool ok;

	sigaction(SIGUSR1, &sa, NULL);
	if (guest_vm_create(&vm, GUEST_MEM_DEFAULT) || guest_vcpu_create(&vm, &v, 0) ||
	    guest_load(&v, MODE_LONG, PAYLOAD(loop64))) {
		ktap_result(false, "stats_read_while_vcpu_runs");
		return;
	}
	job.v = &v;
	pthread_create(&th, NULL, loop_thread, &job);
	while (!job.started)
		usleep(100);
	usleep(100000);
	/* The vCPU holds its mutex inside HVX_RUN: this must not be EBUSY. */
	fd = ioctl(v.fd, HVX_GET_STATS_FD, 0);
	ok = fd >= 0 && !hvx_stats_open(&s, fd);
	if (ok) {
		g1 = hvx_stats_get(&s, "guest_ns", 0);
		usleep(200000);
		ok = !hvx_stats_refresh(&s);
		g2 = hvx_stats_get(&s, "guest_ns", 0);
	}
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	if (ok) {
		hvx_stats_refresh(&s);
		intr = element(&s, "exits_user", HVX_EXIT_INTR);
		hvx_stats_close(&s);
	}
	/* guest_ns grows only at exits: under emulation a timer tick is one. */
	ok = ok && job.ret == -EINTR && intr == 1 && g2 >= g1;
	if (!ok)
		ktap_diag("fd %d run %d exits_user[intr] %llu guest_ns %llu -> %llu", fd, job.ret,
			  (unsigned long long)intr, (unsigned long long)g1, (unsigned long long)g2);
	ktap_result(ok, "stats_read_while_vcpu_runs");
	guest_vcpu_destroy(&v);
	guest_vm_destroy(&vm);
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Lines of the trace buffer containing @what. */
static int trace_count(const char *what)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(TRACEFS "/trace", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && strstr(line, what))
			n++;
	fclose(f);
	return n;
}

/* The tracepoints see the same N CPUIDs (kind 3) and the one ucall. */
static void test_tracepoints(void)
{
	struct stat sb;
	struct guest g;
	char filter[64];
	int cpuids, user, entries;
	bool ran;

	if (stat(TRACEFS "/events", &sb))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	if (stat(TRACEFS "/events/hvx/hvx_exit", &sb)) {
		ktap_skip("tracepoints_count_cpuid_exits",
			  stat(TRACEFS "/events", &sb) ? "no tracefs at " TRACEFS :
			  "no hvx events in tracefs");
		return;
	}
	snprintf(filter, sizeof(filter), "common_pid == %d", getpid());
	if (write_file(TRACEFS "/tracing_on", "0") || write_file(TRACEFS "/trace", "") ||
	    write_file(TRACEFS "/events/hvx/filter", filter) ||
	    write_file(TRACEFS "/events/hvx/enable", "1") ||
	    write_file(TRACEFS "/tracing_on", "1")) {
		ktap_result(false, "tracepoints_count_cpuid_exits");
		ktap_diag("cannot set up tracing: %s", strerror(errno));
		return;
	}
	ran = run_cpuids(&g);
	write_file(TRACEFS "/tracing_on", "0");
	write_file(TRACEFS "/events/hvx/enable", "0");
	write_file(TRACEFS "/events/hvx/filter", "0");
	cpuids = trace_count("hvx_exit: vcpu 0 cpuid ");
	user = trace_count("hvx_user_exit: vcpu 0 io addr 0xf1");
	entries = trace_count("hvx_entry: vcpu 0 ");
	write_file(TRACEFS "/trace", "");
	if (ran) {
		guest_vcpu_destroy(&g.v);
		guest_vm_destroy(&g.vm);
		close(g.vm_stats);
		close(g.vcpu_stats);
	}
	if (!(ran && cpuids == NR_CPUIDS && user == 1 && entries >= NR_CPUIDS + 1))
		ktap_diag("ran %d: hvx_exit cpuid %d, hvx_user_exit io 0xf1 %d, hvx_entry %d", ran,
			  cpuids, user, entries);
	ktap_result(ran && cpuids == NR_CPUIDS && user == 1 && entries >= NR_CPUIDS + 1,
		    "tracepoints_count_cpuid_exits");
}

/*
 * stats_test --run-cpuids N [--hold]: the workload alone, for perf, trace-cmd
 * and hvx-stat run from a shell (hvx_trace_tools_test.sh): a VM runs N
 * CPUIDs and one ucall; with --hold it then prints "ready" and keeps the
 * VM until a signal (or two minutes) ends it.
 */
static int run_workload(int argc, char **argv)
{
	struct guest g;
	struct hvx_regs r;
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 0;

	if (n <= 0 || (argc > 3 && strcmp(argv[3], "--hold")) || argc > 4) {
		fprintf(stderr, "usage: stats_test --run-cpuids N [--hold]\n");
		return 2;
	}
	if (guest_vm_create(&g.vm, GUEST_MEM_DEFAULT) || guest_vcpu_create(&g.vm, &g.v, 0) ||
	    guest_load(&g.v, MODE_LONG, PAYLOAD(bench_cpuid64)) || guest_get_regs(&g.v, &r))
		return 1;
	r.r8 = n;
	if (guest_set_regs(&g.v, &r) || guest_run_to_ucall(&g.v, &r) != UCALL_DONE)
		return 1;
	if (argc > 3) {
		printf("ready\n");
		fflush(stdout);
		alarm(120);
		pause();
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--run-cpuids"))
		return run_workload(argc, argv);
	guest_require_vcpus();
	ktap_plan(10);
	test_bad_args();
	test_counts();
	test_read_while_running();
	test_tracepoints();
	return ktap_finish();
}
