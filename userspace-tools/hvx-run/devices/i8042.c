// SPDX-License-Identifier: GPL-2.0
/*
 * devices/i8042.c - the PS/2 controller at 0x60/0x64 with a keyboard and no mouse: enough for
 * Linux to find both quickly, for reboot=k (command 0xfe) and for QMP's Ctrl-Alt-Del.
 */
#include "hvx-run.h"
#include "migration/state.h"

#define KBD_IRQ		1
#define AUX_IRQ		12

#define STR_OBF		0x01	/* output buffer full */
#define STR_SYS		0x04	/* self test passed */
#define STR_CMD		0x08	/* last write was a command */
#define STR_UNLOCKED	0x10	/* keyboard not inhibited */
#define STR_AUXDATA	0x20	/* output byte comes from the aux port */

#define CTR_KBDINT	0x01
#define CTR_AUXINT	0x02

#define OUT_SIZE	16

static struct i8042 {
	pthread_mutex_t lock;
	uint8_t ctr;		/* controller command byte */
	uint8_t pending;	/* command waiting for its data byte, or 0 */
	uint8_t kbd_pending;	/* keyboard command waiting for its parameter, or 0 */
	uint8_t status;
	uint8_t out[OUT_SIZE];
	bool out_aux[OUT_SIZE];
	unsigned int out_head, out_count;
} kbc = { .lock = PTHREAD_MUTEX_INITIALIZER, .ctr = 0x45 };

/* A byte for the guest to read at 0x60, with the interrupt its port raises. */
static void kbc_push(struct i8042 *k, uint8_t v, bool aux)
{
	unsigned int i = (k->out_head + k->out_count) % OUT_SIZE;

	if (k->out_count == OUT_SIZE)
		return;
	k->out[i] = v;
	k->out_aux[i] = aux;
	k->out_count++;
	if (aux ? k->ctr & CTR_AUXINT : k->ctr & CTR_KBDINT)
		irq_pulse(aux ? AUX_IRQ : KBD_IRQ);
}

static void kbc_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case 0x20:			/* read command byte */
		kbc_push(k, k->ctr, false);
		break;
	case 0x60:			/* write command byte */
	case 0xd1:			/* write output port */
	case 0xd2:			/* write keyboard output buffer */
	case 0xd3:			/* write aux output buffer (loop) */
	case 0xd4:			/* write to the aux device */
		k->pending = cmd;
		break;
	case 0xa7: k->ctr |= 0x20; break;	/* disable aux */
	case 0xa8: k->ctr &= ~0x20; break;	/* enable aux */
	case 0xad: k->ctr |= 0x10; break;	/* disable keyboard */
	case 0xae: k->ctr &= ~0x10; break;	/* enable keyboard */
	case 0xa9:			/* aux interface test: clock line stuck, no aux port */
		kbc_push(k, 0x01, false);
		break;
	case 0xaa:			/* controller self test */
		kbc_push(k, 0x55, false);
		break;
	case 0xab:			/* keyboard interface test: OK */
		kbc_push(k, 0x00, false);
		break;
	case 0xfe:			/* pulse the reset line */
		guest_reset("keyboard controller reset");
		break;
	default:
		/* 0xf0-0xff pulse output lines; bit 0 is reset. */
		if (cmd >= 0xf0 && !(cmd & 0x01))
			guest_reset("keyboard controller reset");
		else
			vlog("i8042: command 0x%02x ignored", cmd);
		break;
	}
}

/*
 * A byte for the keyboard: a PS/2 keyboard's answers to what Linux's
 * atkbd sends (identify, LEDs, scan code set, typematic rate, enable),
 * each acknowledged with 0xfa.
 */
static void kbd_byte(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->kbd_pending;

	k->kbd_pending = 0;
	kbc_push(k, 0xfa, false);
	if (cmd) {			/* the parameter of 0xed, 0xf0 or 0xf3 */
		if (cmd == 0xf0 && !v)
			kbc_push(k, 0x02, false);	/* scan code set 2 */
		return;
	}
	switch (v) {
	case 0xed:			/* set LEDs */
	case 0xf0:			/* get/set scan code set */
	case 0xf3:			/* typematic rate */
		k->kbd_pending = v;
		break;
	case 0xf2:			/* identify: an MF2 keyboard */
		kbc_push(k, 0xab, false);
		kbc_push(k, 0x83, false);
		break;
	case 0xff:			/* reset: self test passed */
		kbc_push(k, 0xaa, false);
		break;
	default:			/* enable, disable, defaults, ... */
		break;
	}
}

/*
 * Ctrl-Alt-Del pressed and released, in scan code set 1: the controller
 * translates set 2 (command byte bit 6, on since reset) and Linux reads
 * what it would.
 */
void i8042_ctrl_alt_del(void)
{
	static const uint8_t keys[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	struct i8042 *k = &kbc;
	unsigned int i;

	pthread_mutex_lock(&k->lock);
	for (i = 0; i < sizeof(keys); i++)
		kbc_push(k, keys[i], false);
	pthread_mutex_unlock(&k->lock);
}

static void kbc_data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	switch (cmd) {
	case 0x60:
		k->ctr = v;
		break;
	case 0xd1:
		if (!(v & 0x01))
			guest_reset("keyboard controller reset");
		break;
	case 0xd2:
		kbc_push(k, v, false);
		break;
	case 0xd3:
		/*
		 * There is no aux port: the loop answers something else, so
		 * Linux's AUX loop test fails at once and it checks 0xa9.
		 */
		kbc_push(k, (uint8_t)~v, false);
		break;
	case 0xd4:
		/*
		 * A byte for the mouse: none is plugged in, so answer
		 * "resend" and the driver gives up without waiting out its
		 * timeouts.
		 */
		kbc_push(k, 0xfe, true);
		break;
	default:
		kbd_byte(k, v);
		break;
	}
}

static void kbc_io(void *opaque, uint64_t port, uint8_t *data, int len, bool write)
{
	struct i8042 *k = opaque;

	(void)len;
	pthread_mutex_lock(&k->lock);
	if (port == 0x64) {
		if (write) {
			k->status |= STR_CMD;
			kbc_command(k, data[0]);
		} else {
			bool aux = k->out_count && k->out_aux[k->out_head];

			data[0] = k->status | STR_SYS | STR_UNLOCKED |
				  (k->out_count ? STR_OBF : 0) | (aux ? STR_AUXDATA : 0);
		}
	} else if (write) {
		k->status &= ~STR_CMD;
		kbc_data(k, data[0]);
	} else if (k->out_count) {
		data[0] = k->out[k->out_head];
		k->out_head = (k->out_head + 1) % OUT_SIZE;
		k->out_count--;
		/* The next byte raises its interrupt once this one is taken. */
		if (k->out_count && (k->out_aux[k->out_head] ? k->ctr & CTR_AUXINT :
				     k->ctr & CTR_KBDINT))
			irq_pulse(k->out_aux[k->out_head] ? AUX_IRQ : KBD_IRQ);
	} else {
		data[0] = 0;
	}
	pthread_mutex_unlock(&k->lock);
}

static void i8042_init(void)
{
	io_register_port(0x60, 1, kbc_io, &kbc, "i8042 data");
	io_register_port(0x64, 1, kbc_io, &kbc, "i8042 command");
}

static void i8042_state(struct state *s)
{
	struct i8042 *k = &kbc;

	pthread_mutex_lock(&k->lock);
	STATE(s, k->ctr);
	STATE(s, k->pending);
	STATE(s, k->kbd_pending);
	STATE(s, k->status);
	STATE(s, k->out);
	STATE(s, k->out_aux);
	STATE(s, k->out_head);
	STATE(s, k->out_count);
	state_check(s, k->out_head < OUT_SIZE && k->out_count <= OUT_SIZE);
	pthread_mutex_unlock(&k->lock);
}

DEVICE("i8042", i8042_init, i8042_state)
