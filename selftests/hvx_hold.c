// SPDX-License-Identifier: GPL-2.0
/* hvx_hold.c - helper for shell tests: holds a VM fd (and nothing else) until stdin closes. */
#include "hvx_util.h"

int main(void)
{
	int fd = open("/dev/hvx", O_RDWR | O_CLOEXEC), vm;
	char c;

	if (fd < 0)
		return 1;
	vm = ioctl(fd, HVX_CREATE_VM, 0);
	close(fd);
	if (vm < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	close(vm);
	return 0;
}
