/* SPDX-License-Identifier: GPL-2.0 */
/* hvx-stats.h - reads a binary stats fd (HVX_GET_STATS_FD): layout once, values on each refresh. */
#ifndef HVX_STATS_READER_H
#define HVX_STATS_READER_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/hvx.h>

struct hvx_stats {
	int fd;
	struct hvx_stats_header h;
	char *desc;		/* h.nr_desc descriptors of h.desc_size bytes */
	uint64_t *data;		/* h.data_size bytes of values */
};

static inline void hvx_stats_close(struct hvx_stats *s)
{
	free(s->desc);
	free(s->data);
	if (s->fd >= 0)
		close(s->fd);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static inline int hvx_stats_pread_all(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Reads the values again: one pread, so they belong together. */
static inline int hvx_stats_refresh(struct hvx_stats *s)
{
	return hvx_stats_pread_all(s->fd, s->data, s->h.data_size, s->h.data_offset);
}

/* Takes @fd (closed by hvx_stats_close); 0 or -errno (-EPROTO: not a stats fd). */
static inline int hvx_stats_open(struct hvx_stats *s, int fd)
{
	size_t dlen;
	int ret;

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	ret = hvx_stats_pread_all(fd, &s->h, sizeof(s->h), 0);
	if (ret)
		goto fail;
	ret = -EPROTO;
	if (s->h.magic != HVX_STATS_MAGIC || s->h.desc_size < sizeof(struct hvx_stats_desc) ||
	    s->h.name_size > s->h.desc_size - sizeof(struct hvx_stats_desc) ||
	    s->h.nr_desc > 4096 || s->h.data_size > (1u << 24) || s->h.data_size % 8)
		goto fail;
	dlen = (size_t)s->h.nr_desc * s->h.desc_size;
	s->desc = malloc(dlen ? dlen : 1);
	s->data = malloc(s->h.data_size ? s->h.data_size : 1);
	ret = -ENOMEM;
	if (!s->desc || !s->data)
		goto fail;
	ret = hvx_stats_pread_all(fd, s->desc, dlen, s->h.desc_offset);
	if (!ret)
		ret = hvx_stats_refresh(s);
	if (ret)
		goto fail;
	return 0;
fail:
	hvx_stats_close(s);
	return ret;
}

static inline const struct hvx_stats_desc *hvx_stats_desc_at(const struct hvx_stats *s,
							   unsigned int i)
{
	return (const struct hvx_stats_desc *)(s->desc + (size_t)i * s->h.desc_size);
}

/* The values of descriptor @d, or NULL if the kernel described them out of range. */
static inline const uint64_t *hvx_stats_values(const struct hvx_stats *s,
					       const struct hvx_stats_desc *d)
{
	if (d->offset % 8 || d->offset > s->h.data_size ||
	    d->count > (s->h.data_size - d->offset) / 8)
		return NULL;
	return s->data + d->offset / 8;
}

/* The first value of the stat named @name, or @dflt if there is none. */
static inline uint64_t hvx_stats_get(const struct hvx_stats *s, const char *name, uint64_t dflt)
{
	unsigned int i;

	for (i = 0; i < s->h.nr_desc; i++) {
		const struct hvx_stats_desc *d = hvx_stats_desc_at(s, i);
		const uint64_t *v;

		if (strncmp(d->name, name, s->h.name_size))
			continue;
		v = hvx_stats_values(s, d);
		return v && d->count ? v[0] : dflt;
	}
	return dflt;
}

#endif /* HVX_STATS_READER_H */
