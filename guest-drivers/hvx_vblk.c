// SPDX-License-Identifier: GPL-2.0
/* hvx_vblk.c - virtio block guest driver: blk-mq disks hvdX on the virtio bus (virtio 1.x, 5.2). */

#include <linux/module.h>
#include <linux/blkdev.h>
#include <linux/blk-mq.h>
#include <linux/idr.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ring.h>

#include "compat.h"

#define HVBLK_MINORS		16	/* whole disk + 15 partitions, as sd/vd do */
#define HVBLK_MAX_SEGS		128	/* per request; the pdu embeds this many sg entries */
#define HVBLK_MAX_RANGES	64	/* discard ranges per request */
#define HVBLK_MAX_DEPTH		256

static int hvblk_major;
static DEFINE_IDA(hvblk_index_ida);

/* One per virtqueue: the lock orders adds against completions on that ring. */
struct hvblk_queue {
	struct virtqueue *vq;
	spinlock_t lock;
	char name[16];
} ____cacheline_aligned_in_smp;

struct hvblk {
	struct virtio_device *vdev;
	struct gendisk *disk;
	struct blk_mq_tag_set tag_set;
	struct work_struct config_work;
	struct hvblk_queue *queues;
	unsigned int nr_queues;
	unsigned int sg_elems;
	int index;
};

/*
 * Per-request driver data (blk-mq pdu). The header and status byte live here
 * so that a request never allocates on the I/O path, except for the range
 * table of a discard or write-zeroes request.
 */
struct hvblk_req {
	struct virtio_blk_outhdr out_hdr;
	u8 status;
	struct virtio_blk_discard_write_zeroes *ranges;
	unsigned int nr_ranges;
	unsigned int nents;
	struct scatterlist sg[];
};

static blk_status_t hvblk_status_to_errno(u8 status)
{
	switch (status) {
	case VIRTIO_BLK_S_OK:
		return BLK_STS_OK;
	case VIRTIO_BLK_S_UNSUPP:
		return BLK_STS_NOTSUPP;
	default:
		/* VIRTIO_BLK_S_IOERR and anything a broken device invents */
		return BLK_STS_IOERR;
	}
}

/*
 * Discard and write-zeroes carry their ranges as data (5.2.6): one entry per
 * bio for discard (the block layer merges up to max_discard_segments bios
 * into one request), one entry for write zeroes.
 */
static int hvblk_setup_ranges(struct request *rq, struct hvblk_req *br,
			      bool unmap)
{
	unsigned int n = blk_rq_nr_discard_segments(rq);
	struct virtio_blk_discard_write_zeroes *r;
	u32 flags = unmap ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
	struct bio *bio;
	unsigned int i = 0;

	if (req_op(rq) == REQ_OP_WRITE_ZEROES)
		n = 1;
	r = kmalloc_array(n, sizeof(*r), GFP_ATOMIC);
	if (!r)
		return -ENOMEM;

	if (n == 1) {
		r[0].sector = cpu_to_le64(blk_rq_pos(rq));
		r[0].num_sectors = cpu_to_le32(blk_rq_sectors(rq));
		r[0].flags = cpu_to_le32(flags);
	} else {
		__rq_for_each_bio(bio, rq) {
			if (i >= n)
				break;
			r[i].sector = cpu_to_le64(bio->bi_iter.bi_sector);
			r[i].num_sectors = cpu_to_le32(bio->bi_iter.bi_size >> SECTOR_SHIFT);
			r[i].flags = cpu_to_le32(flags);
			i++;
		}
		n = i;
	}
	br->ranges = r;
	br->nr_ranges = n;
	return 0;
}

static blk_status_t hvblk_setup_cmd(struct hvblk *vb, struct request *rq,
				    struct hvblk_req *br)
{
	struct virtio_device *vdev = vb->vdev;
	u32 type;
	u64 sector = 0;

	br->ranges = NULL;
	br->nr_ranges = 0;
	br->nents = 0;

	switch (req_op(rq)) {
	case REQ_OP_READ:
		type = VIRTIO_BLK_T_IN;
		sector = blk_rq_pos(rq);
		break;
	case REQ_OP_WRITE:
		type = VIRTIO_BLK_T_OUT;
		sector = blk_rq_pos(rq);
		break;
	case REQ_OP_FLUSH:
		type = VIRTIO_BLK_T_FLUSH;
		break;
	case REQ_OP_DISCARD:
		type = VIRTIO_BLK_T_DISCARD;
		if (hvblk_setup_ranges(rq, br, false))
			return BLK_STS_RESOURCE;
		break;
	case REQ_OP_WRITE_ZEROES:
		type = VIRTIO_BLK_T_WRITE_ZEROES;
		if (hvblk_setup_ranges(rq, br, !(rq->cmd_flags & REQ_NOUNMAP)))
			return BLK_STS_RESOURCE;
		break;
	case REQ_OP_DRV_IN:
		/* only ever issued by hvblk_get_id() */
		type = VIRTIO_BLK_T_GET_ID;
		break;
	default:
		return BLK_STS_NOTSUPP;
	}

	br->out_hdr.type = cpu_to_virtio32(vdev, type);
	br->out_hdr.ioprio = cpu_to_virtio32(vdev, 0);
	br->out_hdr.sector = cpu_to_virtio64(vdev, sector);
	/* Anything but a status the device wrote itself reads as an error. */
	br->status = 0xff;

	if (req_op(rq) == REQ_OP_READ || req_op(rq) == REQ_OP_WRITE ||
	    req_op(rq) == REQ_OP_DRV_IN) {
		if (blk_rq_nr_phys_segments(rq)) {
			sg_init_table(br->sg, vb->sg_elems);
			br->nents = blk_rq_map_sg(rq->q, rq, br->sg);
		}
	}
	return BLK_STS_OK;
}

static void hvblk_cleanup_cmd(struct hvblk_req *br)
{
	kfree(br->ranges);
	br->ranges = NULL;
}

static int hvblk_add_req(struct virtqueue *vq, struct request *rq,
			 struct hvblk_req *br)
{
	struct scatterlist hdr, status, ranges, *sgs[4];
	unsigned int out = 0, in = 0;

	sg_init_one(&hdr, &br->out_hdr, sizeof(br->out_hdr));
	sgs[out++] = &hdr;
	if (br->nr_ranges) {
		sg_init_one(&ranges, br->ranges, br->nr_ranges * sizeof(*br->ranges));
		sgs[out++] = &ranges;
	}
	if (br->nents) {
		if (req_op(rq) == REQ_OP_WRITE)
			sgs[out++] = br->sg;
		else
			sgs[out + in++] = br->sg;
	}
	sg_init_one(&status, &br->status, sizeof(br->status));
	sgs[out + in++] = &status;

	return virtqueue_add_sgs(vq, sgs, out, in, br, GFP_ATOMIC);
}

static blk_status_t hvblk_queue_rq(struct blk_mq_hw_ctx *hctx,
				   const struct blk_mq_queue_data *bd)
{
	struct hvblk *vb = hctx->queue->queuedata;
	struct hvblk_queue *hq = &vb->queues[hctx->queue_num];
	struct request *rq = bd->rq;
	struct hvblk_req *br = blk_mq_rq_to_pdu(rq);
	unsigned long flags;
	bool notify = false;
	blk_status_t sts;
	int err;

	sts = hvblk_setup_cmd(vb, rq, br);
	if (sts)
		return sts;

	blk_mq_start_request(rq);

	spin_lock_irqsave(&hq->lock, flags);
	err = hvblk_add_req(hq->vq, rq, br);
	if (err) {
		/* Let the device drain what is queued before we retry. */
		virtqueue_kick(hq->vq);
		spin_unlock_irqrestore(&hq->lock, flags);
		hvblk_cleanup_cmd(br);
		if (err == -ENOSPC || err == -ENOMEM) {
			/* restarted by hvblk_vq_done() when a slot frees */
			blk_mq_stop_hw_queue(hctx);
			return BLK_STS_DEV_RESOURCE;
		}
		return BLK_STS_IOERR;
	}
	if (bd->last && virtqueue_kick_prepare(hq->vq))
		notify = true;
	spin_unlock_irqrestore(&hq->lock, flags);

	if (notify)
		virtqueue_notify(hq->vq);
	return BLK_STS_OK;
}

/* blk-mq held back the doorbell (bd->last false) and now wants it rung. */
static void hvblk_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	struct hvblk *vb = hctx->queue->queuedata;
	struct hvblk_queue *hq = &vb->queues[hctx->queue_num];
	unsigned long flags;
	bool notify;

	spin_lock_irqsave(&hq->lock, flags);
	notify = virtqueue_kick_prepare(hq->vq);
	spin_unlock_irqrestore(&hq->lock, flags);
	if (notify)
		virtqueue_notify(hq->vq);
}

static void hvblk_complete_rq(struct request *rq)
{
	struct hvblk_req *br = blk_mq_rq_to_pdu(rq);

	hvblk_cleanup_cmd(br);
	blk_mq_end_request(rq, hvblk_status_to_errno(READ_ONCE(br->status)));
}

/*
 * Virtqueue interrupt. virtio_ring validates every used id the device hands
 * back (an out-of-range or stale id marks the ring broken and returns NULL),
 * so a token we get here is always one of our own in-flight requests.
 */
static void hvblk_vq_done(struct virtqueue *vq)
{
	struct hvblk *vb = vq->vdev->priv;
	struct hvblk_queue *hq = &vb->queues[vq->index];
	struct hvblk_req *br;
	unsigned long flags;
	unsigned int len;
	bool completed = false;

	spin_lock_irqsave(&hq->lock, flags);
	do {
		virtqueue_disable_cb(vq);
		while ((br = virtqueue_get_buf(vq, &len)) != NULL) {
			struct request *rq = blk_mq_rq_from_pdu(br);

			if (likely(!blk_should_fake_timeout(rq->q)))
				blk_mq_complete_request(rq);
			completed = true;
		}
		if (unlikely(virtqueue_is_broken(vq)))
			break;
	} while (!virtqueue_enable_cb(vq));
	spin_unlock_irqrestore(&hq->lock, flags);

	if (completed)
		blk_mq_start_stopped_hw_queues(vb->disk->queue, true);
}

static const struct blk_mq_ops hvblk_mq_ops = {
	.queue_rq	= hvblk_queue_rq,
	.commit_rqs	= hvblk_commit_rqs,
	.complete	= hvblk_complete_rq,
};

static const struct block_device_operations hvblk_fops = {
	.owner		= THIS_MODULE,
};

/* VIRTIO_BLK_T_GET_ID: up to 20 bytes, NUL-padded only when shorter (5.2.6). */
static int hvblk_get_id(struct hvblk *vb, char *id)
{
	struct request_queue *q = vb->disk->queue;
	struct request *rq;
	blk_status_t sts;
	int err;

	rq = blk_mq_alloc_request(q, REQ_OP_DRV_IN, 0);
	if (IS_ERR(rq))
		return PTR_ERR(rq);
	err = blk_rq_map_kern(q, rq, id, VIRTIO_BLK_ID_BYTES, GFP_KERNEL);
	if (!err) {
		sts = blk_execute_rq(rq, false);
		err = blk_status_to_errno(sts);
	}
	blk_mq_free_request(rq);
	return err;
}

static ssize_t serial_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct gendisk *disk = dev_to_disk(dev);
	char *id;
	ssize_t n;
	int err;

	/* kmalloc, not the stack: the buffer is DMA'd by the device */
	id = kzalloc(VIRTIO_BLK_ID_BYTES + 1, GFP_KERNEL);
	if (!id)
		return -ENOMEM;
	err = hvblk_get_id(disk->private_data, id);
	if (err) {
		n = err;
		goto out;
	}
	id[VIRTIO_BLK_ID_BYTES] = '\0';
	n = sysfs_emit(buf, "%s\n", id);
out:
	kfree(id);
	return n;
}
static DEVICE_ATTR_RO(serial);

static struct attribute *hvblk_attrs[] = {
	&dev_attr_serial.attr,
	NULL,
};

static const struct attribute_group hvblk_attr_group = {
	.attrs = hvblk_attrs,
};

static const struct attribute_group *hvblk_attr_groups[] = {
	&hvblk_attr_group,
	NULL,
};

static u64 hvblk_read_capacity(struct virtio_device *vdev)
{
	u64 cap;

	virtio_cread(vdev, struct virtio_blk_config, capacity, &cap);
	/* sector_t is 64 bits on x86-64; clamp what the block layer cannot index */
	if (cap > (u64)LLONG_MAX >> SECTOR_SHIFT)
		cap = (u64)LLONG_MAX >> SECTOR_SHIFT;
	return cap;
}

static void hvblk_config_work(struct work_struct *work)
{
	struct hvblk *vb = container_of(work, struct hvblk, config_work);
	u64 cap = hvblk_read_capacity(vb->vdev);

	if (cap != get_capacity(vb->disk)) {
		dev_info(&vb->vdev->dev, "%s: capacity now %llu sectors\n",
			 vb->disk->disk_name, cap);
		set_capacity_and_notify(vb->disk, cap);
	}
}

/* May run in interrupt context: config reads can sleep, so defer. */
static void hvblk_config_changed(struct virtio_device *vdev)
{
	struct hvblk *vb = vdev->priv;

	queue_work(system_freezable_wq, &vb->config_work);
}

static int hvblk_find_vqs(struct hvblk *vb)
{
	struct virtio_device *vdev = vb->vdev;
	struct virtqueue_info *vqs_info;
	struct virtqueue **vqs;
	unsigned int i, n = 1;
	u16 num;
	int err = -ENOMEM;

	if (virtio_has_feature(vdev, VIRTIO_BLK_F_MQ)) {
		virtio_cread(vdev, struct virtio_blk_config, num_queues, &num);
		n = num;
	}
	/* a device claiming zero queues gets one; more than CPUs buys nothing */
	n = clamp_t(unsigned int, n, 1, nr_cpu_ids);
	/* freeze/restore must come back with the queue count blk-mq knows */
	if (vb->nr_queues)
		n = vb->nr_queues;

	vb->queues = kcalloc(n, sizeof(*vb->queues), GFP_KERNEL);
	vqs = kcalloc(n, sizeof(*vqs), GFP_KERNEL);
	vqs_info = kcalloc(n, sizeof(*vqs_info), GFP_KERNEL);
	if (!vb->queues || !vqs || !vqs_info)
		goto out;

	for (i = 0; i < n; i++) {
		snprintf(vb->queues[i].name, sizeof(vb->queues[i].name), "req.%u", i);
		vqs_info[i].name = vb->queues[i].name;
		vqs_info[i].callback = hvblk_vq_done;
	}
	err = hvx_virtio_find_vqs(vdev, n, vqs, vqs_info);
	if (err)
		goto out;
	for (i = 0; i < n; i++) {
		spin_lock_init(&vb->queues[i].lock);
		vb->queues[i].vq = vqs[i];
	}
	vb->nr_queues = n;
out:
	kfree(vqs_info);
	kfree(vqs);
	if (err) {
		kfree(vb->queues);
		vb->queues = NULL;
	}
	return err;
}

/* "hvda".."hvdz", "hvdaa".. : the sd naming scheme with our own prefix. */
static void hvblk_disk_name(char *buf, size_t size, int index)
{
	char suffix[8];
	int i = sizeof(suffix) - 1;

	suffix[i] = '\0';
	do {
		suffix[--i] = 'a' + index % 26;
		index = index / 26 - 1;
	} while (index >= 0 && i > 0);
	snprintf(buf, size, "hvd%s", &suffix[i]);
}

/*
 * Whatever the device claims, the block layer gets limits it accepts.
 * Returns whether the device has a volatile write cache to flush.
 */
static bool hvblk_get_limits(struct hvblk *vb, struct queue_limits *lim)
{
	struct virtio_device *vdev = vb->vdev;
	unsigned int blk_size = SECTOR_SIZE;
	u32 v;
	u8 exp, align;
	u16 min_io;

	lim->max_segments = vb->sg_elems;
	lim->max_hw_sectors = UINT_MAX >> SECTOR_SHIFT;

	v = min_t(size_t, virtio_max_dma_size(vdev), UINT_MAX);
	if (virtio_has_feature(vdev, VIRTIO_BLK_F_SIZE_MAX)) {
		u32 size_max;

		virtio_cread(vdev, struct virtio_blk_config, size_max, &size_max);
		if (size_max)
			v = min(v, size_max);
	}
	lim->max_segment_size = v;

	if (virtio_has_feature(vdev, VIRTIO_BLK_F_BLK_SIZE)) {
		virtio_cread(vdev, struct virtio_blk_config, blk_size, &v);
		if (is_power_of_2(v) && v >= SECTOR_SIZE && v <= PAGE_SIZE)
			blk_size = v;
		else
			dev_warn(&vdev->dev, "ignoring block size %u\n", v);
	}
	lim->logical_block_size = blk_size;

	if (virtio_has_feature(vdev, VIRTIO_BLK_F_TOPOLOGY)) {
		virtio_cread(vdev, struct virtio_blk_config, physical_block_exp, &exp);
		if (exp && exp < 8)
			lim->physical_block_size = blk_size << exp;
		virtio_cread(vdev, struct virtio_blk_config, alignment_offset, &align);
		if (align)
			lim->alignment_offset = blk_size * align;
		virtio_cread(vdev, struct virtio_blk_config, min_io_size, &min_io);
		if (min_io)
			lim->io_min = blk_size * min_io;
		virtio_cread(vdev, struct virtio_blk_config, opt_io_size, &v);
		if (v && v <= UINT_MAX / blk_size)
			lim->io_opt = blk_size * v;
	}

	if (virtio_has_feature(vdev, VIRTIO_BLK_F_DISCARD)) {
		u32 max_sectors, max_seg, granularity;

		virtio_cread(vdev, struct virtio_blk_config, max_discard_sectors, &max_sectors);
		virtio_cread(vdev, struct virtio_blk_config, max_discard_seg, &max_seg);
		virtio_cread(vdev, struct virtio_blk_config, discard_sector_alignment,
			     &granularity);
		/* a limit of zero means the device cannot discard after all */
		if (max_sectors && max_seg) {
			lim->max_hw_discard_sectors = max_sectors;
			lim->max_discard_segments = min_t(u32, max_seg, HVBLK_MAX_RANGES);
			if (granularity && granularity <= UINT_MAX >> SECTOR_SHIFT)
				lim->discard_granularity = granularity << SECTOR_SHIFT;
			else
				lim->discard_granularity = blk_size;
		}
	}

	if (virtio_has_feature(vdev, VIRTIO_BLK_F_WRITE_ZEROES)) {
		virtio_cread(vdev, struct virtio_blk_config, max_write_zeroes_sectors, &v);
		if (v)
			lim->max_write_zeroes_sectors = v;
	}

	/* Without FLUSH the device promises write-through (5.2.6.3). */
	return virtio_has_feature(vdev, VIRTIO_BLK_F_FLUSH);
}

static int hvblk_probe(struct virtio_device *vdev)
{
	struct queue_limits lim = {};
	struct hvblk *vb;
	struct request_queue *q;
	unsigned int depth, ring;
	bool write_cache;
	u32 seg_max = 1;
	int err;

	if (!vdev->config->get) {
		dev_err(&vdev->dev, "device has no config space\n");
		return -EINVAL;
	}

	vb = kzalloc(sizeof(*vb), GFP_KERNEL);
	if (!vb)
		return -ENOMEM;
	vb->vdev = vdev;
	vdev->priv = vb;
	INIT_WORK(&vb->config_work, hvblk_config_work);

	err = ida_alloc_range(&hvblk_index_ida, 0,
			      (1 << MINORBITS) / HVBLK_MINORS - 1, GFP_KERNEL);
	if (err < 0)
		goto err_free;
	vb->index = err;

	err = hvblk_find_vqs(vb);
	if (err)
		goto err_ida;

	if (virtio_has_feature(vdev, VIRTIO_BLK_F_SEG_MAX))
		virtio_cread(vdev, struct virtio_blk_config, seg_max, &seg_max);
	vb->sg_elems = clamp_t(u32, seg_max, 1, HVBLK_MAX_SEGS);

	ring = virtqueue_get_vring_size(vb->queues[0].vq);
	depth = min_t(unsigned int, ring, HVBLK_MAX_DEPTH);
	if (!virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC)) {
		/*
		 * Every segment takes a ring slot, plus header and status: a
		 * request larger than the ring could never be added.
		 */
		if (ring < 3) {
			err = -EINVAL;
			goto err_vqs;
		}
		vb->sg_elems = min(vb->sg_elems, ring - 2);
		depth = max(depth / 2, 1U);
	}

	vb->tag_set.ops = &hvblk_mq_ops;
	vb->tag_set.nr_hw_queues = vb->nr_queues;
	vb->tag_set.queue_depth = depth;
	vb->tag_set.numa_node = NUMA_NO_NODE;
	vb->tag_set.flags = BLK_MQ_F_SHOULD_MERGE;
	vb->tag_set.cmd_size = sizeof(struct hvblk_req) +
			       sizeof(struct scatterlist) * vb->sg_elems;
	vb->tag_set.driver_data = vb;
	err = blk_mq_alloc_tag_set(&vb->tag_set);
	if (err)
		goto err_vqs;

	write_cache = hvblk_get_limits(vb, &lim);
	vb->disk = hvx_blk_mq_alloc_disk(&vb->tag_set, &lim, write_cache, vb);
	if (IS_ERR(vb->disk)) {
		err = PTR_ERR(vb->disk);
		goto err_tags;
	}
	q = vb->disk->queue;
	hvblk_disk_name(vb->disk->disk_name, DISK_NAME_LEN, vb->index);
	vb->disk->major = hvblk_major;
	vb->disk->first_minor = vb->index * HVBLK_MINORS;
	vb->disk->minors = HVBLK_MINORS;
	vb->disk->fops = &hvblk_fops;
	vb->disk->private_data = vb;

	set_capacity(vb->disk, hvblk_read_capacity(vdev));
	if (virtio_has_feature(vdev, VIRTIO_BLK_F_RO))
		set_disk_ro(vb->disk, 1);

	/* The disk scan below reads the partition table: the rings must be live. */
	virtio_device_ready(vdev);

	err = device_add_disk(&vdev->dev, vb->disk, hvblk_attr_groups);
	if (err)
		goto err_reset;

	dev_info(&vdev->dev, "%s: %llu sectors, %u queue(s), depth %u, %u segs%s%s%s\n",
		 vb->disk->disk_name, (unsigned long long)get_capacity(vb->disk),
		 vb->nr_queues, depth, vb->sg_elems,
		 virtio_has_feature(vdev, VIRTIO_BLK_F_RO) ? ", read-only" : "",
		 virtio_has_feature(vdev, VIRTIO_BLK_F_FLUSH) ? ", flush" : "",
		 q->limits.max_discard_sectors ? ", discard" : "");
	return 0;

err_reset:
	virtio_reset_device(vdev);
	put_disk(vb->disk);
err_tags:
	blk_mq_free_tag_set(&vb->tag_set);
err_vqs:
	vdev->config->del_vqs(vdev);
	kfree(vb->queues);
err_ida:
	ida_free(&hvblk_index_ida, vb->index);
err_free:
	kfree(vb);
	vdev->priv = NULL;
	return err;
}

static void hvblk_remove(struct virtio_device *vdev)
{
	struct hvblk *vb = vdev->priv;

	flush_work(&vb->config_work);
	/*
	 * Writes back what is cached, drains the queue and stops it: no
	 * request is in flight or can reach hvblk_queue_rq() after this.
	 */
	del_gendisk(vb->disk);
	blk_mq_free_tag_set(&vb->tag_set);
	/* no more interrupts or config changes before the rings go away */
	virtio_reset_device(vdev);
	cancel_work_sync(&vb->config_work);
	vdev->config->del_vqs(vdev);
	put_disk(vb->disk);
	kfree(vb->queues);
	ida_free(&hvblk_index_ida, vb->index);
	kfree(vb);
}

#ifdef CONFIG_PM_SLEEP
static int hvblk_freeze(struct virtio_device *vdev)
{
	struct hvblk *vb = vdev->priv;

	/* wait for every in-flight request, then hold new ones at the door */
	blk_mq_freeze_queue(vb->disk->queue);
	virtio_reset_device(vdev);
	flush_work(&vb->config_work);
	vdev->config->del_vqs(vdev);
	kfree(vb->queues);
	vb->queues = NULL;
	return 0;
}

static int hvblk_restore(struct virtio_device *vdev)
{
	struct hvblk *vb = vdev->priv;
	int err;

	err = hvblk_find_vqs(vb);
	if (err)
		return err;
	virtio_device_ready(vdev);
	blk_mq_unfreeze_queue(vb->disk->queue);
	return 0;
}
#endif

static const struct virtio_device_id hvblk_id_table[] = {
	{ VIRTIO_ID_BLOCK, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static const unsigned int hvblk_features[] = {
	VIRTIO_BLK_F_SIZE_MAX, VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_RO,
	VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_TOPOLOGY,
	VIRTIO_BLK_F_MQ, VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_F_WRITE_ZEROES,
};

static struct virtio_driver hvblk_driver = {
	.driver.name		= KBUILD_MODNAME,
	.driver.owner		= THIS_MODULE,
	.id_table		= hvblk_id_table,
	.feature_table		= hvblk_features,
	.feature_table_size	= ARRAY_SIZE(hvblk_features),
	.feature_table_legacy	= hvblk_features,
	.feature_table_size_legacy = ARRAY_SIZE(hvblk_features),
	.probe			= hvblk_probe,
	.remove			= hvblk_remove,
	.config_changed		= hvblk_config_changed,
#ifdef CONFIG_PM_SLEEP
	.freeze			= hvblk_freeze,
	.restore		= hvblk_restore,
#endif
};

static int __init hvblk_init(void)
{
	int err;

	hvblk_major = register_blkdev(0, "hvd");
	if (hvblk_major < 0)
		return hvblk_major;
	err = register_virtio_driver(&hvblk_driver);
	if (err)
		unregister_blkdev(hvblk_major, "hvd");
	return err;
}

static void __exit hvblk_exit(void)
{
	unregister_virtio_driver(&hvblk_driver);
	unregister_blkdev(hvblk_major, "hvd");
	ida_destroy(&hvblk_index_ida);
}

module_init(hvblk_init);
module_exit(hvblk_exit);

MODULE_DEVICE_TABLE(virtio, hvblk_id_table);
MODULE_DESCRIPTION("hvx virtio block guest driver");
MODULE_LICENSE("GPL");
