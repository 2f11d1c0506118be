// SPDX-License-Identifier: GPL-2.0
/* block/block.c - opening a disk image with the backend of its format (given or probed), backing chains, whole-buffer file I/O. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"

static const struct block_ops *const formats[] = { &block_raw_ops, &block_qcow2_ops };

int block_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t r = pread(fd, buf, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		buf = (uint8_t *)buf + r;
		len -= r;
		off += r;
	}
	return 0;
}

int block_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t r = pwrite(fd, buf, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		buf = (const uint8_t *)buf + r;
		len -= r;
		off += r;
	}
	return 0;
}

/* qcow2's magic, "QFI\xfb", opens a file; anything else is raw. */
static const struct block_ops *probe(int fd)
{
	uint8_t magic[4];

	if (!block_pread_all(fd, magic, 4, 0) && !memcmp(magic, "QFI\xfb", 4))
		return &block_qcow2_ops;
	return &block_raw_ops;
}

static const char *do_open(struct block *b, const char *path, const char *format)
{
	static char why[512];
	struct stat st;
	size_t i;

	b->ops = NULL;
	for (i = 0; format && i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcmp(format, formats[i]->format))
			b->ops = formats[i];
	if (format && !b->ops) {
		snprintf(why, sizeof(why), "%s: unknown format '%s' (raw or qcow2)", path, format);
		return why;
	}
	b->path = path;
	b->fd = open(path, (b->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		snprintf(why, sizeof(why), "cannot open %s: %s", path, strerror(errno));
		return why;
	}
	if (fstat(b->fd, &st) || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		snprintf(why, sizeof(why), "%s: not a file or block device", path);
		close(b->fd);
		return why;
	}
	b->dev = st.st_dev;
	b->ino = st.st_ino;
	if (!b->ops) {
		b->ops = probe(b->fd);
		b->probed = true;
	}
	if (b->snapshot && b->ops != &block_qcow2_ops) {
		snprintf(why, sizeof(why), "%s: snapshot= needs a qcow2 image", path);
		close(b->fd);
		return why;
	}
	format = b->ops->open(b);
	if (format) {
		close(b->fd);
		return format;
	}
	return NULL;
}

const char *block_open(struct block *b, const char *path, const struct block_options *opt)
{
	memset(b, 0, sizeof(*b));
	b->ro = opt->ro || opt->snapshot;
	b->snapshot = opt->snapshot;
	return do_open(b, path, opt->format);
}

const char *block_open_backing(struct block *parent, struct block *b, const char *path,
			       const char *format)
{
	static char why[512];
	const struct block *p;
	struct stat st;

	memset(b, 0, sizeof(*b));
	b->ro = true;
	b->depth = parent->depth + 1;
	if (b->depth > BLOCK_MAX_CHAIN) {
		snprintf(why, sizeof(why), "%s: backing chain deeper than %d images", path,
			 BLOCK_MAX_CHAIN);
		return why;
	}
	/* The same file twice in one chain would recurse for ever. */
	if (!stat(path, &st))
		for (p = parent; p; p = p->parent)
			if (p->dev == st.st_dev && p->ino == st.st_ino) {
				snprintf(why, sizeof(why), "%s: loop in the backing chain", path);
				return why;
			}
	b->parent = parent;
	return do_open(b, path, format);
}

void block_close(struct block *b)
{
	if (!b->ops)
		return;
	b->ops->close(b);
	close(b->fd);
	b->ops = NULL;
}
