// SPDX-License-Identifier: GPL-2.0
/* block/qcow2.c - QEMU's qcow2 images (versions 2 and 3): two-level cluster tables, refcounts, allocation on write, zero and compressed clusters, backing files, internal snapshots read-only. */
#define _GNU_SOURCE	/* fallocate */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <zlib.h>

#include "block/block.h"

/*
 * The format is QEMU's docs/interop/qcow2.txt; all numbers in the file are
 * big-endian.  What this backend guarantees, and why in this order:
 *
 * - Metadata is written through: every table entry goes to the file when it
 *   changes, and the in-memory copies are caches of what the file says.
 * - A new cluster is first covered by the file (ftruncate), then counted
 *   (refcount 1), then filled, and only then pointed to (L2 or L1 entry); a
 *   cluster is first unhooked, then uncounted.  An hvx-run killed between
 *   any two writes leaves at worst clusters counted but unused (leaks, which
 *   `qemu-img check` reports and `-r leaks` reclaims), never an entry that
 *   points at a free or half-written cluster.
 * - Refcounts are kept exact at all times, so the dirty bit is never set,
 *   even where the image allows lazy refcounts (an option, not a duty).
 * - Shared clusters (refcount above 1: internal snapshots) have no COPIED
 *   flag; writing to one copies it first (and its L2 table likewise).
 */

#define QCOW2_MAGIC		0x514649fbu
#define HDR_V2_LEN		72
#define HDR_V3_LEN		104

#define INCOMPAT_DIRTY		(1ull << 0)
#define INCOMPAT_CORRUPT	(1ull << 1)
#define INCOMPAT_DATA_FILE	(1ull << 2)
#define INCOMPAT_COMPRESSION	(1ull << 3)
#define INCOMPAT_EXTL2		(1ull << 4)

#define EXT_END			0x00000000u
#define EXT_BACKING_FORMAT	0xe2792acau

#define OFLAG_COPIED		(1ull << 63)
#define OFLAG_COMPRESSED	(1ull << 62)
#define OFLAG_ZERO		(1ull << 0)
#define OFFSET_MASK		0x00fffffffffffe00ull	/* bits 9-55 */
#define L1_RESERVED		0x7f000000000001ffull
#define L2_RESERVED		0x3f000000000001feull
#define RT_RESERVED		0x00000000000001ffull

/* Bounds QEMU itself keeps (and a hostile header must not exceed). */
#define MAX_L1_BYTES		(32u << 20)
#define MAX_RT_BYTES		(8u << 20)
#define MAX_SIZE		(1ull << 55)
#define MAX_SNAPSHOTS		65536
#define MAX_BACKING_NAME	1023

/* An in-memory copy of one metadata cluster (L2 table or refcount block). */
struct meta_slot {
	uint64_t off;		/* where it lives in the file; 0: empty */
	uint64_t used;		/* for LRU replacement */
	uint8_t *data;
};

struct meta_cache {
	struct meta_slot *slot;
	unsigned int n;
};

/* A region of the file that data must never land on. */
struct extent {
	uint64_t off, len;
};

struct qcow2 {
	pthread_mutex_t lock;
	uint32_t version;
	unsigned int cluster_bits;
	uint64_t cluster_size;
	unsigned int l2_bits;		/* log2 of entries per L2 table */
	uint64_t l1_off;		/* the active (or chosen snapshot's) L1 table */
	uint32_t l1_size;
	uint64_t *l1;			/* host order */
	uint64_t rt_off;
	uint32_t rt_clusters;
	uint64_t rt_entries;
	uint64_t *rt;			/* host order */
	unsigned int refcount_order;
	uint64_t rb_entries;		/* refcounts per refcount block */
	uint64_t file_size;
	uint64_t free_hint;		/* no free cluster below this index */
	struct meta_cache l2c, rbc;
	uint64_t tick;
	struct block backing;
	bool has_backing;
	uint8_t *cbuf;			/* one decompressed cluster */
	uint64_t cbuf_entry;		/* its L2 entry, 0: none */
	uint8_t *scratch;		/* a cluster being assembled */
	struct extent fixed[4];		/* header, L1, refcount table, snapshot table */
};

static inline uint64_t be64(const void *p)
{
	const uint8_t *b = p;

	return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 | (uint64_t)b[2] << 40 |
	       (uint64_t)b[3] << 32 | (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 |
	       (uint64_t)b[6] << 8 | b[7];
}

static inline uint32_t be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline uint16_t be16(const void *p)
{
	const uint8_t *b = p;

	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline void put_be64(void *p, uint64_t v)
{
	uint8_t *b = p;
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		b[i] = v;
}

static inline void put_be32(void *p, uint32_t v)
{
	uint8_t *b = p;

	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

static inline void put_be16(void *p, uint16_t v)
{
	uint8_t *b = p;

	b[0] = v >> 8;
	b[1] = v;
}

static inline struct qcow2 *Q(struct block *b)
{
	return b->priv;
}

/* ---- metadata caches ---- */

static int cache_init(struct meta_cache *c, unsigned int n, uint64_t cluster_size)
{
	unsigned int i;

	c->slot = calloc(n, sizeof(*c->slot));
	if (!c->slot)
		return -ENOMEM;
	c->n = n;
	for (i = 0; i < n; i++) {
		c->slot[i].data = malloc(cluster_size);
		if (!c->slot[i].data)
			return -ENOMEM;
	}
	return 0;
}

static void cache_free(struct meta_cache *c)
{
	unsigned int i;

	for (i = 0; c->slot && i < c->n; i++)
		free(c->slot[i].data);
	free(c->slot);
	c->slot = NULL;
}

static void cache_drop(struct meta_cache *c, uint64_t off)
{
	unsigned int i;

	for (i = 0; i < c->n; i++)
		if (c->slot[i].off == off)
			c->slot[i].off = 0;
}

/* Does [off, off + len) touch a region of the file that holds fixed metadata? */
static bool overlaps_fixed(const struct qcow2 *q, uint64_t off, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		if (q->fixed[i].len && off < q->fixed[i].off + q->fixed[i].len &&
		    q->fixed[i].off < off + len)
			return true;
	return false;
}

/* A cluster offset read from a table: aligned, inside the file, not on fixed metadata. */
static bool valid_cluster(const struct qcow2 *q, uint64_t off)
{
	return off && !(off & (q->cluster_size - 1)) && q->file_size >= q->cluster_size &&
	       off <= q->file_size - q->cluster_size && !overlaps_fixed(q, off, q->cluster_size);
}

/* The metadata cluster at @off, from the cache or the file; NULL (and *err) if bad. */
static uint8_t *cache_get(struct block *b, struct meta_cache *c, uint64_t off, bool fresh,
			  int *err)
{
	struct qcow2 *q = Q(b);
	struct meta_slot *victim = &c->slot[0];
	unsigned int i;

	for (i = 0; i < c->n; i++) {
		if (c->slot[i].off == off) {
			c->slot[i].used = ++q->tick;
			return c->slot[i].data;
		}
		if (c->slot[i].used < victim->used)
			victim = &c->slot[i];
	}
	if (!valid_cluster(q, off)) {
		*err = -EIO;
		return NULL;
	}
	victim->off = 0;
	if (fresh) {
		memset(victim->data, 0, q->cluster_size);
	} else {
		*err = block_pread_all(b->fd, victim->data, q->cluster_size, off);
		if (*err)
			return NULL;
	}
	victim->off = off;
	victim->used = ++q->tick;
	return victim->data;
}

/* ---- refcounts ---- */

static uint64_t rc_read(const struct qcow2 *q, const uint8_t *blk, uint64_t i)
{
	unsigned int bits = 1u << q->refcount_order;

	switch (q->refcount_order) {
	case 6:
		return be64(blk + i * 8);
	case 5:
		return be32(blk + i * 4);
	case 4:
		return be16(blk + i * 2);
	case 3:
		return blk[i];
	default:	/* 1, 2 or 4 bits, the lowest bits first within a byte */
		return (blk[i * bits / 8] >> (i * bits % 8)) & ((1u << bits) - 1);
	}
}

/* Sets entry @i of @blk; returns the byte range of @blk that changed. */
static void rc_write(const struct qcow2 *q, uint8_t *blk, uint64_t i, uint64_t v,
		     uint64_t *at, unsigned int *len)
{
	unsigned int bits = 1u << q->refcount_order;

	switch (q->refcount_order) {
	case 6:
		put_be64(blk + i * 8, v);
		*at = i * 8, *len = 8;
		break;
	case 5:
		put_be32(blk + i * 4, v);
		*at = i * 4, *len = 4;
		break;
	case 4:
		put_be16(blk + i * 2, v);
		*at = i * 2, *len = 2;
		break;
	case 3:
		blk[i] = v;
		*at = i, *len = 1;
		break;
	default: {
		unsigned int shift = i * bits % 8;
		uint8_t mask = ((1u << bits) - 1) << shift;

		*at = i * bits / 8, *len = 1;
		blk[*at] = (blk[*at] & ~mask) | ((v << shift) & mask);
	}
	}
}

/* The refcount of cluster @idx; 0 where no refcount block covers it. */
static int get_refcount(struct block *b, uint64_t idx, uint64_t *rc)
{
	struct qcow2 *q = Q(b);
	uint64_t ti = idx / q->rb_entries;
	uint8_t *blk;
	int err = 0;

	*rc = 0;
	if (ti >= q->rt_entries || !q->rt[ti])
		return 0;
	blk = cache_get(b, &q->rbc, q->rt[ti], false, &err);
	if (!blk)
		return err;
	*rc = rc_read(q, blk, idx % q->rb_entries);
	return 0;
}

/* Sets cluster @idx's refcount, whose refcount block must exist. */
static int set_refcount(struct block *b, uint64_t idx, uint64_t rc)
{
	struct qcow2 *q = Q(b);
	uint64_t ti = idx / q->rb_entries, at;
	unsigned int len;
	uint8_t *blk;
	int err = 0;

	if (ti >= q->rt_entries || !q->rt[ti])
		return -EIO;
	blk = cache_get(b, &q->rbc, q->rt[ti], false, &err);
	if (!blk)
		return err;
	rc_write(q, blk, idx % q->rb_entries, rc, &at, &len);
	return block_pwrite_all(b->fd, blk + at, len, q->rt[ti] + at);
}

/* Extends the file so that it covers clusters below @end_idx. */
static int cover(struct block *b, uint64_t end_idx)
{
	struct qcow2 *q = Q(b);
	uint64_t end = end_idx << q->cluster_bits;

	if (end <= q->file_size)
		return 0;
	if (ftruncate(b->fd, end))
		return -errno;
	q->file_size = end;
	return 0;
}

/* How many clusters the file has, rounded up. */
static uint64_t file_clusters(const struct qcow2 *q)
{
	return (q->file_size + q->cluster_size - 1) >> q->cluster_bits;
}

/*
 * A bigger refcount table, for a refcount block with index @need_ti: the
 * new table and the refcount blocks that count its own clusters go after
 * the end of the file, are written whole, and only then does the header
 * point to them; the old table is uncounted last.
 */
static int grow_refcount_table(struct block *b, uint64_t need_ti)
{
	struct qcow2 *q = Q(b);
	uint64_t per = q->cluster_size / 8, entries, n, start, k = 0, i, ti;
	uint64_t old_off = q->rt_off, old_clusters = q->rt_clusters, *rt = NULL;
	uint8_t *tbl = NULL, *blk = NULL, hdr[12];
	int err = 0;

	entries = q->rt_entries * 2 > need_ti + 1 ? q->rt_entries * 2 : need_ti + 1;
	entries = (entries + per - 1) / per * per;
	if (entries * 8 > MAX_RT_BYTES)
		return -ENOSPC;
	n = entries / per;
	/* Past the end of the file, and past any cluster a damaged image counts there. */
	for (start = file_clusters(q);; start++) {
		uint64_t rc = 0, j;

		for (j = 0; j < n + 8 && !rc; j++)
			if ((err = get_refcount(b, start + j, &rc)))
				return err;
		if (!rc)
			break;
	}
	/* k new refcount blocks after the table, enough to count all n + k clusters. */
	for (;;) {
		uint64_t missing = 0, first = start / q->rb_entries;
		uint64_t last = (start + n + k - 1) / q->rb_entries;

		for (ti = first; ti <= last; ti++)
			if (ti >= q->rt_entries || !q->rt[ti])
				missing++;
		if (missing == k)
			break;
		k = missing;
	}
	rt = calloc(entries, sizeof(*rt));
	tbl = calloc(n, q->cluster_size);
	blk = malloc(q->cluster_size);
	if (!rt || !tbl || !blk) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(rt, q->rt, q->rt_entries * sizeof(*rt));
	for (ti = start / q->rb_entries, i = 0; ti <= (start + n + k - 1) / q->rb_entries; ti++)
		if (!rt[ti])
			rt[ti] = (start + n + i++) << q->cluster_bits;
	err = cover(b, start + n + k);
	if (err)
		goto out;
	/* The new clusters' refcounts: in new blocks written whole, or in existing ones. */
	for (ti = start / q->rb_entries; ti <= (start + n + k - 1) / q->rb_entries; ti++) {
		uint64_t c, lo = ti * q->rb_entries, at;
		unsigned int len;
		bool fresh = ti >= q->rt_entries || !q->rt[ti];

		if (!fresh)
			continue;
		memset(blk, 0, q->cluster_size);
		for (c = start; c < start + n + k; c++)
			if (c >= lo && c < lo + q->rb_entries)
				rc_write(q, blk, c - lo, 1, &at, &len);
		err = block_pwrite_all(b->fd, blk, q->cluster_size, rt[ti]);
		if (err)
			goto out;
	}
	for (i = start; i < start + n + k; i++) {
		ti = i / q->rb_entries;
		if (ti < q->rt_entries && q->rt[ti] && (err = set_refcount(b, i, 1)))
			goto out;
	}
	for (i = 0; i < entries; i++)
		put_be64(tbl + i * 8, rt[i]);
	err = block_pwrite_all(b->fd, tbl, n * q->cluster_size, start << q->cluster_bits);
	if (err)
		goto out;
	/* One write switches tables: refcount_table_offset and _clusters are adjacent. */
	put_be64(hdr, start << q->cluster_bits);
	put_be32(hdr + 8, n);
	err = block_pwrite_all(b->fd, hdr, 12, 48);
	if (err)
		goto out;
	free(q->rt);
	q->rt = rt;
	rt = NULL;
	q->rt_off = start << q->cluster_bits;
	q->rt_clusters = n;
	q->rt_entries = entries;
	q->fixed[2].off = q->rt_off;
	q->fixed[2].len = n << q->cluster_bits;
	for (i = 0; i < old_clusters && !err; i++) {
		uint64_t idx = (old_off >> q->cluster_bits) + i, rc;

		err = get_refcount(b, idx, &rc);
		if (!err && rc)
			err = set_refcount(b, idx, rc - 1);
	}
out:
	free(rt);
	free(tbl);
	free(blk);
	return err;
}

/* A free cluster, counted once and covered by the file; its index in *idx. */
static int alloc_cluster(struct block *b, uint64_t *idx)
{
	struct qcow2 *q = Q(b);
	uint64_t c, rc, ti;
	int err;

	for (;;) {
		for (c = q->free_hint ? q->free_hint : 1;; c++) {
			err = get_refcount(b, c, &rc);
			if (err)
				return err;
			if (!rc)
				break;
		}
		if ((c << q->cluster_bits) >= MAX_SIZE)
			return -ENOSPC;
		ti = c / q->rb_entries;
		if (ti >= q->rt_entries) {
			err = grow_refcount_table(b, ti);
			if (err)
				return err;
			continue;
		}
		if (!q->rt[ti]) {
			/* A new refcount block, in the free cluster it counts first (itself). */
			uint64_t at;
			uint8_t ent[8], *blk;
			unsigned int len;

			err = cover(b, c + 1);
			if (err)
				return err;
			blk = cache_get(b, &q->rbc, c << q->cluster_bits, true, &err);
			if (!blk)
				return err;
			rc_write(q, blk, c % q->rb_entries, 1, &at, &len);
			err = block_pwrite_all(b->fd, blk, q->cluster_size, c << q->cluster_bits);
			if (err)
				return err;
			put_be64(ent, c << q->cluster_bits);
			err = block_pwrite_all(b->fd, ent, 8, q->rt_off + ti * 8);
			if (err)
				return err;
			q->rt[ti] = c << q->cluster_bits;
			q->free_hint = c + 1;
			continue;
		}
		err = cover(b, c + 1);
		if (!err)
			err = set_refcount(b, c, 1);
		if (err)
			return err;
		q->free_hint = c + 1;
		*idx = c;
		return 0;
	}
}

/* One reference less for each cluster that [off, off + len) touches; free ones are punched. */
static int unref_range(struct block *b, uint64_t off, uint64_t len)
{
	struct qcow2 *q = Q(b);
	uint64_t c, rc;
	int err;

	for (c = off >> q->cluster_bits; c <= (off + len - 1) >> q->cluster_bits; c++) {
		err = get_refcount(b, c, &rc);
		if (err)
			return err;
		if (!rc)
			return -EIO;	/* a reference to a free cluster: a damaged image */
		err = set_refcount(b, c, rc - 1);
		if (err)
			return err;
		if (rc == 1) {
			if (c < q->free_hint)
				q->free_hint = c;
			cache_drop(&q->l2c, c << q->cluster_bits);
			/* Thin again: the file system may drop the cluster's blocks. */
			fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  c << q->cluster_bits, q->cluster_size);
		}
	}
	return 0;
}

/* ---- the cluster map ---- */

/* A compressed entry's host offset and length in bytes (the sectors it spans). */
static void compressed_extent(const struct qcow2 *q, uint64_t e, uint64_t *off, uint64_t *len)
{
	unsigned int x = 62 - (q->cluster_bits - 8);
	uint64_t sectors = ((e & ~(OFLAG_COPIED | OFLAG_COMPRESSED)) >> x) + 1;

	*off = e & ((1ull << x) - 1);
	*len = sectors * 512 - (*off & 511);
}

/* Drops what an L2 entry held (a data cluster, or a compressed extent). */
static int unref_entry(struct block *b, uint64_t e)
{
	struct qcow2 *q = Q(b);
	uint64_t off, len;

	if (e & OFLAG_COMPRESSED) {
		compressed_extent(q, e, &off, &len);
		if (q->cbuf_entry == e)
			q->cbuf_entry = 0;
		return unref_range(b, off, len);
	}
	off = e & OFFSET_MASK;
	return off ? unref_range(b, off, q->cluster_size) : 0;
}

/*
 * The L2 table for guest cluster @vc and the index in it; with @alloc, a
 * table of this image's own (made or copied) that can take a new entry.
 * *l2off is 0 (and the result NULL) where there is none and !@alloc.
 */
static uint8_t *l2_table(struct block *b, uint64_t vc, bool alloc, uint64_t *l2off,
			 unsigned int *l2i, int *err)
{
	struct qcow2 *q = Q(b);
	uint64_t l1i = vc >> q->l2_bits, e, idx, off;
	uint8_t *tbl, *old, ent[8];

	*l2i = vc & ((1ull << q->l2_bits) - 1);
	*err = 0;
	*l2off = 0;
	if (l1i >= q->l1_size) {
		*err = -EIO;
		return NULL;
	}
	e = q->l1[l1i];
	if (e & L1_RESERVED) {
		*err = -EIO;
		return NULL;
	}
	off = e & OFFSET_MASK;
	if (off && (!alloc || (e & OFLAG_COPIED))) {
		*l2off = off;
		return cache_get(b, &q->l2c, off, false, err);
	}
	if (!alloc)
		return NULL;
	/* A new table, or a copy of one a snapshot shares. */
	if (off) {
		old = cache_get(b, &q->l2c, off, false, err);
		if (!old)
			return NULL;
		memcpy(q->scratch, old, q->cluster_size);
	}
	*err = alloc_cluster(b, &idx);
	if (*err)
		return NULL;
	tbl = cache_get(b, &q->l2c, idx << q->cluster_bits, true, err);
	if (!tbl)
		return NULL;
	if (off)
		memcpy(tbl, q->scratch, q->cluster_size);
	*err = block_pwrite_all(b->fd, tbl, q->cluster_size, idx << q->cluster_bits);
	if (*err)
		goto drop;
	put_be64(ent, (idx << q->cluster_bits) | OFLAG_COPIED);
	*err = block_pwrite_all(b->fd, ent, 8, q->l1_off + l1i * 8);
	if (*err)
		goto drop;
	q->l1[l1i] = be64(ent);
	if (off) {
		*err = unref_range(b, off, q->cluster_size);
		cache_drop(&q->l2c, off);
		if (*err)
			return NULL;
	}
	*l2off = idx << q->cluster_bits;
	return tbl;
drop:
	cache_drop(&q->l2c, idx << q->cluster_bits);
	return NULL;
}

static int set_l2_entry(struct block *b, uint8_t *tbl, uint64_t l2off, unsigned int l2i,
			uint64_t e)
{
	uint8_t ent[8];
	int err;

	put_be64(ent, e);
	err = block_pwrite_all(b->fd, ent, 8, l2off + (uint64_t)l2i * 8);
	if (!err)
		memcpy(tbl + (size_t)l2i * 8, ent, 8);
	return err;
}

/* Inflates the compressed cluster of entry @e into q->cbuf. */
static int decompress(struct block *b, uint64_t e)
{
	struct qcow2 *q = Q(b);
	uint64_t off, len;
	z_stream z;
	uint8_t *in;
	int err, r;

	if (q->cbuf_entry == e)
		return 0;
	compressed_extent(q, e, &off, &len);
	if (off >= q->file_size || len > 2 * q->cluster_size + 512 || off < q->cluster_size)
		return -EIO;
	/* The last compressed cluster may end inside its final sector, at the end of the file. */
	if (len > q->file_size - off)
		len = q->file_size - off;
	in = malloc(len);
	if (!in)
		return -ENOMEM;
	err = block_pread_all(b->fd, in, len, off);
	if (err) {
		free(in);
		return err;
	}
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -12) != Z_OK) {
		free(in);
		return -ENOMEM;
	}
	z.next_in = in;
	z.avail_in = len;
	z.next_out = q->cbuf;
	z.avail_out = q->cluster_size;
	r = inflate(&z, Z_FINISH);
	err = (r == Z_STREAM_END || r == Z_BUF_ERROR) && !z.avail_out ? 0 : -EIO;
	inflateEnd(&z);
	free(in);
	if (!err)
		q->cbuf_entry = e;
	return err;
}

/* Reads what lies under this image at @off: the backing file, or zeroes past it. */
static int read_below(struct block *b, uint8_t *buf, uint64_t len, uint64_t off)
{
	struct qcow2 *q = Q(b);
	uint64_t n = 0;

	if (q->has_backing && off < q->backing.size) {
		struct iovec iov;

		n = q->backing.size - off < len ? q->backing.size - off : len;
		iov.iov_base = buf;
		iov.iov_len = n;
		if (block_readv(&q->backing, &iov, 1, off))
			return -EIO;
	}
	memset(buf + n, 0, len - n);
	return 0;
}

/* Reads @len bytes at @in_off of guest cluster @vc. */
static int read_cluster(struct block *b, uint64_t vc, uint64_t in_off, uint8_t *buf, uint64_t len)
{
	struct qcow2 *q = Q(b);
	uint64_t l2off, e, host;
	unsigned int l2i;
	uint8_t *tbl;
	int err;

	tbl = l2_table(b, vc, false, &l2off, &l2i, &err);
	if (err)
		return err;
	e = tbl ? be64(tbl + (size_t)l2i * 8) : 0;
	if (e & OFLAG_COMPRESSED) {
		err = decompress(b, e);
		if (!err)
			memcpy(buf, q->cbuf + in_off, len);
		return err;
	}
	if (e & L2_RESERVED || (q->version < 3 && (e & OFLAG_ZERO)))
		return -EIO;
	if (e & OFLAG_ZERO) {
		memset(buf, 0, len);
		return 0;
	}
	host = e & OFFSET_MASK;
	if (!host)
		return read_below(b, buf, len, (vc << q->cluster_bits) + in_off);
	if (!valid_cluster(q, host))
		return -EIO;
	return block_pread_all(b->fd, buf, len, host + in_off);
}

/* Writes @len bytes at @in_off of guest cluster @vc (@data NULL: zeroes). */
static int write_cluster(struct block *b, uint64_t vc, uint64_t in_off, const uint8_t *data,
			 uint64_t len)
{
	struct qcow2 *q = Q(b);
	uint64_t l2off, e, host, idx;
	unsigned int l2i;
	uint8_t *tbl;
	int err;

	tbl = l2_table(b, vc, true, &l2off, &l2i, &err);
	if (!tbl)
		return err;
	e = be64(tbl + (size_t)l2i * 8);
	if (!(e & OFLAG_COMPRESSED) && (e & L2_RESERVED || (q->version < 3 && (e & OFLAG_ZERO))))
		return -EIO;
	host = e & OFFSET_MASK;
	if (!(e & OFLAG_COMPRESSED) && host && !valid_cluster(q, host))
		return -EIO;
	/* Ours alone, holding data: in place. */
	if ((e & OFLAG_COPIED) && !(e & (OFLAG_COMPRESSED | OFLAG_ZERO)) && host) {
		if (data)
			return block_pwrite_all(b->fd, data, len, host + in_off);
		memset(q->scratch, 0, len);
		return block_pwrite_all(b->fd, q->scratch, len, host + in_off);
	}
	/* Else the whole cluster is built and goes to a new one (or its own zeroed one). */
	if (len < q->cluster_size) {
		if (e & OFLAG_COMPRESSED) {
			err = decompress(b, e);
			if (err)
				return err;
			memcpy(q->scratch, q->cbuf, q->cluster_size);
		} else if (e & OFLAG_ZERO) {
			memset(q->scratch, 0, q->cluster_size);
		} else if (host) {
			err = block_pread_all(b->fd, q->scratch, q->cluster_size, host);
			if (err)
				return err;
		} else {
			err = read_below(b, q->scratch, q->cluster_size, vc << q->cluster_bits);
			if (err)
				return err;
		}
	}
	if (data)
		memcpy(q->scratch + in_off, data, len);
	else
		memset(q->scratch + in_off, 0, len);
	/* A preallocated zero cluster of our own is filled where it is. */
	if ((e & (OFLAG_COPIED | OFLAG_ZERO | OFLAG_COMPRESSED)) == (OFLAG_COPIED | OFLAG_ZERO) && host) {
		err = block_pwrite_all(b->fd, q->scratch, q->cluster_size, host);
		return err ? err : set_l2_entry(b, tbl, l2off, l2i, host | OFLAG_COPIED);
	}
	err = alloc_cluster(b, &idx);
	if (err)
		return err;
	/* The table may have left the cache while allocating. */
	tbl = cache_get(b, &q->l2c, l2off, false, &err);
	if (!tbl)
		return err;
	err = block_pwrite_all(b->fd, q->scratch, q->cluster_size, idx << q->cluster_bits);
	if (!err)
		err = set_l2_entry(b, tbl, l2off, l2i, (idx << q->cluster_bits) | OFLAG_COPIED);
	if (!err && (host || (e & OFLAG_COMPRESSED)))
		err = unref_entry(b, e);
	return err;
}

/*
 * Guest cluster @vc no longer holds data: unallocated where nothing lies
 * below (or where it need not read as zeroes), else a zero cluster (v3);
 * 1 where the format cannot say zero (v2 over a backing file).
 */
static int clear_cluster(struct block *b, uint64_t vc, bool need_zero, bool unmap)
{
	struct qcow2 *q = Q(b);
	uint64_t l2off, e, ne, host;
	bool below = q->has_backing && (vc << q->cluster_bits) < q->backing.size;
	unsigned int l2i;
	uint8_t *tbl;
	int err;

	if (below && q->version < 3)
		return need_zero ? 1 : 0;
	ne = below ? OFLAG_ZERO : 0;
	tbl = l2_table(b, vc, false, &l2off, &l2i, &err);
	if (err)
		return err;
	if (!tbl && !ne)
		return 0;	/* nothing there, nothing below */
	tbl = l2_table(b, vc, true, &l2off, &l2i, &err);
	if (!tbl)
		return err;
	e = be64(tbl + (size_t)l2i * 8);
	if (!(e & OFLAG_COMPRESSED) && e & L2_RESERVED)
		return -EIO;
	host = e & OFFSET_MASK;
	/* Write-zeroes without unmap keeps a cluster of our own, flagged zero (v3). */
	if (!unmap && q->version >= 3 && need_zero && (e & OFLAG_COPIED) &&
	    !(e & OFLAG_COMPRESSED) && host)
		return set_l2_entry(b, tbl, l2off, l2i, host | OFLAG_COPIED | OFLAG_ZERO);
	if (e == ne)
		return 0;
	err = set_l2_entry(b, tbl, l2off, l2i, ne);
	if (!err && (host || (e & OFLAG_COMPRESSED)))
		err = unref_entry(b, e);
	return err;
}

/* ---- requests ---- */

/* Each piece of [off, off + len) inside one cluster, in order. */
#define for_each_piece(q, off, len, vc, in, n, done)					\
	for (done = 0; done < (len) &&							\
	     (vc = ((off) + done) >> (q)->cluster_bits,					\
	      in = ((off) + done) & ((q)->cluster_size - 1),				\
	      n = (q)->cluster_size - in < (len) - done ? (q)->cluster_size - in : (len) - done, 1); \
	     done += n)

static uint64_t iov_bytes(const struct iovec *iov, int n)
{
	uint64_t len = 0;

	while (n--)
		len += iov++->iov_len;
	return len;
}

/* Copies between @iov and the linear @buf: into @buf with @gather, else out of it. */
static void iov_copy(struct iovec *iov, int niov, uint8_t *buf, bool gather)
{
	int i;

	for (i = 0; i < niov; buf += iov[i].iov_len, i++)
		if (gather)
			memcpy(buf, iov[i].iov_base, iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, buf, iov[i].iov_len);
}

static int qcow2_readv(struct block *b, struct iovec *iov, int niov, uint64_t off)
{
	struct qcow2 *q = Q(b);
	uint64_t len = iov_bytes(iov, niov), vc, in, n, done;
	uint8_t *buf = malloc(len ? len : 1);
	int err = 0;

	if (!buf)
		return -ENOMEM;
	pthread_mutex_lock(&q->lock);
	for_each_piece(q, off, len, vc, in, n, done) {
		err = read_cluster(b, vc, in, buf + done, n);
		if (err)
			break;
	}
	pthread_mutex_unlock(&q->lock);
	if (!err)
		iov_copy(iov, niov, buf, false);
	free(buf);
	return err;
}

static int qcow2_writev(struct block *b, struct iovec *iov, int niov, uint64_t off)
{
	struct qcow2 *q = Q(b);
	uint64_t len = iov_bytes(iov, niov), vc, in, n, done;
	uint8_t *buf = malloc(len ? len : 1);
	int err = 0;

	if (!buf)
		return -ENOMEM;
	iov_copy(iov, niov, buf, true);
	pthread_mutex_lock(&q->lock);
	for_each_piece(q, off, len, vc, in, n, done) {
		err = write_cluster(b, vc, in, buf + done, n);
		if (err)
			break;
	}
	pthread_mutex_unlock(&q->lock);
	free(buf);
	return err;
}

static int qcow2_flush(struct block *b)
{
	return fdatasync(b->fd) ? -errno : 0;
}

/* Whole clusters cleared; partial ones written with zeroes (@zero) or left (discard). */
static int clear_range(struct block *b, uint64_t off, uint64_t len, bool zero, bool unmap)
{
	struct qcow2 *q = Q(b);
	uint64_t vc, in, n, done;
	int err = 0;

	pthread_mutex_lock(&q->lock);
	for_each_piece(q, off, len, vc, in, n, done) {
		/* Whole: the cluster, or all of it the disk has (a size not cluster-aligned). */
		bool whole = !in && (n == q->cluster_size || (vc << q->cluster_bits) + n >= b->size);

		err = whole ? clear_cluster(b, vc, zero, unmap) : zero ? 1 : 0;
		if (err == 1)	/* zeroes the map cannot express: written */
			err = write_cluster(b, vc, in, NULL, n);
		if (err)
			break;
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static int qcow2_discard(struct block *b, uint64_t off, uint64_t len)
{
	return clear_range(b, off, len, false, true);
}

static int qcow2_write_zeroes(struct block *b, uint64_t off, uint64_t len, bool unmap)
{
	return clear_range(b, off, len, true, unmap);
}

/* ---- opening ---- */

static char why[512];

#define REFUSE(...) ({ snprintf(why, sizeof(why), __VA_ARGS__); goto fail; })

/* The header extensions after the header: the backing file's format. */
static const char *read_extensions(struct block *b, const uint8_t *c, uint32_t start,
				   char *fmt, size_t fmt_size)
{
	struct qcow2 *q = Q(b);
	uint64_t at = start;

	fmt[0] = 0;
	while (at + 8 <= q->cluster_size) {
		uint32_t type = be32(c + at), len = be32(c + at + 4);

		if (type == EXT_END)
			return NULL;
		if (len > q->cluster_size - at - 8) {
			snprintf(why, sizeof(why), "%s: a header extension runs past the first cluster",
				 b->path);
			return why;
		}
		if (type == EXT_BACKING_FORMAT) {
			if (len >= fmt_size) {
				snprintf(why, sizeof(why), "%s: backing format name too long", b->path);
				return why;
			}
			memcpy(fmt, c + at + 8, len);
			fmt[len] = 0;
		}
		at += 8 + ((len + 7) & ~7u);
	}
	return NULL;
}

/*
 * The snapshot table: its extent (for the overlap checks), and with
 * b->snapshot the L1 table and size of the snapshot of that name or id.
 */
static const char *read_snapshots(struct block *b, uint32_t nb, uint64_t off)
{
	struct qcow2 *q = Q(b);
	uint64_t at = off;
	bool found = false;
	uint32_t i;

	q->fixed[3].off = off;
	q->fixed[3].len = 0;
	if (!nb)
		return b->snapshot ? (snprintf(why, sizeof(why), "%s: has no snapshots", b->path), why)
				   : NULL;
	if (nb > MAX_SNAPSHOTS || off & 7 || off < q->cluster_size || off >= q->file_size) {
		snprintf(why, sizeof(why), "%s: bad snapshot table (%u at 0x%llx)", b->path, nb,
			 (unsigned long long)off);
		return why;
	}
	for (i = 0; i < nb; i++) {
		uint8_t h[40], *name;
		uint16_t id_len, name_len;
		uint32_t extra;
		uint64_t l1_off, disk_size = 0;
		uint32_t l1_size;

		if (at + 40 > q->file_size || block_pread_all(b->fd, h, 40, at))
			goto bad;
		l1_off = be64(h);
		l1_size = be32(h + 8);
		id_len = be16(h + 12);
		name_len = be16(h + 14);
		extra = be32(h + 36);
		if (extra > 1024 || at + 40 + extra + id_len + name_len > q->file_size)
			goto bad;
		if (extra >= 16) {
			uint8_t x[16];

			if (block_pread_all(b->fd, x, 16, at + 40))
				goto bad;
			disk_size = be64(x + 8);
		}
		name = malloc(id_len + name_len + 1);
		if (!name || block_pread_all(b->fd, name, id_len + name_len, at + 40 + extra)) {
			free(name);
			goto bad;
		}
		if (b->snapshot && !found &&
		    ((strlen(b->snapshot) == name_len && !memcmp(name + id_len, b->snapshot, name_len)) ||
		     (strlen(b->snapshot) == id_len && !memcmp(name, b->snapshot, id_len)))) {
			found = true;
			q->l1_off = l1_off;
			q->l1_size = l1_size;
			if (disk_size)
				b->size = disk_size;
		}
		free(name);
		at = (at + 40 + extra + id_len + name_len + 7) & ~7ull;
	}
	q->fixed[3].len = at - off;
	if (b->snapshot && !found) {
		snprintf(why, sizeof(why), "%s: no snapshot named '%s'", b->path, b->snapshot);
		return why;
	}
	return NULL;
bad:
	snprintf(why, sizeof(why), "%s: snapshot %u of the table runs past the end of the file",
		 b->path, i);
	return why;
}

static const char *qcow2_open(struct block *b)
{
	uint32_t version, cluster_bits, hdr_len = HDR_V2_LEN, nb_snapshots, bf_size;
	uint64_t incompat = 0, autoclear = 0, l2_entries, need_l1, bf_off, i, l2_tables;
	char fmt[32], name[MAX_BACKING_NAME + 1], path[PATH_MAX + MAX_BACKING_NAME + 2];
	struct qcow2 *q;
	struct stat st;
	uint8_t *c = NULL, *l1raw = NULL;
	const char *err;
	unsigned int cache_n;

	q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(why, sizeof(why), "%s: out of memory", b->path);
		return why;
	}
	b->priv = q;
	pthread_mutex_init(&q->lock, NULL);
	if (fstat(b->fd, &st))
		REFUSE("%s: %s", b->path, strerror(errno));
	q->file_size = S_ISBLK(st.st_mode) ? (uint64_t)lseek(b->fd, 0, SEEK_END) : (uint64_t)st.st_size;
	c = calloc(1, 1 << 21);
	if (!c)
		REFUSE("%s: out of memory", b->path);
	if (q->file_size < HDR_V2_LEN || block_pread_all(b->fd, c, HDR_V2_LEN, 0))
		REFUSE("%s: too short for a qcow2 header", b->path);
	if (be32(c) != QCOW2_MAGIC)
		REFUSE("%s: not a qcow2 image (no QFI\\xfb magic)", b->path);
	version = be32(c + 4);
	if (version != 2 && version != 3)
		REFUSE("%s: qcow2 version %u (hvx-run reads 2 and 3)", b->path, version);
	cluster_bits = be32(c + 20);
	if (cluster_bits < 9 || cluster_bits > 21)
		REFUSE("%s: cluster size 2^%u (qcow2 allows 2^9 to 2^21)", b->path, cluster_bits);
	q->version = version;
	q->cluster_bits = cluster_bits;
	q->cluster_size = 1ull << cluster_bits;
	q->l2_bits = cluster_bits - 3;
	if (q->file_size < q->cluster_size)
		REFUSE("%s: truncated: %llu bytes, less than its first cluster", b->path,
		       (unsigned long long)q->file_size);
	if (block_pread_all(b->fd, c, q->cluster_size, 0))
		REFUSE("%s: cannot read its header", b->path);
	if (be32(c + 32))
		REFUSE("%s: encrypted images are not supported", b->path);
	q->refcount_order = 4;
	if (version == 3) {
		hdr_len = be32(c + 100);
		if (hdr_len < HDR_V3_LEN || hdr_len > q->cluster_size || hdr_len & 7)
			REFUSE("%s: bad header length %u", b->path, hdr_len);
		incompat = be64(c + 72);
		autoclear = be64(c + 88);
		q->refcount_order = be32(c + 96);
		if (q->refcount_order > 6)
			REFUSE("%s: refcount order %u (at most 6)", b->path, q->refcount_order);
	}
	if (incompat & ~(INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_COMPRESSION))
		REFUSE("%s: incompatible features 0x%llx hvx-run does not know%s%s", b->path,
		       (unsigned long long)(incompat & ~(INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_COMPRESSION)),
		       incompat & INCOMPAT_DATA_FILE ? " (external data file)" : "",
		       incompat & INCOMPAT_EXTL2 ? " (extended L2 entries)" : "");
	if (incompat & INCOMPAT_COMPRESSION && hdr_len > 104 && c[104])
		REFUSE("%s: compression type %u (hvx-run reads zlib only)", b->path, c[104]);
	if (!b->ro && incompat & INCOMPAT_CORRUPT)
		REFUSE("%s: marked corrupt; open it read-only (,ro) or repair it with qemu-img check -r all",
		       b->path);
	if (!b->ro && incompat & INCOMPAT_DIRTY)
		REFUSE("%s: not closed cleanly (lazy refcounts): repair it with qemu-img check -r all, or open it read-only (,ro)",
		       b->path);
	b->size = be64(c + 24);
	if (b->size > MAX_SIZE)
		REFUSE("%s: virtual size %llu bytes is too large", b->path,
		       (unsigned long long)b->size);
	l2_entries = 1ull << q->l2_bits;
	need_l1 = (b->size + (l2_entries << cluster_bits) - 1) / (l2_entries << cluster_bits);
	q->l1_size = be32(c + 36);
	q->l1_off = be64(c + 40);
	q->rt_off = be64(c + 48);
	q->rt_clusters = be32(c + 56);
	nb_snapshots = be32(c + 60);
	q->fixed[0].off = 0;
	q->fixed[0].len = q->cluster_size;
	if (q->rt_off & (q->cluster_size - 1) || !q->rt_off || !q->rt_clusters ||
	    (uint64_t)q->rt_clusters << cluster_bits > MAX_RT_BYTES ||
	    q->rt_off + ((uint64_t)q->rt_clusters << cluster_bits) > q->file_size)
		REFUSE("%s: refcount table (%u clusters at 0x%llx) outside the file or misaligned",
		       b->path, q->rt_clusters, (unsigned long long)q->rt_off);
	q->fixed[2].off = q->rt_off;
	q->fixed[2].len = (uint64_t)q->rt_clusters << cluster_bits;
	err = read_snapshots(b, nb_snapshots, be64(c + 64));
	if (err)
		goto fail_err;
	if (b->snapshot)	/* its L1 table was checked like the active one's below */
		need_l1 = (b->size + (l2_entries << cluster_bits) - 1) / (l2_entries << cluster_bits);
	if (q->l1_size < need_l1 || (uint64_t)q->l1_size * 8 > MAX_L1_BYTES)
		REFUSE("%s: L1 table of %u entries for %llu bytes (%llu needed)", b->path, q->l1_size,
		       (unsigned long long)b->size, (unsigned long long)need_l1);
	if (q->l1_size && (q->l1_off & (q->cluster_size - 1) || !q->l1_off ||
			   q->l1_off + (uint64_t)q->l1_size * 8 > q->file_size))
		REFUSE("%s: L1 table at 0x%llx outside the file or misaligned", b->path,
		       (unsigned long long)q->l1_off);
	q->fixed[1].off = q->l1_off;
	q->fixed[1].len = (uint64_t)q->l1_size * 8;
	if (overlaps_fixed(q, 0, q->cluster_size) && (q->l1_off < q->cluster_size ||
						      q->rt_off < q->cluster_size))
		REFUSE("%s: metadata overlaps the header", b->path);
	if (q->l1_size && q->rt_off < q->l1_off + q->fixed[1].len &&
	    q->l1_off < q->rt_off + q->fixed[2].len)
		REFUSE("%s: the L1 table overlaps the refcount table", b->path);
	q->rb_entries = (q->cluster_size * 8) >> q->refcount_order;
	q->rt_entries = ((uint64_t)q->rt_clusters << cluster_bits) / 8;

	/* Tables into memory, checked. */
	q->l1 = calloc(q->l1_size ? q->l1_size : 1, 8);
	l1raw = malloc(q->l1_size ? (size_t)q->l1_size * 8 : 1);
	q->rt = calloc(q->rt_entries, 8);
	if (!q->l1 || !l1raw || !q->rt)
		REFUSE("%s: out of memory", b->path);
	if (q->l1_size && block_pread_all(b->fd, l1raw, (size_t)q->l1_size * 8, q->l1_off))
		REFUSE("%s: cannot read its L1 table", b->path);
	for (i = 0; i < q->l1_size; i++) {
		q->l1[i] = be64(l1raw + i * 8);
		if (q->l1[i] & L1_RESERVED)
			REFUSE("%s: L1 entry %llu has reserved bits set", b->path,
			       (unsigned long long)i);
	}
	{
		uint8_t *rtraw = malloc(q->rt_entries * 8);

		if (!rtraw || block_pread_all(b->fd, rtraw, q->rt_entries * 8, q->rt_off)) {
			free(rtraw);
			REFUSE("%s: cannot read its refcount table", b->path);
		}
		for (i = 0; i < q->rt_entries; i++)
			q->rt[i] = be64(rtraw + i * 8);
		free(rtraw);
	}
	for (i = 0; i < q->rt_entries; i++)
		if (q->rt[i] & RT_RESERVED || (q->rt[i] && !valid_cluster(q, q->rt[i])))
			REFUSE("%s: refcount block %llu at 0x%llx outside the file, misaligned or on other metadata",
			       b->path, (unsigned long long)i, (unsigned long long)q->rt[i]);

	/* The L2 cache covers the whole disk where that is at most 32 MiB of tables. */
	l2_tables = need_l1 ? need_l1 : 1;
	cache_n = l2_tables * q->cluster_size > (32u << 20) ? (32u << 20) >> cluster_bits : l2_tables;
	if (cache_n < 4)
		cache_n = 4;
	q->cbuf = malloc(q->cluster_size);
	q->scratch = malloc(q->cluster_size);
	if (!q->cbuf || !q->scratch || cache_init(&q->l2c, cache_n, q->cluster_size) ||
	    cache_init(&q->rbc, 8, q->cluster_size))
		REFUSE("%s: out of memory for its caches", b->path);

	/* The backing file, relative to this image's folder unless absolute. */
	bf_off = be64(c + 8);
	bf_size = be32(c + 16);
	err = read_extensions(b, c, hdr_len, fmt, sizeof(fmt));
	if (err)
		goto fail_err;
	if (bf_off) {
		const char *slash = strrchr(b->path, '/');

		if (bf_size > MAX_BACKING_NAME || bf_off + bf_size > q->cluster_size || !bf_size)
			REFUSE("%s: bad backing file name (%u bytes at %llu)", b->path, bf_size,
			       (unsigned long long)bf_off);
		memcpy(name, c + bf_off, bf_size);
		name[bf_size] = 0;
		if (strlen(name) != bf_size)
			REFUSE("%s: backing file name holds a NUL", b->path);
		if (name[0] == '/' || !slash)
			snprintf(path, sizeof(path), "%s", name);
		else
			snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - b->path), b->path, name);
		q->backing.path = strdup(path);
		if (!q->backing.path)
			REFUSE("%s: out of memory", b->path);
		err = block_open_backing(b, &q->backing, q->backing.path, fmt[0] ? fmt : NULL);
		if (err) {
			/* The innermost reason, named once from the disk (@why may hold it). */
			char inner[sizeof(why)];

			snprintf(inner, sizeof(inner), "%s", err);
			if (b->depth)
				snprintf(why, sizeof(why), "%s", inner);
			else
				snprintf(why, sizeof(why), "%.200s: backing chain: %.290s", b->path, inner);
			free((char *)q->backing.path);
			q->backing.path = NULL;
			goto fail;
		}
		q->has_backing = true;
	}
	/* Bits a writer must clear when it does not keep what they stand for (bitmaps). */
	if (!b->ro && autoclear) {
		uint8_t zero[8] = { 0 };

		if (block_pwrite_all(b->fd, zero, 8, 88))
			REFUSE("%s: cannot write its header: %s", b->path, strerror(errno));
	}
	free(c);
	free(l1raw);
	return NULL;
fail_err:
	if (err != why)
		snprintf(why, sizeof(why), "%s", err);
fail:
	free(c);
	free(l1raw);
	b->ops->close(b);
	return why;
}

static void qcow2_close(struct block *b)
{
	struct qcow2 *q = Q(b);

	if (!q)
		return;
	if (q->has_backing) {
		block_close(&q->backing);
		free((char *)q->backing.path);
	}
	cache_free(&q->l2c);
	cache_free(&q->rbc);
	free(q->l1);
	free(q->rt);
	free(q->cbuf);
	free(q->scratch);
	pthread_mutex_destroy(&q->lock);
	free(q);
	b->priv = NULL;
}

/* ---- making an image ---- */

/*
 * A new, empty version 3 image of 64 KiB clusters, as `qemu-img create -f
 * qcow2 [-b BACKING -F FMT]` makes one: header (with the backing format
 * extension and the backing file's name), refcount table, one refcount
 * block, L1 table, each in clusters of their own, all counted once.
 */
const char *qcow2_create(const char *path, uint64_t size, const char *backing, const char *backing_fmt)
{
	const uint64_t cs = 1 << 16;
	uint64_t l1_size = (size + (cs << 13) - 1) / (cs << 13);
	uint64_t l1_clusters = l1_size ? (l1_size * 8 + cs - 1) / cs : 1, nclusters = 3 + l1_clusters;
	size_t name_len = backing ? strlen(backing) : 0, fmt_len = backing_fmt ? strlen(backing_fmt) : 0;
	uint64_t ext_end = 104 + (backing_fmt ? 8 + ((fmt_len + 7) & ~7ul) : 0) + 8;
	uint8_t *c = calloc(3, cs);
	uint64_t i;
	int fd;

	if (!c) {
		snprintf(why, sizeof(why), "%s: out of memory", path);
		return why;
	}
	if (size > MAX_SIZE || name_len > MAX_BACKING_NAME || fmt_len > 16 ||
	    ext_end + name_len > cs || nclusters > ((cs * 8) >> 4)) {
		snprintf(why, sizeof(why), "%s: size or backing file name too large", path);
		free(c);
		return why;
	}
	put_be32(c, QCOW2_MAGIC);
	put_be32(c + 4, 3);
	if (backing) {
		put_be64(c + 8, ext_end);
		put_be32(c + 16, name_len);
		memcpy(c + ext_end, backing, name_len);
	}
	put_be32(c + 20, 16);
	put_be64(c + 24, size);
	put_be32(c + 36, l1_size);
	put_be64(c + 40, 3 * cs);
	put_be64(c + 48, cs);
	put_be32(c + 56, 1);
	put_be32(c + 96, 4);
	put_be32(c + 100, 104);
	if (backing_fmt) {
		put_be32(c + 104, EXT_BACKING_FORMAT);
		put_be32(c + 108, fmt_len);
		memcpy(c + 112, backing_fmt, fmt_len);
	}
	put_be64(c + cs, 2 * cs);			/* the refcount table's one block */
	for (i = 0; i < nclusters; i++)
		put_be16(c + 2 * cs + i * 2, 1);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(why, sizeof(why), "cannot create %s: %s", path, strerror(errno));
		free(c);
		return why;
	}
	if (ftruncate(fd, nclusters * cs) || block_pwrite_all(fd, c, 3 * cs, 0) || fsync(fd)) {
		snprintf(why, sizeof(why), "cannot write %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		free(c);
		return why;
	}
	close(fd);
	free(c);
	return NULL;
}

const struct block_ops block_qcow2_ops = {
	.format		= "qcow2",
	.open		= qcow2_open,
	.readv		= qcow2_readv,
	.writev		= qcow2_writev,
	.flush		= qcow2_flush,
	.discard	= qcow2_discard,
	.write_zeroes	= qcow2_write_zeroes,
	.close		= qcow2_close,
};
