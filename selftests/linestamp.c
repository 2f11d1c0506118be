// SPDX-License-Identifier: GPL-2.0
/*
 * linestamp.c - copies standard input to standard output, each line
 * prefixed with the milliseconds (CLOCK_MONOTONIC) since linestamp started
 * at which the line was complete.  virtio_bench.sh times a guest's phases
 * by the host's clock with it: the VMM's console goes through a pipe to
 * linestamp, so the guest's own clock (kvmclock under KVM, the TSC under
 * hvx-run) plays no part.  Under QEMU -icount shift=0 a millisecond is a
 * million emulated instructions.
 *
 * Usage: VMM ... | linestamp >LOG
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(void)
{
	char buf[4096];
	double t0 = now_ms(), t;
	int at_line_start = 1;
	ssize_t n, i, start;

	for (;;) {
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/*
		 * A line's stamp is when its first bytes arrived: a console
		 * line is written in one go, and the guest prints a phase's
		 * marker right before the phase begins or after it ended.
		 */
		t = now_ms() - t0;
		for (start = i = 0; i < n; i++) {
			if (at_line_start) {
				printf("%.3f ", t);
				at_line_start = 0;
			}
			if (buf[i] == '\n') {
				fwrite(buf + start, 1, i + 1 - start, stdout);
				start = i + 1;
				at_line_start = 1;
			}
		}
		fwrite(buf + start, 1, n - start, stdout);
		fflush(stdout);
	}
	if (!at_line_start)
		putchar('\n');
	return n < 0;
}
