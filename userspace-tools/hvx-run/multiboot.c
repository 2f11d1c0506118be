// SPDX-License-Identifier: GPL-2.0
/*
 * multiboot.c - the Multiboot (version 1) protocol for test kernels such as
 * kvm-unit-tests': ELF or a.out-kludge images in RAM, the boot information
 * block (command line, memory, memory map, modules), the BSP in 32-bit
 * protected mode with paging off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hvx-run.h"

#define MB_HEADER_MAGIC		0x1badb002u
#define MB_BOOT_MAGIC		0x2badb002u	/* in EAX at entry */
#define MB_SEARCH		8192		/* the header is in the first 8 KiB */

/* Header flags: bits 0-15 must be understood by the loader, or it refuses. */
#define MB_PAGE_ALIGN		(1u << 0)	/* modules on 4 KiB boundaries */
#define MB_MEMORY_INFO		(1u << 1)	/* mem_* and the memory map */
#define MB_AOUT_KLUDGE		(1u << 16)	/* load addresses in the header */
#define MB_KNOWN_REQUIRED	(MB_PAGE_ALIGN | MB_MEMORY_INFO)

/* Info block flags: what the loader filled in. */
#define MBI_MEM			(1u << 0)
#define MBI_CMDLINE		(1u << 2)
#define MBI_MODS		(1u << 3)
#define MBI_MMAP		(1u << 6)
#define MBI_LOADER_NAME		(1u << 9)

/*
 * Kernels load anywhere in RAM from 4 KiB (kvm-unit-tests' realmode.flat
 * sits at 32 KiB) but the BIOS area from the EBDA to 1 MiB, which holds
 * the MP table.  As QEMU's loader does, module 0 then the info block go
 * after the kernel: the info block, the memory map, the module list, then
 * the strings (command line, module name, loader name).
 */
#define MB_LOAD_MIN		0x1000
#define MB_BIOS_START		0x9fc00
#define MB_HIGH_START		0x100000
#define MBI_MMAP_OFF		0x100
#define MBI_MODS_OFF		0x200		/* module entries, 16 bytes each */
#define MBI_STRINGS_OFF		0x300

struct mb_segment {
	uint64_t paddr, filesz, memsz, offset;
};

static struct {
	const uint8_t *image;
	size_t size;
	uint32_t flags, entry;
	struct mb_segment seg[16];
	int nr_seg;
	uint64_t image_end;		/* end of the highest segment */
	uint64_t info;			/* where the info block went */
	const char *path;
} mb;

static void wr32(uint64_t gpa, uint32_t v) { put32(gpa_to_hva(gpa, 4), v); }

/* The header's offset, or -1: 4-byte aligned, magic + flags + checksum == 0. */
static long mb_find_header(const uint8_t *buf, size_t size)
{
	size_t off, end = size < MB_SEARCH ? size : MB_SEARCH;

	for (off = 0; off + 12 <= end; off += 4)
		if (get32(buf + off) == MB_HEADER_MAGIC &&
		    (uint32_t)(get32(buf + off) + get32(buf + off + 4) + get32(buf + off + 8)) == 0)
			return off;
	return -1;
}

bool multiboot_detect(const uint8_t *buf, size_t size)
{
	return mb_find_header(buf, size) >= 0;
}

static void add_segment(uint64_t paddr, uint64_t filesz, uint64_t memsz, uint64_t offset)
{
	if (!memsz)
		return;
	if (mb.nr_seg == (int)(sizeof(mb.seg) / sizeof(mb.seg[0])))
		die(ST_USAGE, "kernel %s: more than %zu loadable segments", mb.path,
		    sizeof(mb.seg) / sizeof(mb.seg[0]));
	if (filesz > memsz || offset > mb.size || filesz > mb.size - offset)
		die(ST_USAGE, "kernel %s: a segment's file bytes (offset 0x%llx, %llu bytes) "
		    "lie outside the file", mb.path, (unsigned long long)offset,
		    (unsigned long long)filesz);
	if (paddr < MB_LOAD_MIN || paddr + memsz < paddr || paddr + memsz > 0xffffffffull ||
	    (paddr < MB_HIGH_START && paddr + memsz > MB_BIOS_START))
		die(ST_USAGE, "kernel %s: a segment at 0x%llx (%llu bytes) is not in RAM between "
		    "4 KiB and 4 GiB clear of the BIOS area (0x9fc00-0xfffff)", mb.path,
		    (unsigned long long)paddr, (unsigned long long)memsz);
	mb.seg[mb.nr_seg++] = (struct mb_segment){ paddr, filesz, memsz, offset };
	if (paddr + memsz > mb.image_end)
		mb.image_end = paddr + memsz;
}

/* PT_LOAD segments of a 32- or 64-bit x86 ELF, at their physical addresses. */
static void parse_elf(void)
{
	const uint8_t *e = mb.image;
	bool is64;
	uint64_t phoff, entry;
	unsigned int phentsize, phnum, i;

	if (mb.size < 52 || memcmp(e, "\177ELF", 4) || e[5] != 1 /* little-endian */)
		die(ST_USAGE, "kernel %s: multiboot header without load addresses, and not "
		    "a little-endian ELF file", mb.path);
	is64 = e[4] == 2;
	if (e[4] != 1 && !is64)
		die(ST_USAGE, "kernel %s: ELF class %u", mb.path, e[4]);
	if (get16(e + 18) != (is64 ? 62 /* EM_X86_64 */ : 3 /* EM_386 */))
		die(ST_USAGE, "kernel %s: ELF machine %u is not x86", mb.path, get16(e + 18));
	if (is64 && mb.size < 64)
		die(ST_USAGE, "kernel %s: truncated ELF header", mb.path);
	entry = is64 ? get64(e + 24) : get32(e + 24);
	phoff = is64 ? get64(e + 32) : get32(e + 28);
	phentsize = get16(e + (is64 ? 54 : 42));
	phnum = get16(e + (is64 ? 56 : 44));
	if (phentsize < (is64 ? 56u : 32u) || phoff > mb.size ||
	    (uint64_t)phnum * phentsize > mb.size - phoff)
		die(ST_USAGE, "kernel %s: program headers outside the file", mb.path);
	for (i = 0; i < phnum; i++) {
		const uint8_t *ph = e + phoff + (uint64_t)i * phentsize;

		if (get32(ph) != 1 /* PT_LOAD */)
			continue;
		if (is64)
			add_segment(get64(ph + 24), get64(ph + 32), get64(ph + 40), get64(ph + 8));
		else
			add_segment(get32(ph + 12), get32(ph + 16), get32(ph + 20), get32(ph + 4));
	}
	if (entry > 0xffffffffull)
		die(ST_USAGE, "kernel %s: entry point 0x%llx above 4 GiB", mb.path,
		    (unsigned long long)entry);
	mb.entry = entry;
}

/* The a.out kludge: the header says which part of the file goes where. */
static void parse_aout(long hdr)
{
	const uint8_t *h = mb.image + hdr;
	uint32_t header_addr = get32(h + 12), load_addr = get32(h + 16);
	uint32_t load_end = get32(h + 20), bss_end = get32(h + 24);
	uint64_t filesz, memsz;

	if ((size_t)hdr + 32 > mb.size || header_addr < load_addr ||
	    header_addr - load_addr > (uint32_t)hdr)
		die(ST_USAGE, "kernel %s: multiboot load addresses do not match the file",
		    mb.path);
	filesz = load_end ? (uint64_t)load_end - load_addr : mb.size - (hdr - (header_addr - load_addr));
	memsz = bss_end ? (uint64_t)bss_end - load_addr : filesz;
	if (load_end && load_end < load_addr)
		die(ST_USAGE, "kernel %s: load_end_addr below load_addr", mb.path);
	if (memsz < filesz)
		die(ST_USAGE, "kernel %s: bss_end_addr below load_end_addr", mb.path);
	add_segment(load_addr, filesz, memsz, hdr - (header_addr - load_addr));
	mb.entry = get32(h + 28);
}

void multiboot_read(const char *path, const uint8_t *image, size_t size)
{
	long hdr = mb_find_header(image, size);
	uint32_t unknown;
	int i;

	mb.path = path;
	mb.image = image;
	mb.size = size;
	mb.flags = get32(image + hdr + 4);
	unknown = mb.flags & 0xffff & ~MB_KNOWN_REQUIRED;
	if (unknown)
		die(ST_USAGE, "kernel %s: multiboot header requires features 0x%x (video "
		    "mode is bit 2) this loader does not provide", path, unknown);
	if (mb.flags & MB_AOUT_KLUDGE)
		parse_aout(hdr);
	else
		parse_elf();
	if (!mb.nr_seg)
		die(ST_USAGE, "kernel %s: nothing to load", path);
	for (i = 0; i < mb.nr_seg; i++) {
		if (mb.entry >= mb.seg[i].paddr && mb.entry < mb.seg[i].paddr + mb.seg[i].memsz)
			break;
	}
	if (i == mb.nr_seg)
		die(ST_USAGE, "kernel %s: entry point 0x%x is outside every loaded segment",
		    path, mb.entry);
}

/* A NUL-terminated string in the strings area; its guest address. */
static uint64_t put_string(uint64_t *at, const char *s)
{
	size_t len = strlen(s) + 1;
	uint64_t gpa = *at;

	memcpy(gpa_to_hva(gpa, len), s, len);
	*at += (len + 7) & ~7ull;
	return gpa;
}

/*
 * @size bytes of RAM from *@cursor on, page-aligned, stepping over the
 * BIOS area; what follows starts after them.
 */
static uint64_t place(uint64_t *cursor, uint64_t size, const char *what)
{
	uint64_t at = (*cursor + 4095) & ~4095ull;

	if (at < MB_HIGH_START && at + size > MB_BIOS_START)
		at = MB_HIGH_START;
	if (at + size > vm.low_end)
		die(ST_USAGE, "%s (%llu KiB) does not fit above the kernel: -m is too small", what,
		    (unsigned long long)size >> 10);
	*cursor = at + size;
	return at;
}

/* One map entry: its size (20, not counting itself), base, length, type. */
static void mmap_add(void *ctx, uint64_t base, uint64_t len, uint32_t type)
{
	uint64_t *at = ctx;

	wr32(*at, 20);
	wr32(*at + 4, base);
	wr32(*at + 8, base >> 32);
	wr32(*at + 12, len);
	wr32(*at + 16, len >> 32);
	wr32(*at + 20, type);
	*at += 24;
}

void multiboot_load(const char *cmdline, const uint8_t *module, size_t module_size,
		    const char *module_path)
{
	uint32_t flags = MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME;
	uint64_t cursor = mb.image_end, mod_start = 0, info, mmap, strings;
	size_t info_size;
	char *line;
	int i;

	for (i = 0; i < mb.nr_seg; i++) {
		const struct mb_segment *s = &mb.seg[i];

		if (s->paddr + s->memsz > vm.low_end)
			die(ST_USAGE, "kernel %s: a segment ends at 0x%llx, past the end of RAM "
			    "below 4 GiB (0x%llx): -m is too small", mb.path,
			    (unsigned long long)(s->paddr + s->memsz),
			    (unsigned long long)vm.low_end);
		memcpy(gpa_to_hva(s->paddr, s->filesz), mb.image + s->offset, s->filesz);
		memset(gpa_to_hva(s->paddr + s->filesz, s->memsz - s->filesz), 0,
		       s->memsz - s->filesz);
	}

	/* Module 0 (-i) right after the kernel image, page aligned. */
	if (module) {
		mod_start = place(&cursor, module_size, "-i: the module");
		memcpy(gpa_to_hva(mod_start, module_size), module, module_size);
	}

	/* As QEMU's loader does: the kernel's file name, then its arguments. */
	if (asprintf(&line, "%s%s%s", mb.path, *cmdline ? " " : "", cmdline) < 0)
		die(ST_INTERNAL, "out of memory");
	info_size = MBI_STRINGS_OFF + strlen(line) + 1 + 16 + (module_path ? strlen(module_path) : 0) + 16;
	info = mb.info = place(&cursor, info_size, "the multiboot info block");
	memset(gpa_to_hva(info, info_size), 0, info_size);
	strings = info + MBI_STRINGS_OFF;
	wr32(info + 16, put_string(&strings, line));
	free(line);
	wr32(info + 64, put_string(&strings, "hvx-run"));
	if (module) {
		wr32(info + MBI_MODS_OFF, mod_start);
		wr32(info + MBI_MODS_OFF + 4, mod_start + module_size);
		wr32(info + MBI_MODS_OFF + 8, put_string(&strings, module_path));
		wr32(info + 20, 1);
		wr32(info + 24, info + MBI_MODS_OFF);
		flags |= MBI_MODS;
	}

	/* Memory in KiB: below 640 KiB, and from 1 MiB to the hole. */
	wr32(info + 4, 640);
	wr32(info + 8, (vm.low_end - MB_HIGH_START) >> 10);

	/* The map: the guest's e820 map, with multiboot's entry layout. */
	mmap = info + MBI_MMAP_OFF;
	boot_memory_map(mmap_add, &mmap);
	wr32(info + 44, mmap - (info + MBI_MMAP_OFF));
	wr32(info + 48, info + MBI_MMAP_OFF);
	wr32(info, flags);

	vlog("multiboot kernel %s: %d segment(s) to 0x%llx, entry 0x%x, info at 0x%llx",
	     mb.path, mb.nr_seg, (unsigned long long)mb.image_end, mb.entry,
	     (unsigned long long)info);
}

/*
 * The machine state multiboot promises: protected mode, paging off, flat
 * 4 GiB segments, interrupts off, EAX the magic and EBX the info block.
 * The GDTR is not the kernel's to rely on: it stays empty.
 */
void multiboot_setup_bsp(struct vcpu *vcpu)
{
	struct hvx_sregs s;
	struct hvx_regs r;

	if (ioctl(vcpu->fd, HVX_GET_SREGS, &s))
		die(ST_INTERNAL, "HVX_GET_SREGS: %s", strerror(errno));
	memset(s.reserved, 0, sizeof(s.reserved));
	s.cs = boot_flat_segment(0x08, 0xb, false);
	s.ds = s.es = s.fs = s.gs = s.ss = boot_flat_segment(0x10, 0x3, false);
	s.tr = (struct hvx_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	s.ldt = (struct hvx_segment){ .unusable = 1 };
	s.gdt = (struct hvx_dtable){ .base = 0, .limit = 0 };
	s.idt = (struct hvx_dtable){ .base = 0, .limit = 0x3ff };
	s.cr0 = 0x00000011;	/* ET PE */
	s.cr3 = 0;
	s.cr4 = 0;
	s.efer = 0;
	if (ioctl(vcpu->fd, HVX_SET_SREGS, &s))
		die(ST_INTERNAL, "HVX_SET_SREGS (protected mode): %s", strerror(errno));

	memset(&r, 0, sizeof(r));
	r.rip = mb.entry;
	r.rax = MB_BOOT_MAGIC;
	r.rbx = mb.info;
	r.rflags = 0x2;
	if (ioctl(vcpu->fd, HVX_SET_REGS, &r))
		die(ST_INTERNAL, "HVX_SET_REGS: %s", strerror(errno));
}
