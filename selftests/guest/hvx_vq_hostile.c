// SPDX-License-Identifier: GPL-2.0
/* hvx_vq_hostile.c - a hostile virtio-blk driver: feeds hvx-run malformed rings and reports what the device did. */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_byteorder.h>
#include <linux/virtio_config.h>
#include <linux/virtio_blk.h>

/*
 * Each case sets the device up from reset, publishes one broken (or
 * request-level wrong) chain on queue 0, notifies and polls: the device
 * must end in DEVICE_NEEDS_RESET or complete the request with an error
 * status, never hang.  Interrupts are not used: polling sees the same
 * state without depending on the interrupt path under test elsewhere.
 */

/* VIRTIO_F_VERSION_1: rings and headers are little-endian (the virtio_* helpers' flag). */
#define LE		true
#define QSIZE		16
#define POLL_MS		2000
#define BAD_GPA		(1ull << 45)	/* far above any guest RAM */
/* Guest-physical RAM the oversized request points at: read only, never written. */
#define BIG_GPA		(16ull << 20)
#define BIG_LEN		(32u << 20)

/* Layout of the ring page and the buffer page (both dma_alloc_coherent). */
#define RING_DESC	0
#define RING_AVAIL	1024
#define RING_USED	2048
#define BUF_HDR		0
#define BUF_STATUS	64
#define BUF_TABLE	1024	/* an indirect table */
#define BUF_TABLE2	1536	/* a second one, for nesting */
#define BUF_DATA	2048	/* one sector */

struct hostile {
	struct pci_dev *pdev;
	void __iomem *common;
	void __iomem *isr;
	void __iomem *device;
	void __iomem *notify;	/* the notify region; queue 0's address is computed */
	u32 notify_mult;
	u64 capacity;		/* sectors, from the device configuration */
	void *ring;
	dma_addr_t ring_dma;
	u8 *buf;
	dma_addr_t buf_dma;
};

static atomic_t claimed = ATOMIC_INIT(0);

static struct vring_desc *desc(struct hostile *h, int i)
{
	return (struct vring_desc *)((u8 *)h->ring + RING_DESC) + i;
}

static void set_desc(struct vring_desc *d, u64 addr, u32 len, u16 flags, u16 next)
{
	d->addr = __cpu_to_virtio64(LE, addr);
	d->len = __cpu_to_virtio32(LE, len);
	d->flags = __cpu_to_virtio16(LE, flags);
	d->next = __cpu_to_virtio16(LE, next);
}

static u8 get_status(struct hostile *h)
{
	return ioread8(h->common + VIRTIO_PCI_COMMON_STATUS);
}

static void set_status(struct hostile *h, u8 s)
{
	iowrite8(s, h->common + VIRTIO_PCI_COMMON_STATUS);
}

static void write64(void __iomem *lo, u64 v)
{
	/* Two dwords, as Linux's vp_modern does: the device must merge them. */
	iowrite32(lower_32_bits(v), lo);
	iowrite32(upper_32_bits(v), lo + 4);
}

/* Status 0, and wait until the device says it is reset (virtio 1.2, 4.1.4.3.2). */
static int reset(struct hostile *h)
{
	int i;

	set_status(h, 0);
	for (i = 0; i < 1000; i++) {
		if (!get_status(h))
			return 0;
		msleep(1);
	}
	return -ETIMEDOUT;
}

/* From reset to DRIVER_OK with queue 0 on fresh, zeroed rings. */
static int setup(struct hostile *h, bool indirect)
{
	u64 gf = BIT_ULL(VIRTIO_F_VERSION_1);
	dma_addr_t r = h->ring_dma;
	int err;

	err = reset(h);
	if (err)
		return err;
	/* The ISR read lowers INTx that a previous case may have raised. */
	ioread8(h->isr);
	memset(h->ring, 0, PAGE_SIZE);
	memset(h->buf, 0, PAGE_SIZE);
	set_status(h, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	if (indirect)
		gf |= BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC);
	iowrite32(0, h->common + VIRTIO_PCI_COMMON_GFSELECT);
	iowrite32(lower_32_bits(gf), h->common + VIRTIO_PCI_COMMON_GF);
	iowrite32(1, h->common + VIRTIO_PCI_COMMON_GFSELECT);
	iowrite32(upper_32_bits(gf), h->common + VIRTIO_PCI_COMMON_GF);
	set_status(h, get_status(h) | VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(get_status(h) & VIRTIO_CONFIG_S_FEATURES_OK))
		return -EIO;
	iowrite16(0, h->common + VIRTIO_PCI_COMMON_Q_SELECT);
	if (ioread16(h->common + VIRTIO_PCI_COMMON_Q_SIZE) < QSIZE)
		return -ENOSPC;
	iowrite16(QSIZE, h->common + VIRTIO_PCI_COMMON_Q_SIZE);
	write64(h->common + VIRTIO_PCI_COMMON_Q_DESCLO, r + RING_DESC);
	write64(h->common + VIRTIO_PCI_COMMON_Q_AVAILLO, r + RING_AVAIL);
	write64(h->common + VIRTIO_PCI_COMMON_Q_USEDLO, r + RING_USED);
	iowrite16(1, h->common + VIRTIO_PCI_COMMON_Q_ENABLE);
	if (ioread16(h->common + VIRTIO_PCI_COMMON_Q_ENABLE) != 1)
		return -EIO;
	set_status(h, get_status(h) | VIRTIO_CONFIG_S_DRIVER_OK);
	return 0;
}

/*
 * Puts @n entries on the avail ring (all naming @head) and notifies:
 * @n > QSIZE is itself a malformed ring.
 */
static void publish(struct hostile *h, u16 head, u16 n)
{
	struct vring_avail *avail = h->ring + RING_AVAIL;
	u16 noff, i;

	for (i = 0; i < QSIZE; i++)
		avail->ring[i] = __cpu_to_virtio16(LE, head);
	/* The ring entries and descriptors are visible before the index. */
	virt_wmb();
	WRITE_ONCE(avail->idx, __cpu_to_virtio16(LE, n));
	/* ... and the index before the notification (an MMIO write). */
	wmb();
	noff = ioread16(h->common + VIRTIO_PCI_COMMON_Q_NOFF);
	iowrite16(0, h->notify + (u32)noff * h->notify_mult);
}

/* Polls for NEEDS_RESET or a used entry; writes the outcome into @out. */
static void outcome(struct hostile *h, char *out, size_t len)
{
	struct vring_used *used = h->ring + RING_USED;
	int ms;

	for (ms = 0; ms < POLL_MS; ms += 10) {
		if (get_status(h) & VIRTIO_CONFIG_S_NEEDS_RESET) {
			snprintf(out, len, "needs-reset");
			return;
		}
		if (__virtio16_to_cpu(LE, READ_ONCE(used->idx))) {
			/* The used index is read before the status byte it covers. */
			virt_rmb();
			snprintf(out, len, "status-%u", READ_ONCE(h->buf[BUF_STATUS]));
			return;
		}
		msleep(10);
	}
	snprintf(out, len, "timeout");
}

/* The 16-byte request header at BUF_HDR. */
static void set_hdr(struct hostile *h, u32 type, u64 sector)
{
	struct virtio_blk_outhdr *hdr = (void *)(h->buf + BUF_HDR);

	hdr->type = __cpu_to_virtio32(LE, type);
	hdr->ioprio = 0;
	hdr->sector = __cpu_to_virtio64(LE, sector);
	/* Not a status the device writes: a status-255 outcome means "not written". */
	h->buf[BUF_STATUS] = 0xff;
}

enum { R = 0, W = VRING_DESC_F_WRITE, N = VRING_DESC_F_NEXT, I = VRING_DESC_F_INDIRECT };

/* A well-formed read of @sector: header, one sector, status; descriptors 0-2 of @t. */
static void read_chain(struct hostile *h, struct vring_desc *t, u64 sector)
{
	dma_addr_t b = h->buf_dma;

	set_hdr(h, VIRTIO_BLK_T_IN, sector);
	set_desc(&t[0], b + BUF_HDR, 16, R | N, 1);
	set_desc(&t[1], b + BUF_DATA, 512, W | N, 2);
	set_desc(&t[2], b + BUF_STATUS, 1, W, 0);
}

struct hostile_case {
	const char *name;
	bool indirect;		/* negotiate VIRTIO_RING_F_INDIRECT_DESC */
	/* Builds the chain; returns its head and how far to move avail idx. */
	u16 (*build)(struct hostile *h, u16 *n);
};

static u16 head_oob(struct hostile *h, u16 *n)
{
	read_chain(h, desc(h, 0), 0);
	return QSIZE;
}

static u16 next_oob(struct hostile *h, u16 *n)
{
	read_chain(h, desc(h, 0), 0);
	desc(h, 0)->next = __cpu_to_virtio16(LE, 200);
	return 0;
}

/* Both device-readable, so only the loop (not the order) is wrong. */
static u16 loop(struct hostile *h, u16 *n)
{
	set_hdr(h, VIRTIO_BLK_T_OUT, 0);
	set_desc(desc(h, 0), h->buf_dma + BUF_HDR, 16, R | N, 1);
	set_desc(desc(h, 1), h->buf_dma + BUF_DATA, 512, R | N, 0);
	return 0;
}

static u16 buf_outside_ram(struct hostile *h, u16 *n)
{
	read_chain(h, desc(h, 0), 0);
	desc(h, 1)->addr = __cpu_to_virtio64(LE, BAD_GPA);
	return 0;
}

static u16 indirect_outside_ram(struct hostile *h, u16 *n)
{
	set_desc(desc(h, 0), BAD_GPA, 3 * 16, I, 0);
	return 0;
}

static u16 indirect_nested(struct hostile *h, u16 *n)
{
	struct vring_desc *t = (void *)(h->buf + BUF_TABLE);

	read_chain(h, (void *)(h->buf + BUF_TABLE2), 0);
	set_desc(&t[0], h->buf_dma + BUF_TABLE2, 3 * 16, I, 0);
	set_desc(desc(h, 0), h->buf_dma + BUF_TABLE, 16, I, 0);
	return 0;
}

static u16 indirect_bad_len(struct hostile *h, u16 *n)
{
	read_chain(h, (void *)(h->buf + BUF_TABLE), 0);
	set_desc(desc(h, 0), h->buf_dma + BUF_TABLE, 3 * 16 - 8, I, 0);
	return 0;
}

/* A valid indirect table, but the feature is not negotiated (case has indirect = false). */
static u16 indirect_not_negotiated(struct hostile *h, u16 *n)
{
	read_chain(h, (void *)(h->buf + BUF_TABLE), 0);
	set_desc(desc(h, 0), h->buf_dma + BUF_TABLE, 3 * 16, I, 0);
	return 0;
}

static u16 avail_jump(struct hostile *h, u16 *n)
{
	read_chain(h, desc(h, 0), 0);
	*n = QSIZE + 1;
	return 0;
}

static u16 readable_after_writable(struct hostile *h, u16 *n)
{
	read_chain(h, desc(h, 0), 0);
	desc(h, 1)->next = __cpu_to_virtio16(LE, 3);
	set_desc(desc(h, 3), h->buf_dma + BUF_TABLE, 16, R | N, 2);
	return 0;
}

/*
 * A write whose data adds up to 96 MiB, past hvx-run's 64 MiB per chain:
 * three descriptors over the same guest RAM, which the device would only
 * read (and the 16 MiB disk could not take it anyway).
 */
static u16 oversized(struct hostile *h, u16 *n)
{
	int i;

	set_hdr(h, VIRTIO_BLK_T_OUT, 0);
	set_desc(desc(h, 0), h->buf_dma + BUF_HDR, 16, R | N, 1);
	for (i = 1; i <= 3; i++)
		set_desc(desc(h, i), BIG_GPA, BIG_LEN, R | N, i + 1);
	set_desc(desc(h, 4), h->buf_dma + BUF_STATUS, 1, W, 0);
	return 0;
}

static u16 read_past_end(struct hostile *h, u16 *n)
{
	read_chain(h, desc(h, 0), h->capacity);
	return 0;
}

static u16 unknown_type(struct hostile *h, u16 *n)
{
	read_chain(h, desc(h, 0), 0);
	set_hdr(h, 0x7f, 0);
	return 0;
}

/* 8 of the header's 16 bytes, then the status. */
static u16 short_header(struct hostile *h, u16 *n)
{
	set_hdr(h, VIRTIO_BLK_T_IN, 0);
	set_desc(desc(h, 0), h->buf_dma + BUF_HDR, 8, R | N, 1);
	set_desc(desc(h, 1), h->buf_dma + BUF_STATUS, 1, W, 0);
	return 0;
}

static u16 sane_read(struct hostile *h, u16 *n)
{
	read_chain(h, desc(h, 0), 0);
	return 0;
}

static const struct hostile_case cases[] = {
	{ "head-out-of-range", false, head_oob },
	{ "next-out-of-range", false, next_oob },
	{ "loop", false, loop },
	{ "buffer-outside-ram", false, buf_outside_ram },
	{ "indirect-outside-ram", true, indirect_outside_ram },
	{ "indirect-nested", true, indirect_nested },
	{ "indirect-bad-length", true, indirect_bad_len },
	{ "indirect-not-negotiated", false, indirect_not_negotiated },
	{ "avail-idx-jump", false, avail_jump },
	{ "readable-after-writable", false, readable_after_writable },
	{ "oversized-write", false, oversized },
	{ "read-past-end", false, read_past_end },
	{ "unknown-type", false, unknown_type },
	{ "short-header", false, short_header },
	{ "sane-read", false, sane_read },
};

static int run_cases(struct hostile *h)
{
	char out[32];
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct hostile_case *c = &cases[i];
		u16 n = 1, head;

		err = setup(h, c->indirect);
		if (err) {
			pr_info("HVX-HOSTILE: %s setup-failed-%d\n", c->name, err);
			return err;
		}
		head = c->build(h, &n);
		publish(h, head, n);
		outcome(h, out, sizeof(out));
		if (c->build == sane_read && !strcmp(out, "status-0"))
			pr_info("HVX-HOSTILE: %s %32phN\n", c->name, h->buf + BUF_DATA);
		else
			pr_info("HVX-HOSTILE: %s %s\n", c->name, out);
	}
	pr_info("HVX-HOSTILE: done\n");
	return reset(h);
}

/* The virtio vendor capabilities (4.1.4): where each structure lives. */
static int map_caps(struct hostile *h)
{
	struct pci_dev *pdev = h->pdev;
	int pos;

	for (pos = pci_find_capability(pdev, PCI_CAP_ID_VNDR); pos;
	     pos = pci_find_next_capability(pdev, pos, PCI_CAP_ID_VNDR)) {
		u8 type, bar;
		u32 off, len;
		void __iomem *p;

		pci_read_config_byte(pdev, pos + offsetof(struct virtio_pci_cap, cfg_type), &type);
		pci_read_config_byte(pdev, pos + offsetof(struct virtio_pci_cap, bar), &bar);
		pci_read_config_dword(pdev, pos + offsetof(struct virtio_pci_cap, offset), &off);
		pci_read_config_dword(pdev, pos + offsetof(struct virtio_pci_cap, length), &len);
		if (bar >= PCI_STD_NUM_BARS || !len)
			continue;
		if (type != VIRTIO_PCI_CAP_COMMON_CFG && type != VIRTIO_PCI_CAP_NOTIFY_CFG &&
		    type != VIRTIO_PCI_CAP_ISR_CFG && type != VIRTIO_PCI_CAP_DEVICE_CFG)
			continue;	/* the PCI config access window, or unknown */
		p = pcim_iomap_table(pdev)[bar];
		if (!p || (u64)off + len > pci_resource_len(pdev, bar))
			return -EINVAL;
		p += off;
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			h->common = h->common ?: p;
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			if (h->notify)
				break;
			h->notify = p;
			pci_read_config_dword(pdev, pos + offsetof(struct virtio_pci_notify_cap,
								   notify_off_multiplier),
					      &h->notify_mult);
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			h->isr = h->isr ?: p;
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			h->device = h->device ?: p;
			break;
		}
	}
	return h->common && h->notify && h->isr && h->device ? 0 : -ENODEV;
}

static int hostile_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct hostile *h;
	int err;

	/* One device is enough, and keeps the others untouched. */
	if (atomic_xchg(&claimed, 1))
		return -EBUSY;
	h = devm_kzalloc(&pdev->dev, sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	h->pdev = pdev;
	err = pcim_enable_device(pdev);
	if (err) {
		dev_err(&pdev->dev, "enable failed: %d\n", err);
		return err;
	}
	/* Every memory BAR: the capabilities say which ones matter. */
	err = pcim_iomap_regions(pdev, pci_select_bars(pdev, IORESOURCE_MEM), KBUILD_MODNAME);
	if (err) {
		dev_err(&pdev->dev, "iomap failed: %d\n", err);
		return err;
	}
	pci_set_master(pdev);
	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (err) {
		dev_err(&pdev->dev, "dma mask failed: %d\n", err);
		return err;
	}
	err = map_caps(h);
	if (err) {
		dev_err(&pdev->dev, "virtio capabilities missing or bad\n");
		return err;
	}
	/* capacity, the first field of struct virtio_blk_config */
	h->capacity = ioread32(h->device) | (u64)ioread32(h->device + 4) << 32;
	h->ring = dmam_alloc_coherent(&pdev->dev, PAGE_SIZE, &h->ring_dma, GFP_KERNEL);
	h->buf = dmam_alloc_coherent(&pdev->dev, PAGE_SIZE, &h->buf_dma, GFP_KERNEL);
	if (!h->ring || !h->buf)
		return -ENOMEM;
	pci_set_drvdata(pdev, h);
	dev_info(&pdev->dev, "%llu sectors, notify multiplier %u\n", h->capacity, h->notify_mult);
	err = run_cases(h);
	if (err)
		dev_err(&pdev->dev, "device did not reset: %d\n", err);
	/* Bound either way: remove() resets it and devres frees the rest. */
	return 0;
}

static void hostile_remove(struct pci_dev *pdev)
{
	struct hostile *h = pci_get_drvdata(pdev);

	/* The device must stop using the rings before devres frees them. */
	reset(h);
}

static const struct pci_device_id hostile_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1042) },	/* modern virtio-blk */
	{ }
};
MODULE_DEVICE_TABLE(pci, hostile_ids);

static struct pci_driver hostile_driver = {
	.name = KBUILD_MODNAME,
	.id_table = hostile_ids,
	.probe = hostile_probe,
	.remove = hostile_remove,
};
module_pci_driver(hostile_driver);

MODULE_DESCRIPTION("Feeds malformed virtqueues to a virtio-blk device (hvx-run's selftest)");
MODULE_LICENSE("GPL");
