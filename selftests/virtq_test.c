// SPDX-License-Identifier: GPL-2.0
/* virtq_test.c - hvx-run's virtqueue parser against a hostile driver: loops, bad indices, bad indirect tables. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ktap.h"
#include "virtio/virtio.h"

/* Fake guest RAM: 128 MiB reserved, touched only where rings and buffers are. */
#define RAM_SIZE	(128ull << 20)
#define DESC		0x1000
#define AVAIL		0x2000
#define USED		0x3000
#define TABLE		0x4000	/* indirect tables */
#define BUF		0x10000
#define QSIZE		8

static uint8_t *ram;

/* What vm.c provides in hvx-run: the same bounds check, on the fake RAM. */
void *gpa_to_hva(uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa || gpa + len > RAM_SIZE)
		return NULL;
	return ram + gpa;
}

/* vm.c's dirty tracking for live migration: off in this test. */
void ram_dirty(uint64_t gpa, uint64_t len)
{
	(void)gpa;
	(void)len;
}

static struct virtq vq;
static struct virtq_elem elem;

static void desc(uint64_t table, int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(ram + table + 16 * i, &d, sizeof(d));
}

/* A fresh queue with one request, head @head, made available. */
static void setup(bool indirect, bool event_idx, uint16_t head)
{
	uint16_t *avail = (uint16_t *)(ram + AVAIL);

	memset(ram, 0, 0x20000);
	virtq_reset(&vq);
	vq.size = QSIZE;
	vq.desc_gpa = DESC;
	vq.avail_gpa = AVAIL;
	vq.used_gpa = USED;
	vq.indirect = indirect;
	vq.event_idx = event_idx;
	if (!virtq_map(&vq)) {
		ktap_diag("virtq_map of a good ring failed");
		exit(KSFT_FAIL);
	}
	avail[2] = head;
	avail[1] = 1;
}

/* pop once: 1, 0 or -1 (and says why on a -1 when verbose) */
static int pop(void)
{
	const char *why = NULL;
	int r = virtq_pop(&vq, &elem, &why);

	if (r < 0)
		ktap_diag("refused: %s", why ? why : "(no reason!)");
	return r;
}

int main(void)
{
	uint16_t *avail;
	int i;

	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED) {
		ktap_diag("mmap: %s", strerror(errno));
		return KSFT_FAIL;
	}
	avail = (uint16_t *)(ram + AVAIL);
	ktap_plan(20);

	/* A good block request: header out, data in, status in. */
	setup(false, false, 0);
	desc(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, BUF + 0x1000, 4096, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc(DESC, 2, BUF + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
	ktap_result(pop() == 1 && elem.nr_out == 1 && elem.nr_in == 2 &&
			 elem.out_bytes == 16 && elem.in_bytes == 4097 &&
			 elem.iov[1].iov_base == ram + BUF + 0x1000, "good_chain_is_taken");
	ktap_result(pop() == 0, "empty_ring_gives_nothing");

	setup(false, false, QSIZE);
	ktap_result(pop() < 0, "head_index_past_queue_size_is_refused");

	setup(false, false, 0);
	desc(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 200);
	ktap_result(pop() < 0, "next_index_past_queue_size_is_refused");

	setup(false, false, 0);
	desc(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	ktap_result(pop() < 0, "looping_chain_is_refused");

	setup(false, false, 0);
	desc(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 0);	/* points at itself */
	ktap_result(pop() < 0, "self_loop_is_refused");

	setup(false, false, 0);
	desc(DESC, 0, RAM_SIZE - 8, 16, 0, 0);
	ktap_result(pop() < 0, "buffer_past_end_of_ram_is_refused");

	setup(false, false, 0);
	desc(DESC, 0, ~0ull - 4, 16, 0, 0);
	ktap_result(pop() < 0, "buffer_address_wrapping_is_refused");

	setup(false, false, 0);
	desc(DESC, 0, BUF, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, BUF, 16, 0, 0);
	ktap_result(pop() < 0, "readable_after_writable_is_refused");

	setup(false, false, 0);
	avail[1] = QSIZE + 1;
	ktap_result(pop() < 0, "avail_index_jump_is_refused");

	/* 40 + 40 MiB: past the 64 MiB a chain may carry. */
	setup(false, false, 0);
	desc(DESC, 0, BUF, 40 << 20, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, BUF, 40 << 20, VIRTQ_DESC_F_WRITE, 0);
	ktap_result(pop() < 0, "oversize_chain_is_refused");

	/* Indirect tables. */
	setup(true, false, 0);
	desc(DESC, 0, TABLE, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc(TABLE, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(TABLE, 1, BUF + 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc(TABLE, 2, BUF + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
	ktap_result(pop() == 1 && elem.nr_out == 1 && elem.nr_in == 2,
			 "good_indirect_chain_is_taken");

	setup(false, false, 0);
	desc(DESC, 0, TABLE, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	ktap_result(pop() < 0, "indirect_without_the_feature_is_refused");

	setup(true, false, 0);
	desc(DESC, 0, TABLE, 20, VIRTQ_DESC_F_INDIRECT, 0);
	ktap_result(pop() < 0, "indirect_length_not_multiple_of_16_is_refused");

	setup(true, false, 0);
	desc(DESC, 0, TABLE, 0, VIRTQ_DESC_F_INDIRECT, 0);
	ktap_result(pop() < 0, "empty_indirect_table_is_refused");

	setup(true, false, 0);
	desc(DESC, 0, TABLE, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc(TABLE, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(TABLE, 1, TABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	ktap_result(pop() < 0, "nested_indirect_is_refused");

	setup(true, false, 0);
	desc(DESC, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	ktap_result(pop() < 0, "indirect_with_next_is_refused");

	setup(true, false, 0);
	desc(DESC, 0, TABLE, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc(TABLE, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(TABLE, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	ktap_result(pop() < 0, "loop_inside_indirect_table_is_refused");

	setup(true, false, 0);
	desc(DESC, 0, TABLE, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc(TABLE, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 5);
	ktap_result(pop() < 0, "indirect_next_past_table_is_refused");

	/*
	 * Event index: with used_event 1, the first completion (used 0 -> 1)
	 * needs no interrupt, the second (1 -> 2) does.
	 */
	setup(false, true, 0);
	desc(DESC, 0, BUF, 1, VIRTQ_DESC_F_WRITE, 0);
	avail[2] = 0;
	avail[3] = 0;
	desc(DESC, 1, BUF, 1, VIRTQ_DESC_F_WRITE, 0);
	avail[3] = 1;
	avail[1] = 2;
	avail[2 + QSIZE] = 1;	/* used_event */
	i = pop() == 1;
	virtq_push(&vq, elem.head, 1);
	i = i && !virtq_should_notify(&vq) && pop() == 1;
	virtq_push(&vq, elem.head, 1);
	i = i && virtq_should_notify(&vq) && pop() == 0 &&
	    *(uint16_t *)(ram + USED + 2) == 2 &&
	    *(uint16_t *)(ram + USED + 4 + 8 * QSIZE) == 2;	/* avail_event */
	ktap_result(i, "event_idx_suppresses_and_sets_avail_event");

	return ktap_finish();
}
