// SPDX-License-Identifier: GPL-2.0
/* hvx_hold.c - helper for shell tests: holds N VM fds (default 1, no /dev/hvx fd) until stdin closes. */
#include "hvx_util.h"

int main(int argc, char **argv)
{
	int fd = open("/dev/hvx", O_RDWR | O_CLOEXEC), n = 1, i;
	int vms[256];
	char c;

	if (argc > 1)
		n = atoi(argv[1]);
	if (fd < 0 || n < 1 || n > 256)
		return 1;
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
