/* SPDX-License-Identifier: GPL-2.0 */
/* compat.h - the guest kernel interfaces hvx_vblk and hvx_vnet use that changed between Linux 6.1 and 6.12, in their 6.12 form. */
#ifndef HVX_GUEST_COMPAT_H
#define HVX_GUEST_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <linux/virtio_config.h>

/*
 * The drivers are written against 6.12's interfaces; on older kernels the
 * shims below turn them into the calls those kernels have.  Each is keyed
 * on the release that made the change (they are signature changes, with
 * nothing a preprocessor test could probe for).
 */

/* 6.11: find_vqs() takes one array of {name, callback, ctx}. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
struct virtqueue_info {
	const char *name;
	vq_callback_t *callback;
	bool ctx;
};

static inline int hvx_virtio_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
				      struct virtqueue *vqs[],
				      struct virtqueue_info vqs_info[])
{
	vq_callback_t **callbacks;
	const char **names;
	unsigned int i;
	int err = -ENOMEM;

	callbacks = kcalloc(nvqs, sizeof(*callbacks), GFP_KERNEL);
	names = kcalloc(nvqs, sizeof(*names), GFP_KERNEL);
	if (callbacks && names) {
		for (i = 0; i < nvqs; i++) {
			callbacks[i] = vqs_info[i].callback;
			names[i] = vqs_info[i].name;
		}
		err = virtio_find_vqs(vdev, nvqs, vqs, callbacks, names, NULL);
	}
	kfree(names);
	kfree(callbacks);
	return err;
}
#else
static inline int hvx_virtio_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
				      struct virtqueue *vqs[],
				      struct virtqueue_info vqs_info[])
{
	return virtio_find_vqs(vdev, nvqs, vqs, vqs_info, NULL);
}
#endif

/*
 * 6.9: a disk's queue limits are handed to blk_mq_alloc_disk() whole, and
 * 6.11 removed the blk_queue_*() setters and made a volatile write cache a
 * feature flag of the limits.  Older kernels get the same limits through
 * the setters, which also derive what 6.12 derives at allocation.
 */
static inline struct gendisk *hvx_blk_mq_alloc_disk(struct blk_mq_tag_set *set,
						    struct queue_limits *lim,
						    bool write_cache, void *data)
{
	struct gendisk *disk;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	if (write_cache)
		lim->features |= BLK_FEAT_WRITE_CACHE;
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	disk = blk_mq_alloc_disk(set, lim, data);
	if (IS_ERR(disk))
		return disk;
#else
	struct request_queue *q;

	disk = blk_mq_alloc_disk(set, data);
	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	blk_queue_max_segments(q, lim->max_segments);
	blk_queue_max_hw_sectors(q, lim->max_hw_sectors);
	blk_queue_max_segment_size(q, lim->max_segment_size);
	blk_queue_logical_block_size(q, lim->logical_block_size);
	if (lim->physical_block_size)
		blk_queue_physical_block_size(q, lim->physical_block_size);
	if (lim->alignment_offset)
		blk_queue_alignment_offset(q, lim->alignment_offset);
	if (lim->io_min)
		blk_queue_io_min(q, lim->io_min);
	if (lim->io_opt)
		blk_queue_io_opt(q, lim->io_opt);
	if (lim->max_hw_discard_sectors) {
		blk_queue_max_discard_sectors(q, lim->max_hw_discard_sectors);
		blk_queue_max_discard_segments(q, lim->max_discard_segments);
		q->limits.discard_granularity = lim->discard_granularity;
	}
	if (lim->max_write_zeroes_sectors)
		blk_queue_max_write_zeroes_sectors(q, lim->max_write_zeroes_sectors);
#endif
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
	blk_queue_write_cache(disk->queue, write_cache, false);
#endif
	return disk;
}

#endif /* HVX_GUEST_COMPAT_H */
