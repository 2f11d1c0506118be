// SPDX-License-Identifier: GPL-2.0
/* virtio/virtq.c - split virtqueues in guest RAM: taking descriptor chains apart safely, returning used buffers. */
#include <string.h>

#include "virtio.h"

#define VIRTIO_NO_VECTOR	0xffff

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
	vq->size = VIRTQ_MAX_SIZE;
	vq->msix_vector = VIRTIO_NO_VECTOR;
}

/*
 * The three parts of the ring, from the addresses the driver wrote: each
 * must lie whole in RAM, aligned as 2.7 says (the device may then read
 * 16- and 32-bit fields in place).
 */
bool virtq_map(struct virtq *vq)
{
	uint32_t n = vq->size;

	if (!n || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return false;
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
		return false;
	vq->desc = gpa_to_hva(vq->desc_gpa, 16ull * n);
	vq->avail = gpa_to_hva(vq->avail_gpa, 6 + 2ull * n);
	vq->used = gpa_to_hva(vq->used_gpa, 6 + 8ull * n);
	return vq->desc && vq->avail && vq->used;
}

static uint16_t avail_idx(struct virtq *vq)
{
	/* Acquire: the ring entries the driver wrote before idx are seen. */
	return __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE);
}

static void set_avail_event(struct virtq *vq, uint16_t v)
{
	__atomic_store_n((uint16_t *)(vq->used + 4 + 8 * vq->size), v, __ATOMIC_RELAXED);
	ram_dirty(vq->used_gpa + 4 + 8ull * vq->size, 2);
}

/*
 * Takes the next request off the avail ring into @e.  Returns 1 with a
 * request, 0 when there is none, -1 (and @why) when the ring is broken:
 * the caller must stop using the queue until the driver resets it, since
 * nothing it returned could be trusted.  Every descriptor is copied out
 * once before use, so a guest changing it meanwhile changes nothing here.
 */
int virtq_pop(struct virtq *vq, struct virtq_elem *e, const char **why)
{
	const struct virtq_desc *table = vq->desc;
	uint32_t table_size = vq->size, budget = vq->size;
	bool in_indirect = false;
	uint16_t idx, head;
	int n = 0;

	idx = avail_idx(vq);
	if (idx == vq->last_avail) {
		if (!vq->event_idx)
			return 0;
		/*
		 * Ask for a notification at the next entry, then look again:
		 * the driver may have added one before it saw avail_event.
		 */
		set_avail_event(vq, vq->last_avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		idx = avail_idx(vq);
		if (idx == vq->last_avail)
			return 0;
	}
	if ((uint16_t)(idx - vq->last_avail) > vq->size) {
		*why = "avail index moved by more than the queue size";
		return -1;
	}
	head = __atomic_load_n(&vq->avail[2 + vq->last_avail % vq->size], __ATOMIC_RELAXED);
	e->head = head;
	e->nr_out = e->nr_in = 0;
	e->out_bytes = e->in_bytes = 0;
	idx = head;
	for (;;) {
		struct virtq_desc d;
		void *p;

		if (idx >= table_size) {
			*why = "descriptor index out of range";
			return -1;
		}
		/* No chain visits more descriptors than its table has: no loops. */
		if (!budget--) {
			*why = "descriptor chain longer than its table (a loop)";
			return -1;
		}
		memcpy(&d, (const uint8_t *)table + 16 * idx, sizeof(d));
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!vq->indirect || in_indirect || (d.flags & VIRTQ_DESC_F_NEXT)) {
				*why = in_indirect ? "nested indirect table" :
				       vq->indirect ? "indirect descriptor with NEXT" :
				       "indirect descriptor not negotiated";
				return -1;
			}
			if (!d.len || d.len % 16 || d.len / 16 > VIRTQ_MAX_INDIRECT) {
				*why = "indirect table length";
				return -1;
			}
			table = gpa_to_hva(d.addr, d.len);
			if (!table) {
				*why = "indirect table outside RAM";
				return -1;
			}
			table_size = budget = d.len / 16;
			in_indirect = true;
			idx = 0;
			continue;
		}
		if (d.len) {
			p = gpa_to_hva(d.addr, d.len);
			if (!p) {
				*why = "buffer outside RAM";
				return -1;
			}
			if (n == VIRTQ_MAX_IOV ||
			    e->out_bytes + e->in_bytes + d.len > VIRTQ_MAX_BYTES) {
				*why = "chain too large";
				return -1;
			}
			if (d.flags & VIRTQ_DESC_F_WRITE) {
				e->nr_in++;
				e->in_bytes += d.len;
				ram_dirty(d.addr, d.len);	/* the device will fill it */
			} else if (e->nr_in) {
				*why = "device-readable buffer after a writable one";
				return -1;
			} else {
				e->nr_out++;
				e->out_bytes += d.len;
			}
			e->iov[n].iov_base = p;
			e->iov[n].iov_len = d.len;
			n++;
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		idx = d.next;
	}
	vq->last_avail++;
	return 1;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	uint8_t *elem = (uint8_t *)vq->used + 4 + 8 * (vq->used_idx % vq->size);
	uint32_t id = head;

	memcpy(elem, &id, 4);
	memcpy(elem + 4, &len, 4);
	ram_dirty(vq->used_gpa, 6 + 8ull * vq->size);
	vq->used_idx++;
	/* Release: the element is written before the driver sees the index. */
	__atomic_store_n((uint16_t *)(vq->used + 2), vq->used_idx, __ATOMIC_RELEASE);
}

/* After pushing: does the driver want an interrupt for what was added since the last one? */
bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, new = vq->used_idx, used_event;

	/* The used index is visible before the driver's suppression is read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = new;
	if (!vq->event_idx)
		return !(__atomic_load_n(&vq->avail[0], __ATOMIC_RELAXED) &
			 VIRTQ_AVAIL_F_NO_INTERRUPT);
	used_event = __atomic_load_n(&vq->avail[2 + vq->size], __ATOMIC_RELAXED);
	/* vring_need_event(): did used_idx step past used_event since @old? */
	return (uint16_t)(new - used_event - 1) < (uint16_t)(new - old);
}

/* Copies @len bytes at offset @off of the buffers @iov into @buf; returns how many. */
size_t iov_to_buf(const struct iovec *iov, int n, size_t off, void *buf, size_t len)
{
	size_t done = 0;
	int i;

	for (i = 0; i < n && done < len; i++) {
		size_t l;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		l = iov[i].iov_len - off;
		if (l > len - done)
			l = len - done;
		memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off, l);
		done += l;
		off = 0;
	}
	return done;
}

size_t iov_from_buf(const struct iovec *iov, int n, size_t off, const void *buf, size_t len)
{
	size_t done = 0;
	int i;

	for (i = 0; i < n && done < len; i++) {
		size_t l;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		l = iov[i].iov_len - off;
		if (l > len - done)
			l = len - done;
		memcpy((uint8_t *)iov[i].iov_base + off, (const uint8_t *)buf + done, l);
		done += l;
		off = 0;
	}
	return done;
}

/* The bytes [@off, @off + @len) of @iov as buffers in @dst (room for @n); returns their count. */
int iov_slice(const struct iovec *iov, int n, size_t off, size_t len, struct iovec *dst)
{
	int i, k = 0;

	for (i = 0; i < n && len; i++) {
		size_t l;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		l = iov[i].iov_len - off;
		if (l > len)
			l = len;
		dst[k].iov_base = (uint8_t *)iov[i].iov_base + off;
		dst[k].iov_len = l;
		k++;
		len -= l;
		off = 0;
	}
	return k;
}
