/* SPDX-License-Identifier: GPL-2.0 */
/* migration/snapshot.h - saving a stopped VM to a file and restoring it into a new hvx-run. */
#ifndef HVX_RUN_SNAPSHOT_H
#define HVX_RUN_SNAPSHOT_H

#include <stdint.h>

struct snapshot_stats {
	uint64_t bytes;			/* the file's size */
	uint64_t pages_allocated;	/* guest pages hvx.ko had allocated */
	uint64_t pages_zero;		/* of those, zero-filled: left out */
	uint64_t pages_saved;		/* pages in the file */
};

/*
 * With the VM paused (vm_pause): write it to @path.  0, or -1 with *@err
 * saying why (the partial file is removed).
 */
int snapshot_save(const char *path, struct snapshot_stats *st, const char **err);

/*
 * Into a VM just made with the same -m and -c, its devices initialised and
 * nothing running yet: load @path.  0, or -1 with *@err a one-line reason;
 * the caller must then exit without running anything.
 */
int snapshot_load(const char *path, struct snapshot_stats *st, const char **err);

#endif /* HVX_RUN_SNAPSHOT_H */
