/* SPDX-License-Identifier: GPL-2.0 */
/* virtio/virtio.h - what virtq.c, pci.c and the virtio devices here share: split rings, the transport, device ops. */
#ifndef HVX_VIRTIO_H
#define HVX_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "hvx-run.h"

/* Feature bits (virtio 1.2, 6). */
#define VIRTIO_RING_F_INDIRECT_DESC	28
#define VIRTIO_RING_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1

#define VIRTQ_MAX_SIZE		256	/* what queue_size offers */
#define VIRTQ_MAX_INDIRECT	1024	/* entries in one indirect table */
#define VIRTQ_MAX_IOV		1024	/* buffers in one chain, and IOV_MAX */
#define VIRTQ_MAX_BYTES		(64u << 20)	/* all buffers of one chain */

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
} __attribute__((packed));

/*
 * One split virtqueue (2.7).  The rings live in guest RAM, where the
 * guest may change anything at any time: every index read from them is
 * checked before use, and each field is read once.
 */
struct virtq {
	uint16_t size;			/* entries, a power of two */
	bool enabled;
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	uint16_t msix_vector;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct virtq_desc *desc;	/* host views, set by virtq_map() */
	volatile uint16_t *avail;	/* flags, idx, ring[size], used_event */
	volatile uint8_t *used;		/* flags, idx, ring[size] {id, len}, avail_event */
	uint16_t last_avail;		/* next avail entry to take */
	uint16_t used_idx;		/* next used entry to fill */
	uint16_t signalled_used;	/* used_idx when the guest was last notified */
};

/* One request: buffers the device reads (out), then those it writes (in). */
struct virtq_elem {
	uint16_t head;
	int nr_out, nr_in;
	size_t out_bytes, in_bytes;
	struct iovec iov[VIRTQ_MAX_IOV];
};

/* virtq.c */
bool virtq_map(struct virtq *vq);
void virtq_reset(struct virtq *vq);
int virtq_pop(struct virtq *vq, struct virtq_elem *e, const char **why);
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);
bool virtq_should_notify(struct virtq *vq);
size_t iov_to_buf(const struct iovec *iov, int n, size_t off, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, int n, size_t off, const void *buf, size_t len);
int iov_slice(const struct iovec *iov, int n, size_t off, size_t len, struct iovec *dst);

/* pci.c: the virtio 1.x PCI transport. */
struct virtio_dev;

struct virtio_dev_ops {
	/* Device configuration space (struct virtio_blk_config, ...). */
	void (*config)(struct virtio_dev *vdev, uint64_t off, uint8_t *data, int len, bool write);
	/* Requests are waiting on queue @q: on the device's thread, lock held. */
	void (*process)(struct virtio_dev *vdev, int q);
	/*
	 * Optional: the device's host-side fd (backend_fd) is readable.  Called
	 * on the device's thread with the lock held, only while the driver is
	 * up and backend_blocked is false.
	 */
	void (*backend)(struct virtio_dev *vdev);
	/* Optional: the device was restored from a snapshot (lock held). */
	void (*restored)(struct virtio_dev *vdev);
};

#define VIRTIO_MAX_QUEUES	4

struct virtio_dev {
	struct pci_device pci;
	pthread_mutex_t lock;		/* everything below; taken after the PCI bus lock */
	const char *name;
	const struct virtio_dev_ops *ops;
	void *priv;
	uint64_t host_features;
	uint64_t guest_features;
	uint32_t host_features_sel, guest_features_sel;
	uint8_t status;
	uint8_t isr;
	uint8_t config_generation;
	uint16_t config_vector;
	uint16_t queue_sel;
	int nr_queues;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	int notify_fd[VIRTIO_MAX_QUEUES];	/* eventfds: HVX_IOEVENTFD on the notify address */
	uint64_t notify_gpa;		/* where the notify ioeventfds are bound, 0: nowhere */
	int backend_fd;			/* polled for ops->backend, set by the device */
	bool backend_blocked;		/* the device cannot take more until a queue notify */
	/* MSI-X: table in BAR 1, shadowed state of the capability. */
	int nr_vectors;
	uint32_t msix_table[VIRTIO_MAX_QUEUES + 1][4];
	/* HVX_IRQFD per vector, bound to the MSI it was last fired with. */
	int irqfd[VIRTIO_MAX_QUEUES + 1];
	uint32_t irqfd_msi[VIRTIO_MAX_QUEUES + 1][3];	/* address lo, hi, data */
	bool irqfd_bound[VIRTIO_MAX_QUEUES + 1];
	uint64_t msix_pba;
	uint8_t msix_cap;
	bool msix_enabled, msix_masked;
	/* What -v prints at exit: how notifications and interrupts went. */
	uint64_t nr_notifications;	/* guest writes to notify addresses */
	uint64_t nr_notify_exits;	/* those that came as MMIO exits */
	uint64_t nr_irqfd, nr_signal_msi, nr_intx;
	struct virtio_dev *next;	/* all devices, for virtio_report() */
};

void virtio_pci_init(struct virtio_dev *vdev, uint16_t type, uint16_t nr_queues);
void virtio_notify(struct virtio_dev *vdev, int q);
void virtio_needs_reset(struct virtio_dev *vdev, const char *why);
bool virtio_driver_ready(struct virtio_dev *vdev);
void virtio_report(void);
/* After a restore: queues looked at again (a notify may have been in flight), announcements. */
void virtio_restored(void);
/* The transport's guest-visible state, for a device's state function. */
struct state;
void virtio_state(struct state *s, struct virtio_dev *vdev);

#endif /* HVX_VIRTIO_H */
