// SPDX-License-Identifier: GPL-2.0
/* devices/ioapic.c - the I/O APIC at 0xfec00000: 24 pins in, HVX_SIGNAL_MSI to hvx.ko's local APICs out. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hvx-run.h"
#include "migration/state.h"

#define IOREGSEL	0x00
#define IOWIN		0x10
#define IOAPIC_VERSION	(0x11 | (IOAPIC_PINS - 1) << 16)

#define RTE_MASKED	(1ull << 16)
#define RTE_LEVEL	(1ull << 15)
#define RTE_REMOTE_IRR	(1ull << 14)
#define RTE_RO_BITS	((1ull << 12) | RTE_REMOTE_IRR)	/* delivery status, remote IRR */
#define IOAPIC_EOI	0x40

static struct ioapic {
	pthread_mutex_t lock;
	uint32_t regsel;
	uint8_t id;
	uint64_t rte[IOAPIC_PINS];
	bool line[IOAPIC_PINS];
} ioapic = { .lock = PTHREAD_MUTEX_INITIALIZER };

uint8_t ioapic_id(void)
{
	/* After the CPUs' APIC IDs, in the register's 4 bits. */
	return vm.nr_vcpus < 15 ? vm.nr_vcpus : 15;
}

/*
 * Send one pin's interrupt as the MSI its redirection entry describes:
 * destination in address bits 19:12, logical mode in bit 2, vector,
 * delivery mode and trigger mode in the data.
 *
 * A level-triggered pin sets remote IRR and sends nothing more until the
 * guest clears it.  hvx.ko delivers level interrupts as edges and sends
 * no EOI back, but its local APIC leaves the TMR bit clear, so Linux
 * (ioapic_ack_level) ends each level interrupt with the EOI of a version
 * 0x11 I/O APIC: the entry rewritten masked and edge-triggered, then
 * restored.  The edge write clears remote IRR here, the restore sends
 * again if the line is still up: level semantics without an EOI message.
 * The EOI register (0x40) of version 0x20 parts is accepted as well.
 */
static void ioapic_send(struct ioapic *io, int pin)
{
	uint64_t rte = io->rte[pin];
	unsigned int delivery = (rte >> 8) & 7;
	int ret;
	struct hvx_msi msi = {
		.address = LAPIC_BASE | (rte >> 56) << 12 | ((rte >> 11) & 1) << 2,
		.data = (rte & 0xff) | delivery << 8 | (rte & RTE_LEVEL ? 1u << 15 : 0),
	};

	if (rte & RTE_MASKED || !vm.lapic)
		return;
	if (delivery > 1) {
		/* NMI, SMI, INIT, ExtINT: hvx.ko takes fixed and lowest priority only. */
		vlog("I/O APIC pin %d: delivery mode %u not supported, dropped", pin, delivery);
		return;
	}
	if (rte & RTE_LEVEL)
		io->rte[pin] |= RTE_REMOTE_IRR;
	ret = ioctl(vm.fd, HVX_SIGNAL_MSI, &msi);
	if (verbose > 1)
		vlog("I/O APIC pin %d: MSI 0x%llx/0x%x -> %d", pin,
		     (unsigned long long)msi.address, msi.data, ret);
	if (ret < 0)
		vlog("I/O APIC pin %d: HVX_SIGNAL_MSI 0x%llx/0x%x: %s", pin,
		     (unsigned long long)msi.address, msi.data, strerror(errno));
}

/* A level pin whose line is up sends when nothing holds it back. */
static void ioapic_service_level(struct ioapic *io, int pin)
{
	uint64_t rte = io->rte[pin];

	if ((rte & RTE_LEVEL) && !(rte & (RTE_MASKED | RTE_REMOTE_IRR)) && io->line[pin])
		ioapic_send(io, pin);
}

/*
 * An input line: ISA pins are edge-triggered (a rising line sends one
 * MSI), PCI INTx pins level-triggered, as the guest programs them.
 */
void ioapic_set_pin(int pin, bool level)
{
	struct ioapic *io = &ioapic;
	bool rising;

	if (pin < 0 || pin >= IOAPIC_PINS)
		return;
	pthread_mutex_lock(&io->lock);
	rising = level && !io->line[pin];
	io->line[pin] = level;
	if (io->rte[pin] & RTE_LEVEL)
		ioapic_service_level(io, pin);
	else if (rising)
		ioapic_send(io, pin);
	pthread_mutex_unlock(&io->lock);
}

void irq_set_level(int isa_irq, bool level)
{
	ioapic_set_pin(isa_irq_pin(isa_irq), level);
}

void irq_pulse(int isa_irq)
{
	irq_set_level(isa_irq, true);
	irq_set_level(isa_irq, false);
}

static uint32_t ioapic_read(struct ioapic *io)
{
	uint32_t r = io->regsel;

	switch (r) {
	case 0: return (uint32_t)io->id << 24;
	case 1: return IOAPIC_VERSION;
	case 2: return (uint32_t)io->id << 24;	/* arbitration ID */
	}
	if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS)
		return r & 1 ? io->rte[(r - 0x10) / 2] >> 32 : (uint32_t)io->rte[(r - 0x10) / 2];
	return 0;
}

static void ioapic_write(struct ioapic *io, uint32_t v)
{
	uint32_t r = io->regsel;
	uint64_t old;
	int pin;

	if (r == 0) {
		io->id = (v >> 24) & 0xf;
		return;
	}
	if (r < 0x10 || r >= 0x10 + 2 * IOAPIC_PINS)
		return;
	pin = (r - 0x10) / 2;
	old = io->rte[pin];
	if (r & 1)
		io->rte[pin] = (old & 0xffffffffull) | (uint64_t)v << 32;
	else
		io->rte[pin] = (old & (0xffffffff00000000ull | RTE_RO_BITS)) | (v & ~RTE_RO_BITS);
	/* Edge-triggered entries have no remote IRR: the 0x11 EOI (see ioapic_send). */
	if (!(io->rte[pin] & RTE_LEVEL))
		io->rte[pin] &= ~RTE_REMOTE_IRR;
	/* A level interrupt still asserted when unmasked or EOIed is delivered then. */
	ioapic_service_level(io, pin);
}

static void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	int pin;

	for (pin = 0; pin < IOAPIC_PINS; pin++) {
		if ((io->rte[pin] & 0xff) != vector || !(io->rte[pin] & RTE_REMOTE_IRR))
			continue;
		io->rte[pin] &= ~RTE_REMOTE_IRR;
		ioapic_service_level(io, pin);
	}
}

static void ioapic_mmio(void *opaque, uint64_t addr, uint8_t *data, int len, bool write)
{
	struct ioapic *io = opaque;
	uint64_t off = addr - IOAPIC_BASE;

	pthread_mutex_lock(&io->lock);
	if (write) {
		if (off == IOREGSEL)
			io->regsel = io_get(data, len) & 0xff;
		else if (off == IOWIN)
			ioapic_write(io, io_get(data, len));
		else if (off == IOAPIC_EOI)
			ioapic_eoi(io, io_get(data, len) & 0xff);
	} else {
		io_put(data, len, off == IOREGSEL ? io->regsel :
				  off == IOWIN ? ioapic_read(io) : 0);
	}
	pthread_mutex_unlock(&io->lock);
}

static void ioapic_init(void)
{
	int i;

	ioapic.id = ioapic_id();
	for (i = 0; i < IOAPIC_PINS; i++)
		ioapic.rte[i] = RTE_MASKED;
	io_register_mmio(IOAPIC_BASE, 0x1000, ioapic_mmio, &ioapic, "I/O APIC");
}

/* Registers and input levels; a level pin's remote IRR is in its RTE. */
static void ioapic_state(struct state *s)
{
	struct ioapic *io = &ioapic;

	pthread_mutex_lock(&io->lock);
	STATE(s, io->regsel);
	STATE(s, io->id);
	STATE(s, io->rte);
	STATE(s, io->line);
	pthread_mutex_unlock(&io->lock);
}

DEVICE("I/O APIC", ioapic_init, ioapic_state)
