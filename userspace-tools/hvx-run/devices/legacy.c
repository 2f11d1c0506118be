// SPDX-License-Identifier: GPL-2.0
/* devices/legacy.c - harmless PC ports: POST/delay, port 0x92 (0xcf9 is pci.c's). */
#include <string.h>

#include "hvx-run.h"
#include "migration/state.h"

static uint8_t port92 = 0x02;	/* A20 on */

/* Port 0x80 (POST codes, also Linux's I/O delay) and 0xed: writes go nowhere. */
static void ignore_io(void *opaque, uint64_t port, uint8_t *data, int len, bool write)
{
	(void)opaque;
	(void)port;
	if (!write)
		memset(data, 0xff, len);
}

/* System control port A: bit 0 is a fast reset, bit 1 the A20 gate. */
static void port92_io(void *opaque, uint64_t port, uint8_t *data, int len, bool write)
{
	(void)opaque;
	(void)port;
	(void)len;
	if (!write) {
		data[0] = port92;
		return;
	}
	if (data[0] & 0x01 && !(port92 & 0x01))
		guest_reset("port 0x92 fast reset");
	port92 = data[0];
}

static void legacy_init(void)
{
	io_register_port(0x80, 1, ignore_io, NULL, "POST");
	io_register_port(0xed, 1, ignore_io, NULL, "delay");
	io_register_port(0x92, 1, port92_io, NULL, "port 0x92");
}

/* Port 0x92 (A20, fast reset); POST and delay ports keep nothing. */
static void legacy_state(struct state *s)
{
	STATE(s, port92);
}

DEVICE("legacy ports", legacy_init, legacy_state)
