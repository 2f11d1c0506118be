// SPDX-License-Identifier: GPL-2.0
/* bus.c - the port and MMIO maps (which handler answers an access) and the device list. */

#include "hvx-run.h"

struct io_range {
	uint64_t base, len;
	io_fn fn;
	void *opaque;
	const char *name;
};

/* A handful of devices: a flat array searched in order is plenty. */
#define MAX_RANGES	32

struct io_map {
	struct io_range r[MAX_RANGES];
	int n;
};

static struct io_map ports, mmio;
static struct device *devices;

static void add_range(struct io_map *m, uint64_t base, uint64_t len, io_fn fn,
		      void *opaque, const char *name)
{
	int i;

	for (i = 0; i < m->n; i++)
		if (base < m->r[i].base + m->r[i].len && m->r[i].base < base + len)
			die(ST_INTERNAL, "%s at 0x%llx overlaps %s", name,
			    (unsigned long long)base, m->r[i].name);
	if (m->n == MAX_RANGES)
		die(ST_INTERNAL, "too many I/O ranges");
	m->r[m->n++] = (struct io_range){ base, len, fn, opaque, name };
}

static bool dispatch(struct io_map *m, uint64_t addr, uint8_t *data, int len, bool write)
{
	int i;

	for (i = 0; i < m->n; i++) {
		struct io_range *r = &m->r[i];

		if (addr >= r->base && addr - r->base < r->len) {
			r->fn(r->opaque, addr, data, len, write);
			return true;
		}
	}
	return false;
}

void io_register_port(uint16_t base, uint16_t len, io_fn fn, void *opaque, const char *name)
{
	add_range(&ports, base, len, fn, opaque, name);
}

void io_register_mmio(uint64_t base, uint64_t len, io_fn fn, void *opaque, const char *name)
{
	add_range(&mmio, base, len, fn, opaque, name);
}

bool io_port(uint16_t port, uint8_t *data, int len, bool write)
{
	return dispatch(&ports, port, data, len, write);
}

bool io_mmio(uint64_t addr, uint8_t *data, int len, bool write)
{
	return dispatch(&mmio, addr, data, len, write);
}

void device_register(struct device *dev)
{
	dev->next = devices;
	devices = dev;
}

const struct device *devices_first(void)
{
	return devices;
}

void devices_init(void)
{
	struct device *d;

	for (d = devices; d; d = d->next) {
		vlog("device %s", d->name);
		d->init();
	}
}
