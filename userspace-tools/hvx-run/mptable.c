// SPDX-License-Identifier: GPL-2.0
/*
 * mptable.c - the Intel MultiProcessor table (spec 1.4) at 0xf0000: processors, the PCI and
 * ISA buses, the I/O APIC and where each ISA IRQ and PCI INTx line reaches it.  Without ACPI, this is how Linux
 * finds the I/O APIC.
 */
#include <cpuid.h>
#include <string.h>

#include "hvx-run.h"

#define MPTABLE_ADDR	0xf0000
/*
 * Linux looks PCI interrupts up by MP bus ID = PCI bus number, so PCI bus
 * 0 takes ID 0 and the ISA bus comes after it.
 */
#define MP_BUS_PCI	0
#define MP_BUS_ISA	1

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

struct mpf {			/* floating pointer structure */
	char signature[4];	/* "_MP_" */
	uint32_t physptr;
	uint8_t length;		/* in 16-byte units: 1 */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5];	/* [0] = 0: a configuration table follows;
				 * [1] bit 7 = 0: no IMCR, virtual-wire mode */
} __attribute__((packed));

struct mpc_header {
	char signature[4];	/* "PCMP" */
	uint16_t length;
	uint8_t spec_rev;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oem_ptr;
	uint16_t oem_size;
	uint16_t count;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type, apic_id, apic_ver, flags;	/* flags: 1 enabled, 2 bootstrap */
	uint32_t signature, features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type, bus_id;
	char name[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type, id, version, flags;
	uint32_t address;
} __attribute__((packed));

struct mpc_int {		/* I/O and local interrupt assignments */
	uint8_t type, irq_type;
	uint16_t flags;		/* 0: polarity and trigger as the bus says (ISA: high,
				 * edge; PCI: low, level) */
	uint8_t src_bus, src_irq, dst_id, dst_pin;
} __attribute__((packed));

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

uint64_t mptable_write(int nr_cpus)
{
	uint8_t *base = gpa_to_hva(MPTABLE_ADDR, 0x1000);
	struct mpf *mpf = (struct mpf *)base;
	struct mpc_header *h = (struct mpc_header *)(base + sizeof(*mpf));
	uint8_t *p = (uint8_t *)(h + 1);
	uint8_t ioapic = ioapic_id();
	uint32_t eax, ebx, ecx, edx;
	int i, irq, slot, pin;

	memset(base, 0, 0x1000);
	__cpuid(1, eax, ebx, ecx, edx);
	for (i = 0; i < nr_cpus; i++) {
		struct mpc_cpu *c = (struct mpc_cpu *)p;

		*c = (struct mpc_cpu){ .type = MP_PROCESSOR, .apic_id = i, .apic_ver = 0x14,
				       .flags = 1 | (i == 0 ? 2 : 0), .signature = eax,
				       .features = edx };
		p += sizeof(*c);
		h->count++;
	}

	*(struct mpc_bus *)p = (struct mpc_bus){ .type = MP_BUS, .bus_id = MP_BUS_PCI,
		.name = "PCI   " };
	p += sizeof(struct mpc_bus);
	*(struct mpc_bus *)p = (struct mpc_bus){ .type = MP_BUS, .bus_id = MP_BUS_ISA,
		.name = "ISA   " };
	p += sizeof(struct mpc_bus);
	h->count++;
	*(struct mpc_ioapic *)p = (struct mpc_ioapic){ .type = MP_IOAPIC, .id = ioapic,
		.version = 0x11, .flags = 1, .address = IOAPIC_BASE };
	p += sizeof(struct mpc_ioapic);
	h->count += 2;

	/* IRQ 2 is the 8259 cascade: it has no pin of its own. */
	for (irq = 0; irq < 16; irq++) {
		if (irq == 2)
			continue;
		*(struct mpc_int *)p = (struct mpc_int){ .type = MP_INTSRC, .irq_type = MP_INT,
			.src_bus = MP_BUS_ISA, .src_irq = irq, .dst_id = ioapic,
			.dst_pin = isa_irq_pin(irq) };
		p += sizeof(struct mpc_int);
		h->count++;
	}
	/*
	 * PCI INTx: every slot's four pins, whether a device sits there or
	 * not (the table is written before devices exist).  The source IRQ
	 * is slot << 2 | pin (0 = INTA).
	 */
	for (slot = 1; slot < PCI_MAX_SLOTS; slot++) {
		for (pin = 0; pin < 4; pin++) {
			*(struct mpc_int *)p = (struct mpc_int){ .type = MP_INTSRC,
				.irq_type = MP_INT, .src_bus = MP_BUS_PCI,
				.src_irq = slot << 2 | pin, .dst_id = ioapic,
				.dst_pin = pci_intx_gsi(slot, pin) };
			p += sizeof(struct mpc_int);
			h->count++;
		}
	}
	/* Every local APIC: LINT0 is the (masked) 8259's ExtINT, LINT1 NMI. */
	*(struct mpc_int *)p = (struct mpc_int){ .type = MP_LINTSRC, .irq_type = MP_EXTINT,
		.dst_id = 0xff, .dst_pin = 0 };
	p += sizeof(struct mpc_int);
	*(struct mpc_int *)p = (struct mpc_int){ .type = MP_LINTSRC, .irq_type = MP_NMI,
		.dst_id = 0xff, .dst_pin = 1 };
	p += sizeof(struct mpc_int);
	h->count += 2;

	memcpy(h->signature, "PCMP", 4);
	h->length = p - (uint8_t *)h;
	h->spec_rev = 4;
	memcpy(h->oem, "HVX     ", 8);
	memcpy(h->product, "HVX-RUN     ", 12);
	h->lapic = LAPIC_BASE;
	h->checksum = checksum(h, h->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = MPTABLE_ADDR + sizeof(*mpf);
	mpf->length = 1;
	mpf->spec_rev = 4;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
	return MPTABLE_ADDR;
}
