// SPDX-License-Identifier: GPL-2.0
/*
 * devices/testdev.c - what test kernels (kvm-unit-tests) talk to: QEMU's
 * fw_cfg selector/data ports with the machine's size, and an exit port.
 */
#include <string.h>

#include "hvx-run.h"
#include "migration/state.h"

#define FW_CFG_PORT_SEL		0x510	/* 16-bit write: the item */
#define FW_CFG_PORT_DATA	0x511	/* byte reads: the item's next byte */
#define DEBUG_EXIT_PORT		0xf4

/* Item keys, as QEMU numbers them (docs/specs/fw_cfg.rst). */
#define FW_CFG_SIGNATURE	0x00
#define FW_CFG_ID		0x01
#define FW_CFG_RAM_SIZE		0x03
#define FW_CFG_NB_CPUS		0x05
#define FW_CFG_MAX_CPUS		0x0f
#define FW_CFG_FILE_DIR		0x19

static uint16_t fw_cfg_key;
static uint32_t fw_cfg_offset;

/* The selected item's bytes; an item hvx-run does not have reads as empty. */
static size_t fw_cfg_item(uint16_t key, uint8_t item[8])
{
	uint64_t ram = vm.low_end + (vm.high_end ? vm.high_end - MMIO_HOLE_END : 0);
	uint16_t cpus = vm.lapic ? vm.nr_vcpus : 1;

	switch (key) {
	case FW_CFG_SIGNATURE:
		memcpy(item, "QEMU", 4);
		return 4;
	case FW_CFG_ID:		/* the traditional interface; no DMA */
		memset(item, 0, 4);
		item[0] = 1;
		return 4;
	case FW_CFG_RAM_SIZE:
		memcpy(item, &ram, 8);
		return 8;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		memcpy(item, &cpus, 2);
		return 2;
	case FW_CFG_FILE_DIR:	/* a big-endian count of files: none */
		memset(item, 0, 4);
		return 4;
	default:
		return 0;
	}
}

static void fw_cfg_io(void *opaque, uint64_t port, uint8_t *data, int len, bool write)
{
	uint8_t item[8];
	size_t size;
	int i;

	(void)opaque;
	if (port == FW_CFG_PORT_SEL) {
		if (write) {
			fw_cfg_key = data[0] | (len > 1 ? data[1] << 8 : 0);
			fw_cfg_offset = 0;
		} else {
			memset(data, 0, len);
		}
		return;
	}
	/* The data port: writes are ignored (no writable items). */
	if (write)
		return;
	size = fw_cfg_item(fw_cfg_key, item);
	for (i = 0; i < len; i++) {
		data[i] = fw_cfg_offset < size ? item[fw_cfg_offset] : 0;
		if (fw_cfg_offset < size)
			fw_cfg_offset++;
	}
}

/*
 * As QEMU's isa-debug-exit at iobase 0xf4: a write of VALUE ends the run
 * with exit status (VALUE << 1) | 1, so a guest can never claim status 0.
 */
static void debug_exit_io(void *opaque, uint64_t port, uint8_t *data, int len, bool write)
{
	uint32_t value = 0;

	(void)opaque;
	(void)port;
	if (!write) {
		memset(data, 0xff, len);
		return;
	}
	memcpy(&value, data, len < 4 ? len : 4);
	vm_stop(((value << 1) | 1) & 0xff, "guest wrote 0x%x to the exit port 0x%x: status %u",
		value, DEBUG_EXIT_PORT, ((value << 1) | 1) & 0xff);
}

static void testdev_init(void)
{
	io_register_port(FW_CFG_PORT_SEL, 2, fw_cfg_io, NULL, "fw_cfg");
	io_register_port(DEBUG_EXIT_PORT, 4, debug_exit_io, NULL, "debug exit");
}

/* The fw_cfg read position. */
static void testdev_state(struct state *s)
{
	STATE(s, fw_cfg_key);
	STATE(s, fw_cfg_offset);
}

DEVICE("test devices", testdev_init, testdev_state)
