// SPDX-License-Identifier: GPL-2.0
/* hvx-stat.c - shows the running VMs' statistics: an overview, a live view sorted by rate, or JSON. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hvx-stats.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

#define MAX_VMS		256

struct vm {
	pid_t pid;
	ino_t ino;		/* the VM file's own inode: one VM, however many fds */
	struct hvx_stats st;
	uint64_t *prev;		/* values at the last sample (live mode) */
	bool seen;		/* found by the last scan */
};

static struct vm vms[MAX_VMS];
static int nr_vms, nr_refused;
static uint32_t vendor;
static const char *prog = "hvx-stat";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvx-stat [-p PID] [-a] [--json] [-d DELAY [-n COUNT]]\n"
		"Shows the statistics of the hvx VMs running on this host (read from each\n"
		"VM's stats fd, taken from its process with pidfd_getfd: root, or the\n"
		"user the VMM runs as, may read them).\n\n"
		"    (no option)   one line per VM: exits by kind, interrupts, guest time\n"
		"    -p, --pid PID only the VMs of process PID (an hvx-run)\n"
		"    -a, --all     every statistic of each VM, one 'name value' line each\n"
		"    -d, --delay S live: every S seconds (decimals allowed) the statistics\n"
		"                  that changed, sorted by rate; redraws on a terminal,\n"
		"                  plain blocks when piped\n"
		"    -n, --count N live: stop after N samples (default: until interrupted)\n"
		"    -j, --json    JSON (live: one object per line per sample, with rates)\n"
		"    -h, --help    this text\n\n"
		"Exit status: 0 shown; 1 no /dev/hvx, no VM where one was asked for, or\n"
		"no permission; 2 bad arguments.\n");
}

static int pidfd_getfd_of(pid_t pid, int fd)
{
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	int ret, err;

	if (pidfd < 0)
		return -1;
	ret = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	err = errno;
	close(pidfd);
	errno = err;
	return ret;
}

/* Adds the VMs process @pid has open; -1 with errno when one could not be read. */
static int scan_pid(pid_t pid, bool verbose)
{
	char dir[32], link[64], path[320];
	struct dirent *de;
	int found = 0, fail = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d) {
		if (verbose && errno != ENOENT)
			fprintf(stderr, "%s: cannot read %s: %s%s\n", prog, dir, strerror(errno),
				errno == EACCES ? " (run as root or as the VMM's user)" : "");
		return -1;
	}
	while ((de = readdir(d))) {
		struct stat sb;
		ssize_t n;
		int fd, sfd, i;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = 0;
		if (strcmp(link, "anon_inode:hvx-vm") && strcmp(link, "anon_inode:[hvx-vm]"))
			continue;
		if (stat(path, &sb))
			continue;
		for (i = 0; i < nr_vms && vms[i].ino != sb.st_ino; i++)
			;
		if (i < nr_vms) {
			/* Listed already: by an earlier scan, or another fd of it. */
			vms[i].seen = true;
			found++;
			continue;
		}
		fd = pidfd_getfd_of(pid, atoi(de->d_name));
		if (fd < 0) {
			if (verbose)
				fprintf(stderr, "%s: pid %d: cannot take its VM fd: %s%s\n", prog,
					pid, strerror(errno),
					errno == EPERM ? " (run as root or as the VMM's user)" : "");
			fail = errno;
			continue;
		}
		sfd = ioctl(fd, HVX_GET_STATS_FD, 0);
		close(fd);
		if (sfd < 0 || nr_vms == MAX_VMS) {
			fail = sfd < 0 ? errno : ENOSPC;
			if (verbose)
				fprintf(stderr, "%s: pid %d: no stats fd: %s\n", prog, pid,
					strerror(fail));
			if (sfd >= 0)
				close(sfd);
			continue;
		}
		if (hvx_stats_open(&vms[nr_vms].st, sfd)) {
			fail = EPROTO;
			continue;
		}
		vms[nr_vms].pid = pid;
		vms[nr_vms].ino = sb.st_ino;
		vms[nr_vms].prev = NULL;
		vms[nr_vms].seen = true;
		nr_vms++;
		found++;
	}
	closedir(d);
	if (fail && !found) {
		errno = fail;
		return -1;
	}
	return found;
}

static void scan_all(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (!d)
		return;
	while ((de = readdir(d))) {
		pid_t pid = atoi(de->d_name);

		if (pid > 0 && pid != getpid() && scan_pid(pid, false) < 0 && errno == EPERM)
			nr_refused++;
	}
	closedir(d);
}

/* Names for the hardware exit reasons worth a name (see "exits_hw" in the uapi header). */
static const char *hw_name(unsigned int bucket)
{
	static const struct { unsigned int b; const char *n; } vmx[] = {
		{ 0, "exception_nmi" }, { 1, "external_interrupt" }, { 2, "triple_fault" },
		{ 7, "interrupt_window" }, { 10, "cpuid" }, { 12, "hlt" }, { 18, "vmcall" },
		{ 28, "cr_access" }, { 30, "io_instruction" }, { 31, "rdmsr" }, { 32, "wrmsr" },
		{ 33, "invalid_guest_state" }, { 48, "ept_violation" }, { 49, "ept_misconfig" },
		{ 52, "preemption_timer" }, { 55, "xsetbv" },
	}, svm[] = {
		{ 0x60, "intr" }, { 0x61, "nmi" }, { 0x64, "vintr" }, { 0x72, "cpuid" },
		{ 0x78, "hlt" }, { 0x7b, "ioio" }, { 0x7c, "msr" }, { 0x7f, "shutdown" },
		{ 0x81, "vmmcall" }, { 0x8d, "xsetbv" }, { 0xf0, "npf" }, { 0xff, "other" },
	};
	unsigned int i;

	if (vendor == HVX_VENDOR_INTEL_VMX) {
		for (i = 0; i < sizeof(vmx) / sizeof(vmx[0]); i++)
			if (vmx[i].b == bucket)
				return vmx[i].n;
	} else {
		for (i = 0; i < sizeof(svm) / sizeof(svm[0]); i++)
			if (svm[i].b == bucket)
				return svm[i].n;
	}
	return NULL;
}

static const char *const user_exit_names[] = {
	"unknown", "io", "mmio", "hlt", "shutdown", "hypercall", "msr",
	"fail_entry", "internal_error", "intr",
};

/* "exits_hw" value @i as a name: exits_hw_cpuid, or exits_hw_0x72 for an unnamed one. */
static void element_name(char *buf, size_t len, const char *base, unsigned int i)
{
	const char *n = NULL;

	if (!strcmp(base, "exits_hw"))
		n = hw_name(i);
	else if (!strcmp(base, "exits_user") && i < sizeof(user_exit_names) / sizeof(user_exit_names[0]))
		n = user_exit_names[i];
	if (n)
		snprintf(buf, len, "%s_%s", base, n);
	else
		snprintf(buf, len, "%s_0x%x", base, i);
}

/* Calls @fn for every value of @s: named singly, arrays element by element. */
static void for_each_value(const struct hvx_stats *s, const uint64_t *prev,
			   void (*fn)(const char *name, uint64_t val, uint64_t prev, bool array, void *arg),
			   void *arg)
{
	unsigned int i, j;
	char name[96];

	for (i = 0; i < s->h.nr_desc; i++) {
		const struct hvx_stats_desc *d = hvx_stats_desc_at(s, i);
		const uint64_t *v = hvx_stats_values(s, d);

		if (!v)
			continue;
		for (j = 0; j < d->count; j++) {
			size_t idx = v - s->data + j;

			if (d->count == 1)
				snprintf(name, sizeof(name), "%.*s", (int)s->h.name_size, d->name);
			else
				element_name(name, sizeof(name), d->name, j);
			fn(name, v[j], prev ? prev[idx] : 0, d->count > 1, arg);
		}
	}
}

static void print_all_one(const char *name, uint64_t val, uint64_t prev, bool array, void *arg)
{
	(void)prev;
	if (!array || val)
		printf("%s%s %llu\n", (const char *)arg, name, (unsigned long long)val);
}

struct json_state {
	bool first;
	double secs;		/* > 0: also rates */
};

static void json_one(const char *name, uint64_t val, uint64_t prev, bool array, void *arg)
{
	struct json_state *js = arg;

	if (array && !val)
		return;
	printf("%s\"%s\":", js->first ? "" : ",", name);
	if (js->secs > 0)
		printf("{\"value\":%llu,\"rate\":%.1f}", (unsigned long long)val,
		       (double)(val - prev) / js->secs);
	else
		printf("%llu", (unsigned long long)val);
	js->first = false;
}

static void print_json(double secs)
{
	struct json_state js;
	int i;

	printf("{\"vms\":[");
	for (i = 0; i < nr_vms; i++) {
		js.first = true;
		js.secs = secs;
		printf("%s{\"pid\":%d,\"id\":\"%.*s\",\"stats\":{", i ? "," : "", vms[i].pid,
		       (int)sizeof(vms[i].st.h.id), vms[i].st.h.id);
		for_each_value(&vms[i].st, secs > 0 ? vms[i].prev : NULL, json_one, &js);
		printf("}}");
	}
	printf("]}\n");
	fflush(stdout);
}

static void print_overview(void)
{
	int i;

	printf("%8s %5s %12s %10s %10s %10s %10s %10s %10s %10s %6s\n", "PID", "VCPUS", "EXITS",
	       "IO", "MMIO", "TDP_FAULT", "HLT", "CPUID", "MSR", "IRQS", "GUEST%");
	for (i = 0; i < nr_vms; i++) {
		const struct hvx_stats *s = &vms[i].st;
		uint64_t g = hvx_stats_get(s, "guest_ns", 0), e = hvx_stats_get(s, "exit_ns", 0);

		printf("%8d %5llu %12llu %10llu %10llu %10llu %10llu %10llu %10llu %10llu %6.1f\n",
		       vms[i].pid,
		       (unsigned long long)hvx_stats_get(s, "nr_vcpus", 0),
		       (unsigned long long)hvx_stats_get(s, "exits", 0),
		       (unsigned long long)hvx_stats_get(s, "exits_io", 0),
		       (unsigned long long)hvx_stats_get(s, "mmio_exits", 0),
		       (unsigned long long)hvx_stats_get(s, "tdp_faults", 0),
		       (unsigned long long)hvx_stats_get(s, "exits_hlt", 0),
		       (unsigned long long)hvx_stats_get(s, "exits_cpuid", 0),
		       (unsigned long long)(hvx_stats_get(s, "exits_rdmsr", 0) +
					    hvx_stats_get(s, "exits_wrmsr", 0)),
		       (unsigned long long)hvx_stats_get(s, "irq_injections", 0),
		       g + e ? 100.0 * g / (g + e) : 0.0);
	}
	if (!nr_vms)
		printf("(no VMs%s)\n", nr_refused ? " that this user may read" : " running");
}

/* Live mode: the values that moved in the last interval, fastest first. */
struct rate {
	char name[96];
	uint64_t total;
	double rate;
};

struct rate_list {
	struct rate *r;
	int n, cap;
	double secs;
};

static void collect_rate(const char *name, uint64_t val, uint64_t prev, bool array, void *arg)
{
	struct rate_list *l = arg;

	(void)array;
	if (val == prev || l->n == l->cap)
		return;
	snprintf(l->r[l->n].name, sizeof(l->r[l->n].name), "%s", name);
	l->r[l->n].total = val;
	l->r[l->n].rate = ((double)val - (double)prev) / l->secs;
	l->n++;
}

static int by_rate(const void *a, const void *b)
{
	const struct rate *x = a, *y = b;

	return x->rate < y->rate ? 1 : x->rate > y->rate ? -1 : strcmp(x->name, y->name);
}

static void print_live(double secs, bool tty)
{
	static struct rate r[1024];
	time_t now = time(NULL);
	char ts[32];
	int i, j;

	strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
	if (tty)
		printf("\033[H\033[2J");
	printf("hvx-stat %s, every %.2f s, %d VM(s)\n", ts, secs, nr_vms);
	for (i = 0; i < nr_vms; i++) {
		struct rate_list l = { r, 0, 1024, secs };

		for_each_value(&vms[i].st, vms[i].prev, collect_rate, &l);
		qsort(r, l.n, sizeof(r[0]), by_rate);
		printf("%-8s %-32s %14s %12s\n", "PID", "STAT", "TOTAL", "PER SECOND");
		for (j = 0; j < l.n; j++)
			printf("%-8d %-32s %14llu %12.1f\n", vms[i].pid, r[j].name,
			       (unsigned long long)r[j].total, r[j].rate);
	}
	if (!tty)
		printf("\n");
	fflush(stdout);
}

/*
 * Live mode, between samples: forget the VMs no process holds any more
 * (a stats fd keeps its VM, guest memory included, as the VM's own fds
 * do: hvx-stat must not be what keeps a finished VM alive) and add new ones.
 */
static void rescan(pid_t pid)
{
	int i, j;

	for (i = 0; i < nr_vms; i++)
		vms[i].seen = false;
	if (pid)
		scan_pid(pid, false);
	else
		scan_all();
	for (i = j = 0; i < nr_vms; i++) {
		if (!vms[i].seen) {
			hvx_stats_close(&vms[i].st);
			free(vms[i].prev);
			continue;
		}
		vms[j++] = vms[i];
	}
	nr_vms = j;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "delay", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false, json = false, tty = isatty(STDOUT_FILENO);
	double delay = 0;
	long count = -1;
	pid_t pid = 0;
	struct hvx_caps caps = { 0 };
	char *end;
	int c, i, dev;

	while ((c = getopt_long(argc, argv, "p:ad:n:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pid = strtol(optarg, &end, 10);
			if (*end || pid <= 0)
				goto bad;
			break;
		case 'a':
			all = true;
			break;
		case 'd':
			delay = strtod(optarg, &end);
			if (*end || !(delay >= 0.01 && delay <= 3600))
				goto bad;
			break;
		case 'n':
			count = strtol(optarg, &end, 10);
			if (*end || count <= 0)
				goto bad;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc || (count > 0 && !delay) || (all && delay))
		goto bad;

	dev = open("/dev/hvx", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		fprintf(stderr, "%s: cannot open /dev/hvx: %s%s\n", prog, strerror(errno),
			errno == ENOENT ? " (is hvx.ko loaded? modprobe hvx)" :
			errno == EACCES ? " (not in the device's group, usually kvm)" : "");
		return 1;
	}
	if (!ioctl(dev, HVX_GET_CAPS, &caps))
		vendor = caps.vendor;
	close(dev);

	if (pid) {
		int n = scan_pid(pid, true);

		if (n < 0 && errno == ENOENT) {
			fprintf(stderr, "%s: no process %d\n", prog, pid);
			return 1;
		}
		if (n <= 0) {
			if (!nr_vms && n == 0)
				fprintf(stderr, "%s: process %d has no hvx VM open\n", prog, pid);
			return 1;
		}
	} else {
		scan_all();
	}

	if (!delay) {
		if (json)
			print_json(0);
		else if (all)
			for (i = 0; i < nr_vms; i++) {
				char prefix[32] = "";

				if (nr_vms > 1)
					snprintf(prefix, sizeof(prefix), "%d ", vms[i].pid);
				for_each_value(&vms[i].st, NULL, print_all_one, prefix);
			}
		else
			print_overview();
		return 0;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop && count) {
		struct timespec ts = { (time_t)delay, (long)((delay - (time_t)delay) * 1e9) };

		for (i = 0; i < nr_vms; i++) {
			if (!vms[i].prev)
				vms[i].prev = malloc(vms[i].st.h.data_size);
			if (!vms[i].prev)
				return 1;
			memcpy(vms[i].prev, vms[i].st.data, vms[i].st.h.data_size);
		}
		nanosleep(&ts, NULL);
		if (stop)
			break;
		if (pid && kill(pid, 0) && errno == ESRCH) {
			fprintf(stderr, "%s: process %d has exited\n", prog, pid);
			break;
		}
		rescan(pid);
		for (i = 0; i < nr_vms; i++) {
			if (!vms[i].prev) {
				/* New since the last sample: its rates start next time. */
				vms[i].prev = malloc(vms[i].st.h.data_size);
				if (!vms[i].prev)
					return 1;
				memcpy(vms[i].prev, vms[i].st.data, vms[i].st.h.data_size);
				continue;
			}
			hvx_stats_refresh(&vms[i].st);
		}
		if (json)
			print_json(delay);
		else
			print_live(delay, tty);
		if (count > 0)
			count--;
	}
	return 0;

bad:
	usage(stderr);
	return 2;
}
