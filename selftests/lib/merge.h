/* SPDX-License-Identifier: GPL-2.0 */
/* merge.h - the selftests' and benchmark's handle on page merging: sysfs knobs, per-VM policy, content. */
#ifndef HVX_MERGE_H
#define HVX_MERGE_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/hvx.h>

#define MERGE_SYSFS	"/sys/class/misc/hvx/merge/"

/* A number from /sys/class/misc/hvx/merge/@name, or -1. */
static inline long merge_read(const char *name)
{
	char path[128], buf[32] = "";
	int fd;

	snprintf(path, sizeof(path), MERGE_SYSFS "%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) <= 0)
		buf[0] = 0;
	close(fd);
	return buf[0] ? strtol(buf, NULL, 10) : -1;
}

/* Write @val to a merge knob: 0 or -errno. */
static inline int merge_write(const char *name, const char *val)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), MERGE_SYSFS "%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Set the scanner: run, pages_to_scan, sleep_millisecs; 0 or -errno. */
static inline int merge_tune(int run, int pages, int sleep_ms)
{
	char v[3][16];

	snprintf(v[0], sizeof(v[0]), "%d", run);
	snprintf(v[1], sizeof(v[1]), "%d", pages);
	snprintf(v[2], sizeof(v[2]), "%d", sleep_ms);
	return merge_write("pages_to_scan", v[1]) ?: merge_write("sleep_millisecs", v[2]) ?:
	       merge_write("run", v[0]);
}

static inline int merge_set_policy(int vm_fd, uint32_t policy)
{
	struct hvx_merge_config cfg = { .policy = policy };

	return ioctl(vm_fd, HVX_SET_MERGE, &cfg) ? -errno : 0;
}

static inline int merge_stats(int vm_fd, struct hvx_merge_stats *st)
{
	memset(st, 0, sizeof(*st));
	return ioctl(vm_fd, HVX_GET_MERGE_STATS, st) ? -errno : 0;
}

static inline uint64_t merge_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * Poll the knob @name until it reads at least @want or @timeout_ms pass;
 * returns the last value read.
 */
static inline long merge_wait_for(const char *name, long want, int timeout_ms)
{
	uint64_t end = merge_now_ns() + timeout_ms * 1000000ull;
	long v;

	while ((v = merge_read(name)) < want && merge_now_ns() < end)
		usleep(2000);
	return v;
}

/* Page @n of a content set: distinct per @n, the same in every VM. */
static inline void merge_fill_page(void *page, uint64_t n)
{
	uint64_t *q = page;
	int i;

	for (i = 0; i < 512; i++)
		q[i] = (n + 1) * 0x9e3779b97f4a7c15ull + i;
}

static inline int merge_check_page(const void *page, uint64_t n)
{
	const uint64_t *q = page;
	int i;

	for (i = 0; i < 512; i++)
		if (q[i] != (n + 1) * 0x9e3779b97f4a7c15ull + i)
			return -1;
	return 0;
}

#endif /* HVX_MERGE_H */
