/* SPDX-License-Identifier: GPL-2.0 */
/* hvx_util.h - what several selftests need to ask of /dev/hvx and the host. */
#ifndef HVX_UTIL_H
#define HVX_UTIL_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/hvx.h>

#include "ktap.h"

/* Open /dev/hvx or exit with KSFT_SKIP/KSFT_FAIL after saying why. */
static inline int hvx_open_or_exit(void)
{
	int fd = open("/dev/hvx", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("TAP version 13\n1..0 # SKIP cannot open /dev/hvx: %s\n",
		       strerror(errno));
		exit(errno == ENOENT ? KSFT_SKIP : KSFT_FAIL);
	}
	return fd;
}

static inline int hvx_get_caps(int fd, struct hvx_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	return ioctl(fd, HVX_GET_CAPS, caps);
}

/* HVX_VENDOR_* of this host's hvx.ko, or exit as hvx_open_or_exit() does. */
static inline uint32_t hvx_vendor_or_exit(void)
{
	struct hvx_caps caps;
	int fd = hvx_open_or_exit();

	hvx_get_caps(fd, &caps);
	close(fd);
	return caps.vendor;
}

/* Does the word @flag appear in /proc/cpuinfo (flags or vmx flags)? */
static inline bool host_has_cpu_flag(const char *flag)
{
	char line[8192], *tok, *save;
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) && strncmp(line, "vmx flags", 9))
			continue;
		for (tok = strtok_r(line, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save))
			if (!strcmp(tok, flag)) {
				found = true;
				break;
			}
	}
	fclose(f);
	return found;
}

/* Read MSR @msr on @cpu through the msr driver; -1 if it cannot. */
static inline int host_read_msr(int cpu, uint32_t msr, uint64_t *val)
{
	char path[64];
	int fd, ok;

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ok = pread(fd, val, sizeof(*val), msr) == sizeof(*val);
	close(fd);
	return ok ? 0 : -1;
}

static inline int host_nr_online_cpus(void)
{
	return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

/* Set /sys/devices/system/cpu/cpuN/online to @on; 0 on success. */
static inline int host_set_cpu_online(int cpu, bool on)
{
	char path[80];
	int fd, ok;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ok = write(fd, on ? "1" : "0", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}

#endif /* HVX_UTIL_H */
