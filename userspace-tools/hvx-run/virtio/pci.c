// SPDX-License-Identifier: GPL-2.0
/* virtio/pci.c - the virtio 1.x modern PCI transport: capabilities, common config, ISR, MSI-X, notifications. */
#define _GNU_SOURCE	/* pthread_setname_np */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "migration/state.h"
#include "virtio.h"

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040	/* + device type: modern-only IDs */
#define VIRTIO_PCI_SUBSYS	0x1100	/* as QEMU's modern devices */
#define VIRTIO_NO_VECTOR	0xffff

/* BAR 0: the four virtio structures, a page each.  BAR 1: MSI-X. */
#define BAR_VIRTIO		0
#define BAR_MSIX		1
#define COMMON_OFF		0x0000
#define COMMON_LEN		0x38
#define ISR_OFF			0x1000
#define DEVICE_OFF		0x2000
#define NOTIFY_OFF		0x3000
#define NOTIFY_MULT		4	/* queue q notifies at NOTIFY_OFF + 4 * q */
#define BAR_VIRTIO_SIZE		0x4000
#define MSIX_TABLE_OFF		0x000
#define MSIX_PBA_OFF		0x800
#define BAR_MSIX_SIZE		0x1000

/* struct virtio_pci_cap's cfg_type (4.1.4) */
enum { CAP_COMMON = 1, CAP_NOTIFY, CAP_ISR, CAP_DEVICE };

#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_MASKALL	0x4000
#define MSIX_ENTRY_MASKED	1

/* Offsets in the common configuration structure (4.1.4.3). */
enum {
	CC_DFSELECT = 0x00, CC_DF = 0x04, CC_GFSELECT = 0x08, CC_GF = 0x0c,
	CC_MSIX = 0x10, CC_NUMQ = 0x12, CC_STATUS = 0x14, CC_CFGGEN = 0x15,
	CC_Q_SELECT = 0x16, CC_Q_SIZE = 0x18, CC_Q_MSIX = 0x1a, CC_Q_ENABLE = 0x1c,
	CC_Q_NOFF = 0x1e, CC_Q_DESC = 0x20, CC_Q_AVAIL = 0x28, CC_Q_USED = 0x30,
};

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

/* ---- interrupts ---- */

/*
 * The vector's HVX_IRQFD, bound to the message the table holds now: a
 * write to it is the interrupt, delivered by hvx.ko without an ioctl.  It
 * is rebound only when the guest reprogrammed the entry (a migration of
 * the IRQ to another CPU); if binding fails, HVX_SIGNAL_MSI still works.
 */
static bool irqfd_ready(struct virtio_dev *vdev, uint16_t vector)
{
	uint32_t *e = vdev->msix_table[vector], *bound = vdev->irqfd_msi[vector];
	struct hvx_irqfd irqfd = { .fd = vdev->irqfd[vector] };

	if (vdev->irqfd[vector] < 0)
		return false;
	if (vdev->irqfd_bound[vector] && !memcmp(bound, e, 12))
		return true;
	if (vdev->irqfd_bound[vector]) {
		irqfd.flags = HVX_IRQFD_DEASSIGN;
		if (ioctl(vm.fd, HVX_IRQFD, &irqfd))
			vlog("%s: HVX_IRQFD deassign: %s", vdev->name, strerror(errno));
		vdev->irqfd_bound[vector] = false;
	}
	irqfd.flags = 0;
	irqfd.msi_address = e[0] | (uint64_t)e[1] << 32;
	irqfd.msi_data = e[2];
	if (ioctl(vm.fd, HVX_IRQFD, &irqfd)) {
		vlog("%s: HVX_IRQFD vector %u: %s", vdev->name, vector, strerror(errno));
		return false;
	}
	memcpy(bound, e, 12);
	vdev->irqfd_bound[vector] = true;
	return true;
}

static void msix_fire(struct virtio_dev *vdev, uint16_t vector)
{
	uint32_t *e = vdev->msix_table[vector];
	struct hvx_msi msi = {
		.address = e[0] | (uint64_t)e[1] << 32,
		.data = e[2],
	};
	uint64_t one = 1;

	if (irqfd_ready(vdev, vector) &&
	    write(vdev->irqfd[vector], &one, sizeof(one)) == sizeof(one)) {
		vdev->nr_irqfd++;
		return;
	}
	vdev->nr_signal_msi++;
	if (ioctl(vm.fd, HVX_SIGNAL_MSI, &msi) < 0)
		vlog("%s: MSI-X vector %u 0x%llx/0x%x: %s", vdev->name, vector,
		     (unsigned long long)msi.address, msi.data, strerror(errno));
}

/* A masked vector only becomes pending (PBA); unmasking sends it. */
static void msix_send(struct virtio_dev *vdev, uint16_t vector)
{
	if (vector >= vdev->nr_vectors)
		return;	/* VIRTIO_NO_VECTOR: the driver polls */
	if (vdev->msix_masked || (vdev->msix_table[vector][3] & MSIX_ENTRY_MASKED)) {
		vdev->msix_pba |= 1ull << vector;
		return;
	}
	msix_fire(vdev, vector);
}

static void msix_unmasked(struct virtio_dev *vdev)
{
	int v;

	for (v = 0; v < vdev->nr_vectors; v++) {
		if (!(vdev->msix_pba & (1ull << v)) || vdev->msix_masked ||
		    (vdev->msix_table[v][3] & MSIX_ENTRY_MASKED))
			continue;
		vdev->msix_pba &= ~(1ull << v);
		msix_fire(vdev, v);
	}
}

/*
 * The interrupt of queue @q (or, with @q < 0, of a configuration change):
 * its MSI-X vector, or with MSI-X off the ISR bit and INTx.  Lock held.
 */
static void virtio_interrupt(struct virtio_dev *vdev, int q)
{
	if (vdev->msix_enabled) {
		msix_send(vdev, q < 0 ? vdev->config_vector : vdev->vq[q].msix_vector);
		return;
	}
	vdev->isr |= q < 0 ? 2 : 1;
	vdev->nr_intx++;
	pci_set_irq(&vdev->pci, true);
}

void virtio_notify(struct virtio_dev *vdev, int q)
{
	if (virtq_should_notify(&vdev->vq[q]))
		virtio_interrupt(vdev, q);
}

/*
 * The driver broke the device's rules (a bad ring, a malformed chain):
 * stop using the queues and tell it, as 2.1.2 asks, with
 * DEVICE_NEEDS_RESET and a configuration change interrupt.  Lock held.
 */
void virtio_needs_reset(struct virtio_dev *vdev, const char *why)
{
	if (vdev->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	fprintf(stderr, "hvx-run: %s: %s: device needs reset\n", vdev->name, why);
	vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_interrupt(vdev, -1);
}

static struct virtio_dev *virtio_devices;

/*
 * -v: one line per device at exit, to see that notifications came in
 * through the ioeventfds and interrupts went out through the irqfds (the
 * ioctl fallback is for a table entry hvx.ko refused to bind).
 */
void virtio_report(void)
{
	struct virtio_dev *vdev;

	for (vdev = virtio_devices; vdev; vdev = vdev->next) {
		pthread_mutex_lock(&vdev->lock);
		fprintf(stderr, "hvx-run: %s: %llu queue notifications (%llu by MMIO exit); "
			"interrupts: %llu by irqfd, %llu by HVX_SIGNAL_MSI, %llu INTx\n", vdev->name,
			(unsigned long long)vdev->nr_notifications,
			(unsigned long long)vdev->nr_notify_exits,
			(unsigned long long)vdev->nr_irqfd,
			(unsigned long long)vdev->nr_signal_msi, (unsigned long long)vdev->nr_intx);
		pthread_mutex_unlock(&vdev->lock);
	}
}

/* The driver has set DRIVER_OK and the device has not given up on it. */
bool virtio_driver_ready(struct virtio_dev *vdev)
{
	return (vdev->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

/* ---- the device's thread: queue notifications ---- */

static void *virtio_thread(void *arg)
{
	struct virtio_dev *vdev = arg;
	struct pollfd pfd[VIRTIO_MAX_QUEUES + 1];
	int q, nfds, nq = vdev->nr_queues;
	uint64_t n;

	for (q = 0; q < nq; q++)
		pfd[q] = (struct pollfd){ .fd = vdev->notify_fd[q], .events = POLLIN };
	pfd[nq] = (struct pollfd){ .fd = vdev->backend_fd, .events = POLLIN };
	for (;;) {
		/*
		 * The backend (a tap) is watched only while the device can
		 * take what it has: otherwise it would stay readable and spin.
		 */
		pthread_mutex_lock(&vdev->lock);
		nfds = nq + (vdev->ops->backend && !vdev->backend_blocked &&
			     virtio_driver_ready(vdev));
		pthread_mutex_unlock(&vdev->lock);
		if (poll(pfd, nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			vm_stop(ST_INTERNAL, "%s: poll: %s", vdev->name, strerror(errno));
			return NULL;
		}
		/* A pause (migration, stop) waits for this round, then holds the next. */
		device_work_begin();
		for (q = 0; q < nq; q++) {
			if (!pfd[q].revents || read(pfd[q].fd, &n, sizeof(n)) != sizeof(n))
				continue;
			pthread_mutex_lock(&vdev->lock);
			vdev->nr_notifications += n;
			if (virtio_driver_ready(vdev) && vdev->vq[q].enabled)
				vdev->ops->process(vdev, q);
			pthread_mutex_unlock(&vdev->lock);
		}
		if (nfds > nq && pfd[nq].revents) {
			pthread_mutex_lock(&vdev->lock);
			if (virtio_driver_ready(vdev) && !vdev->backend_blocked)
				vdev->ops->backend(vdev);
			pthread_mutex_unlock(&vdev->lock);
		}
		device_work_end();
	}
	return NULL;
}

/*
 * Status, features, the selectors and every queue's configuration and
 * progress, the MSI-X table and pending bits.  Not saved: what follows
 * from the configuration space (BAR and MSI-X enable, restored by the
 * PCI bus's load), host views of the rings (mapped again here) and the
 * eventfds (bound again from the loaded values).
 */
void virtio_state(struct state *s, struct virtio_dev *vdev)
{
	int q;

	pthread_mutex_lock(&vdev->lock);
	STATE(s, vdev->guest_features);
	STATE(s, vdev->host_features_sel);
	STATE(s, vdev->guest_features_sel);
	STATE(s, vdev->status);
	STATE(s, vdev->isr);
	STATE(s, vdev->config_generation);
	STATE(s, vdev->config_vector);
	STATE(s, vdev->queue_sel);
	for (q = 0; q < vdev->nr_queues; q++) {
		struct virtq *vq = &vdev->vq[q];

		STATE(s, vq->size);
		STATE(s, vq->enabled);
		STATE(s, vq->event_idx);
		STATE(s, vq->indirect);
		STATE(s, vq->msix_vector);
		STATE(s, vq->desc_gpa);
		STATE(s, vq->avail_gpa);
		STATE(s, vq->used_gpa);
		STATE(s, vq->last_avail);
		STATE(s, vq->used_idx);
		STATE(s, vq->signalled_used);
		if (s->load && vq->enabled)
			state_check(s, virtq_map(vq));
	}
	STATE(s, vdev->msix_table);
	STATE(s, vdev->msix_pba);
	pthread_mutex_unlock(&vdev->lock);
}

static void kick(struct virtio_dev *vdev, int q)
{
	uint64_t one = 1;

	if (write(vdev->notify_fd[q], &one, sizeof(one)) != sizeof(one))
		vlog("%s: queue %d kick: %s", vdev->name, q, strerror(errno));
}

void virtio_restored(void)
{
	struct virtio_dev *vdev;
	int q;

	for (vdev = virtio_devices; vdev; vdev = vdev->next) {
		pthread_mutex_lock(&vdev->lock);
		if (virtio_driver_ready(vdev)) {
			for (q = 0; q < vdev->nr_queues; q++)
				if (vdev->vq[q].enabled)
					kick(vdev, q);
			if (vdev->ops->restored)
				vdev->ops->restored(vdev);
		}
		pthread_mutex_unlock(&vdev->lock);
	}
}

/*
 * Queue notifications bypass hvx-run's vCPU threads: hvx.ko signals the
 * queue's eventfd on the guest's 16-bit write (Linux's vp_notify) and the
 * guest goes on.  Rebound whenever BAR 0 moves or decoding turns on/off.
 */
static void bind_notify(struct virtio_dev *vdev, uint64_t base, bool assign)
{
	int q;

	for (q = 0; q < vdev->nr_queues; q++) {
		struct hvx_ioeventfd io = {
			.addr = base + NOTIFY_OFF + NOTIFY_MULT * q,
			.len = 2,
			.fd = vdev->notify_fd[q],
			.flags = assign ? 0 : HVX_IOEVENTFD_DEASSIGN,
		};

		/* Without it, the notify write exits and virtio_mmio() kicks. */
		if (ioctl(vm.fd, HVX_IOEVENTFD, &io))
			vlog("%s: HVX_IOEVENTFD %s 0x%llx: %s", vdev->name,
			     assign ? "assign" : "deassign", (unsigned long long)io.addr,
			     strerror(errno));
	}
}

static void virtio_bar_moved(struct pci_device *pci, int bar, uint64_t addr)
{
	struct virtio_dev *vdev = pci->opaque;

	if (bar != BAR_VIRTIO)
		return;
	pthread_mutex_lock(&vdev->lock);
	if (vdev->notify_gpa)
		bind_notify(vdev, vdev->notify_gpa, false);
	vdev->notify_gpa = addr;
	if (addr)
		bind_notify(vdev, addr, true);
	pthread_mutex_unlock(&vdev->lock);
}

/* The MSI-X capability's message control: enable and function mask. */
static void virtio_cfg_written(struct pci_device *pci, int off, int len)
{
	struct virtio_dev *vdev = pci->opaque;
	uint16_t ctrl;

	if (off + len <= vdev->msix_cap + 2 || off >= vdev->msix_cap + 4)
		return;
	ctrl = io_get(pci->cfg + vdev->msix_cap + 2, 2);
	pthread_mutex_lock(&vdev->lock);
	vdev->msix_enabled = ctrl & MSIX_CTRL_ENABLE;
	vdev->msix_masked = ctrl & MSIX_CTRL_MASKALL;
	if (vdev->msix_enabled) {
		/* INTx is off while MSI-X is on (PCI 3.0, 6.8.3.3). */
		pci_set_irq(&vdev->pci, false);
		msix_unmasked(vdev);
	}
	pthread_mutex_unlock(&vdev->lock);
}

/* ---- common configuration ---- */

static void virtio_reset(struct virtio_dev *vdev)
{
	int q;

	vdev->status = 0;
	vdev->guest_features = 0;
	vdev->host_features_sel = vdev->guest_features_sel = 0;
	vdev->config_vector = VIRTIO_NO_VECTOR;
	vdev->queue_sel = 0;
	vdev->isr = 0;
	pci_set_irq(&vdev->pci, false);
	for (q = 0; q < VIRTIO_MAX_QUEUES; q++)
		virtq_reset(&vdev->vq[q]);
}

static void common_image(struct virtio_dev *vdev, uint8_t *c)
{
	struct virtq *vq = vdev->queue_sel < vdev->nr_queues ? &vdev->vq[vdev->queue_sel] : NULL;

	memset(c, 0, COMMON_LEN);
	put32(c + CC_DFSELECT, vdev->host_features_sel);
	if (vdev->host_features_sel < 2)
		put32(c + CC_DF, vdev->host_features >> (32 * vdev->host_features_sel));
	put32(c + CC_GFSELECT, vdev->guest_features_sel);
	if (vdev->guest_features_sel < 2)
		put32(c + CC_GF, vdev->guest_features >> (32 * vdev->guest_features_sel));
	put16(c + CC_MSIX, vdev->config_vector);
	put16(c + CC_NUMQ, vdev->nr_queues);
	c[CC_STATUS] = vdev->status;
	c[CC_CFGGEN] = vdev->config_generation;
	put16(c + CC_Q_SELECT, vdev->queue_sel);
	if (!vq)
		return;	/* queue_size 0: no such queue */
	put16(c + CC_Q_SIZE, vq->size);
	put16(c + CC_Q_MSIX, vq->msix_vector);
	put16(c + CC_Q_ENABLE, vq->enabled);
	put16(c + CC_Q_NOFF, vdev->queue_sel);
	put64(c + CC_Q_DESC, vq->desc_gpa);
	put64(c + CC_Q_AVAIL, vq->avail_gpa);
	put64(c + CC_Q_USED, vq->used_gpa);
}

static void set_status(struct virtio_dev *vdev, uint8_t v)
{
	uint64_t required = 1ull << VIRTIO_F_VERSION_1;
	int q;

	if (!v) {
		virtio_reset(vdev);
		return;
	}
	/* FEATURES_OK only sticks for features we offered, virtio 1.x among them. */
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(vdev->status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((vdev->guest_features & ~vdev->host_features) || !(vdev->guest_features & required))) {
		vlog("%s: features 0x%llx refused", vdev->name,
		     (unsigned long long)vdev->guest_features);
		v &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(vdev->status & VIRTIO_STATUS_DRIVER_OK))
		for (q = 0; q < vdev->nr_queues; q++)
			kick(vdev, q);	/* anything queued before DRIVER_OK */
	vdev->status = (v & ~VIRTIO_STATUS_NEEDS_RESET) |
		       (vdev->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void enable_queue(struct virtio_dev *vdev, struct virtq *vq)
{
	vq->event_idx = vdev->guest_features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = vdev->guest_features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	vq->last_avail = vq->used_idx = vq->signalled_used = 0;
	if (!virtq_map(vq)) {
		virtio_needs_reset(vdev, "queue size or ring addresses invalid");
		return;
	}
	vq->enabled = true;
}

/* One field of the common structure, whole, after a write touched it. */
static void common_field(struct virtio_dev *vdev, int off, const uint8_t *c)
{
	struct virtq *vq = vdev->queue_sel < vdev->nr_queues ? &vdev->vq[vdev->queue_sel] : NULL;
	uint16_t v16 = io_get(c + off, 2);

	switch (off) {
	case CC_DFSELECT: vdev->host_features_sel = io_get(c + off, 4); return;
	case CC_GFSELECT: vdev->guest_features_sel = io_get(c + off, 4); return;
	case CC_GF:
		/* Features are fixed once FEATURES_OK was accepted. */
		if (vdev->guest_features_sel < 2 && !(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
			int sh = 32 * vdev->guest_features_sel;

			vdev->guest_features &= ~(0xffffffffull << sh);
			vdev->guest_features |= (uint64_t)io_get(c + off, 4) << sh;
		}
		return;
	case CC_MSIX:
		vdev->config_vector = v16 < vdev->nr_vectors ? v16 : VIRTIO_NO_VECTOR;
		return;
	case CC_STATUS: set_status(vdev, c[off]); return;
	case CC_Q_SELECT: vdev->queue_sel = v16; return;
	}
	/* The queue's fields: fixed while it is enabled. */
	if (!vq)
		return;
	if (off == CC_Q_MSIX) {
		/* A vector past the table reads back as NO_VECTOR: the driver sees the refusal. */
		vq->msix_vector = v16 < vdev->nr_vectors ? v16 : VIRTIO_NO_VECTOR;
		return;
	}
	if (vq->enabled)
		return;
	switch (off) {
	case CC_Q_SIZE: vq->size = v16; break;
	case CC_Q_ENABLE:
		if (v16 == 1)
			enable_queue(vdev, vq);
		break;
	case CC_Q_DESC: vq->desc_gpa = get64(c + off); break;
	case CC_Q_AVAIL: vq->avail_gpa = get64(c + off); break;
	case CC_Q_USED: vq->used_gpa = get64(c + off); break;
	}
}

static void common_access(struct virtio_dev *vdev, uint64_t off, uint8_t *data, int len,
			  bool write)
{
	static const struct { uint8_t off, len; } fields[] = {
		{ CC_DFSELECT, 4 }, { CC_GFSELECT, 4 }, { CC_GF, 4 }, { CC_MSIX, 2 },
		{ CC_STATUS, 1 }, { CC_Q_SELECT, 2 }, { CC_Q_SIZE, 2 }, { CC_Q_MSIX, 2 },
		{ CC_Q_ENABLE, 2 }, { CC_Q_DESC, 8 }, { CC_Q_AVAIL, 8 }, { CC_Q_USED, 8 },
	};
	uint8_t c[COMMON_LEN];
	unsigned int i;

	common_image(vdev, c);
	if (off >= COMMON_LEN || off + len > COMMON_LEN) {
		if (!write)
			memset(data, 0, len);
		return;
	}
	if (!write) {
		memcpy(data, c + off, len);
		return;
	}
	/*
	 * A write may cover part of a field (64-bit addresses come as two
	 * dwords): merge it into the current image, then apply each field
	 * it touched.  The rest is read-only.
	 */
	memcpy(c + off, data, len);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (off < fields[i].off + fields[i].len && fields[i].off < off + len)
			common_field(vdev, fields[i].off, c);
}

/* BAR 0: common configuration, ISR, device configuration, notifications. */
static void virtio_mmio(void *opaque, uint64_t off, uint8_t *data, int len, bool write)
{
	struct virtio_dev *vdev = opaque;

	pthread_mutex_lock(&vdev->lock);
	if (off < ISR_OFF) {
		common_access(vdev, off - COMMON_OFF, data, len, write);
	} else if (off < DEVICE_OFF) {
		/* Reading the ISR clears it and lowers INTx (4.1.4.5). */
		if (!write) {
			memset(data, 0, len);
			if (off == ISR_OFF) {
				data[0] = vdev->isr;
				vdev->isr = 0;
				pci_set_irq(&vdev->pci, false);
			}
		}
	} else if (off < NOTIFY_OFF) {
		vdev->ops->config(vdev, off - DEVICE_OFF, data, len, write);
	} else if (write) {
		/* A notify that hvx.ko did not take (another size, or no ioeventfd). */
		uint64_t q = (off - NOTIFY_OFF) / NOTIFY_MULT;

		if (q < (uint64_t)vdev->nr_queues) {
			vdev->nr_notify_exits++;
			kick(vdev, q);
		}
	} else {
		memset(data, 0, len);
	}
	pthread_mutex_unlock(&vdev->lock);
}

/* BAR 1: the MSI-X table (4 dwords per vector) and the pending bits. */
static void msix_mmio(void *opaque, uint64_t off, uint8_t *data, int len, bool write)
{
	struct virtio_dev *vdev = opaque;
	uint64_t table_len = 16ull * vdev->nr_vectors;
	uint8_t *t = (uint8_t *)vdev->msix_table;

	pthread_mutex_lock(&vdev->lock);
	if (off + len <= MSIX_TABLE_OFF + table_len) {	/* the table is at 0 */
		if (write) {
			memcpy(t + off - MSIX_TABLE_OFF, data, len);
			msix_unmasked(vdev);
		} else {
			memcpy(data, t + off - MSIX_TABLE_OFF, len);
		}
	} else if (!write) {
		uint64_t pba = off >= MSIX_PBA_OFF && off - MSIX_PBA_OFF < 8 ?
			       vdev->msix_pba >> (8 * (off - MSIX_PBA_OFF)) : 0;

		io_put(data, len, pba);
	}
	pthread_mutex_unlock(&vdev->lock);
}

/* struct virtio_pci_cap: where in which BAR one structure lies. */
static uint8_t add_virtio_cap(struct virtio_dev *vdev, uint8_t type, uint8_t len,
			      uint32_t off, uint32_t size)
{
	uint8_t *cfg = vdev->pci.cfg;
	uint8_t at = pci_add_cap(&vdev->pci, PCI_CAP_ID_VNDR, len);

	cfg[at + 2] = len;
	cfg[at + 3] = type;
	cfg[at + 4] = BAR_VIRTIO;
	put32(cfg + at + 8, off);
	put32(cfg + at + 12, size);
	return at;
}

/*
 * A virtio PCI function of device @type (5.x) with @nr_queues queues;
 * the device sets name, ops, priv and host_features first.
 */
void virtio_pci_init(struct virtio_dev *vdev, uint16_t type, uint16_t nr_queues)
{
	/* Network: Ethernet controller; block: other mass storage. */
	static const uint32_t class[] = { [1] = 0x020000, [2] = 0x018000 };
	struct pci_device *pci = &vdev->pci;
	pthread_t t;
	uint8_t at;
	int q, err;
	char name[16];

	pthread_mutex_init(&vdev->lock, NULL);
	vdev->nr_queues = nr_queues;
	vdev->nr_vectors = nr_queues + 1;
	vdev->host_features |= 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_EVENT_IDX |
			       1ull << VIRTIO_RING_F_INDIRECT_DESC;
	virtio_reset(vdev);
	for (q = 0; q < vdev->nr_vectors; q++) {
		vdev->msix_table[q][3] = MSIX_ENTRY_MASKED;
		vdev->irqfd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	}

	pci->name = vdev->name;
	pci->opaque = vdev;
	pci->bar_moved = virtio_bar_moved;
	pci->cfg_written = virtio_cfg_written;
	pci_init_header(pci, VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BASE + type,
			(type < 3 && class[type] ? class[type] : 0xff0000) << 8 | 1, VIRTIO_PCI_VENDOR,
			VIRTIO_PCI_SUBSYS);
	pci->cfg[0x3d] = 1;	/* INTA */
	pci_set_bar(pci, BAR_VIRTIO, BAR_VIRTIO_SIZE, virtio_mmio);
	pci_set_bar(pci, BAR_MSIX, BAR_MSIX_SIZE, msix_mmio);

	vdev->msix_cap = pci_add_cap(pci, PCI_CAP_ID_MSIX, 12);
	put16(pci->cfg + vdev->msix_cap + 2, vdev->nr_vectors - 1);
	put16(pci->wmask + vdev->msix_cap + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	put32(pci->cfg + vdev->msix_cap + 4, MSIX_TABLE_OFF | BAR_MSIX);
	put32(pci->cfg + vdev->msix_cap + 8, MSIX_PBA_OFF | BAR_MSIX);

	add_virtio_cap(vdev, CAP_COMMON, 16, COMMON_OFF, COMMON_LEN);
	at = add_virtio_cap(vdev, CAP_NOTIFY, 20, NOTIFY_OFF, NOTIFY_MULT * nr_queues);
	put32(pci->cfg + at + 16, NOTIFY_MULT);
	add_virtio_cap(vdev, CAP_ISR, 16, ISR_OFF, 1);
	add_virtio_cap(vdev, CAP_DEVICE, 16, DEVICE_OFF, 0x1000);

	for (q = 0; q < nr_queues; q++) {
		vdev->notify_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vdev->notify_fd[q] < 0)
			die(ST_INTERNAL, "%s: eventfd: %s", vdev->name, strerror(errno));
	}
	pci_register(pci);
	vdev->next = virtio_devices;
	virtio_devices = vdev;

	err = pthread_create(&t, NULL, virtio_thread, vdev);
	if (err)
		die(ST_INTERNAL, "%s: cannot start its thread: %s", vdev->name, strerror(err));
	snprintf(name, sizeof(name), "%.15s", vdev->name);
	pthread_setname_np(t, name);
	pthread_detach(t);
}
