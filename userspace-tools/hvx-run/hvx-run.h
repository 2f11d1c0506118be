/* SPDX-License-Identifier: GPL-2.0 */
/* hvx-run.h - what hvx-run's files share: VM, vCPUs, I/O bus, devices, interrupts, endings. */
#ifndef HVX_RUN_H
#define HVX_RUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/hvx.h>

#define MAX_VCPUS	64

/* Exit statuses of hvx-run, one per way a run can end (see --help). */
enum run_status {
	ST_POWEROFF	= 0,	/* every vCPU halted with interrupts off */
	ST_QUIT		= 0,	/* "quit" on the QMP socket */
	ST_USAGE	= 2,	/* bad arguments, unreadable or invalid files */
	ST_NODEV	= 3,	/* /dev/hvx missing or unusable */
	ST_REBOOT	= 10,	/* the guest asked for a reset */
	ST_TRIPLE_FAULT	= 11,	/* triple fault (shutdown) without a panic */
	ST_PANIC	= 12,	/* the guest kernel panicked */
	ST_INTERNAL	= 13,	/* hvx-run or hvx.ko could not go on */
	ST_SIGINT	= 130,	/* SIGINT, or the Ctrl-A x escape */
	ST_SIGTERM	= 143,	/* SIGTERM */
};

/* Guest RAM is one or two regions around the 32-bit MMIO hole. */
#define MMIO_HOLE_START	0xe0000000ull	/* 3.5 GiB */
#define MMIO_HOLE_END	0x100000000ull	/* 4 GiB */

struct vcpu {
	int id;
	int fd;
	struct hvx_run *run;
	pthread_t thread;
	bool started;	/* has a thread calling HVX_RUN */
	bool ran;	/* has exited to hvx-run at least once: not parked */
	bool halted;	/* halted with interrupts off: only a reset could end it */
	int tid;	/* its thread's id, for query-cpus-fast */
};

struct vm {
	int sys_fd;
	int fd;
	uint8_t *ram;		/* host view of guest RAM, GPA 0 up */
	uint64_t ram_size;	/* what -m asked for */
	uint64_t low_end;	/* end of the RAM below the hole */
	uint64_t high_end;	/* end of the RAM above 4 GiB (0: none) */
	bool lapic;		/* hvx.ko's in-kernel local APIC is on */
	uint32_t vendor;	/* HVX_VENDOR_* */
	int nr_vcpus;
	int nr_running;		/* vCPUs with a thread: all, or only vCPU 0 without
				 * the in-kernel local APIC */
	struct vcpu vcpus[MAX_VCPUS];
};

extern struct vm vm;
extern int verbose;

/* main.c: logging and endings. */
void vlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void vm_stop(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool vm_stopping(void);
bool vm_stopped_by_signal(void);

/* vm.c: VM, RAM and vCPUs. */
void vm_create(uint64_t ram_size, int nr_vcpus);
void *gpa_to_hva(uint64_t gpa, uint64_t len);

/* Guest RAM as hvx.ko's regions: slot 0 below the MMIO hole, slot 1 above 4 GiB. */
struct ram_region {
	uint32_t slot;
	uint64_t gpa, size;
};
int ram_regions(struct ram_region r[2]);

/*
 * Pages hvx-run's devices write (virtqueue buffers the device fills, used
 * rings), which hvx.ko's dirty log cannot see: tracked while a live
 * migration runs (ram_dirty_start), and taken per region with
 * ram_dirty_take, which ORs them into @bits and clears them (with
 * @quiesce, between two pieces of device work; without, the caller has
 * the devices paused).
 */
void ram_dirty(uint64_t gpa, uint64_t len);
void ram_dirty_start(void);
void ram_dirty_stop(void);
void ram_dirty_take(const struct ram_region *r, uint64_t *bits, bool quiesce);
void vcpus_start(void);
void vcpus_stop(void);
void vcpu_halted(struct vcpu *vcpu);
/*
 * Pausing the guest for a stop or a save (control/): every vCPU parked
 * after a complete exit and the device threads' work held off.  Device
 * threads bracket each piece of work with device_work_begin/end.
 */
void vm_pause(void);
/* Auto-converge for live migration: the vCPUs sleep @pct % of the time (0: off). */
void vcpus_throttle(int pct);
void vm_resume(void);
void vm_pause_abort(void);
void device_work_begin(void);
void device_work_end(void);

/*
 * cpuid.c, msr.c.  cpuid_features: the guest's feature words (leaf 1 ECX,
 * EDX; leaf 7 EBX, EDX; 0x80000001 ECX, EDX) without the bits that follow
 * from the vCPU count, once vCPU 0 is set up.
 */
#define CPUID_FEATURE_WORDS	6
extern uint32_t cpuid_features[CPUID_FEATURE_WORDS];
void cpuid_setup(struct vcpu *vcpu);
void msr_exit(struct vcpu *vcpu);

/* boot.c: the Linux x86 64-bit boot protocol. */
struct boot_files {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
};
void boot_read(const struct boot_files *f);
void boot_load(void);
void boot_setup_bsp(struct vcpu *vcpu);
struct hvx_segment boot_flat_segment(uint16_t sel, uint8_t type, bool code64);
/* The guest's memory map, as the e820 table and the multiboot map give it. */
void boot_memory_map(void (*add)(void *ctx, uint64_t base, uint64_t len, uint32_t type),
		     void *ctx);

/* multiboot.c: Multiboot v1 kernels (kvm-unit-tests), read by boot_read(). */
bool multiboot_detect(const uint8_t *buf, size_t size);
void multiboot_read(const char *path, const uint8_t *image, size_t size);
void multiboot_load(const char *cmdline, const uint8_t *module, size_t module_size,
		    const char *module_path);
void multiboot_setup_bsp(struct vcpu *vcpu);

/* mptable.c: the Intel MultiProcessor table the guest finds the I/O APIC in. */
#define IOAPIC_BASE	0xfec00000ull
#define LAPIC_BASE	0xfee00000ull
#define IOAPIC_PINS	24
uint64_t mptable_write(int nr_cpus);

/*
 * The bus: port ranges and MMIO ranges with their handlers.  @data is
 * little-endian, @len bytes (1, 2, 4, or 8 for MMIO); for a read the
 * handler fills it.  Handlers run on vCPU threads.
 */
typedef void (*io_fn)(void *opaque, uint64_t addr, uint8_t *data, int len, bool write);
void io_register_port(uint16_t base, uint16_t len, io_fn fn, void *opaque, const char *name);
void io_register_mmio(uint64_t base, uint64_t len, io_fn fn, void *opaque, const char *name);
bool io_port(uint16_t port, uint8_t *data, int len, bool write);
bool io_mmio(uint64_t addr, uint8_t *data, int len, bool write);

static inline uint32_t io_get(const uint8_t *data, int len)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < len && i < 4; i++)
		v |= (uint32_t)data[i] << (8 * i);
	return v;
}

static inline void io_put(uint8_t *data, int len, uint32_t v)
{
	int i;

	for (i = 0; i < len; i++)
		data[i] = i < 4 ? v >> (8 * i) : 0;
}

/* Little-endian register images (PCI configuration space, virtio structures). */
static inline void put16(uint8_t *p, uint16_t v)
{
	io_put(p, 2, v);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	io_put(p, 4, v);
}

/* Little-endian fields: register images, and the files hvx-run boots (bzImage, ELF, multiboot). */
static inline uint16_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }
static inline uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static inline uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/*
 * Devices register themselves from a constructor (DEVICE(...) at the end
 * of their file); main() calls every init once the VM and its RAM exist,
 * before any vCPU runs.  Each also walks its guest-visible state for the
 * state stream (migration/state.h), with the vCPUs stopped.  The core
 * never lists devices.
 */
struct state;
struct device {
	const char *name;
	void (*init)(void);
	void (*state)(struct state *s);
	struct device *next;
};
void device_register(struct device *dev);
void devices_init(void);
const struct device *devices_first(void);

#define DEVICE(dev_name, init_fn, state_fn)				\
	static struct device dev_##init_fn = {				\
		.name = dev_name, .init = init_fn, .state = state_fn,	\
	};								\
	static void __attribute__((constructor)) register_##init_fn(void) \
	{								\
		device_register(&dev_##init_fn);			\
	}

/*
 * devices/ioapic.c: ISA interrupt lines.  ISA IRQ n is wired to I/O APIC pin n,
 * except IRQ 0 (the PIT), which is on pin 2 as on real boards; the MP
 * table tells the guest so.
 */
static inline int isa_irq_pin(int irq)
{
	return irq == 0 ? 2 : irq;
}
uint8_t ioapic_id(void);
void ioapic_set_pin(int pin, bool level);
void irq_set_level(int isa_irq, bool level);
void irq_pulse(int isa_irq);

/*
 * iothread.c: the I/O thread polls file descriptors (stdin, timerfds)
 * and calls their handlers; devices add theirs from their init.
 */
typedef void (*fd_fn)(void *opaque, int fd);
void iothread_add_fd(int fd, fd_fn fn, void *opaque);
void iothread_remove_fd(int fd);
void iothread_start(void);

/*
 * devices/pci.c: PCI bus 0, configuration mechanism #1 and memory BARs in the
 * MMIO hole.  A device fills in its configuration header (pci_init_header,
 * pci_add_cap, pci_set_bar) and calls pci_register() from its init.
 */
#define PCI_CFG_SIZE	256
#define PCI_NR_BARS	6
#define PCI_MAX_SLOTS	32
#define PCI_BAR_START	MMIO_HOLE_START	/* BARs are placed from here up */
#define PCI_BAR_END	IOAPIC_BASE	/* and decoded only below the I/O APIC */

struct pci_device {
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];	/* bits the guest may write */
	uint32_t bar_size[PCI_NR_BARS];	/* 0: no BAR; else a power of two, >= 4 KiB */
	io_fn bar_fn[PCI_NR_BARS];	/* called with the offset into the BAR */
	uint64_t bar_mapped[PCI_NR_BARS];	/* where it decodes now; 0: nowhere */
	void *opaque;
	/*
	 * Optional, called with the bus lock held: a BAR starts or stops
	 * decoding at @addr (0: stopped), and a configuration write landed
	 * (after the bytes changed).
	 */
	void (*bar_moved)(struct pci_device *dev, int bar, uint64_t addr);
	void (*cfg_written)(struct pci_device *dev, int off, int len);
	const char *name;
	int slot;
	int gsi;			/* I/O APIC pin of its INTx line */
	uint8_t last_cap;		/* offset of the last capability, 0: none */
	uint8_t cap_end;		/* first byte after the capabilities */
};

void pci_init_header(struct pci_device *dev, uint16_t vendor, uint16_t device,
		     uint32_t class_rev, uint16_t subsys_vendor, uint16_t subsys);
uint8_t pci_add_cap(struct pci_device *dev, uint8_t id, uint8_t len);
void pci_set_bar(struct pci_device *dev, int bar, uint32_t size, io_fn fn);
void pci_register(struct pci_device *dev);
void pci_set_irq(struct pci_device *dev, bool level);
int pci_intx_gsi(int slot, int pin);

/* virtio/blk.c: -d FILE[,ro]; NULL when accepted, else why not. */
#define MAX_DISKS	8
const char *virtio_blk_parse(const char *arg);
/* An external snapshot: a new qcow2 overlay on disk @device (VM paused); NULL or why not. */
const char *virtio_blk_snapshot(const char *device, const char *path, bool existing);

/* virtio/net.c: -n tap=NAME[,mac=..]; NULL when accepted, else why not. */
#define MAX_NICS	4
const char *virtio_net_parse(const char *arg);
/* Attach or detach the NICs' multi-queue tap queues (live migration on one host). */
void virtio_net_tap_queues(bool attach);

/* devices/serial.c: guest console, and the terminal it may have put in raw mode. */
bool serial_panic_seen(void);
void serial_tty_restore(void);

/*
 * devices/i8042.c, main.c: a reset requested by the guest, and QMP's
 * system_powerdown: Ctrl-Alt-Del pressed on the guest's PS/2 keyboard (as
 * Firecracker's SendCtrlAltDel), after which the guest's reset ends the
 * run as a power-off.
 */
void guest_reset(const char *how);
void guest_powerdown_request(void);
void i8042_ctrl_alt_del(void);

#endif /* HVX_RUN_H */
