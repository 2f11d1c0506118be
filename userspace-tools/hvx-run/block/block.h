/* SPDX-License-Identifier: GPL-2.0 */
/* block/block.h - the disk image interface virtio-blk calls (open, read, write, flush, discard, write zeroes), one backend per image format. */
#ifndef HVX_RUN_BLOCK_H
#define HVX_RUN_BLOCK_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct block;

/*
 * An image format.  Every call but open returns 0 or a negative errno;
 * offsets and lengths are in bytes and lie inside the image (the device
 * checks them first).  Reads and writes move all of @iov or fail.
 */
struct block_ops {
	const char *format;
	/* Opens @path; fills size. NULL when it worked, else why not. */
	const char *(*open)(struct block *b, const char *path);
	int (*readv)(struct block *b, struct iovec *iov, int n, uint64_t off);
	int (*writev)(struct block *b, struct iovec *iov, int n, uint64_t off);
	/* Makes every completed write durable. */
	int (*flush)(struct block *b);
	/* A hint: the range's contents may be dropped (reads then undefined). */
	int (*discard)(struct block *b, uint64_t off, uint64_t len);
	/* The range reads as zeroes afterwards; @unmap allows freeing it. */
	int (*write_zeroes)(struct block *b, uint64_t off, uint64_t len, bool unmap);
	void (*close)(struct block *b);
};

/* One open image. */
struct block {
	const struct block_ops *ops;
	const char *path;
	bool ro;
	uint64_t size;		/* bytes */
	int fd;			/* the image file (raw) */
};

/* Opens @path (read-only with @ro); NULL when it worked, else why not. */
const char *block_open(struct block *b, const char *path, bool ro);

static inline int block_readv(struct block *b, struct iovec *iov, int n, uint64_t off)
{
	return b->ops->readv(b, iov, n, off);
}

static inline int block_writev(struct block *b, struct iovec *iov, int n, uint64_t off)
{
	return b->ro ? -EROFS : b->ops->writev(b, iov, n, off);
}

static inline int block_flush(struct block *b)
{
	return b->ro ? 0 : b->ops->flush(b);
}

static inline int block_discard(struct block *b, uint64_t off, uint64_t len)
{
	return b->ro ? -EROFS : b->ops->discard(b, off, len);
}

static inline int block_write_zeroes(struct block *b, uint64_t off, uint64_t len, bool unmap)
{
	return b->ro ? -EROFS : b->ops->write_zeroes(b, off, len, unmap);
}

/* block/raw.c: the image file is the disk, byte for byte. */
extern const struct block_ops block_raw_ops;

#endif /* HVX_RUN_BLOCK_H */
