// SPDX-License-Identifier: GPL-2.0
/* hvx_hold.c - helper for shell tests: holds N VM fds (default 1, no /dev/hvx fd) until stdin closes. */
#include <sys/resource.h>

#include "hvx_util.h"

int main(int argc, char **argv)
{
	int fd = open("/dev/hvx", O_RDWR | O_CLOEXEC), n = 1, i;
	int vms[1024];
	char c;

	if (argc > 1)
		n = atoi(argv[1]);
	struct rlimit rl = { 2048, 2048 };

	if (fd < 0 || n < 1 || n > 1024)
		return 1;
	setrlimit(RLIMIT_NOFILE, &rl);
	for (i = 0; i < n; i++) {
		vms[i] = ioctl(fd, HVX_CREATE_VM, 0);
		if (vms[i] < 0)
			return 1;
	}
	close(fd);
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (i = 0; i < n; i++)
		close(vms[i]);
	return 0;
}
