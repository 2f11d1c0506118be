// SPDX-License-Identifier: GPL-2.0
/*
 * devices/pic.c - the two 8259 PICs (0x20, 0xa0) and their ELCR (0x4d0): registers that answer like
 * the real ones, so Linux finds them and masks them, but no interrupt ever comes out.
 */
#include "hvx-run.h"
#include "migration/state.h"

/*
 * hvx.ko has no ExtINT delivery: every interrupt goes through the I/O
 * APIC (the MP table says where).  Linux still probes the PICs at boot
 * ("Using NULL legacy PIC" when the mask it writes does not read back,
 * which would also cost it the legacy ISA IRQ numbers), then masks them.
 */
struct i8259 {
	uint8_t imr;
	uint8_t init_step;	/* 0: operational, 1-3: waiting for ICW2-ICW4 */
	bool need_icw4;
	bool single;
	uint8_t vector_base;
	uint8_t read_sel;	/* OCW3: 2 reads IRR, 3 reads ISR */
};

static struct pic {
	pthread_mutex_t lock;
	struct i8259 chip[2];
	uint8_t elcr[2];
} pic = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void i8259_write(struct i8259 *c, bool data_port, uint8_t v)
{
	if (!data_port) {
		if (v & 0x10) {		/* ICW1: start initialization */
			c->init_step = 1;
			c->need_icw4 = v & 0x01;
			c->single = v & 0x02;
			c->imr = 0;
			c->read_sel = 2;
		} else if (v & 0x08) {	/* OCW3 */
			if (v & 0x02)
				c->read_sel = v & 0x03;
		}
		/* OCW2 (EOI, rotation): nothing is ever in service. */
		return;
	}
	switch (c->init_step) {
	case 1:
		c->vector_base = v & 0xf8;
		c->init_step = c->single ? (c->need_icw4 ? 3 : 0) : 2;
		break;
	case 2:
		c->init_step = c->need_icw4 ? 3 : 0;	/* ICW3: cascade wiring */
		break;
	case 3:
		c->init_step = 0;			/* ICW4: mode */
		break;
	default:
		c->imr = v;				/* OCW1: the mask */
		break;
	}
}

static void pic_io(void *opaque, uint64_t port, uint8_t *data, int len, bool write)
{
	struct pic *p = opaque;
	struct i8259 *c;
	int i;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < len; i++, port++) {
		if (port == 0x4d0 || port == 0x4d1) {
			/* Edge/level control; IRQ 0, 1, 2, 8 and 13 are always edge. */
			if (write)
				p->elcr[port & 1] = data[i] & (port & 1 ? 0xde : 0xf8);
			else
				data[i] = p->elcr[port & 1];
			continue;
		}
		c = &p->chip[port >= 0xa0];
		if (write)
			i8259_write(c, port & 1, data[i]);
		else
			data[i] = port & 1 ? c->imr : 0;	/* IRR and ISR: empty */
	}
	pthread_mutex_unlock(&p->lock);
}

static void pic_init(void)
{
	pic.chip[0].imr = pic.chip[1].imr = 0xff;
	io_register_port(0x20, 2, pic_io, &pic, "PIC master");
	io_register_port(0xa0, 2, pic_io, &pic, "PIC slave");
	io_register_port(0x4d0, 2, pic_io, &pic, "ELCR");
}

static void pic_state(struct state *s)
{
	struct pic *p = &pic;
	int i;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < 2; i++) {
		STATE(s, p->chip[i].imr);
		STATE(s, p->chip[i].init_step);
		STATE(s, p->chip[i].need_icw4);
		STATE(s, p->chip[i].single);
		STATE(s, p->chip[i].vector_base);
		STATE(s, p->chip[i].read_sel);
		state_check(s, p->chip[i].init_step <= 3);
	}
	STATE(s, p->elcr);
	pthread_mutex_unlock(&p->lock);
}

DEVICE("PIC 8259 (masked)", pic_init, pic_state)
