/* SPDX-License-Identifier: GPL-2.0 */
/* hostmem.h - the test host's free memory and live slab bytes, for leak checks. */
#ifndef HVX_HOSTMEM_H
#define HVX_HOSTMEM_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Free KiB, counting pages parked on per-CPU free lists (MemFree does not). */
static inline long host_free_kb(void)
{
	char key[64];
	long val, sum = 0;
	FILE *f;

	sync();
	f = fopen("/proc/sys/vm/drop_caches", "w");
	if (f) {
		fputs("3", f);
		fclose(f);
	}
	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s", key) == 1) {
		if ((!strcmp(key, "nr_free_pages") || !strcmp(key, "count:")) &&
		    fscanf(f, "%ld", &val) == 1)
			sum += val;
	}
	fclose(f);
	return sum * 4;
}

/*
 * Bytes in live slab objects, all caches (active objects * object size),
 * after asking SLUB to flush its per-CPU slabs, which it counts as live.
 */
static inline long host_slab_bytes(void)
{
	char line[512], name[64];
	long active, total, size, sum = 0;
	struct dirent *de;
	DIR *dir = opendir("/sys/kernel/slab");
	FILE *f;

	while (dir && (de = readdir(dir))) {
		snprintf(line, sizeof(line), "/sys/kernel/slab/%s/shrink", de->d_name);
		f = fopen(line, "w");
		if (f) {
			fputs("1", f);
			fclose(f);
		}
	}
	if (dir)
		closedir(dir);
	f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld %ld %ld", name, &active, &total, &size) == 4)
			sum += active * size;
	fclose(f);
	return sum;
}

#endif /* HVX_HOSTMEM_H */
