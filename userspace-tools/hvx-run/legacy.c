// SPDX-License-Identifier: GPL-2.0
/* legacy.c - harmless PC ports: POST/delay, port 0x92, reset register 0xcf9, no PCI. */
#include <string.h>

#include "hvx-run.h"

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

/*
 * 0xcf8-0xcff: PCI configuration mechanism #1.  There is no PCI bus:
 * reads float high, so Linux's probes for mechanisms #1 and #2 fail
 * quietly.  0xcf9 (reset control) is the one byte that matters: the
 * reset Linux uses with reboot=pci.
 */
static void pci_io(void *opaque, uint64_t port, uint8_t *data, int len, bool write)
{
	(void)opaque;
	if (!write) {
		memset(data, 0xff, len);
		return;
	}
	if (port == 0xcf9 && len == 1 && (data[0] & 0x04))
		guest_reset("port 0xcf9 reset");
}

static void legacy_init(void)
{
	io_register_port(0x80, 1, ignore_io, NULL, "POST");
	io_register_port(0xed, 1, ignore_io, NULL, "delay");
	io_register_port(0x92, 1, port92_io, NULL, "port 0x92");
	io_register_port(0xcf8, 8, pci_io, NULL, "no PCI");
}

DEVICE("legacy ports", legacy_init)
