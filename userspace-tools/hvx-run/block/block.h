/* SPDX-License-Identifier: GPL-2.0 */
/* block/block.h - the disk image interface virtio-blk calls (open, read, write, flush, discard, write zeroes), one backend per image format. */
#ifndef HVX_RUN_BLOCK_H
#define HVX_RUN_BLOCK_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct block;

/*
 * An image format.  Every call but open returns 0 or a negative errno;
 * offsets and lengths are in bytes and lie inside the image (the device
 * checks them first).  Reads and writes move all of @iov or fail.
 */
struct block_ops {
	const char *format;
	/* Opens b->path (b->fd is open on it); fills size. NULL when it worked, else why not. */
	const char *(*open)(struct block *b);
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

/* How to open an image; all but ro may be left zero. */
struct block_options {
	bool ro;
	const char *format;	/* "raw", "qcow2", or NULL: probed */
	const char *snapshot;	/* qcow2: an internal snapshot's name or id (read-only) */
};

/* Backing chains deeper than this are refused (QEMU has no limit; loops end here too). */
#define BLOCK_MAX_CHAIN	16

/* One open image. */
struct block {
	const struct block_ops *ops;
	const char *path;
	bool ro;
	uint64_t size;		/* bytes */
	int fd;			/* the image file */
	const char *snapshot;	/* qcow2: the internal snapshot it shows, or NULL */
	bool probed;		/* its format was guessed from its first bytes */
	int depth;		/* 0 for the disk, n for its n-th backing file */
	dev_t dev;		/* the file's identity, to find loops in a backing chain */
	ino_t ino;
	const struct block *parent;	/* the image whose backing file this is */
	void *priv;		/* the format's own state */
};

/* Opens @path; NULL when it worked, else one line saying why not. */
const char *block_open(struct block *b, const char *path, const struct block_options *opt);

/*
 * For formats with backing files: opens @path (read-only) as @parent's
 * backing image, in @format or probed; refuses a chain that is too deep
 * or comes back to an image already in it.
 */
const char *block_open_backing(struct block *parent, struct block *b, const char *path,
			       const char *format);

void block_close(struct block *b);

/*
 * An external snapshot of the open disk @b: a new qcow2 overlay at @path
 * (made here, or with @existing one that is there) whose backing file is
 * @b's image; @b then is that overlay, and its old image, reopened
 * read-only below it, changes no more.  Writes must be stopped meanwhile.
 */
const char *block_snapshot(struct block *b, const char *path, bool existing);

/* block/qcow2.c: a new empty image, as qemu-img create -f qcow2 [-b BACKING -F FMT] makes it. */
const char *qcow2_create(const char *path, uint64_t size, const char *backing, const char *backing_fmt);

/* Reads exactly @len bytes at @off of the file behind @fd; -EIO at its end. */
int block_pread_all(int fd, void *buf, size_t len, uint64_t off);
int block_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);

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
/* block/qcow2.c: QEMU's qcow2, versions 2 and 3. */
extern const struct block_ops block_qcow2_ops;

#endif /* HVX_RUN_BLOCK_H */
