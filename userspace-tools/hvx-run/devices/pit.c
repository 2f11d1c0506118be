// SPDX-License-Identifier: GPL-2.0
/*
 * devices/pit.c - the 8254 PIT (ports 0x40-0x43) and port 0x61: channel 0 raises IRQ 0
 * (periodic or one-shot, on a timerfd), channel 2 is gated and read back through 0x61.
 */
#include <errno.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "hvx-run.h"
#include "migration/state.h"

#define PIT_HZ		1193182ull
#define PIT_IRQ		0
/* Faster than this, channel 0 would flood the guest with ticks. */
#define PIT_MIN_PERIOD_NS	100000ull

enum { RW_LATCH = 0, RW_LO = 1, RW_HI = 2, RW_LOHI = 3 };

struct pit_channel {
	uint8_t mode, rw, bcd;
	uint32_t initial;	/* 1..65536 */
	bool counting;		/* a count was loaded */
	uint64_t start_ns;	/* when counting (re)started */
	uint64_t frozen;	/* ticks counted when the gate went low */
	bool gate;
	bool write_lsb_done;
	uint8_t write_lsb;
	bool read_msb_next;
	uint16_t read_value;	/* the count a lo/hi read pair returns */
	bool latched;
	uint16_t latch;
	bool status_latched;
	uint8_t status;
};

static struct pit {
	pthread_mutex_t lock;
	struct pit_channel ch[3];
	uint8_t port61;
	bool refresh;
	int timer_fd;
} pit = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t ticks_to_ns(uint64_t ticks)
{
	return (unsigned __int128)ticks * 1000000000ull / PIT_HZ;
}

/* Ticks counted since the count was loaded (gate time excluded). */
static uint64_t pit_elapsed(struct pit_channel *c, uint64_t now)
{
	if (!c->counting)
		return 0;
	if (!c->gate)
		return c->frozen;
	return c->frozen + (unsigned __int128)(now - c->start_ns) * PIT_HZ / 1000000000ull;
}

static uint16_t pit_count(struct pit_channel *c, uint64_t now)
{
	uint64_t t = pit_elapsed(c, now);

	if (!c->counting)
		return c->initial & 0xffff;
	switch (c->mode) {
	case 2:
	case 3:
		/* Mode 3 really counts by two twice per period; the phase is what matters. */
		return (c->initial - t % c->initial) & 0xffff;
	default:
		/* Modes 0, 1, 4, 5: down through zero, then on from 0xffff. */
		return (c->initial - t) & 0xffff;
	}
}

static bool pit_out(struct pit_channel *c, uint64_t now)
{
	uint64_t t = pit_elapsed(c, now);

	if (!c->counting)
		return c->mode != 0;
	switch (c->mode) {
	case 0:
		return t >= c->initial;
	case 2:
		return t % c->initial != c->initial - 1;
	case 3:
		return t % c->initial < (c->initial + 1) / 2;
	default:
		return t != c->initial;
	}
}

/* Channel 0's interrupts, on the timerfd: one-shot or periodic. */
static void pit_arm(struct pit *p)
{
	struct pit_channel *c = &p->ch[0];
	struct itimerspec its;
	uint64_t first, period = 0;

	memset(&its, 0, sizeof(its));
	if (c->counting) {
		first = ticks_to_ns(c->initial);
		if (c->mode == 2 || c->mode == 3)
			period = first;
		if (first < PIT_MIN_PERIOD_NS)
			first = PIT_MIN_PERIOD_NS;
		if (period && period < PIT_MIN_PERIOD_NS)
			period = PIT_MIN_PERIOD_NS;
		if (c->mode == 0 || c->mode == 4 || period) {
			its.it_value.tv_sec = first / 1000000000ull;
			its.it_value.tv_nsec = first % 1000000000ull;
			its.it_interval.tv_sec = period / 1000000000ull;
			its.it_interval.tv_nsec = period % 1000000000ull;
		}
	}
	timerfd_settime(p->timer_fd, 0, &its, NULL);
}

static void pit_timer(void *opaque, int fd)
{
	uint64_t n;

	(void)opaque;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	/* Ticks missed while the host was busy are merged into one, as Linux tolerates. */
	irq_pulse(PIT_IRQ);
}

static void pit_load(struct pit *p, int i, uint32_t count)
{
	struct pit_channel *c = &p->ch[i];

	c->initial = count ? count : 0x10000;
	c->counting = true;
	c->frozen = 0;
	c->start_ns = now_ns();
	if (i == 0)
		pit_arm(p);
}

static void pit_control(struct pit *p, uint8_t v)
{
	uint64_t now = now_ns();
	int i = v >> 6, j;

	if (i == 3) {
		/* Read-back: bit 5 clear latches counts, bit 4 clear latches status. */
		for (j = 0; j < 3; j++) {
			struct pit_channel *c = &p->ch[j];

			if (!(v & (2 << j)))
				continue;
			if (!(v & 0x20) && !c->latched) {
				c->latch = pit_count(c, now);
				c->latched = true;
			}
			if (!(v & 0x10) && !c->status_latched) {
				c->status = pit_out(c, now) << 7 | !c->counting << 6 |
					    c->rw << 4 | c->mode << 1 | c->bcd;
				c->status_latched = true;
			}
		}
		return;
	}
	if (((v >> 4) & 3) == RW_LATCH) {
		struct pit_channel *c = &p->ch[i];

		if (!c->latched) {
			c->latch = pit_count(c, now);
			c->latched = true;
		}
		return;
	}
	/* A new mode stops the channel until its count is written. */
	p->ch[i] = (struct pit_channel){
		.mode = (v >> 1) & 7, .rw = (v >> 4) & 3, .bcd = v & 1,
		.initial = 0x10000, .gate = i == 2 ? p->port61 & 1 : true,
	};
	if (p->ch[i].mode > 5)
		p->ch[i].mode -= 4;	/* 6 and 7 are aliases of 2 and 3 */
	if (i == 0)
		pit_arm(p);
}

static uint8_t pit_read(struct pit_channel *c)
{
	uint16_t v;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latched) {
		v = c->latch;
		if (c->rw == RW_LOHI && !c->read_msb_next) {
			c->read_msb_next = true;
			return v & 0xff;
		}
		c->read_msb_next = false;
		c->latched = false;
		return c->rw == RW_LO ? v & 0xff : v >> 8;
	}
	switch (c->rw) {
	case RW_LO:
		return pit_count(c, now_ns()) & 0xff;
	case RW_HI:
		return pit_count(c, now_ns()) >> 8;
	default:
		/* The pair reads one count, so the MSB matches its LSB. */
		if (!c->read_msb_next) {
			c->read_value = pit_count(c, now_ns());
			c->read_msb_next = true;
			return c->read_value & 0xff;
		}
		c->read_msb_next = false;
		return c->read_value >> 8;
	}
}

static void pit_write(struct pit *p, int i, uint8_t v)
{
	struct pit_channel *c = &p->ch[i];

	switch (c->rw) {
	case RW_LO:
		pit_load(p, i, v);
		break;
	case RW_HI:
		pit_load(p, i, (uint32_t)v << 8);
		break;
	default:
		if (!c->write_lsb_done) {
			c->write_lsb = v;
			c->write_lsb_done = true;
		} else {
			c->write_lsb_done = false;
			pit_load(p, i, c->write_lsb | (uint32_t)v << 8);
		}
		break;
	}
}

/* Port 0x61 bit 0 gates channel 2; a rising gate restarts modes 1, 2, 3 and 5. */
static void pit_gate2(struct pit *p, bool gate)
{
	struct pit_channel *c = &p->ch[2];
	uint64_t now = now_ns();

	if (gate == c->gate)
		return;
	if (!gate) {
		c->frozen = pit_elapsed(c, now);
	} else if (c->mode == 0 || c->mode == 4) {
		c->start_ns = now;
	} else {
		c->frozen = 0;
		c->start_ns = now;
	}
	c->gate = gate;
}

static void pit_io(void *opaque, uint64_t port, uint8_t *data, int len, bool write)
{
	struct pit *p = opaque;

	pthread_mutex_lock(&p->lock);
	if (port == 0x61) {
		if (write) {
			p->port61 = data[0] & 0x0f;
			pit_gate2(p, data[0] & 1);
		} else {
			/* Bit 4 toggles like the DRAM refresh; bit 5 is OUT2. */
			p->refresh = !p->refresh;
			data[0] = p->port61 | p->refresh << 4 | pit_out(&p->ch[2], now_ns()) << 5;
		}
	} else if (port == 0x43) {
		if (write)
			pit_control(p, data[0]);
		else
			data[0] = 0xff;		/* the control word is write-only */
	} else if (write) {
		pit_write(p, port - 0x40, data[0]);
	} else {
		data[0] = pit_read(&p->ch[port - 0x40]);
	}
	if (!write && len > 1)
		memset(data + 1, 0xff, len - 1);
	pthread_mutex_unlock(&p->lock);
}

static void pit_init(void)
{
	int i;

	pit.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (pit.timer_fd < 0)
		die(ST_INTERNAL, "timerfd_create: %s", strerror(errno));
	for (i = 0; i < 3; i++)
		pit.ch[i] = (struct pit_channel){ .mode = 3, .rw = RW_LOHI, .initial = 0x10000,
						  .gate = i != 2 };
	io_register_port(0x40, 4, pit_io, &pit, "PIT");
	io_register_port(0x61, 1, pit_io, &pit, "port 0x61");
	iothread_add_fd(pit.timer_fd, pit_timer, &pit);
}

/*
 * Every channel's mode, count and latches, and port 0x61.  When a count
 * started is kept as its age at the save (state clock_ns), so a load
 * resumes the count there; channel 0's timer is armed again.
 */
static void pit_state(struct state *s)
{
	struct pit *p = &pit;
	int i;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < 3; i++) {
		struct pit_channel *c = &p->ch[i];
		uint64_t age = s->clock_ns - c->start_ns;

		STATE(s, c->mode);
		STATE(s, c->rw);
		STATE(s, c->bcd);
		STATE(s, c->initial);
		STATE(s, c->counting);
		STATE(s, age);
		STATE(s, c->frozen);
		STATE(s, c->gate);
		STATE(s, c->write_lsb_done);
		STATE(s, c->write_lsb);
		STATE(s, c->read_msb_next);
		STATE(s, c->read_value);
		STATE(s, c->latched);
		STATE(s, c->latch);
		STATE(s, c->status_latched);
		STATE(s, c->status);
		state_check(s, c->mode <= 5 && c->initial >= 1 && c->initial <= 0x10000);
		if (s->load)
			c->start_ns = s->clock_ns - age;
	}
	STATE(s, p->port61);
	STATE(s, p->refresh);
	if (s->load && !s->failed)
		pit_arm(p);
	pthread_mutex_unlock(&p->lock);
}

DEVICE("PIT 8254", pit_init, pit_state)
