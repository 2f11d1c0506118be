// SPDX-License-Identifier: GPL-2.0
/*
 * mb_kernel.c - a multiboot test kernel: prints what the loader gave it
 * (registers, info block, memory map, module, fw_cfg) on the serial port,
 * then leaves through the exit port with the value of "exit=N" on its
 * command line, or halts.  hvx_multiboot_test.sh checks the lines.
 */
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef unsigned long long u64;

struct mbi {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4], mmap_length, mmap_addr;
};

struct mb_mmap {
	u32 size;
	u64 base, len;
	u32 type;
} __attribute__((packed));

struct mb_module {
	u32 start, end, string, reserved;
};

static inline void outb(u16 port, u8 v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { asm volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { asm volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void putc(char c)
{
	while (!(inb(0x3fd) & 0x20))	/* transmit holding register empty */
		;
	outb(0x3f8, c);
}

static void puts(const char *s)
{
	while (*s) {
		if (*s == '\n')
			putc('\r');
		putc(*s++);
	}
}

/* u32 only: 64-bit division would need libgcc */
static void putu(u32 v)
{
	char buf[24];
	int i = 0;

	do
		buf[i++] = '0' + v % 10;
	while (v /= 10);
	while (i)
		putc(buf[--i]);
}

static void putx(u32 v)
{
	int i;

	puts("0x");
	for (i = 28; i >= 0; i -= 4)
		putc("0123456789abcdef"[(v >> i) & 15]);
}

static u64 fw_cfg(u16 key, int bytes)
{
	u64 v = 0;
	int i;

	outw(0x510, key);
	for (i = 0; i < bytes; i++)
		v |= (u64)inb(0x511) << (8 * i);
	return v;
}

/* Zero at entry: the loader clears the bss beyond the file. */
static u32 bss_words[1024];

void mb_main(u32 magic, struct mbi *mbi)
{
	const char *cmd = (const char *)mbi->cmdline, *p;
	u32 ram_kib = 0, sig, cr0, off, exit_value = 0, i, nonzero = 0;
	u16 cs;
	int has_exit = 0;

	asm volatile("mov %%cr0, %0" : "=r"(cr0));
	asm volatile("mov %%cs, %0" : "=r"(cs));
	for (i = 0; i < sizeof(bss_words) / 4; i++)
		nonzero |= bss_words[i];
	puts("HVX-MB: magic ");
	putx(magic);
	puts(" pe ");
	putu(cr0 & 1);
	puts(" pg ");
	putu(cr0 >> 31);
	puts(" bss_zero ");
	putu(!nonzero);
	puts("\nHVX-MB: flags ");
	putx(mbi->flags);
	puts(" mem_lower ");
	putu(mbi->mem_lower);
	puts(" mem_upper ");
	putu(mbi->mem_upper);
	puts("\nHVX-MB: cmdline ");
	puts(mbi->flags & 4 ? cmd : "(none)");
	for (off = 0; mbi->flags & 0x40 && off < mbi->mmap_length;) {
		struct mb_mmap *e = (struct mb_mmap *)(mbi->mmap_addr + off);

		if (e->type == 1)
			ram_kib += e->len >> 10;
		off += e->size + 4;
	}
	puts("\nHVX-MB: mmap_ram_kib ");
	putu(ram_kib);
	if (mbi->flags & 8 && mbi->mods_count) {
		struct mb_module *m = (struct mb_module *)mbi->mods_addr;

		puts("\nHVX-MB: module ");
		putu(m->end - m->start);
		puts(" bytes, aligned ");
		putu(!(m->start & 0xfff));
		puts(": ");
		for (p = (const char *)m->start; p < (const char *)m->end && *p != '\n'; p++)
			putc(*p);
	}
	puts("\nHVX-MB: fw_cfg ");
	sig = fw_cfg(0, 4);
	for (i = 0; i < 4; i++)
		putc(sig >> (8 * i));
	puts(" cpus ");
	putu(fw_cfg(5, 2));
	puts(" ram_mib ");
	putu(fw_cfg(3, 8) >> 20);
	puts("\n");

	for (p = cmd; mbi->flags & 4 && *p; p++) {
		if (p[0] == 'e' && p[1] == 'x' && p[2] == 'i' && p[3] == 't' && p[4] == '=') {
			has_exit = 1;
			for (p += 5; *p >= '0' && *p <= '9'; p++)
				exit_value = exit_value * 10 + *p - '0';
			break;
		}
	}
	if (has_exit) {
		puts("HVX-MB: exit ");
		putu(exit_value);
		puts("\n");
		outl(0xf4, exit_value);
	}
	puts("HVX-MB: halt\n");
}
