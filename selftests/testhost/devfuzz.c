// SPDX-License-Identifier: GPL-2.0
/* devfuzz.c - in hvx-run's test guest: random port and MMIO accesses to the devices hvx-run emulates, seeded. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../fuzz_rng.h"

/*
 * Usage: devfuzz SEED OPS
 * Targets: the legacy ports hvx-run answers (PIC, PIT, i8042, RTC, port
 * 0x92, POST and delay ports, the serial port's registers other than the
 * line control that would silence the console), PCI configuration space
 * through 0xcf8/0xcfc (BARs and command registers included: a BAR moved
 * over RAM is fair game), the virtio devices' I/O and memory BARs (mapped
 * through sysfs), the IOAPIC and the LAPIC pages and random addresses
 * above RAM (/dev/mem), and any port.  Reads and writes of 1, 2, 4 (and 8
 * for memory) bytes of boundary or random values.  Whatever the guest does
 * to itself (a hang, a panic, a reset) is allowed: the host judges hvx-run.
 */

/*
 * Everything goes out through the kernel log, not the tty: a tty write only
 * queues the line for the UART's interrupts, which the fuzzing may silence
 * before the line is out (or for good, blocking the next write); printk's
 * console writes poll the UART instead.
 */
static int kmsg = -1;

static __attribute__((format(printf, 1, 2))) void say(const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (len >= (int)sizeof(line))
		len = sizeof(line) - 1;
	if (kmsg < 0 || write(kmsg, line, len) != len) {
		fputs(line, stdout);
		fflush(stdout);
	}
}

struct window {
	volatile uint8_t *base;
	size_t size;
	char name[48];
};

static struct window mmio[32];
static unsigned int nr_mmio;
static uint16_t io_base[32], io_size[32];
static unsigned int nr_io;

static void add_mmio(void *base, size_t size, const char *name)
{
	if (base == MAP_FAILED || nr_mmio == 32)
		return;
	mmio[nr_mmio].base = base;
	mmio[nr_mmio].size = size;
	snprintf(mmio[nr_mmio].name, sizeof(mmio[0].name), "%s", name);
	say("HVX-DEVFUZZ: mmio %s %zu bytes\n", name, size);
	nr_mmio++;
}

/* Each PCI function's BARs: memory ones mapped, I/O ones as port ranges. */
static void find_bars(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char path[300], line[128];
		unsigned int bar = 0;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", e->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f) && bar < 6) {
			unsigned long long start, end, flags;

			if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) == 3 && end > start) {
				if ((flags & 0x100) && nr_io < 32) {	/* IORESOURCE_IO */
					io_base[nr_io] = start;
					io_size[nr_io++] = end - start + 1;
					say("HVX-DEVFUZZ: io %s bar%u 0x%llx\n", e->d_name, bar, start);
				} else if (flags & 0x200) {		/* IORESOURCE_MEM */
					char res[320];
					int fd;

					snprintf(res, sizeof(res), "/sys/bus/pci/devices/%s/resource%u",
						 e->d_name, bar);
					fd = open(res, O_RDWR | O_SYNC);
					if (fd >= 0) {
						add_mmio(mmap(NULL, end - start + 1, PROT_READ | PROT_WRITE,
							      MAP_SHARED, fd, 0), end - start + 1, res + 21);
						close(fd);
					}
				}
			}
			bar++;
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
}

/* The IOAPIC, the LAPIC and some pages above RAM, where /dev/mem lets us. */
static void map_phys(struct rng *r)
{
	static const uint64_t fixed[] = { 0xfec00000, 0xfee00000 };
	int fd = open("/dev/mem", O_RDWR | O_SYNC);
	unsigned int i;

	if (fd < 0)
		return;
	for (i = 0; i < 2; i++)
		add_mmio(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, fixed[i]), 4096,
			 i ? "lapic" : "ioapic");
	for (i = 0; i < 4; i++) {
		uint64_t pa = 0xc0000000ull + (below(r, 0x3c000) << 12);

		add_mmio(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pa), 4096,
			 "above-ram");
	}
	close(fd);
}

static uint32_t value(struct rng *r)
{
	static const uint32_t v[] = { 0, 1, 0xff, 0xffff, 0xffffffff, 0x80, 0x80000000, 0x7fffffff,
				      0x1000, 0xfff, 0xfee00000, 0x100000, 0x3, 0x7, 0x40 };

	return below(r, 2) ? v[below(r, sizeof(v) / sizeof(v[0]))] : (uint32_t)rnd(r);
}

static void port_access(struct rng *r, uint16_t port)
{
	unsigned int width = 1u << below(r, 3);
	uint32_t v = value(r);

	if (below(r, 2)) {
		if (width == 1)
			inb(port);
		else if (width == 2)
			inw(port);
		else
			inl(port);
		return;
	}
	if (port == 0x92)
		v &= ~1u;	/* the fast reset bit would end the run at once */
	if (port == 0x64 && (v & 0xff) == 0xfe)
		v = 0;		/* the i8042's reset pulse: likewise */
	if (port == 0xcf9)
		return;
	if (width == 1)
		outb(v, port);
	else if (width == 2)
		outw(v, port);
	else
		outl(v, port);
}

static void mmio_access(struct rng *r, struct window *w)
{
	unsigned int width = 1u << below(r, 4);
	size_t off = below(r, w->size) & ~(size_t)(width - 1);
	volatile uint8_t *p = w->base + off;
	uint64_t v = value(r);

	if (below(r, 2)) {
		switch (width) {
		case 1: (void)*p; break;
		case 2: (void)*(volatile uint16_t *)p; break;
		case 4: (void)*(volatile uint32_t *)p; break;
		default: (void)*(volatile uint64_t *)p; break;
		}
		return;
	}
	switch (width) {
	case 1: *p = v; break;
	case 2: *(volatile uint16_t *)p = v; break;
	case 4: *(volatile uint32_t *)p = v; break;
	default: *(volatile uint64_t *)p = v | (uint64_t)value(r) << 32; break;
	}
}

int main(int argc, char **argv)
{
	static const uint16_t legacy[] = {
		0x20, 0x21, 0xa0, 0xa1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x60, 0x64, 0x70, 0x71,
		0x80, 0xed, 0x92, 0x3f9, 0x3fa, 0x3fc, 0x3fd, 0x3fe, 0x3ff, 0x4d0, 0x4d1,
	};
	struct rng r;
	unsigned long ops, i;

	if (argc != 3) {
		fprintf(stderr, "usage: devfuzz SEED OPS\n");
		return 2;
	}
	r.s = mix(strtoull(argv[1], NULL, 0), 0);
	ops = strtoul(argv[2], NULL, 0);
	kmsg = open("/dev/kmsg", O_WRONLY);
	if (iopl(3)) {
		perror("devfuzz: iopl");
		return 1;
	}
	find_bars();
	map_phys(&r);
	say("HVX-DEVFUZZ: seed %s, %lu operations, %u MMIO windows, %u I/O BARs\n", argv[1], ops,
	    nr_mmio, nr_io);
	for (i = 0; i < ops; i++) {
		unsigned int k = below(&r, 10);

		if (k < 3) {
			port_access(&r, legacy[below(&r, sizeof(legacy) / sizeof(legacy[0]))]);
		} else if (k < 5) {		/* PCI configuration: address, then data */
			outl(0x80000000u | below(&r, 8) << 11 | below(&r, 8) << 8 |
			     (below(&r, 64) << 2), 0xcf8);
			port_access(&r, 0xcfc + below(&r, 4));
		} else if (k < 7 && nr_io) {
			unsigned int b = below(&r, nr_io);

			port_access(&r, io_base[b] + below(&r, io_size[b]));
		} else if (k < 9 && nr_mmio) {
			mmio_access(&r, &mmio[below(&r, nr_mmio)]);
		} else {
			port_access(&r, below(&r, 0x10000));
		}
		if ((i + 1) % 500 == 0)
			say("HVX-DEVFUZZ: %lu\n", i + 1);
	}
	say("HVX-DEVFUZZ: done %lu\n", ops);
	return 0;
}
