/* SPDX-License-Identifier: GPL-2.0 */
/* migration/snapshot.h - saving a stopped VM to a file and restoring it into a new hvx-run. */
#ifndef HVX_RUN_SNAPSHOT_H
#define HVX_RUN_SNAPSHOT_H

#include <stdbool.h>
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

/*
 * The stream underneath, for live migration (migration/live.c): a writer
 * of checksummed sections onto a file or socket, paced to @max_bandwidth
 * (bytes/s, 0: unlimited) and stopping with err "cancelled" once *@cancel.
 */
struct mig_writer {
	int fd;
	uint64_t bytes;
	uint32_t sections;
	const char *err;
	uint64_t max_bandwidth;
	uint64_t t0_ns;
	volatile bool *cancel;
	uint8_t *copy;		/* a run of pages as it goes out */
};

void mig_writer_init(struct mig_writer *w, int fd);
void mig_writer_free(struct mig_writer *w);
void mig_write_config(struct mig_writer *w);
void mig_write_all_ram(struct mig_writer *w, struct snapshot_stats *st);
void mig_write_pages(struct mig_writer *w, uint64_t gpa, const uint64_t *bits, uint64_t npages,
		     bool zero_markers, struct snapshot_stats *st);
/* With the VM paused: every vCPU, the devices, the end marker. */
void mig_write_machine(struct mig_writer *w);
int mig_page_bitmap(uint32_t slot, uint32_t kind, uint64_t npages, uint64_t *bits);
/* Load a stream from @fd; @size is the file's, or UINT64_MAX for a socket. */
int mig_load_fd(int fd, uint64_t size, struct snapshot_stats *st, const char **err);

#endif /* HVX_RUN_SNAPSHOT_H */
