// SPDX-License-Identifier: GPL-2.0
/*
 * boot_bench.c - time from starting a VMM to the guest's first /init line:
 * hvx-run on /dev/hvx and QEMU (-M microvm -enable-kvm) on Debian's KVM,
 * booting the same kernel and initramfs in one test-host boot.  Prints
 * "bench boot_to_init_ms hvx=<ms> qemu_kvm=<ms> ratio=<hvx/qemu>".
 * Under QEMU -icount shift=0 a test-host nanosecond is one instruction.
 *
 * Usage: boot_bench MARKER KERNEL INITRD CMDLINE
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Run @argv with its output on a pipe; the milliseconds until @marker
 * appears in it, or -1 if it does not within @timeout_s seconds.  The VMM
 * is killed then: what comes after /init is not measured.
 */
static double time_to_marker(char *const argv[], const char *marker, int timeout_s)
{
	char buf[4096], tail[8192] = "";
	double t0 = now_ms(), found = -1;
	int pipefd[2], status;
	size_t len = 0;
	pid_t pid;
	ssize_t n;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	alarm(timeout_s);
	while (found < 0 && (n = read(pipefd[0], buf, sizeof(buf) - 1)) > 0) {
		/* Keep a window of the output: the marker may span two reads. */
		buf[n] = 0;
		if (len + n >= sizeof(tail)) {
			memmove(tail, tail + len / 2, len - len / 2 + 1);
			len -= len / 2;
		}
		memcpy(tail + len, buf, n + 1);
		len += n;
		if (strstr(tail, marker))
			found = now_ms() - t0;
	}
	if (found < 0)
		fprintf(stderr, "# %s: no \"%s\" in its output; last: %.300s\n", argv[0],
			marker, len > 300 ? tail + len - 300 : tail);
	alarm(0);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(pipefd[0]);
	return found;
}

static void on_alarm(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	char mem[] = "256M";
	double h, q;

	if (argc != 5) {
		fprintf(stderr, "usage: %s MARKER KERNEL INITRD CMDLINE\n", argv[0]);
		return 2;
	}
	sigaction(SIGALRM, &(struct sigaction){ .sa_handler = on_alarm }, NULL);
	{
		char *hvx[] = { "hvx-run", "-k", argv[2], "-i", argv[3], "-p", argv[4],
				"-m", mem, NULL };
		char *qemu[] = { "qemu-system-x86_64", "-M", "microvm", "-enable-kvm",
				 "-cpu", "host", "-m", mem, "-smp", "1", "-nodefaults",
				 "-no-user-config", "-nographic", "-serial", "stdio",
				 "-no-reboot", "-kernel", argv[2], "-initrd", argv[3],
				 "-append", argv[4], NULL };

		printf("# boot to the first line of /init (\"%s\"), -m %s, 1 vCPU\n",
		       argv[1], mem);
		fflush(stdout);
		h = time_to_marker(hvx, argv[1], 300);
		q = time_to_marker(qemu, argv[1], 300);
	}
	if (h < 0 || q < 0) {
		printf("bench boot_to_init_ms hvx=%s qemu_kvm=%s ratio=n/a\n",
		       h < 0 ? "error" : "ok", q < 0 ? "error" : "ok");
		return 1;
	}
	printf("bench boot_to_init_ms hvx=%.0f qemu_kvm=%.0f ratio=%.2f\n", h, q, h / q);
	return 0;
}
