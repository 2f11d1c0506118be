// SPDX-License-Identifier: GPL-2.0
/*
 * boot.c - the Linux x86 64-bit boot protocol (Documentation/arch/x86/boot.rst):
 * bzImage and initrd in RAM, zero page with e820, identity page tables, GDT, BSP registers;
 * multiboot kernels are handed to multiboot.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "hvx-run.h"

/*
 * Low memory, all of it e820 RAM the kernel may reuse once it has copied
 * what it needs (it keeps the first 1 MiB to itself anyway).
 */
#define GDT_ADDR	0x0500
#define STACK_TOP	0x7000
#define ZERO_PAGE	0x7000
#define CMDLINE_ADDR	0x8000
#define CMDLINE_MAX	0x1000
#define PML4_ADDR	0x9000
#define PDPT_ADDR	0xa000
#define PD_ADDR		0xb000		/* one page per GiB mapped, at most 64 */
#define EBDA_START	0x9fc00		/* reserved to 1 MiB: BIOS data, MP table */
#define KERNEL_ADDR	0x100000

/* Offsets in the zero page (struct boot_params) and the setup header. */
#define BP_E820_ENTRIES		0x1e8
#define BP_E820_TABLE		0x2d0
#define HDR_START		0x1f1
#define HDR_SETUP_SECTS		0x1f1
#define HDR_BOOT_FLAG		0x1fe
#define HDR_JUMP		0x200
#define HDR_MAGIC		0x202
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_CODE32_START	0x214
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_KERNEL_ALIGNMENT	0x230
#define HDR_RELOCATABLE		0x234
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260

#define LOADED_HIGH		0x01
#define XLF_KERNEL_64		0x01

#define E820_RAM		1
#define E820_RESERVED		2

#define PTE_P	0x1ull
#define PTE_W	0x2ull
#define PTE_PS	0x80ull


static uint8_t *read_file(const char *what, const char *path, size_t *size)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(ST_USAGE, "%s %s: %s", what, path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		die(ST_USAGE, "%s %s: not a regular file", what, path);
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf)
		die(ST_INTERNAL, "out of memory reading %s", path);
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, st.st_size - done);

		if (n <= 0)
			die(ST_USAGE, "%s %s: %s", what, path, n ? strerror(errno) : "short read");
		done += n;
	}
	close(fd);
	*size = done;
	return buf;
}

/*
 * RAM to the EBDA, the BIOS area reserved (MP table), RAM from 1 MiB, the
 * hole under 4 GiB left out (I/O APIC, local APIC), the rest above 4 GiB.
 */
void boot_memory_map(void (*add)(void *ctx, uint64_t base, uint64_t len, uint32_t type),
		     void *ctx)
{
	add(ctx, 0, EBDA_START, E820_RAM);
	add(ctx, EBDA_START, KERNEL_ADDR - EBDA_START, E820_RESERVED);
	add(ctx, KERNEL_ADDR, vm.low_end - KERNEL_ADDR, E820_RAM);
	if (vm.high_end)
		add(ctx, MMIO_HOLE_END, vm.high_end - MMIO_HOLE_END, E820_RAM);
}

static void e820_add(void *ctx, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t *zp = ctx;
	uint8_t *e = zp + BP_E820_TABLE + 20 * zp[BP_E820_ENTRIES]++;

	memcpy(e, &addr, 8);
	memcpy(e + 8, &size, 8);
	memcpy(e + 16, &type, 4);
}

/* 2 MiB identity pages over the first 4 GiB and all RAM above. */
static void build_page_tables(void)
{
	uint64_t *pml4 = gpa_to_hva(PML4_ADDR, 4096);
	uint64_t *pdpt = gpa_to_hva(PDPT_ADDR, 4096);
	uint64_t top = vm.high_end > MMIO_HOLE_END ? vm.high_end : MMIO_HOLE_END;
	uint64_t gib = (top + (1ull << 30) - 1) >> 30, i;
	uint64_t *pd = gpa_to_hva(PD_ADDR, gib * 4096);

	pml4[0] = PDPT_ADDR | PTE_P | PTE_W;
	for (i = 0; i < gib; i++)
		pdpt[i] = (PD_ADDR + i * 4096) | PTE_P | PTE_W;
	for (i = 0; i < gib * 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_W | PTE_PS;
}

static void build_gdt(void)
{
	uint64_t *gdt = gpa_to_hva(GDT_ADDR, 32);

	gdt[0] = 0;
	gdt[1] = 0;
	gdt[2] = 0x00af9b000000ffffull;	/* 0x10 __BOOT_CS: 64-bit code, flat */
	gdt[3] = 0x00cf93000000ffffull;	/* 0x18 __BOOT_DS: data, flat 4 GiB */
}

/* Read and checked before /dev/hvx is opened, so a bad file is a usage error. */
static const struct boot_files *files;
static uint8_t *bz, *initrd;
static size_t bz_size, initrd_size, setup_size, hdr_end;
static uint16_t version;
static bool is_bzimage;
static char cmdline[CMDLINE_MAX];

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* The host's TSC rate, which is the guest's: hvx neither scales nor slows it. */
static unsigned long tsc_khz(void)
{
	struct timespec pause = { .tv_nsec = 20000000 };
	uint64_t t0, c0, t1, c1;

	t0 = mono_ns();
	c0 = __rdtsc();
	nanosleep(&pause, NULL);
	t1 = mono_ns();
	c1 = __rdtsc();
	return (c1 - c0) * 1000000 / (t1 - t0);
}

/*
 * The guest's command line: the user's, plus tsc_early_khz= unless it is
 * there already.  Linux otherwise calibrates the TSC against the PIT by
 * reading it thousands of times in a few milliseconds; when each read is
 * an exit to hvx-run slower than about 10 us (as in an emulated host) that
 * fails and the guest runs on the jiffies clocksource.
 */
static void build_cmdline(const char *user)
{
	int n;

	if (strstr(user, "tsc_early_khz="))
		n = snprintf(cmdline, sizeof(cmdline), "%s", user);
	else
		n = snprintf(cmdline, sizeof(cmdline), "%s%stsc_early_khz=%lu", user,
			     *user ? " " : "", tsc_khz());
	if (n < 0 || (size_t)n >= sizeof(cmdline))
		die(ST_USAGE, "-p: command line too long (%zu bytes)", strlen(user));
}

void boot_read(const struct boot_files *f)
{
	uint32_t cmdline_size;
	size_t cmdline_len;

	files = f;
	bz = read_file("kernel", f->kernel, &bz_size);
	is_bzimage = bz_size >= 0x1000 && get16(bz + HDR_BOOT_FLAG) == 0xaa55 &&
		     !memcmp(bz + HDR_MAGIC, "HdrS", 4);
	if (!is_bzimage && multiboot_detect(bz, bz_size)) {
		multiboot_read(f->kernel, bz, bz_size);
		if (f->initrd)
			initrd = read_file("initrd", f->initrd, &initrd_size);
		return;
	}
	if (!is_bzimage)
		die(ST_USAGE, "kernel %s: neither a Linux bzImage (no boot sector / \"HdrS\" header) "
		    "nor a multiboot kernel",
		    f->kernel);
	version = get16(bz + HDR_VERSION);
	if (version < 0x020c)
		die(ST_USAGE, "kernel %s: boot protocol %u.%02u, 2.12 or later needed",
		    f->kernel, version >> 8, version & 0xff);
	if (!(get16(bz + HDR_XLOADFLAGS) & XLF_KERNEL_64))
		die(ST_USAGE, "kernel %s: no 64-bit entry point (XLF_KERNEL_64)", f->kernel);
	if (!(bz[HDR_LOADFLAGS] & LOADED_HIGH))
		die(ST_USAGE, "kernel %s: not a bzImage (protected-mode code not loaded high)",
		    f->kernel);
	setup_size = ((bz[HDR_SETUP_SECTS] ? bz[HDR_SETUP_SECTS] : 4) + 1) * 512;
	hdr_end = 0x202 + bz[HDR_JUMP + 1];
	if (setup_size >= bz_size || hdr_end > setup_size)
		die(ST_USAGE, "kernel %s: truncated (setup %zu bytes, file %zu)", f->kernel,
		    setup_size, bz_size);
	build_cmdline(f->cmdline);
	cmdline_len = strlen(cmdline);
	cmdline_size = get32(bz + HDR_CMDLINE_SIZE);
	if (cmdline_size >= CMDLINE_MAX)
		cmdline_size = CMDLINE_MAX - 1;
	if (cmdline_len > cmdline_size)
		die(ST_USAGE, "-p: command line of %zu bytes, this kernel takes at most %u",
		    cmdline_len, cmdline_size);
	if (f->initrd)
		initrd = read_file("initrd", f->initrd, &initrd_size);
}

void boot_load(void)
{
	uint8_t *zp = gpa_to_hva(ZERO_PAGE, 4096), *bda = gpa_to_hva(0, 4096);
	uint64_t pref, kernel_end, initrd_max, initrd_addr = 0;
	size_t cmdline_len = strlen(cmdline);

	if (!is_bzimage) {
		multiboot_load(files->cmdline, initrd, initrd_size, files->initrd);
		/* Without the in-kernel local APIC only vCPU 0 can run. */
		mptable_write(vm.lapic ? vm.nr_vcpus : 1);
		free(initrd);
		free(bz);
		return;
	}

	/*
	 * The protected-mode kernel goes at 1 MiB.  Its decompressor then
	 * runs at pref_address (LOAD_PHYSICAL_ADDR, raised to
	 * kernel_alignment) and needs init_size bytes there: the initrd
	 * must stay clear of that too.
	 */
	pref = get64(bz + HDR_PREF_ADDRESS);
	kernel_end = KERNEL_ADDR + (bz_size - setup_size);
	if (pref < KERNEL_ADDR)
		pref = KERNEL_ADDR;
	if (pref + get32(bz + HDR_INIT_SIZE) > kernel_end)
		kernel_end = pref + get32(bz + HDR_INIT_SIZE);
	if (kernel_end > vm.low_end)
		die(ST_USAGE, "kernel %s needs %llu MiB of RAM to decompress: -m is too small",
		    files->kernel, (unsigned long long)(kernel_end >> 20) + 1);
	memcpy(gpa_to_hva(KERNEL_ADDR, bz_size - setup_size), bz + setup_size,
	       bz_size - setup_size);

	/* The zero page starts as a copy of the setup header. */
	memset(zp, 0, 4096);
	memcpy(zp + HDR_START, bz + HDR_START, hdr_end - HDR_START);
	zp[HDR_TYPE_OF_LOADER] = 0xff;		/* no registered loader id */
	put32(zp + HDR_CODE32_START, KERNEL_ADDR);
	memcpy(gpa_to_hva(CMDLINE_ADDR, cmdline_len + 1), cmdline, cmdline_len + 1);
	put32(zp + HDR_CMD_LINE_PTR, CMDLINE_ADDR);

	if (initrd) {
		/* As high as allowed, below initrd_addr_max and the end of low RAM. */
		initrd_max = (uint64_t)get32(bz + HDR_INITRD_ADDR_MAX) + 1;
		if (initrd_max > vm.low_end)
			initrd_max = vm.low_end;
		initrd_addr = (initrd_max - initrd_size) & ~0xfffull;
		if (initrd_size > initrd_max || initrd_addr < kernel_end)
			die(ST_USAGE, "initrd %s (%zu KiB) does not fit above the kernel: -m is too small",
			    files->initrd, initrd_size >> 10);
		memcpy(gpa_to_hva(initrd_addr, initrd_size), initrd, initrd_size);
		put32(zp + HDR_RAMDISK_IMAGE, initrd_addr);
		put32(zp + HDR_RAMDISK_SIZE, initrd_size);
		free(initrd);
	}

	boot_memory_map(e820_add, zp);

	/* BIOS data area: where the EBDA is and how much base memory there is. */
	bda[0x40e] = (EBDA_START >> 4) & 0xff;
	bda[0x40f] = EBDA_START >> 12;
	bda[0x413] = (EBDA_START >> 10) & 0xff;
	bda[0x414] = EBDA_START >> 18;
	/* Without the in-kernel local APIC only vCPU 0 can run. */
	mptable_write(vm.lapic ? vm.nr_vcpus : 1);

	build_page_tables();
	build_gdt();
	vlog("kernel %s: protocol %u.%02u, %zu KiB at 0x%x, runs at 0x%llx, init_size %u KiB",
	     files->kernel, version >> 8, version & 0xff, (bz_size - setup_size) >> 10,
	     KERNEL_ADDR, (unsigned long long)pref, get32(bz + HDR_INIT_SIZE) >> 10);
	vlog("command line: %s", cmdline);
	if (initrd)
		vlog("initrd %s: %zu KiB at 0x%llx", files->initrd, initrd_size >> 10,
		     (unsigned long long)initrd_addr);
	free(bz);
}

/* A flat 4 GiB segment: 64-bit code, or 32-bit code or data. */
struct hvx_segment boot_flat_segment(uint16_t sel, uint8_t type, bool code64)
{
	return (struct hvx_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .s = 1, .l = code64, .db = !code64, .g = 1,
	};
}

/* The BSP enters the kernel's 64-bit entry point: long mode, RSI = zero page. */
void boot_setup_bsp(struct vcpu *vcpu)
{
	struct hvx_sregs s;
	struct hvx_regs r;

	if (!is_bzimage) {
		multiboot_setup_bsp(vcpu);
		return;
	}
	if (ioctl(vcpu->fd, HVX_GET_SREGS, &s))
		die(ST_INTERNAL, "HVX_GET_SREGS: %s", strerror(errno));
	memset(s.reserved, 0, sizeof(s.reserved));
	s.cs = boot_flat_segment(0x10, 0xb, true);
	s.ds = s.es = s.fs = s.gs = s.ss = boot_flat_segment(0x18, 0x3, false);
	s.tr = (struct hvx_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	s.ldt = (struct hvx_segment){ .unusable = 1 };
	s.gdt = (struct hvx_dtable){ .base = GDT_ADDR, .limit = 4 * 8 - 1 };
	s.idt = (struct hvx_dtable){ .base = 0, .limit = 0 };
	s.cr0 = 0x80000031;	/* PG NE ET PE */
	s.cr3 = PML4_ADDR;
	s.cr4 = 0x20;		/* PAE */
	s.efer = 0x500;		/* LME LMA */
	if (ioctl(vcpu->fd, HVX_SET_SREGS, &s))
		die(ST_INTERNAL, "HVX_SET_SREGS (long mode): %s", strerror(errno));

	memset(&r, 0, sizeof(r));
	r.rip = KERNEL_ADDR + 0x200;	/* startup_64 */
	r.rsi = ZERO_PAGE;
	r.rsp = STACK_TOP;
	r.rflags = 0x2;			/* interrupts off */
	if (ioctl(vcpu->fd, HVX_SET_REGS, &r))
		die(ST_INTERNAL, "HVX_SET_REGS: %s", strerror(errno));
}
