// SPDX-License-Identifier: GPL-2.0
/* virtio/blk.c - virtio block devices (-d FILE[,options]) on disk images (block/: raw, qcow2). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "migration/state.h"
#include "virtio.h"

#define VIRTIO_ID_BLOCK		2

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_F_DISCARD	13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

enum {
	VIRTIO_BLK_T_IN = 0, VIRTIO_BLK_T_OUT = 1, VIRTIO_BLK_T_FLUSH = 4,
	VIRTIO_BLK_T_GET_ID = 8, VIRTIO_BLK_T_DISCARD = 11, VIRTIO_BLK_T_WRITE_ZEROES = 13,
};
enum { VIRTIO_BLK_S_OK, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_UNSUPP };

#define SECTOR		512
#define ID_BYTES	20
/*
 * Limits offered in the configuration.  Data segments: the chain's
 * header and status take two more entries of a 128-entry indirect table,
 * as Linux sizes them.  Discard and write-zeroes: up to 16 ranges of at
 * most 2 GiB, in 4 KiB granules (what hole punching works in).
 */
#define SEG_MAX		126
#define RANGE_SECTORS	(1u << 22)
#define RANGE_SEGS	16
#define DISCARD_ALIGN	8
#define WZ_UNMAP	1	/* struct virtio_blk_discard_write_zeroes flags */

struct vblk {
	struct virtio_dev vdev;
	struct block disk;
	bool ro;
	uint64_t sectors;
	char serial[ID_BYTES + 1];
	char name[16];
	struct virtq_elem elem;		/* the request in hand, on the device thread */
	struct iovec data[VIRTQ_MAX_IOV];
};

static struct vblk disks[MAX_DISKS];
static int nr_disks;

/*
 * -d FILE[,ro][,format=raw|qcow2][,snapshot=NAME]: checked and opened
 * while parsing, so a bad one is a usage error.
 */
const char *virtio_blk_parse(const char *arg)
{
	static char why[256];
	struct vblk *b = &disks[nr_disks];
	struct block_options opt = { 0 };
	char *path, *o, *next;
	const char *err;

	if (nr_disks == MAX_DISKS)
		return "at most 8 disks";
	path = strdup(arg);
	if (!path)
		return "out of memory";
	o = strchr(path, ',');
	if (o)
		*o++ = 0;
	for (; o; o = next) {
		next = strchr(o, ',');
		if (next)
			*next++ = 0;
		if (!strcmp(o, "ro")) {
			opt.ro = true;
		} else if (!strncmp(o, "format=", 7)) {
			opt.format = o + 7;
		} else if (!strncmp(o, "snapshot=", 9) && o[9]) {
			opt.snapshot = o + 9;
		} else {
			snprintf(why, sizeof(why),
				 "unknown disk option '%s' (ro, format=raw|qcow2, snapshot=NAME)", o);
			return why;
		}
	}
	if (!*path)
		return "no file name";
	err = block_open(&b->disk, path, &opt);
	if (err)
		return err;
	b->ro = b->disk.ro;
	/* A partial last sector cannot be addressed: it is left out. */
	b->sectors = b->disk.size / SECTOR;
	nr_disks++;
	return NULL;
}

/* ---- device configuration (struct virtio_blk_config, 5.2.4) ---- */

static void blk_config(struct virtio_dev *vdev, uint64_t off, uint8_t *data, int len, bool write)
{
	/* seg_max 0x0c, blk_size 0x14, then the discard/write-zeroes limits from 0x24. */
	static const struct { uint8_t off; uint32_t val; } f[] = {
		{ 0x0c, SEG_MAX }, { 0x14, SECTOR },
		{ 0x24, RANGE_SECTORS }, { 0x28, RANGE_SEGS }, { 0x2c, DISCARD_ALIGN },
		{ 0x30, RANGE_SECTORS }, { 0x34, RANGE_SEGS },
	};
	struct vblk *b = vdev->priv;
	uint8_t c[0x40] = { 0 };
	uint32_t v;
	int i;

	if (write || off >= sizeof(c) || off + len > sizeof(c)) {
		if (!write)
			memset(data, 0, len);
		return;	/* writeback toggling (F_CONFIG_WCE) is not offered */
	}
	for (i = 0; i < 8; i++)
		c[i] = b->sectors >> (8 * i);
	for (i = 0; i < (int)(sizeof(f) / sizeof(f[0])); i++) {
		v = f[i].val;
		memcpy(c + f[i].off, &v, 4);
	}
	c[0x38] = 1;	/* write_zeroes_may_unmap */
	memcpy(data, c + off, len);
}

/* ---- requests (5.2.6) ---- */

static bool in_disk(struct vblk *b, uint64_t sector, uint64_t count)
{
	return sector <= b->sectors && count <= b->sectors - sector;
}

static uint8_t blk_rw(struct vblk *b, struct virtq_elem *e, uint64_t sector, bool write,
		      size_t data_in)
{
	struct iovec *in = e->iov + e->nr_out;
	size_t bytes = write ? e->out_bytes - 16 : data_in;
	int n;

	if (write && b->ro)
		return VIRTIO_BLK_S_IOERR;
	if (bytes % SECTOR || !in_disk(b, sector, bytes / SECTOR))
		return VIRTIO_BLK_S_IOERR;
	if (write)
		n = iov_slice(e->iov, e->nr_out, 16, bytes, b->data);
	else
		n = iov_slice(in, e->nr_in, 0, bytes, b->data);
	if (write ? block_writev(&b->disk, b->data, n, sector * SECTOR) :
		    block_readv(&b->disk, b->data, n, sector * SECTOR)) {
		vlog("%s: %s of %zu bytes at sector %llu failed", b->name, write ? "write" : "read",
		     bytes, (unsigned long long)sector);
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/*
 * Discard is a hint (failing to is fine); write-zeroes must leave zeroes.
 */
static uint8_t blk_ranges(struct vblk *b, struct virtq_elem *e, bool discard)
{
	size_t bytes = e->out_bytes - 16, i;
	struct {
		uint64_t sector;
		uint32_t num_sectors;
		uint32_t flags;
	} r;

	if (b->ro)
		return VIRTIO_BLK_S_IOERR;
	if (!bytes || bytes % sizeof(r) || bytes / sizeof(r) > RANGE_SEGS)
		return VIRTIO_BLK_S_UNSUPP;
	/* All ranges are checked before any is applied. */
	for (i = 0; i < bytes; i += sizeof(r)) {
		iov_to_buf(e->iov, e->nr_out, 16 + i, &r, sizeof(r));
		if (r.flags & ~(discard ? 0 : WZ_UNMAP))
			return VIRTIO_BLK_S_UNSUPP;
		if (r.num_sectors > RANGE_SECTORS || !in_disk(b, r.sector, r.num_sectors))
			return VIRTIO_BLK_S_IOERR;
	}
	for (i = 0; i < bytes; i += sizeof(r)) {
		iov_to_buf(e->iov, e->nr_out, 16 + i, &r, sizeof(r));
		if (!r.num_sectors)
			continue;
		if (discard)
			block_discard(&b->disk, r.sector * SECTOR, (uint64_t)r.num_sectors * SECTOR);
		else if (block_write_zeroes(&b->disk, r.sector * SECTOR,
					    (uint64_t)r.num_sectors * SECTOR, r.flags & WZ_UNMAP))
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/*
 * One request: a 16-byte header the device reads, data, and a status
 * byte, the last byte the device may write.  Returns the bytes written
 * for the used ring, or -1 without room for the status.
 */
static int blk_request(struct vblk *b, struct virtq_elem *e)
{
	struct iovec *in = e->iov + e->nr_out;
	struct {
		uint32_t type;
		uint32_t ioprio;
		uint64_t sector;
	} hdr;
	size_t data_in, used = 0;
	uint8_t status;

	if (!e->in_bytes)
		return -1;
	data_in = e->in_bytes - 1;
	if (e->out_bytes < sizeof(hdr)) {
		status = VIRTIO_BLK_S_IOERR;
		goto out;
	}
	iov_to_buf(e->iov, e->nr_out, 0, &hdr, sizeof(hdr));
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		status = blk_rw(b, e, hdr.sector, false, data_in);
		if (status == VIRTIO_BLK_S_OK)
			used = data_in;
		break;
	case VIRTIO_BLK_T_OUT:
		status = blk_rw(b, e, hdr.sector, true, data_in);
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = !block_flush(&b->disk) ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID: {
		char id[ID_BYTES] = { 0 };

		/* 20 bytes, NUL-padded, not necessarily terminated. */
		memcpy(id, b->serial, strlen(b->serial));
		used = iov_from_buf(in, e->nr_in, 0, id, data_in < ID_BYTES ? data_in : ID_BYTES);
		status = VIRTIO_BLK_S_OK;
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = blk_ranges(b, e, hdr.type == VIRTIO_BLK_T_DISCARD);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
	}
out:
	iov_from_buf(in, e->nr_in, data_in, &status, 1);
	return used + 1;
}

static void blk_process(struct virtio_dev *vdev, int q)
{
	struct vblk *b = vdev->priv;
	struct virtq *vq = &vdev->vq[q];
	const char *why = NULL;
	bool pushed = false;
	int r, len;

	while ((r = virtq_pop(vq, &b->elem, &why)) > 0) {
		len = blk_request(b, &b->elem);
		if (len < 0) {
			why = "request without a status byte";
			r = -1;
			break;
		}
		virtq_push(vq, b->elem.head, len);
		pushed = true;
	}
	if (pushed)
		virtio_notify(vdev, q);
	if (r < 0)
		virtio_needs_reset(vdev, why);
}

static const struct virtio_dev_ops blk_ops = {
	.config = blk_config,
	.process = blk_process,
};

static void virtio_blk_init(void)
{
	int i;

	for (i = 0; i < nr_disks; i++) {
		struct vblk *b = &disks[i];
		struct virtio_dev *vdev = &b->vdev;

		snprintf(b->name, sizeof(b->name), "virtio-blk%d", i);
		snprintf(b->serial, sizeof(b->serial), "hvx-disk%d", i);
		vdev->name = b->name;
		vdev->ops = &blk_ops;
		vdev->priv = b;
		vdev->host_features = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
				      1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_DISCARD |
				      1ull << VIRTIO_BLK_F_WRITE_ZEROES;
		if (b->ro)
			vdev->host_features |= 1ull << VIRTIO_BLK_F_RO;
		virtio_pci_init(vdev, VIRTIO_ID_BLOCK, 1);
		vlog("%s: %s, %llu sectors%s", b->name, b->disk.path,
		     (unsigned long long)b->sectors, b->ro ? ", read-only" : "");
	}
}

/* QMP's blockdev-snapshot-sync, with the VM paused: @device is virtio-blkN or its serial hvx-diskN. */
const char *virtio_blk_snapshot(const char *device, const char *path, bool existing)
{
	static char why[128];
	int i;

	for (i = 0; i < nr_disks; i++)
		if (!strcmp(device, disks[i].name) || !strcmp(device, disks[i].serial))
			return block_snapshot(&disks[i].disk, path, existing);
	snprintf(why, sizeof(why), "no disk '%.40s' (virtio-blk0 to virtio-blk%d)", device, nr_disks - 1);
	return nr_disks ? why : "this VM has no disk";
}

/*
 * Each disk's transport; requests live in the rings, and the device
 * thread completes each one before it takes the next.
 */
static void virtio_blk_state(struct state *s)
{
	int i, n = nr_disks;

	STATE(s, n);
	state_check(s, n == nr_disks);
	for (i = 0; i < nr_disks && !s->failed; i++)
		virtio_state(s, &disks[i].vdev);
}

DEVICE("virtio-blk", virtio_blk_init, virtio_blk_state)
