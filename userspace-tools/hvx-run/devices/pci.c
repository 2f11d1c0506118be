// SPDX-License-Identifier: GPL-2.0
/* devices/pci.c - PCI bus 0: the host bridge, configuration mechanism #1 (0xcf8/0xcfc), BAR placement and decoding. */
#include <string.h>

#include "hvx-run.h"
#include "migration/state.h"

#define PCI_COMMAND		0x04
#define  PCI_COMMAND_MEMORY	0x0002
#define  PCI_COMMAND_MASTER	0x0004
#define  PCI_COMMAND_INTX_OFF	0x0400
#define PCI_STATUS		0x06
#define  PCI_STATUS_CAP_LIST	0x0010
#define PCI_BAR0		0x10
#define PCI_SUBSYS_VENDOR	0x2c
#define PCI_CAP_PTR		0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d
#define PCI_CAP_START		0x40

#define CONFIG_ADDRESS		0xcf8
#define CONFIG_ENABLE		0x80000000u

static struct pci_bus {
	pthread_mutex_t lock;		/* config space, BAR map, the address register */
	uint32_t address;
	struct pci_device *slots[PCI_MAX_SLOTS];
	uint64_t next_bar;		/* where the next BAR goes */
	struct pci_device bridge;
} bus = { .lock = PTHREAD_MUTEX_INITIALIZER, .next_bar = PCI_BAR_START };


/*
 * The INTx swizzle of a PCI-to-PCI bridge, applied on bus 0 too: slot s
 * pin p (0 = INTA) reaches pin 16 + (s + p) % 8 of the I/O APIC, past the
 * ISA pins, so adjacent slots share as little as possible.  mptable.c
 * lists the same mapping for every slot.
 */
int pci_intx_gsi(int slot, int pin)
{
	return 16 + (slot + pin) % (IOAPIC_PINS - 16);
}

void pci_init_header(struct pci_device *dev, uint16_t vendor, uint16_t device,
		     uint32_t class_rev, uint16_t subsys_vendor, uint16_t subsys)
{
	memset(dev->cfg, 0, sizeof(dev->cfg));
	memset(dev->wmask, 0, sizeof(dev->wmask));
	put16(dev->cfg, vendor);
	put16(dev->cfg + 2, device);
	put32(dev->cfg + 8, class_rev);
	put16(dev->cfg + PCI_SUBSYS_VENDOR, subsys_vendor);
	put16(dev->cfg + PCI_SUBSYS_VENDOR + 2, subsys);
	/* Memory decode, bus mastering and INTx disable are all a driver may change. */
	put16(dev->wmask + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
	      PCI_COMMAND_INTX_OFF);
	dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
	dev->last_cap = 0;
}

/* Appends a capability of @len bytes (id and next pointer included); returns its offset. */
uint8_t pci_add_cap(struct pci_device *dev, uint8_t id, uint8_t len)
{
	uint8_t off = dev->last_cap ? dev->cap_end : PCI_CAP_START;

	off = (off + 3) & ~3;
	if (off + len > PCI_CFG_SIZE)
		die(ST_INTERNAL, "%s: capabilities overflow configuration space", dev->name);
	dev->cfg[off] = id;
	dev->cfg[off + 1] = 0;
	if (dev->last_cap)
		dev->cfg[dev->last_cap + 1] = off;
	else
		dev->cfg[PCI_CAP_PTR] = off;
	put16(dev->cfg + PCI_STATUS, PCI_STATUS_CAP_LIST);
	dev->last_cap = off;
	dev->cap_end = off + len;
	return off;
}

void pci_set_bar(struct pci_device *dev, int bar, uint32_t size, io_fn fn)
{
	if (size < 0x1000 || (size & (size - 1)))
		die(ST_INTERNAL, "%s: BAR %d size 0x%x", dev->name, bar, size);
	dev->bar_size[bar] = size;
	dev->bar_fn[bar] = fn;
}

/* Where BAR @bar decodes: only with memory decode on, and only inside the hole. */
static uint64_t bar_decode(struct pci_device *dev, int bar)
{
	uint64_t addr = io_get(dev->cfg + PCI_BAR0 + 4 * bar, 4) & ~0xfull;

	if (!dev->bar_size[bar] || !(dev->cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY))
		return 0;
	if (addr < PCI_BAR_START || addr + dev->bar_size[bar] > PCI_BAR_END)
		return 0;
	return addr;
}

/* After a write to the command register or a BAR: tell the device what moved. */
static void bars_update(struct pci_device *dev)
{
	int i;

	for (i = 0; i < PCI_NR_BARS; i++) {
		uint64_t addr = bar_decode(dev, i);

		if (addr == dev->bar_mapped[i])
			continue;
		vlog("PCI %02x.0 %s: BAR %d %s 0x%llx", dev->slot, dev->name, i,
		     addr ? "at" : "off, was", (unsigned long long)(addr ? addr : dev->bar_mapped[i]));
		dev->bar_mapped[i] = addr;
		if (dev->bar_moved)
			dev->bar_moved(dev, i, addr);
	}
}

void pci_register(struct pci_device *dev)
{
	int slot, i;

	/* Slot 0 is the host bridge's, whichever init runs first. */
	for (slot = 1; slot < PCI_MAX_SLOTS && bus.slots[slot]; slot++)
		;
	if (slot == PCI_MAX_SLOTS)
		die(ST_INTERNAL, "%s: no free PCI slot", dev->name);
	dev->slot = slot;
	bus.slots[slot] = dev;

	/* 32-bit memory BARs, naturally aligned, packed from the start of the hole. */
	for (i = 0; i < PCI_NR_BARS; i++) {
		uint64_t size = dev->bar_size[i];
		uint64_t addr = (bus.next_bar + size - 1) & ~(size - 1);

		if (!size)
			continue;
		if (addr + size > PCI_BAR_END)
			die(ST_INTERNAL, "%s: no room for BAR %d in the MMIO hole", dev->name, i);
		put32(dev->cfg + PCI_BAR0 + 4 * i, addr);
		bus.next_bar = addr + size;
	}
	/* INTA, when the device has an interrupt (a host bridge has none). */
	if (dev->cfg[PCI_INTERRUPT_PIN]) {
		dev->gsi = pci_intx_gsi(slot, dev->cfg[PCI_INTERRUPT_PIN] - 1);
		dev->cfg[PCI_INTERRUPT_LINE] = dev->gsi;
	}
	vlog("PCI 00:%02x.0 %s: %04x:%04x", slot, dev->name, dev->cfg[0] | dev->cfg[1] << 8,
	     dev->cfg[2] | dev->cfg[3] << 8);
}

/*
 * INTx is level-triggered: the line stays up until the device lowers it
 * (virtio: when the driver reads the ISR).  The command register's INTx
 * disable holds it low.  Called from device threads: the I/O APIC has its
 * own lock.
 */
void pci_set_irq(struct pci_device *dev, bool level)
{
	uint16_t cmd = __atomic_load_n(&dev->cfg[PCI_COMMAND + 1], __ATOMIC_RELAXED) << 8;

	if (!dev->gsi)
		return;
	if (cmd & PCI_COMMAND_INTX_OFF)
		level = false;
	ioapic_set_pin(dev->gsi, level);
}

static uint32_t cfg_read(struct pci_device *dev, int off, int len)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < len; i++)
		v |= (uint32_t)dev->cfg[off + i] << (8 * i);
	return v;
}

static void cfg_write(struct pci_device *dev, int off, int len, uint32_t v)
{
	bool bars = false;
	int i;

	for (i = 0; i < len; i++) {
		int o = off + i;
		uint8_t b = v >> (8 * i);

		if (o >= PCI_BAR0 && o < PCI_BAR0 + 4 * PCI_NR_BARS) {
			/*
			 * A BAR keeps only the address bits its size allows:
			 * all ones written back reads as ~(size - 1), the
			 * sizing protocol.  The low 4 bits (32-bit memory,
			 * not prefetchable) are read-only zeroes.
			 */
			uint32_t size = dev->bar_size[(o - PCI_BAR0) / 4];
			uint32_t mask = size ? ~(size - 1) : 0;

			b &= mask >> (8 * ((o - PCI_BAR0) % 4));
			dev->cfg[o] = b;
			bars = true;
			continue;
		}
		if (o == PCI_COMMAND)
			bars = true;
		dev->cfg[o] = (dev->cfg[o] & ~dev->wmask[o]) | (b & dev->wmask[o]);
	}
	if (bars)
		bars_update(dev);
	if (dev->cfg_written)
		dev->cfg_written(dev, off, len);
}

/*
 * Port 0xcf8 (dword only) holds the address: enable bit 31, bus 23:16,
 * device 15:11, function 10:8, register 7:2.  0xcfc-0xcff are a window
 * on that dword of configuration space, any size.  Byte 0xcf9 is also the
 * reset control register; other partial accesses to 0xcf8-0xcfb go
 * nowhere, as on PIIX chipsets (Linux's mechanism #1 probe writes 0xcfb).
 */
static void pci_config_io(void *opaque, uint64_t port, uint8_t *data, int len, bool write)
{
	struct pci_device *dev = NULL;
	uint32_t a;
	int off;

	(void)opaque;
	pthread_mutex_lock(&bus.lock);
	if (port < CONFIG_ADDRESS + 4) {
		if (port == CONFIG_ADDRESS && len == 4) {
			if (write)
				bus.address = io_get(data, 4) & 0x80fffffc;
			else
				io_put(data, 4, bus.address);
		} else if (write && port == 0xcf9 && len == 1 && (data[0] & 0x04)) {
			guest_reset("port 0xcf9 reset");
		} else if (!write) {
			memset(data, 0xff, len);
		}
		goto out;
	}
	a = bus.address;
	off = (a & 0xfc) + (port & 3);
	/* Bus 0, function 0 only: every other function reads as absent. */
	if ((a & CONFIG_ENABLE) && !(a & 0x00ff0700))
		dev = bus.slots[(a >> 11) & 0x1f];
	if (off + len > PCI_CFG_SIZE)
		len = PCI_CFG_SIZE - off;	/* an unaligned word at 0xcff */
	if (!dev) {
		if (!write)
			memset(data, 0xff, len);
	} else if (write) {
		cfg_write(dev, off, len, io_get(data, len));
	} else {
		io_put(data, len, cfg_read(dev, off, len));
	}
out:
	pthread_mutex_unlock(&bus.lock);
}

/*
 * The whole BAR window is one range on the MMIO bus; a guest may move
 * BARs within it.  The handler runs without the bus lock (it takes the
 * device's), so a BAR moved at the same moment may see one last access
 * at its old place, like a posted write on real hardware.
 */
static void pci_mmio(void *opaque, uint64_t addr, uint8_t *data, int len, bool write)
{
	struct pci_device *dev;
	int slot, i;

	(void)opaque;
	pthread_mutex_lock(&bus.lock);
	for (slot = 0; slot < PCI_MAX_SLOTS; slot++) {
		dev = bus.slots[slot];
		if (!dev)
			continue;
		for (i = 0; i < PCI_NR_BARS; i++) {
			uint64_t base = dev->bar_mapped[i];

			if (base && addr >= base && addr - base < dev->bar_size[i]) {
				pthread_mutex_unlock(&bus.lock);
				if (addr - base + len > dev->bar_size[i])
					len = dev->bar_size[i] - (addr - base);
				dev->bar_fn[i](dev->opaque, addr - base, data, len, write);
				return;
			}
		}
	}
	pthread_mutex_unlock(&bus.lock);
	if (!write)
		memset(data, 0xff, len);
	vlog("unhandled PCI MMIO %s 0x%llx len %d", write ? "write" : "read",
	     (unsigned long long)addr, len);
}

/*
 * The host bridge at 00:00.0 is what Linux's mechanism #1 sanity check
 * looks for (class 0x0600).  Its IDs are those of QEMU's generic host
 * bridge, which no driver binds specially.
 */
static void pci_init(void)
{
	struct pci_device *hb = &bus.bridge;

	hb->name = "host bridge";
	pci_init_header(hb, 0x1b36, 0x0008, 0x06000000, 0, 0);
	put16(hb->wmask + PCI_COMMAND, 0);
	hb->wmask[PCI_INTERRUPT_LINE] = 0;
	bus.slots[0] = hb;
	io_register_port(CONFIG_ADDRESS, 8, pci_config_io, NULL, "PCI config");
	io_register_mmio(PCI_BAR_START, PCI_BAR_END - PCI_BAR_START, pci_mmio, NULL, "PCI BARs");
}

/*
 * The address register and every function's configuration space (the
 * devices on the bus are hvx-run's options: the same on both sides).  A
 * load then decodes the BARs and replays the writes the devices watch
 * (MSI-X enable and mask) as if the guest had just made them.
 */
static void pci_state(struct state *s)
{
	uint32_t present = 0, saved;
	int i;

	pthread_mutex_lock(&bus.lock);
	for (i = 0; i < PCI_MAX_SLOTS; i++)
		if (bus.slots[i])
			present |= 1u << i;
	saved = present;
	STATE(s, bus.address);
	STATE(s, saved);
	state_check(s, saved == present);
	for (i = 0; i < PCI_MAX_SLOTS && !s->failed; i++) {
		struct pci_device *dev = bus.slots[i];

		if (!dev)
			continue;
		STATE(s, dev->cfg);
		if (!s->load || s->failed)
			continue;
		bars_update(dev);
		if (dev->cfg_written)
			dev->cfg_written(dev, 0, PCI_CFG_SIZE);
	}
	pthread_mutex_unlock(&bus.lock);
}

DEVICE("PCI bus", pci_init, pci_state)
