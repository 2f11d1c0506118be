// SPDX-License-Identifier: GPL-2.0
/*
 * merge_bench.c - the same content in N VMs merged by hvx, and in N anonymous
 * areas merged by Linux KSM (MADV_MERGEABLE), with the same pages_to_scan and
 * sleep_millisecs, in one test-host boot.  Prints "bench <figure> hvx=<v>
 * ksm=<v> ratio=<hvx/ksm>".  Under QEMU -icount shift=0 a nanosecond of
 * the scanner thread's CPU time is one emulated instruction.
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "lib/guest.h"
#include "lib/merge.h"

#define NR_AREAS	4
#define AREA_PAGES	2048ul
#define PAGES_TO_SCAN	"256"
#define SLEEP_MS	"10"
#define KSM_SYSFS	"/sys/kernel/mm/ksm/"

struct figures {
	double converge_ms;	/* run=1 to every duplicate merged */
	double cpu_ns;		/* the scanner thread's CPU time meanwhile */
	double batches;		/* its voluntary sleeps meanwhile: one per batch */
	long saved;		/* pages_sharing at the end */
	long scanned;		/* exact, where the scanner counts them */
};

/* The pid of the kernel thread called @comm, or -1. */
static int find_thread(const char *comm)
{
	char path[300], name[32];
	struct dirent *de;
	int pid = -1;
	DIR *d = opendir("/proc");
	FILE *f;

	while (d && pid < 0 && (de = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) && !strncmp(name, comm, strlen(comm)) &&
		    name[strlen(comm)] == '\n')
			pid = atoi(de->d_name);
		fclose(f);
	}
	if (d)
		closedir(d);
	return pid;
}

/* CPU nanoseconds and voluntary context switches of @pid so far. */
static void thread_usage(int pid, double *cpu_ns, double *voluntary)
{
	char path[64], line[128];
	unsigned long long ns = 0, v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu", &ns) != 1)
			ns = 0;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1)
			break;
	if (f)
		fclose(f);
	*cpu_ns = ns;
	*voluntary = v;
}

static long ksm_read(const char *name)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), KSM_SYSFS "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return buf[0] ? atol(buf) : -1;
}

static int ksm_write(const char *name, const char *val)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), KSM_SYSFS "%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ok = fputs(val, f) >= 0;
	return fclose(f) || !ok ? -1 : 0;
}

/* Wait for @want pages_sharing from @read, measuring the scanner @pid. */
static int converge(long (*read)(const char *), int (*write)(const char *, const char *),
		    int pid, struct figures *fig)
{
	uint64_t t0, end;
	double cpu0, vol0, cpu1, vol1;
	const long want = (NR_AREAS - 1) * AREA_PAGES;

	thread_usage(pid, &cpu0, &vol0);
	t0 = merge_now_ns();
	end = t0 + 600 * 1000000000ull;
	if (write("run", "1"))
		return -1;
	while (read("pages_sharing") < want && merge_now_ns() < end)
		usleep(1000);
	fig->converge_ms = (merge_now_ns() - t0) / 1e6;
	thread_usage(pid, &cpu1, &vol1);
	fig->cpu_ns = cpu1 - cpu0;
	fig->batches = vol1 - vol0;
	fig->saved = read("pages_sharing");
	return fig->saved >= want ? 0 : -1;
}

static int bench_hvx(struct figures *fig)
{
	struct guest_vm vms[NR_AREAS];
	long scanned0 = merge_read("pages_scanned");
	int pid = find_thread("hvx_merged");
	uint64_t n;
	int i, ret = 0;

	if (pid < 0 || merge_write("run", "0") || merge_write("pages_to_scan", PAGES_TO_SCAN) ||
	    merge_write("sleep_millisecs", SLEEP_MS))
		return -1;
	for (i = 0; i < NR_AREAS; i++) {
		if (guest_vm_create(&vms[i], AREA_PAGES * 4096) ||
		    merge_set_policy(vms[i].fd, HVX_MERGE_ACROSS_VMS))
			return -1;
		for (n = 0; n < AREA_PAGES; n++)
			merge_fill_page(vms[i].mem + n * 4096, n);
	}
	ret = converge(merge_read, merge_write, pid, fig);
	fig->scanned = merge_read("pages_scanned") - scanned0;
	merge_write("run", "2");
	for (i = 0; i < NR_AREAS; i++)
		guest_vm_destroy(&vms[i]);
	merge_write("run", "0");
	return ret;
}

static int bench_ksm(struct figures *fig)
{
	uint8_t *area[NR_AREAS];
	int pid = find_thread("ksmd");
	uint64_t n;
	int i, ret;

	if (pid < 0 || ksm_write("run", "0") || ksm_write("pages_to_scan", PAGES_TO_SCAN) ||
	    ksm_write("sleep_millisecs", SLEEP_MS))
		return -1;
	for (i = 0; i < NR_AREAS; i++) {
		area[i] = mmap(NULL, AREA_PAGES * 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (area[i] == MAP_FAILED)
			return -1;
		for (n = 0; n < AREA_PAGES; n++)
			merge_fill_page(area[i] + n * 4096, n);
		if (madvise(area[i], AREA_PAGES * 4096, MADV_MERGEABLE))
			return -1;
	}
	ret = converge(ksm_read, ksm_write, pid, fig);
	fig->scanned = -1;	/* KSM of Linux 6.1 does not count them */
	ksm_write("run", "2");
	for (i = 0; i < NR_AREAS; i++)
		munmap(area[i], AREA_PAGES * 4096);
	return ret;
}

static void report(const char *name, double h, double k, const char *unit)
{
	printf("bench %s hvx=%.0f ksm=%.0f ratio=%.2f  # %s\n", name, h, k, k ? h / k : 0, unit);
}

int main(void)
{
	struct figures h = {}, k = {};
	int rh, rk;

	printf("# %d areas of %lu identical pages; pages_to_scan %s, sleep_millisecs %s\n",
	       NR_AREAS, AREA_PAGES, PAGES_TO_SCAN, SLEEP_MS);
	rh = bench_hvx(&h);
	rk = bench_ksm(&k);
	if (rh || rk) {
		printf("bench merge hvx=%s ksm=%s ratio=n/a\n", rh ? "error" : "ok",
		       rk ? "error" : "ok");
		return 1;
	}
	report("merge_converge_ms", h.converge_ms, k.converge_ms,
	       "run=1 until every duplicate is merged, test-host time");
	report("merge_scanner_cpu_ns", h.cpu_ns, k.cpu_ns,
	       "scanner thread CPU time meanwhile (under -icount: instructions)");
	report("merge_pages_saved", h.saved, k.saved, "pages_sharing");
	report("merge_batches", h.batches, k.batches, "scanner sleeps meanwhile");
	/* Pages looked at: batches * pages_to_scan, the same estimate for both. */
	report("merge_cpu_ns_per_scanned_page", h.cpu_ns / (h.batches * atoi(PAGES_TO_SCAN)),
	       k.cpu_ns / (k.batches * atoi(PAGES_TO_SCAN)),
	       "scanner CPU per page, pages = batches * pages_to_scan");
	printf("# hvx counted %ld pages scanned (estimate %.0f)\n", h.scanned,
	       h.batches * atoi(PAGES_TO_SCAN));
	return 0;
}
