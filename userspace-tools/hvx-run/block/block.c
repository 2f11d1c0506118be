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
	format = do_open(b, path, format);
	b->parent = NULL;	/* only the opens below this one needed it */
	return format;
}

const char *block_snapshot(struct block *b, const char *path, bool existing)
{
	static char why[512];
	struct block nb;
	char *real, *copy;
	const char *err;

	if (b->ro) {
		snprintf(why, sizeof(why), "%s is read-only", b->path);
		return why;
	}
	if (b->ops->flush(b)) {
		snprintf(why, sizeof(why), "%s: flush failed: %s", b->path, strerror(errno));
		return why;
	}
	copy = strdup(path);
	real = realpath(b->path, NULL);
	if (!copy || !real) {
		snprintf(why, sizeof(why), "%s: %s", b->path, strerror(errno));
		free(copy);
		free(real);
		return why;
	}
	if (!existing) {
		/* Absolute names: the overlay works from wherever it is opened. */
		err = qcow2_create(path, b->size, real, b->ops->format);
		if (err) {
			snprintf(why, sizeof(why), "%s", err);
			goto fail;
		}
	}
	err = block_open(&nb, copy, &(struct block_options){ .format = "qcow2" });
	if (err) {
		snprintf(why, sizeof(why), "%s", err);
		if (!existing)
			unlink(path);
		goto fail;
	}
	if (nb.size != b->size) {
		snprintf(why, sizeof(why), "%s: %llu bytes, the disk has %llu", path,
			 (unsigned long long)nb.size, (unsigned long long)b->size);
		block_close(&nb);
		goto fail;
	}
	block_close(b);
	*b = nb;
	free(real);
	return NULL;
fail:
	free(copy);
	free(real);
	return why;
}

void block_close(struct block *b)
{
	if (!b->ops)
		return;
	b->ops->close(b);
	close(b->fd);
	b->ops = NULL;
}
