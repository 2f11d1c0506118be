// SPDX-License-Identifier: GPL-2.0
/* block/raw.c - raw disk images: the file is the disk, byte for byte; holes for discard. */
#define _GNU_SOURCE	/* fallocate */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>

#include "block/block.h"

static const char *raw_open(struct block *b)
{
	static char why[256];
	off_t size = lseek(b->fd, 0, SEEK_END);

	if (size < 0) {
		snprintf(why, sizeof(why), "%s: cannot find its size: %s", b->path, strerror(errno));
		return why;
	}
	b->size = size;
	return NULL;
}

/* All of @iov at @off, through short transfers; end of file is an error. */
static int raw_rw(struct block *b, struct iovec *iov, int n, uint64_t off, bool write)
{
	while (n > 0) {
		ssize_t r = write ? pwritev(b->fd, iov, n, off) : preadv(b->fd, iov, n, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return -EIO;
		off += r;
		while (n && (size_t)r >= iov->iov_len) {
			r -= iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= r;
		}
	}
	return 0;
}

static int raw_readv(struct block *b, struct iovec *iov, int n, uint64_t off)
{
	return raw_rw(b, iov, n, off, false);
}

/*
 * A raw image whose format was probed must not become another format: a
 * guest that wrote a qcow2 header (with a backing file name of its
 * choosing, say /etc/shadow) into its disk's first bytes would have the
 * next hvx-run open that file for it.  Such a write fails, as QEMU's
 * probed raw images refuse it; format=raw lifts the guard.
 */
static bool raw_write_changes_format(struct block *b, const struct iovec *iov, int n, uint64_t off)
{
	uint8_t head[4];
	size_t got = 0;
	int i;

	if (!b->probed || off >= sizeof(head))
		return false;
	for (i = 0; i < n && got < sizeof(head) - off; i++) {
		size_t take = iov[i].iov_len < sizeof(head) - off - got ?
			      iov[i].iov_len : sizeof(head) - off - got;

		memcpy(head + off + got, iov[i].iov_base, take);
		got += take;
	}
	if (off + got < sizeof(head) &&
	    block_pread_all(b->fd, head + off + got, sizeof(head) - off - got, off + got))
		return false;
	if (off)	/* the bytes before @off stay as they are */
		if (block_pread_all(b->fd, head, off, 0))
			return false;
	return !memcmp(head, "QFI\xfb", 4);
}

static int raw_writev(struct block *b, struct iovec *iov, int n, uint64_t off)
{
	if (raw_write_changes_format(b, iov, n, off))
		return -EPERM;
	return raw_rw(b, iov, n, off, true);
}

static int raw_flush(struct block *b)
{
	return fdatasync(b->fd) ? -errno : 0;
}

/* Hole punching, where the file system has it. */
static int raw_discard(struct block *b, uint64_t off, uint64_t len)
{
	return fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) ? -errno : 0;
}

/* ZERO_RANGE, a punched hole (with @unmap), or zeroes written. */
static int raw_write_zeroes(struct block *b, uint64_t off, uint64_t len, bool unmap)
{
	static const uint8_t zero[64 << 10];

	if (unmap && !raw_discard(b, off, len))
		return 0;
	if (!fallocate(b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len))
		return 0;
	while (len > 0) {
		ssize_t r = pwrite(b->fd, zero, len < sizeof(zero) ? len : sizeof(zero), off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		off += r;
		len -= r;
	}
	return 0;
}

/* block_close() closes the file; raw keeps nothing else. */
static void raw_close(struct block *b)
{
	(void)b;
}

const struct block_ops block_raw_ops = {
	.format		= "raw",
	.open		= raw_open,
	.readv		= raw_readv,
	.writev		= raw_writev,
	.flush		= raw_flush,
	.discard	= raw_discard,
	.write_zeroes	= raw_write_zeroes,
	.close		= raw_close,
};
