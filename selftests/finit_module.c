// SPDX-License-Identifier: GPL-2.0
/* finit_module.c - helper: loads a module with exactly one finit_module() call (busybox insmod retries). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: finit_module MODULE.ko [PARAMS]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || syscall(SYS_finit_module, fd, argc > 2 ? argv[2] : "", 0)) {
		printf("finit_module: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	return 0;
}
