// SPDX-License-Identifier: GPL-2.0
/* hvx_vnet.c - virtio net guest driver: one rx/tx queue pair, NAPI, mergeable rx buffers, checksum and TSO offloads (virtio 1.x, 5.1). */

#include <linux/module.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/u64_stats_sync.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "compat.h"

/*
 * Size of one mergeable receive buffer, header included. The device spreads
 * a frame over as many buffers as it needs; small values exercise that.
 */
static unsigned int mrg_buf_len = 1536;
module_param(mrg_buf_len, uint, 0444);
MODULE_PARM_DESC(mrg_buf_len, "bytes per mergeable rx buffer (128-4096, default 1536)");

#define HVNET_COPYBREAK		256	/* bytes pulled into the skb head; the rest stays in the page */
#define HVNET_TX_SLOTS		(MAX_SKB_FRAGS + 2)	/* worst-case descriptors per packet */
#define HVNET_MAX_GSO_FRAME	65550	/* a receive TSO frame, Ethernet header included (5.1.6.3.1) */

struct hvnet_stats {
	u64 packets;
	u64 bytes;
	u64 dropped;
	u64 errors;
	struct u64_stats_sync syncp;
};

struct hvnet {
	struct virtio_device *vdev;
	struct net_device *dev;
	struct virtqueue *rvq;
	struct virtqueue *svq;
	struct napi_struct rx_napi;
	struct napi_struct tx_napi;

	/* rx buffers are carved from this page, one fixed-size chunk each */
	struct page_frag rx_frag;
	unsigned int buf_len;
	unsigned int hdr_len;
	unsigned int max_rx_bufs;	/* most buffers one frame may claim */
	bool mergeable;

	/* rx refill after an atomic allocation failed; only while the device is open */
	struct delayed_work refill_work;
	spinlock_t refill_lock;
	bool refill_enabled;

	struct work_struct config_work;

	/* rx side written by the rx NAPI only, tx side under the tx queue lock */
	struct hvnet_stats rx_stats;
	struct hvnet_stats tx_stats;
};

static bool hvnet_guest_tso(struct virtio_device *vdev)
{
	return virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_TSO4) ||
	       virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_TSO6);
}

static void hvnet_stats_add(struct hvnet_stats *s, unsigned int packets,
			    unsigned int bytes, unsigned int dropped,
			    unsigned int errors)
{
	u64_stats_update_begin(&s->syncp);
	s->packets += packets;
	s->bytes += bytes;
	s->dropped += dropped;
	s->errors += errors;
	u64_stats_update_end(&s->syncp);
}

/* ---- receive ---- */

static int hvnet_add_rxbuf(struct hvnet *vn, gfp_t gfp)
{
	struct page_frag *f = &vn->rx_frag;
	struct scatterlist sg[2];
	char *buf;
	int err;

	if (!skb_page_frag_refill(vn->buf_len, f, gfp))
		return -ENOMEM;
	buf = (char *)page_address(f->page) + f->offset;
	/* each buffer owns one page reference, handed to the skb on receive */
	get_page(f->page);
	f->offset += vn->buf_len;

	if (vn->mergeable) {
		/* the header opens the first buffer of each frame (5.1.6.4) */
		sg_init_one(sg, buf, vn->buf_len);
		err = virtqueue_add_inbuf(vn->rvq, sg, 1, buf, gfp);
	} else {
		/*
		 * Header and frame in separate descriptors keeps legacy
		 * devices without ANY_LAYOUT happy; in memory they are
		 * still contiguous, so the receive path is the same.
		 */
		sg_init_table(sg, 2);
		sg_set_buf(&sg[0], buf, vn->hdr_len);
		sg_set_buf(&sg[1], buf + vn->hdr_len, vn->buf_len - vn->hdr_len);
		err = virtqueue_add_inbuf(vn->rvq, sg, 2, buf, gfp);
	}
	if (err)
		put_page(virt_to_head_page(buf));
	return err;
}

/* Fills the rx ring; false only when memory ran out. */
static bool hvnet_fill_rx(struct hvnet *vn, gfp_t gfp)
{
	bool oom = false;
	int err;

	while (vn->rvq->num_free) {
		err = hvnet_add_rxbuf(vn, gfp);
		if (err) {
			oom = err == -ENOMEM;
			break;
		}
	}
	virtqueue_kick(vn->rvq);
	return !oom;
}

static void hvnet_put_rxbuf(void *buf)
{
	put_page(virt_to_head_page(buf));
}

/*
 * A frame we drop may still own more buffers on the ring: take them off so
 * the next frame starts where the device thinks it does.
 */
static void hvnet_drop_rxbufs(struct hvnet *vn, unsigned int count)
{
	unsigned int len;
	void *buf;

	while (count--) {
		buf = virtqueue_get_buf(vn->rvq, &len);
		if (!buf)
			break;
		hvnet_put_rxbuf(buf);
	}
}

/*
 * Appends one buffer's bytes to the frame @head as a page fragment of
 * *@tail, the skb taking fragments now: @head itself, or once its frags
 * are full (a 64 KiB TSO frame in small buffers) a fresh skb chained on
 * @head's frag_list. False only when that skb cannot be allocated.
 */
static bool hvnet_add_frag(struct hvnet *vn, struct sk_buff *head,
			   struct sk_buff **tail, void *buf, unsigned int off,
			   unsigned int len)
{
	struct page *page = virt_to_head_page(buf);
	unsigned int offset = (char *)buf - (char *)page_address(page) + off;
	struct sk_buff *skb = *tail, *next;
	int i = skb_shinfo(skb)->nr_frags;

	/* neighbouring chunks of one page often follow each other: one frag */
	if (i && skb_can_coalesce(skb, i, page, offset)) {
		skb_coalesce_rx_frag(skb, i - 1, len, vn->buf_len);
		put_page(page);
	} else {
		if (i >= MAX_SKB_FRAGS) {
			next = napi_alloc_skb(&vn->rx_napi, 0);
			if (!next)
				return false;
			if (skb == head)
				skb_shinfo(head)->frag_list = next;
			else
				skb->next = next;
			head->truesize += next->truesize;
			*tail = skb = next;
			i = 0;
		}
		skb_add_rx_frag(skb, i, page, offset, len, vn->buf_len);
	}
	/* the head skb accounts for what hangs on its frag_list */
	if (skb != head) {
		head->len += len;
		head->data_len += len;
		head->truesize += vn->buf_len;
	}
	return true;
}

/*
 * One frame: the first buffer (header + start of the frame) and, with
 * mergeable buffers, num_buffers - 1 more. Lengths and counts come from the
 * device and are checked before use: a device that lies costs us the frame,
 * never memory outside the buffers.
 */
static void hvnet_receive(struct hvnet *vn, void *buf, unsigned int len)
{
	struct virtio_net_hdr_mrg_rxbuf *mrg = buf;
	unsigned int nbufs = 1, plen, copy, i, blen;
	struct net_device *dev = vn->dev;
	struct sk_buff *skb, *tail;
	struct virtio_net_hdr hdr;
	void *next;

	if (len > vn->buf_len || len < vn->hdr_len + ETH_HLEN) {
		/* num_buffers is unreadable: resynchronise on the next buffer */
		hvnet_put_rxbuf(buf);
		goto err;
	}
	if (vn->mergeable) {
		nbufs = virtio16_to_cpu(vn->vdev, mrg->num_buffers);
		if (nbufs < 1 || nbufs > vn->max_rx_bufs) {
			hvnet_put_rxbuf(buf);
			hvnet_drop_rxbufs(vn, nbufs ? nbufs - 1 : 0);
			goto err;
		}
	}

	/* the buffer may be freed below: keep the offload header */
	hdr = mrg->hdr;
	plen = len - vn->hdr_len;
	copy = min_t(unsigned int, plen, HVNET_COPYBREAK);
	skb = napi_alloc_skb(&vn->rx_napi, copy);
	if (unlikely(!skb)) {
		hvnet_put_rxbuf(buf);
		hvnet_drop_rxbufs(vn, nbufs - 1);
		hvnet_stats_add(&vn->rx_stats, 0, 0, 1, 0);
		return;
	}
	skb_put_data(skb, (char *)buf + vn->hdr_len, copy);
	tail = skb;
	/* the head skb has no frags yet, so this cannot need a new skb */
	if (plen > copy)
		hvnet_add_frag(vn, skb, &tail, buf, vn->hdr_len + copy, plen - copy);
	else
		hvnet_put_rxbuf(buf);

	for (i = 1; i < nbufs; i++) {
		next = virtqueue_get_buf(vn->rvq, &blen);
		if (!next) {
			netdev_dbg(dev, "frame claims %u buffers, ring has %u\n", nbufs, i);
			goto err_skb;
		}
		if (blen == 0 || blen > vn->buf_len ||
		    !hvnet_add_frag(vn, skb, &tail, next, 0, blen)) {
			hvnet_put_rxbuf(next);
			hvnet_drop_rxbufs(vn, nbufs - i - 1);
			goto err_skb;
		}
	}

	/*
	 * With GUEST_CSUM the device may hand over a frame whose checksum
	 * it checked (DATA_VALID) or one still to be completed (NEEDS_CSUM,
	 * e.g. a host's own TSO segment); with GUEST_TSO4/6 one frame of up
	 * to 64 KiB. Flags the driver did not negotiate are the device's
	 * error: the kernel's helper refuses them.
	 */
	if (hdr.flags & VIRTIO_NET_HDR_F_DATA_VALID)
		skb->ip_summed = CHECKSUM_UNNECESSARY;
	if (virtio_net_hdr_to_skb(skb, &hdr, virtio_is_little_endian(vn->vdev))) {
		netdev_dbg(dev, "bad offload header: flags %#x gso %#x\n",
			   hdr.flags, hdr.gso_type);
		goto err_skb;
	}
	skb->protocol = eth_type_trans(skb, dev);
	hvnet_stats_add(&vn->rx_stats, 1, skb->len + ETH_HLEN, 0, 0);
	napi_gro_receive(&vn->rx_napi, skb);
	return;

err_skb:
	dev_kfree_skb_any(skb);
err:
	hvnet_stats_add(&vn->rx_stats, 0, 0, 0, 1);
}

/* Reschedules a NAPI whose queue got work after the callback was re-armed. */
static void hvnet_napi_complete(struct napi_struct *napi, struct virtqueue *vq,
				int done)
{
	unsigned int opaque = virtqueue_enable_cb_prepare(vq);

	if (napi_complete_done(napi, done) && unlikely(virtqueue_poll(vq, opaque)) &&
	    napi_schedule_prep(napi)) {
		virtqueue_disable_cb(vq);
		__napi_schedule(napi);
	}
}

static int hvnet_rx_poll(struct napi_struct *napi, int budget)
{
	struct hvnet *vn = container_of(napi, struct hvnet, rx_napi);
	unsigned int len;
	int done = 0;
	void *buf;

	while (done < budget && (buf = virtqueue_get_buf(vn->rvq, &len)) != NULL) {
		hvnet_receive(vn, buf, len);
		done++;
	}

	if (vn->rvq->num_free > virtqueue_get_vring_size(vn->rvq) / 2 &&
	    !hvnet_fill_rx(vn, GFP_ATOMIC)) {
		spin_lock(&vn->refill_lock);
		if (vn->refill_enabled)
			schedule_delayed_work(&vn->refill_work, 0);
		spin_unlock(&vn->refill_lock);
	}

	if (done < budget)
		hvnet_napi_complete(napi, vn->rvq, done);
	return done;
}

static void hvnet_schedule_napi(struct napi_struct *napi, struct virtqueue *vq)
{
	if (napi_schedule_prep(napi)) {
		virtqueue_disable_cb(vq);
		__napi_schedule(napi);
	}
}

static void hvnet_rx_done(struct virtqueue *vq)
{
	struct hvnet *vn = vq->vdev->priv;

	hvnet_schedule_napi(&vn->rx_napi, vq);
}

static void hvnet_refill_work(struct work_struct *work)
{
	struct hvnet *vn = container_of(work, struct hvnet, refill_work.work);
	bool ok;

	/* GFP_KERNEL may sleep: keep the rx NAPI off the ring meanwhile */
	napi_disable(&vn->rx_napi);
	ok = hvnet_fill_rx(vn, GFP_KERNEL);
	napi_enable(&vn->rx_napi);
	local_bh_disable();
	hvnet_schedule_napi(&vn->rx_napi, vn->rvq);
	local_bh_enable();

	if (!ok) {
		spin_lock_bh(&vn->refill_lock);
		if (vn->refill_enabled)
			schedule_delayed_work(&vn->refill_work, HZ / 2);
		spin_unlock_bh(&vn->refill_lock);
	}
}

/* ---- transmit ---- */

/* Caller holds the tx queue lock. */
static void hvnet_tx_reclaim(struct hvnet *vn)
{
	unsigned int len, packets = 0, bytes = 0;
	struct sk_buff *skb;

	while ((skb = virtqueue_get_buf(vn->svq, &len)) != NULL) {
		packets++;
		bytes += skb->len;
		dev_consume_skb_any(skb);
	}
	if (packets)
		hvnet_stats_add(&vn->tx_stats, packets, bytes, 0, 0);
}

static int hvnet_tx_poll(struct napi_struct *napi, int budget)
{
	struct hvnet *vn = container_of(napi, struct hvnet, tx_napi);
	struct netdev_queue *txq = netdev_get_tx_queue(vn->dev, 0);
	unsigned int opaque;
	bool done;

	__netif_tx_lock(txq, raw_smp_processor_id());
	hvnet_tx_reclaim(vn);
	if (netif_tx_queue_stopped(txq) && vn->svq->num_free >= HVNET_TX_SLOTS)
		netif_tx_wake_queue(txq);
	/* re-arm under the lock: start_xmit adds to the same ring */
	opaque = virtqueue_enable_cb_prepare(vn->svq);
	done = napi_complete_done(napi, 0);
	if (!done)
		virtqueue_disable_cb(vn->svq);
	__netif_tx_unlock(txq);

	if (done && unlikely(virtqueue_poll(vn->svq, opaque)) &&
	    napi_schedule_prep(napi)) {
		__netif_tx_lock(txq, raw_smp_processor_id());
		virtqueue_disable_cb(vn->svq);
		__netif_tx_unlock(txq);
		__napi_schedule(napi);
	}
	return 0;
}

static void hvnet_tx_done(struct virtqueue *vq)
{
	struct hvnet *vn = vq->vdev->priv;

	hvnet_schedule_napi(&vn->tx_napi, vq);
}

/*
 * Every frame goes out behind a virtio_net_hdr saying what the device is
 * to finish: the checksum from csum_start (CSUM) and the segmentation
 * (HOST_TSO4/6); the stack hands over only what dev->features allows. It
 * sits in skb->cb, which the driver owns from here until the skb is
 * freed, so the skb's own headroom is never touched.
 */
static netdev_tx_t hvnet_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct hvnet *vn = netdev_priv(dev);
	struct virtio_net_hdr_mrg_rxbuf *hdr = (void *)skb->cb;
	struct scatterlist sg[HVNET_TX_SLOTS];
	bool kick = !netdev_xmit_more();
	int n, err;

	BUILD_BUG_ON(sizeof(*hdr) > sizeof(skb->cb));

	hvnet_tx_reclaim(vn);

	memset(hdr, 0, sizeof(*hdr));
	if (virtio_net_hdr_from_skb(skb, &hdr->hdr, virtio_is_little_endian(vn->vdev),
				    false, 0))
		goto drop;	/* a GSO type not offered: the stack never sends one */
	sg_init_table(sg, ARRAY_SIZE(sg));
	sg_set_buf(&sg[0], hdr, vn->hdr_len);
	n = skb_to_sgvec(skb, &sg[1], 0, skb->len);
	if (unlikely(n < 0))
		goto drop;

	err = virtqueue_add_outbuf(vn->svq, sg, n + 1, skb, GFP_ATOMIC);
	if (unlikely(err)) {
		/* the queue is stopped before the ring fills, so this is rare */
		netdev_dbg(dev, "tx ring add failed: %d\n", err);
		goto drop;
	}

	if (vn->svq->num_free < HVNET_TX_SLOTS) {
		netif_stop_queue(dev);
		/*
		 * The completion may have come and gone before the stop: look
		 * again, or nothing would ever wake the queue.
		 */
		hvnet_tx_reclaim(vn);
		if (vn->svq->num_free >= HVNET_TX_SLOTS)
			netif_start_queue(dev);
	}

	if (kick || netif_queue_stopped(dev))
		virtqueue_kick(vn->svq);
	return NETDEV_TX_OK;

drop:
	dev_kfree_skb_any(skb);
	hvnet_stats_add(&vn->tx_stats, 0, 0, 1, 0);
	/* frames queued earlier with xmit_more still wait for this doorbell */
	if (kick)
		virtqueue_kick(vn->svq);
	return NETDEV_TX_OK;
}

/* ---- net_device ---- */

static void hvnet_set_refill(struct hvnet *vn, bool enabled)
{
	spin_lock_bh(&vn->refill_lock);
	vn->refill_enabled = enabled;
	spin_unlock_bh(&vn->refill_lock);
}

static int hvnet_open(struct net_device *dev)
{
	struct hvnet *vn = netdev_priv(dev);

	bool filled = hvnet_fill_rx(vn, GFP_KERNEL);

	hvnet_set_refill(vn, true);
	napi_enable(&vn->rx_napi);
	napi_enable(&vn->tx_napi);
	/* the refill work disables the rx NAPI: only once it is enabled */
	if (!filled)
		schedule_delayed_work(&vn->refill_work, 0);
	/* frames that arrived while closed raised no NAPI: look now */
	local_bh_disable();
	hvnet_schedule_napi(&vn->rx_napi, vn->rvq);
	hvnet_schedule_napi(&vn->tx_napi, vn->svq);
	local_bh_enable();
	netif_start_queue(dev);
	return 0;
}

static int hvnet_stop(struct net_device *dev)
{
	struct hvnet *vn = netdev_priv(dev);

	netif_tx_disable(dev);
	hvnet_set_refill(vn, false);
	cancel_delayed_work_sync(&vn->refill_work);
	napi_disable(&vn->rx_napi);
	napi_disable(&vn->tx_napi);
	return 0;
}

static void hvnet_get_stats64(struct net_device *dev,
			      struct rtnl_link_stats64 *st)
{
	struct hvnet *vn = netdev_priv(dev);
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&vn->rx_stats.syncp);
		st->rx_packets = vn->rx_stats.packets;
		st->rx_bytes = vn->rx_stats.bytes;
		st->rx_dropped = vn->rx_stats.dropped;
		st->rx_errors = vn->rx_stats.errors;
	} while (u64_stats_fetch_retry(&vn->rx_stats.syncp, start));
	do {
		start = u64_stats_fetch_begin(&vn->tx_stats.syncp);
		st->tx_packets = vn->tx_stats.packets;
		st->tx_bytes = vn->tx_stats.bytes;
		st->tx_dropped = vn->tx_stats.dropped;
		st->tx_errors = vn->tx_stats.errors;
	} while (u64_stats_fetch_retry(&vn->tx_stats.syncp, start));
}

static const struct net_device_ops hvnet_netdev_ops = {
	.ndo_open		= hvnet_open,
	.ndo_stop		= hvnet_stop,
	.ndo_start_xmit		= hvnet_start_xmit,
	.ndo_get_stats64	= hvnet_get_stats64,
	.ndo_validate_addr	= eth_validate_addr,
};

static void hvnet_get_drvinfo(struct net_device *dev,
			      struct ethtool_drvinfo *info)
{
	struct hvnet *vn = netdev_priv(dev);

	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
	strscpy(info->bus_info, virtio_bus_name(vn->vdev), sizeof(info->bus_info));
}

static const struct ethtool_ops hvnet_ethtool_ops = {
	.get_drvinfo	= hvnet_get_drvinfo,
	.get_link	= ethtool_op_get_link,
};

/* ---- virtio device ---- */

static void hvnet_config_work(struct work_struct *work)
{
	struct hvnet *vn = container_of(work, struct hvnet, config_work);
	u16 status = VIRTIO_NET_S_LINK_UP;

	/* without STATUS the link is always up (5.1.4.2) */
	if (virtio_has_feature(vn->vdev, VIRTIO_NET_F_STATUS))
		virtio_cread(vn->vdev, struct virtio_net_config, status, &status);

	if (status & VIRTIO_NET_S_LINK_UP) {
		if (!netif_carrier_ok(vn->dev)) {
			netif_carrier_on(vn->dev);
			netdev_info(vn->dev, "link up\n");
		}
	} else if (netif_carrier_ok(vn->dev)) {
		netif_carrier_off(vn->dev);
		netdev_info(vn->dev, "link down\n");
	}
}

/* May run in interrupt context; config reads can sleep. */
static void hvnet_config_changed(struct virtio_device *vdev)
{
	struct hvnet *vn = vdev->priv;

	schedule_work(&vn->config_work);
}

static int hvnet_find_vqs(struct hvnet *vn)
{
	struct virtqueue_info vqs_info[] = {
		{ .name = "input.0", .callback = hvnet_rx_done },
		{ .name = "output.0", .callback = hvnet_tx_done },
	};
	struct virtqueue *vqs[2];
	int err;

	err = hvx_virtio_find_vqs(vn->vdev, 2, vqs, vqs_info);
	if (err)
		return err;
	vn->rvq = vqs[0];
	vn->svq = vqs[1];
	return 0;
}

/* After a reset: nothing on either ring will ever complete. */
static void hvnet_free_bufs(struct hvnet *vn)
{
	struct sk_buff *skb;
	void *buf;

	while ((skb = virtqueue_detach_unused_buf(vn->svq)) != NULL)
		dev_kfree_skb(skb);
	while ((buf = virtqueue_detach_unused_buf(vn->rvq)) != NULL)
		hvnet_put_rxbuf(buf);
}

static void hvnet_del_vqs(struct hvnet *vn)
{
	virtio_reset_device(vn->vdev);
	hvnet_free_bufs(vn);
	vn->vdev->config->del_vqs(vn->vdev);
}

static int hvnet_validate(struct virtio_device *vdev)
{
	if (!vdev->config->get) {
		dev_err(&vdev->dev, "device has no config space\n");
		return -EINVAL;
	}
	/*
	 * Segmentation needs the checksum offload of the same direction
	 * (5.1.3.1); 64 KiB receive frames need mergeable buffers here, as
	 * whole-frame buffers are sized for one standard frame.
	 */
	if (!virtio_has_feature(vdev, VIRTIO_NET_F_CSUM)) {
		__virtio_clear_bit(vdev, VIRTIO_NET_F_HOST_TSO4);
		__virtio_clear_bit(vdev, VIRTIO_NET_F_HOST_TSO6);
	}
	if (!virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM) ||
	    !virtio_has_feature(vdev, VIRTIO_NET_F_MRG_RXBUF)) {
		__virtio_clear_bit(vdev, VIRTIO_NET_F_GUEST_TSO4);
		__virtio_clear_bit(vdev, VIRTIO_NET_F_GUEST_TSO6);
	}
	return 0;
}

static int hvnet_probe(struct virtio_device *vdev)
{
	struct net_device *dev;
	struct hvnet *vn;
	u8 mac[ETH_ALEN];
	int err;

	dev = alloc_etherdev(sizeof(*vn));
	if (!dev)
		return -ENOMEM;
	vn = netdev_priv(dev);
	vn->vdev = vdev;
	vn->dev = dev;
	vdev->priv = vn;
	SET_NETDEV_DEV(dev, &vdev->dev);
	dev->netdev_ops = &hvnet_netdev_ops;
	dev->ethtool_ops = &hvnet_ethtool_ops;
	/* rx buffers are sized for a standard frame */
	dev->max_mtu = ETH_DATA_LEN;

	spin_lock_init(&vn->refill_lock);
	INIT_DELAYED_WORK(&vn->refill_work, hvnet_refill_work);
	INIT_WORK(&vn->config_work, hvnet_config_work);
	u64_stats_init(&vn->rx_stats.syncp);
	u64_stats_init(&vn->tx_stats.syncp);

	vn->mergeable = virtio_has_feature(vdev, VIRTIO_NET_F_MRG_RXBUF);
	/* virtio 1.x always has num_buffers; legacy only with MRG_RXBUF (5.1.6) */
	if (vn->mergeable || virtio_has_feature(vdev, VIRTIO_F_VERSION_1))
		vn->hdr_len = sizeof(struct virtio_net_hdr_mrg_rxbuf);
	else
		vn->hdr_len = sizeof(struct virtio_net_hdr);
	if (vn->mergeable)
		vn->buf_len = ALIGN(clamp_t(unsigned int, mrg_buf_len, 128, PAGE_SIZE),
				    L1_CACHE_BYTES);
	else
		vn->buf_len = ALIGN(vn->hdr_len + VLAN_ETH_HLEN + ETH_DATA_LEN,
				    L1_CACHE_BYTES);
	vn->max_rx_bufs = DIV_ROUND_UP(vn->hdr_len + (hvnet_guest_tso(vdev) ?
						      HVNET_MAX_GSO_FRAME :
						      VLAN_ETH_HLEN + ETH_DATA_LEN),
				       vn->buf_len);

	/*
	 * Transmit offloads as negotiated; the stack does in software what
	 * is not set here. Receive checksums are taken as the device says.
	 * Receive segmentation (GUEST_TSO) cannot be switched off without a
	 * control queue, which is not offered: frames are then up to 64 KiB.
	 */
	if (virtio_has_feature(vdev, VIRTIO_NET_F_CSUM)) {
		dev->hw_features |= NETIF_F_HW_CSUM | NETIF_F_SG;
		if (virtio_has_feature(vdev, VIRTIO_NET_F_HOST_TSO4))
			dev->hw_features |= NETIF_F_TSO;
		if (virtio_has_feature(vdev, VIRTIO_NET_F_HOST_TSO6))
			dev->hw_features |= NETIF_F_TSO6;
	}
	dev->features = dev->hw_features;
	if (virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM))
		dev->features |= NETIF_F_RXCSUM;

	if (virtio_has_feature(vdev, VIRTIO_NET_F_MAC)) {
		virtio_cread_bytes(vdev, offsetof(struct virtio_net_config, mac),
				   mac, ETH_ALEN);
		if (is_valid_ether_addr(mac)) {
			eth_hw_addr_set(dev, mac);
		} else {
			dev_warn(&vdev->dev, "invalid MAC %pM from device, using a random one\n",
				 mac);
			eth_hw_addr_random(dev);
		}
	} else {
		eth_hw_addr_random(dev);
	}

	netif_napi_add(dev, &vn->rx_napi, hvnet_rx_poll);
	netif_napi_add_tx(dev, &vn->tx_napi, hvnet_tx_poll);

	err = hvnet_find_vqs(vn);
	if (err)
		goto err_free;

	/* the link state comes from config, read once registered */
	netif_carrier_off(dev);
	err = register_netdev(dev);
	if (err)
		goto err_vqs;

	virtio_device_ready(vdev);
	hvnet_config_work(&vn->config_work);

	netdev_info(dev, "%pM, %s rx buffers of %u bytes%s%s%s%s%s\n", dev->dev_addr,
		    vn->mergeable ? "mergeable" : "whole-frame", vn->buf_len,
		    virtio_has_feature(vdev, VIRTIO_NET_F_STATUS) ? ", link status" : "",
		    virtio_has_feature(vdev, VIRTIO_NET_F_CSUM) ? ", tx csum" : "",
		    dev->features & (NETIF_F_TSO | NETIF_F_TSO6) ? ", tx tso" : "",
		    virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM) ? ", rx csum" : "",
		    hvnet_guest_tso(vdev) ? ", rx tso" : "");
	return 0;

err_vqs:
	hvnet_del_vqs(vn);
err_free:
	netif_napi_del(&vn->rx_napi);
	netif_napi_del(&vn->tx_napi);
	free_netdev(dev);
	vdev->priv = NULL;
	return err;
}

static void hvnet_remove(struct virtio_device *vdev)
{
	struct hvnet *vn = vdev->priv;

	/* the virtio core stopped config-change callbacks before calling us */
	cancel_work_sync(&vn->config_work);
	unregister_netdev(vn->dev);
	hvnet_del_vqs(vn);
	if (vn->rx_frag.page)
		put_page(vn->rx_frag.page);
	netif_napi_del(&vn->rx_napi);
	netif_napi_del(&vn->tx_napi);
	free_netdev(vn->dev);
}

#ifdef CONFIG_PM_SLEEP
static int hvnet_freeze(struct virtio_device *vdev)
{
	struct hvnet *vn = vdev->priv;

	cancel_work_sync(&vn->config_work);
	rtnl_lock();
	netif_device_detach(vn->dev);
	if (netif_running(vn->dev))
		hvnet_stop(vn->dev);
	rtnl_unlock();
	hvnet_del_vqs(vn);
	return 0;
}

static int hvnet_restore(struct virtio_device *vdev)
{
	struct hvnet *vn = vdev->priv;
	int err;

	err = hvnet_find_vqs(vn);
	if (err)
		return err;
	virtio_device_ready(vdev);
	rtnl_lock();
	if (netif_running(vn->dev))
		hvnet_open(vn->dev);
	netif_device_attach(vn->dev);
	rtnl_unlock();
	hvnet_config_work(&vn->config_work);
	return 0;
}
#endif

static const struct virtio_device_id hvnet_id_table[] = {
	{ VIRTIO_ID_NET, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static const unsigned int hvnet_features[] = {
	VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_MRG_RXBUF,
	VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM,
	VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
	VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6,
};

static struct virtio_driver hvnet_driver = {
	.driver.name		= KBUILD_MODNAME,
	.driver.owner		= THIS_MODULE,
	.id_table		= hvnet_id_table,
	.feature_table		= hvnet_features,
	.feature_table_size	= ARRAY_SIZE(hvnet_features),
	.feature_table_legacy	= hvnet_features,
	.feature_table_size_legacy = ARRAY_SIZE(hvnet_features),
	.validate		= hvnet_validate,
	.probe			= hvnet_probe,
	.remove			= hvnet_remove,
	.config_changed		= hvnet_config_changed,
#ifdef CONFIG_PM_SLEEP
	.freeze			= hvnet_freeze,
	.restore		= hvnet_restore,
#endif
};

module_virtio_driver(hvnet_driver);
MODULE_DEVICE_TABLE(virtio, hvnet_id_table);
MODULE_DESCRIPTION("hvx virtio net guest driver");
MODULE_LICENSE("GPL");
