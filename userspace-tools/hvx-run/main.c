// SPDX-License-Identifier: GPL-2.0
/* main.c - hvx-run's command line, its endings (one message and status each), signals. */
#include <errno.h>
#include <getopt.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hvx-run.h"
#include "control/control.h"
#include "migration/live.h"
#include "migration/snapshot.h"
#include "migration/state.h"
#include "virtio/virtio.h"

int verbose;

static const char usage[] =
"usage: hvx-run -k KERNEL [-i INITRD] [-p CMDLINE] [-m SIZE] [-c N] [-d FILE[,ro]]...\n"
"               [-n tap=NAME[,mac=MAC]]... [--qmp PATH] [-v]\n"
"       hvx-run --incoming file:SNAPSHOT|tcp:[ADDRESS]:PORT [-m SIZE] [-c N] [-d FILE]...\n"
"               [-n tap=NAME]... [--qmp PATH]\n"
"Boots a Linux bzImage (x86 64-bit boot protocol), or a multiboot (v1) kernel such\n"
"as kvm-unit-tests' x86/*.flat, in an hvx virtual machine, with its serial console\n"
"(ttyS0) on stdin/stdout.\n"
"\n"
"  -k, --kernel KERNEL   a bzImage (boot protocol 2.12 or later, 64-bit entry), or an\n"
"                        ELF or a.out-kludge image with a multiboot header\n"
"  -i, --initrd FILE     an initramfs, loaded high in RAM (multiboot: module 0)\n"
"  -p, --params CMDLINE  the kernel command line, e.g. \"console=ttyS0\" (multiboot:\n"
"                        the kernel's file name, a space, then CMDLINE)\n"
"  -m, --memory SIZE     guest RAM, with K, M or G (default 256M, plain numbers are MiB)\n"
"  -c, --cpus N          vCPUs (default 1); the guest starts vCPUs 1..N-1 by INIT/SIPI\n"
"  -d, --disk FILE[,ro][,format=raw|qcow2][,snapshot=NAME]\n"
"                        a virtio block device (PCI) on a disk image, read-only with ,ro;\n"
"                        qcow2 (versions 2 and 3, backing files) is found by its magic\n"
"                        unless format= says; snapshot= shows a qcow2 internal snapshot\n"
"                        (read-only); up to 8, /dev/vda, vdb, ... in the order of -d\n"
"  -n, --net tap=NAME[,mac=MAC]  a virtio network device (PCI) on host tap NAME,\n"
"                        created if missing (bring it up on the host); up to 4;\n"
"                        MAC default 02:48:56:58:00:<index>\n"
"      --qmp PATH        serve QEMU's QMP protocol on the unix socket PATH: query-status,\n"
"                        stop, cont, system_powerdown (Ctrl-Alt-Del on the guest's PS/2\n"
"                        keyboard; the guest's reset then ends the run as a power-off),\n"
"                        system_reset (ends the run, status 10), quit, query-cpus-fast,\n"
"                        migrate {\"uri\": \"file:PATH\"} (saves the VM, which stays stopped),\n"
"                        migrate {\"uri\": \"tcp:ADDRESS:PORT\"} (live, pre-copy), migrate_cancel,\n"
"                        migrate-set-parameters (downtime-limit, max-bandwidth), query-migrate\n"
"      --incoming file:SNAPSHOT  restore a VM saved by migrate instead of booting a kernel;\n"
"      --incoming tcp:[ADDRESS]:PORT  wait there for a live migration and run the guest it brings;\n"
"                        -m and -c must be as at the save, and the same disks and taps\n"
"                        given in the same order (-k, -i and -p are not needed)\n"
"  -v, --verbose         log MSR accesses, unknown ports and MMIO on stderr (-vv: MSIs\n"
"                        and frames too); at exit, each virtio device's counts of\n"
"                        queue notifications and interrupts (irqfd, ioctl, INTx)\n"
"  -h, --help            this text\n"
"\n"
"On a terminal, stdin is raw: type Ctrl-A x to quit, Ctrl-A Ctrl-A for Ctrl-A.\n"
"\n"
"Exit status:\n"
"    0  the guest powered off or halted (every vCPU halted with interrupts off)\n"
"    0  also: quit over QMP, or the guest's reset after system_powerdown\n"
"    2  bad arguments, or a kernel/initrd/disk that cannot be read or is not bootable,\n"
"       or a tap that cannot be opened, or a snapshot that is truncated, corrupt or\n"
"       does not fit this machine (nothing of it runs)\n"
"    3  /dev/hvx is missing or cannot be opened (is hvx.ko loaded?)\n"
"   10  the guest rebooted (keyboard-controller or port 0x92/0xcf9 reset), or system_reset\n"
"   11  the guest triple-faulted (shutdown) without a kernel panic\n"
"   12  the guest kernel panicked (\"Kernel panic - not syncing\" on its console)\n"
"   13  internal error: an exit or ioctl hvx-run cannot handle, with details\n"
"  2V+1 the guest wrote V to port 0xf4 (QEMU's isa-debug-exit; kvm-unit-tests: 1 pass)\n"
"  130  SIGINT, or Ctrl-A x\n"
"  143  SIGTERM\n";

/* The first ending wins; the main thread reports it. */
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t stop_sem;
static volatile int stop_status = -1;
static char stop_msg[512];
static volatile sig_atomic_t stop_signal;

void vlog(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	fputs("hvx-run: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void die(int status, const char *fmt, ...)
{
	va_list ap;

	serial_tty_restore();
	va_start(ap, fmt);
	fputs("hvx-run: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(status);
}

void vm_stop(int status, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&stop_lock);
	if (stop_status < 0) {
		va_start(ap, fmt);
		vsnprintf(stop_msg, sizeof(stop_msg), fmt, ap);
		va_end(ap);
		stop_status = status;
		sem_post(&stop_sem);
	}
	pthread_mutex_unlock(&stop_lock);
}

bool vm_stopping(void)
{
	return stop_status >= 0;
}

bool vm_stopped_by_signal(void)
{
	return stop_status == ST_SIGINT || stop_status == ST_SIGTERM;
}

/*
 * A reset asked for by the guest.  Linux resets after a panic when
 * booted with panic=-1, so a panic seen on the console first makes this
 * a panic, not a reboot.
 */
static volatile bool powerdown_requested;

/* QMP system_powerdown: Linux answers Ctrl-Alt-Del by rebooting, which then ends the run. */
void guest_powerdown_request(void)
{
	powerdown_requested = true;
	i8042_ctrl_alt_del();
}

void guest_reset(const char *how)
{
	if (powerdown_requested && !serial_panic_seen())
		vm_stop(ST_POWEROFF, "guest shut down after system_powerdown (Ctrl-Alt-Del, then %s)",
			how);
	else if (serial_panic_seen())
		vm_stop(ST_PANIC, "guest kernel panic (then %s)", how);
	else
		vm_stop(ST_REBOOT, "guest reboot (%s)", how);
}

static void on_signal(int sig)
{
	stop_signal = sig;
	sem_post(&stop_sem);
}

static uint64_t parse_size(const char *s)
{
	unsigned int shift = 20;	/* a plain number is MiB, as for QEMU */
	uint64_t v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return 0;
	if (*end) {
		const char *p = strchr("KMG", *end & ~0x20);

		if (!p || !*p)
			return 0;
		shift = 10 * (p - "KMG" + 1);
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
	}
	if (*end || v > (~0ull >> shift))
		return 0;
	return v << shift;
}

static void bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bad_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("hvx-run: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(" (try --help)\n", stderr);
	va_end(ap);
	exit(ST_USAGE);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "params", required_argument, NULL, 'p' },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "disk", required_argument, NULL, 'd' },
		{ "net", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "qmp", required_argument, NULL, 'Q' },
		{ "incoming", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct boot_files files = { .cmdline = "" };
	const char *qmp_path = NULL, *incoming = NULL;
	uint64_t ram_size = 256ull << 20;
	struct sigaction sa;
	sigset_t set;
	int c, nr_cpus = 1;
	const char *why;
	char *end;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:i:p:m:c:d:n:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'k': files.kernel = optarg; break;
		case 'i': files.initrd = optarg; break;
		case 'p': files.cmdline = optarg; break;
		case 'm':
			ram_size = parse_size(optarg);
			if (!ram_size)
				bad_usage("-m %s: not a size (e.g. 256M, 1G)", optarg);
			break;
		case 'c':
			errno = 0;
			nr_cpus = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || nr_cpus < 1 ||
			    nr_cpus > MAX_VCPUS)
				bad_usage("-c %s: not a vCPU count from 1 to %d", optarg,
					  MAX_VCPUS);
			break;
		case 'd':
			why = virtio_blk_parse(optarg);
			if (why)
				bad_usage("-d %s: %s", optarg, why);
			break;
		case 'n':
			why = virtio_net_parse(optarg);
			if (why)
				bad_usage("-n %s: %s", optarg, why);
			break;
		case 'v': verbose++; break;
		case 'Q': qmp_path = optarg; break;
		case 'I':
			if ((strncmp(optarg, "file:", 5) || !optarg[5]) && strncmp(optarg, "tcp:", 4))
				bad_usage("--incoming %s: file:PATH or tcp:[ADDRESS]:PORT", optarg);
			incoming = optarg;
			break;
		case 'h': fputs(usage, stdout); return 0;
		case ':': bad_usage("option %s needs an argument", argv[optind - 1]);
		default:
			bad_usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	if (!files.kernel && !incoming)
		bad_usage("no kernel: -k KERNEL is required");
	/* Linux's boot code and page tables need room; the MMIO hole caps the rest. */
	if (ram_size < (64ull << 20) || ram_size % (1 << 20))
		bad_usage("-m: RAM must be a whole number of MiB, at least 64M");
	if (ram_size > (64ull << 30))
		bad_usage("-m: at most 64G");

	sem_init(&stop_sem, 0, 0);
	/*
	 * SIGINT/SIGTERM end the run on the main thread only; the other
	 * threads block them.  SIGUSR1 kicks a vCPU thread out of HVX_RUN:
	 * its handler does nothing, but it is installed without SA_RESTART
	 * so the ioctl returns EINTR.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (!incoming)
		boot_read(&files);
	vm_create(ram_size, nr_cpus);
	if (!incoming)
		boot_load();
	devices_init();
	if (incoming) {
		struct snapshot_stats st;
		const char *err;

		bool tcp = !strncmp(incoming, "tcp:", 4);

		/* The sender may share our tap: no frames for us until we run the guest. */
		if (tcp)
			virtio_net_tap_queues(false);
		/* Nothing runs yet: SIGINT and SIGTERM may end the wait as they are. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		if (tcp ? migration_incoming_tcp(incoming + 4, &st, &err) :
		    snapshot_load(incoming + 5, &st, &err))
			die(ST_USAGE, "--incoming: %s", err);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		if (tcp)
			virtio_net_tap_queues(true);
		vlog("restored %s: %llu pages, %llu bytes", incoming,
		     (unsigned long long)st.pages_saved, (unsigned long long)st.bytes);
		virtio_restored();
	} else {
		boot_setup_bsp(&vm.vcpus[0]);
	}
	if (nr_cpus > 1 && !vm.lapic)
		fprintf(stderr, "hvx-run: -c %d: vCPUs 1-%d are not started: SMP needs INIT/SIPI "
			"from hvx.ko's local APIC; booting vCPU 0 only\n", nr_cpus, nr_cpus - 1);

	if (qmp_path) {
		const char *why;

		if (control_start(qmp_path, &why))
			die(ST_USAGE, "--qmp %s: %s", qmp_path, why);
	}
	iothread_start();
	vcpus_start();
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!vm_stopping()) {
		while (sem_wait(&stop_sem) && errno == EINTR)
			;
		if (stop_signal == SIGINT)
			vm_stop(ST_SIGINT, "interrupted (SIGINT): VM torn down");
		else if (stop_signal == SIGTERM)
			vm_stop(ST_SIGTERM, "terminated (SIGTERM): VM torn down");
	}
	if (qmp_path)
		control_shutdown(stop_status);
	vcpus_stop();
	if (verbose)
		virtio_report();
	/* A test of the device state stream (selftests/hvx_run_test.sh). */
	if (getenv("HVX_RUN_STATE_CHECK") && state_round_trip() && stop_status == ST_POWEROFF)
		stop_status = ST_INTERNAL;
	/*
	 * Closing the VM and vCPU fds (exit does it) is the whole teardown:
	 * hvx.ko frees guest memory and vCPUs with the last reference.
	 */
	serial_tty_restore();
	/* The guest's last line may lack its newline. */
	fprintf(stderr, "%shvx-run: %s\n", isatty(STDERR_FILENO) ? "\n" : "", stop_msg);
	exit(stop_status);
}
