// SPDX-License-Identifier: GPL-2.0
/* migration/snapshot.c - a stopped VM to a file and back: the machine, guest RAM, vCPUs and devices, in checksummed sections. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "hvx-run.h"
#include "migration/snapshot.h"
#include "migration/state.h"

/*
 * The file: a header, then sections, each a header of its own (type,
 * CRC-32 of the payload, payload length) and its payload, in this order:
 * CONFIG, RAM (any number, each a run of pages; a live migration sends a
 * page again in each pass that finds it dirty, and ZERO for a run that has
 * become zero-filled), VCPU (one per vCPU), DEVICES (the device state
 * stream), END (how many sections came before).
 * Never-touched and zero pages are not in the file: a restore leaves them
 * untouched, so they read as zeroes.  Host byte order throughout: a
 * snapshot moves between x86-64 hosts.
 */
#define SNAP_MAGIC	"HVXSNAP\n"
#define SNAP_VERSION	1

enum { SEC_CONFIG = 1, SEC_RAM, SEC_VCPU, SEC_DEVICES, SEC_END, SEC_ZERO };

struct snap_header {
	char magic[8];
	uint32_t version;
	uint32_t header_len;
};

struct section {
	uint32_t type;
	uint32_t crc;
	uint64_t len;
};

struct snap_config {
	uint64_t ram_size;
	uint32_t nr_vcpus;
	uint32_t vendor;	/* HVX_VENDOR_*: vCPU state does not cross vendors */
	uint32_t lapic;
	uint32_t features[CPUID_FEATURE_WORDS];
	uint32_t reserved;
};

/* The MSRs hvx keeps besides those in hvx_sregs (see the README). */
static const uint32_t vcpu_msrs[] = {
	0x10,			/* TSC: sets the vCPU's offset */
	0x174, 0x175, 0x176,	/* SYSENTER_CS, _ESP, _EIP */
	0x277,			/* PAT */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,	/* STAR, LSTAR, CSTAR, SFMASK */
	0xc0000102,		/* KERNEL_GS_BASE */
};
#define NR_VCPU_MSRS	(sizeof(vcpu_msrs) / sizeof(vcpu_msrs[0]))

struct snap_vcpu {
	uint32_t id;
	uint32_t nr_msrs;
	struct hvx_regs regs;
	struct hvx_sregs sregs;
	struct hvx_msr_entry msrs[NR_VCPU_MSRS];
	struct hvx_fpu fpu;
	struct hvx_lapic_state lapic;
	struct hvx_vcpu_events events;
};

/* Pages per RAM section: 1 MiB runs. */
#define RUN_PAGES	256
#define PAGE_SIZE	4096ull

/* ---- CRC-32 (IEEE 802.3, as zlib's crc32) ---- */

/*
 * Eight bytes a step ("slicing by 8"): crc_table[k][b] is the CRC of byte
 * b followed by k zero bytes, so the eight lookups of one step are
 * independent of each other.  Every RAM byte a migration sends is
 * checksummed on both sides; one byte a step was most of a save's time.
 */
static uint32_t crc_table[8][256];

static void crc_init(void)
{
	uint32_t i, j, k, c;

	if (crc_table[0][1])
		return;
	for (i = 0; i < 256; i++) {
		for (c = i, j = 0; j < 8; j++)
			c = c & 1 ? 0xedb88320 ^ (c >> 1) : c >> 1;
		crc_table[0][i] = c;
	}
	for (k = 1; k < 8; k++)
		for (i = 0; i < 256; i++)
			crc_table[k][i] = (crc_table[k - 1][i] >> 8) ^
					  crc_table[0][crc_table[k - 1][i] & 0xff];
}

static uint32_t crc32_update(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t lo, hi;

	crc = ~crc;
	for (; len >= 8; len -= 8, p += 8) {
		/* x86 is little-endian: the first byte is the low one. */
		memcpy(&lo, p, 4);
		memcpy(&hi, p + 4, 4);
		lo ^= crc;
		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		      crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
	}
	while (len--)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- saving ---- */

/* Write all of @iov (sockets may take part of it). */
static int write_all(int fd, struct iovec *iov, int n)
{
	while (n) {
		ssize_t done = writev(fd, iov, n);

		if (done < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n && (size_t)done >= iov->iov_len) {
			done -= iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + done;
			iov->iov_len -= done;
		}
	}
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void put_section(struct mig_writer *w, uint32_t type, const struct iovec *parts, int n)
{
	struct iovec iov[4];
	struct section h = { .type = type };
	int i;

	if (w->err)
		return;
	if (w->cancel && *w->cancel) {
		w->err = "cancelled";
		return;
	}
	for (i = 0; i < n; i++) {
		h.crc = crc32_update(h.crc, parts[i].iov_base, parts[i].iov_len);
		h.len += parts[i].iov_len;
		iov[i + 1] = parts[i];
	}
	iov[0] = (struct iovec){ &h, sizeof(h) };
	if (write_all(w->fd, iov, n + 1)) {
		w->err = strerror(errno);
		return;
	}
	w->bytes += sizeof(h) + h.len;
	w->sections++;
	/* max-bandwidth: no faster than the limit since the writer started. */
	if (w->max_bandwidth) {
		uint64_t due = w->t0_ns + w->bytes * 1000000000ull / w->max_bandwidth;
		uint64_t now = mono_ns();

		if (due > now) {
			struct timespec ts = { (due - now) / 1000000000ull, (due - now) % 1000000000ull };

			nanosleep(&ts, NULL);
		}
	}
}

void mig_writer_init(struct mig_writer *w, int fd)
{
	struct snap_header hdr = { .version = SNAP_VERSION, .header_len = sizeof(hdr) };

	crc_init();
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->t0_ns = mono_ns();
	w->copy = malloc(RUN_PAGES * PAGE_SIZE);
	if (!w->copy)
		w->err = "out of memory";
	memcpy(hdr.magic, SNAP_MAGIC, sizeof(hdr.magic));
	if (write_all(fd, &(struct iovec){ &hdr, sizeof(hdr) }, 1))
		w->err = strerror(errno);
	w->bytes = sizeof(hdr);
}

void mig_writer_free(struct mig_writer *w)
{
	free(w->copy);
	w->copy = NULL;
}

void mig_write_config(struct mig_writer *w)
{
	struct snap_config cfg = {
		.ram_size = vm.ram_size, .nr_vcpus = vm.nr_vcpus, .vendor = vm.vendor,
		.lapic = vm.lapic,
	};

	memcpy(cfg.features, cpuid_features, sizeof(cfg.features));
	put_section(w, SEC_CONFIG, &(struct iovec){ &cfg, sizeof(cfg) }, 1);
}

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[PAGE_SIZE];

	return !memcmp(p, zero, PAGE_SIZE);
}

/*
 * The pages of @bits (bit i: the page at @gpa + i * 4 KiB) as runs of
 * data; zero pages are left out, or, with @zero_markers (a later pass of
 * a live migration, where the receiver may hold an older copy), sent as
 * ZERO sections without data.
 */
void mig_write_pages(struct mig_writer *w, uint64_t gpa, const uint64_t *bits, uint64_t npages,
		     bool zero_markers, struct snapshot_stats *st)
{
	uint64_t p, first;

	for (p = 0; p < npages && !w->err;) {
		bool zero;

		if (!(bits[p / 64] >> (p % 64) & 1)) {
			p++;
			continue;
		}
		first = p;
		zero = page_is_zero(vm.ram + gpa + p * PAGE_SIZE);
		while (p < npages && p - first < RUN_PAGES && (bits[p / 64] >> (p % 64) & 1) &&
		       page_is_zero(vm.ram + gpa + p * PAGE_SIZE) == zero)
			p++;
		{
			uint64_t at = gpa + first * PAGE_SIZE, n = p - first;
			struct iovec parts[2] = {
				{ &at, sizeof(at) },
				{ vm.ram + at, n * PAGE_SIZE },
			};

			/*
			 * A running guest may write the pages while they go out:
			 * checksum and send one copy (a write after it is in the
			 * dirty log, for the next pass).
			 */
			if (!zero && w->copy) {
				memcpy(w->copy, vm.ram + at, n * PAGE_SIZE);
				parts[1].iov_base = w->copy;
			}
			if (!zero) {
				put_section(w, SEC_RAM, parts, 2);
				st->pages_saved += n;
			} else {
				st->pages_zero += n;
				if (zero_markers) {
					parts[1] = (struct iovec){ &n, sizeof(n) };
					put_section(w, SEC_ZERO, parts, 2);
				}
			}
		}
	}
}

/* Which pages of RAM region @slot (of @npages) hvx.ko has allocated or the guest dirtied. */
int mig_page_bitmap(uint32_t slot, uint32_t kind, uint64_t npages, uint64_t *bits)
{
	struct hvx_page_bitmap b = {
		.slot = slot, .kind = kind, .nr_pages = npages, .bitmap = (uintptr_t)bits,
	};

	return ioctl(vm.fd, HVX_GET_PAGE_BITMAP, &b);
}

/* Every allocated page of every region: a snapshot, or a live migration's first pass. */
void mig_write_all_ram(struct mig_writer *w, struct snapshot_stats *st)
{
	struct ram_region r[2];
	int i, n = ram_regions(r);

	for (i = 0; i < n && !w->err; i++) {
		uint64_t npages = r[i].size / PAGE_SIZE, words = (npages + 63) / 64, k;
		uint64_t *bits = calloc(words, sizeof(*bits));

		if (!bits) {
			w->err = "out of memory";
			return;
		}
		if (mig_page_bitmap(r[i].slot, HVX_BITMAP_ALLOCATED, npages, bits)) {
			w->err = strerror(errno);
		} else {
			for (k = 0; k < words; k++)
				st->pages_allocated += __builtin_popcountll(bits[k]);
			mig_write_pages(w, r[i].gpa, bits, npages, false, st);
		}
		free(bits);
	}
}

static int get_vcpu(struct vcpu *v, struct snap_vcpu *sv, const char **err)
{
	struct {
		struct hvx_msrs hdr;
		struct hvx_msr_entry e[NR_VCPU_MSRS];
	} msrs = { .hdr.nmsrs = NR_VCPU_MSRS };
	unsigned int i;

	memset(sv, 0, sizeof(*sv));
	sv->id = v->id;
	sv->nr_msrs = NR_VCPU_MSRS;
	for (i = 0; i < NR_VCPU_MSRS; i++)
		msrs.e[i].index = vcpu_msrs[i];
	if (ioctl(v->fd, HVX_GET_REGS, &sv->regs) || ioctl(v->fd, HVX_GET_SREGS, &sv->sregs) ||
	    ioctl(v->fd, HVX_GET_MSRS, &msrs) != (int)NR_VCPU_MSRS ||
	    ioctl(v->fd, HVX_GET_FPU, &sv->fpu) || ioctl(v->fd, HVX_GET_VCPU_EVENTS, &sv->events) ||
	    (vm.lapic && ioctl(v->fd, HVX_GET_LAPIC, &sv->lapic))) {
		*err = errno ? strerror(errno) : "an MSR hvx.ko does not keep";
		return -1;
	}
	memcpy(sv->msrs, msrs.e, sizeof(sv->msrs));
	return 0;
}

/* The stopped VM's vCPUs, devices and the end marker. */
void mig_write_machine(struct mig_writer *w)
{
	struct state dev = { 0 };
	struct snap_vcpu sv;
	uint32_t count;
	int i;

	for (i = 0; i < vm.nr_vcpus && !w->err; i++) {
		if (get_vcpu(&vm.vcpus[i], &sv, &w->err))
			break;
		put_section(w, SEC_VCPU, &(struct iovec){ &sv, sizeof(sv) }, 1);
	}
	dev.clock_ns = mono_ns();
	if (!w->err && devices_save(&dev))
		w->err = "a device could not save its state";
	if (!w->err)
		put_section(w, SEC_DEVICES, &(struct iovec){ dev.buf, dev.len }, 1);
	free(dev.buf);
	count = w->sections;
	put_section(w, SEC_END, &(struct iovec){ &count, sizeof(count) }, 1);
}

int snapshot_save(const char *path, struct snapshot_stats *st, const char **err)
{
	struct mig_writer w;
	int fd;

	memset(st, 0, sizeof(*st));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		*err = strerror(errno);
		return -1;
	}
	mig_writer_init(&w, fd);
	mig_write_config(&w);
	mig_write_all_ram(&w, st);
	mig_write_machine(&w);
	if (!w.err && fsync(fd))
		w.err = strerror(errno);
	if (close(fd) && !w.err)
		w.err = strerror(errno);
	mig_writer_free(&w);
	st->bytes = w.bytes;
	if (w.err) {
		unlink(path);
		*err = w.err;
		return -1;
	}
	return 0;
}

/* ---- restoring ---- */

struct reader {
	int fd;
	uint64_t pos, size;
	char why[256];
};

static int bad(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return -1;
}

static int read_exact(struct reader *r, void *buf, uint64_t len)
{
	uint8_t *p = buf;

	if (len > r->size - r->pos)
		return bad(r, "truncated at byte %llu (a section needs %llu more bytes)",
			   (unsigned long long)r->pos, (unsigned long long)len);
	while (len) {
		ssize_t n = read(r->fd, p, len > (1u << 30) ? 1u << 30 : len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return bad(r, "%s at byte %llu", n ? strerror(errno) :
				   r->size == UINT64_MAX ? "connection closed" : "end of file",
				   (unsigned long long)r->pos);
		p += n;
		len -= n;
		r->pos += n;
	}
	return 0;
}

static int check_config(struct reader *r, const struct snap_config *c)
{
	if (c->vendor != vm.vendor)
		return bad(r, "saved on %s, this host runs %s",
			   c->vendor == HVX_VENDOR_INTEL_VMX ? "Intel VMX" : "AMD SVM",
			   vm.vendor == HVX_VENDOR_INTEL_VMX ? "Intel VMX" : "AMD SVM");
	if (c->ram_size != vm.ram_size)
		return bad(r, "saved with -m %lluM, this run has -m %lluM",
			   (unsigned long long)(c->ram_size >> 20),
			   (unsigned long long)(vm.ram_size >> 20));
	if (c->nr_vcpus != (uint32_t)vm.nr_vcpus)
		return bad(r, "saved with -c %u, this run has -c %d", c->nr_vcpus, vm.nr_vcpus);
	if (c->lapic != vm.lapic)
		return bad(r, "saved %s the in-kernel local APIC", c->lapic ? "with" : "without");
	if (memcmp(c->features, cpuid_features, sizeof(cpuid_features)))
		return bad(r, "saved on a CPU with other features (CPUID leaf 1 ECX 0x%08x EDX 0x%08x, "
			   "here 0x%08x 0x%08x)", c->features[0], c->features[1],
			   cpuid_features[0], cpuid_features[1]);
	if (c->reserved)
		return bad(r, "unknown configuration flags");
	return 0;
}

static int set_vcpu(struct reader *r, const struct snap_vcpu *sv)
{
	struct {
		struct hvx_msrs hdr;
		struct hvx_msr_entry e[NR_VCPU_MSRS];
	} msrs = { .hdr.nmsrs = NR_VCPU_MSRS };
	struct vcpu *v;
	const char *what;

	if (sv->id >= (uint32_t)vm.nr_vcpus || sv->nr_msrs != NR_VCPU_MSRS)
		return bad(r, "vCPU section for vCPU %u (of %d) with %u MSRs", sv->id, vm.nr_vcpus,
			   sv->nr_msrs);
	v = &vm.vcpus[sv->id];
	memcpy(msrs.e, sv->msrs, sizeof(msrs.e));
	what = "special registers";
	if (ioctl(v->fd, HVX_SET_SREGS, &sv->sregs))
		goto fail;
	what = "MSRs";
	if (ioctl(v->fd, HVX_SET_MSRS, &msrs) != (int)NR_VCPU_MSRS)
		goto fail;
	what = "registers";
	if (ioctl(v->fd, HVX_SET_REGS, &sv->regs))
		goto fail;
	what = "x87/SSE state";
	if (ioctl(v->fd, HVX_SET_FPU, &sv->fpu))
		goto fail;
	what = "local APIC";
	if (vm.lapic && ioctl(v->fd, HVX_SET_LAPIC, &sv->lapic))
		goto fail;
	what = "events";
	if (ioctl(v->fd, HVX_SET_VCPU_EVENTS, &sv->events))
		goto fail;
	v->ran = sv->events.mp_state == HVX_MP_RUNNABLE;
	return 0;
fail:
	return bad(r, "vCPU %u: hvx.ko refuses its %s: %s", sv->id, what,
		   errno ? strerror(errno) : "an MSR it does not keep");
}

int snapshot_load(const char *path, struct snapshot_stats *st, const char **err)
{
	static char why[300];
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0) {
		snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
		*err = why;
		return -1;
	}
	ret = mig_load_fd(fd, lseek(fd, 0, SEEK_END), st, err);
	if (ret) {
		snprintf(why, sizeof(why), "%s: %s", path, *err);
		*err = why;
	}
	close(fd);
	return ret;
}

int mig_load_fd(int fd, uint64_t size, struct snapshot_stats *st, const char **err)
{
	static char why[300];
	struct reader r = { .fd = fd, .size = size };
	struct snap_header hdr;
	struct snap_config cfg;
	struct snap_vcpu sv;
	struct state dev = { 0 };
	struct timespec ts;
	bool seen_vcpu[MAX_VCPUS] = { 0 };
	uint32_t sections = 0, count;
	int nr_vcpus_seen = 0, ret = -1;
	bool have_config = false, have_devices = false, done = false;

	crc_init();
	memset(st, 0, sizeof(*st));
	if (size != UINT64_MAX)
		lseek(fd, 0, SEEK_SET);
	if (read_exact(&r, &hdr, sizeof(hdr)))
		goto out;
	if (memcmp(hdr.magic, SNAP_MAGIC, sizeof(hdr.magic))) {
		bad(&r, "not an hvx-run snapshot (bad magic)");
		goto out;
	}
	if (hdr.version != SNAP_VERSION || hdr.header_len != sizeof(hdr)) {
		bad(&r, "snapshot format version %u, this hvx-run reads version %u", hdr.version,
		    SNAP_VERSION);
		goto out;
	}
	while (!done) {
		struct section s;
		uint64_t at, len;
		uint8_t *dst;

		if (read_exact(&r, &s, sizeof(s)))
			goto out;
		at = r.pos;
		if (s.len > r.size - r.pos) {
			bad(&r, "section %u at byte %llu is cut short (file truncated)", sections,
			    (unsigned long long)(at - sizeof(s)));
			goto out;
		}
		if (s.type != SEC_CONFIG && !have_config) {
			bad(&r, "no machine configuration first");
			goto out;
		}
		switch (s.type) {
		case SEC_CONFIG:
			if (have_config || s.len != sizeof(cfg) || read_exact(&r, &cfg, sizeof(cfg))) {
				bad(&r, "bad configuration section");
				goto out;
			}
			if (crc32_update(0, &cfg, sizeof(cfg)) != s.crc) {
				bad(&r, "configuration section: checksum mismatch (corrupt file)");
				goto out;
			}
			if (check_config(&r, &cfg))
				goto out;
			have_config = true;
			break;
		case SEC_RAM:
			if (s.len < sizeof(at) + PAGE_SIZE || (s.len - sizeof(at)) % PAGE_SIZE ||
			    read_exact(&r, &at, sizeof(at))) {
				bad(&r, "bad RAM section at byte %llu", (unsigned long long)r.pos);
				goto out;
			}
			len = s.len - sizeof(at);
			dst = at % PAGE_SIZE ? NULL : gpa_to_hva(at, len);
			if (!dst) {
				bad(&r, "RAM section for [0x%llx, +0x%llx) outside guest RAM",
				    (unsigned long long)at, (unsigned long long)len);
				goto out;
			}
			if (read_exact(&r, dst, len))
				goto out;
			if (crc32_update(crc32_update(0, &at, sizeof(at)), dst, len) != s.crc) {
				bad(&r, "RAM at 0x%llx: checksum mismatch (corrupt file)",
				    (unsigned long long)at);
				goto out;
			}
			st->pages_saved += len / PAGE_SIZE;
			break;
		case SEC_ZERO:
			if (s.len != 2 * sizeof(at) || read_exact(&r, &at, sizeof(at)) ||
			    read_exact(&r, &len, sizeof(len))) {
				bad(&r, "bad zero-page section");
				goto out;
			}
			if (crc32_update(crc32_update(0, &at, sizeof(at)), &len, sizeof(len)) != s.crc) {
				bad(&r, "zero pages at 0x%llx: checksum mismatch", (unsigned long long)at);
				goto out;
			}
			dst = at % PAGE_SIZE || len > (1ull << 40) ? NULL :
			      gpa_to_hva(at, len * PAGE_SIZE);
			if (!dst) {
				bad(&r, "zero pages [0x%llx, +%llu pages) outside guest RAM",
				    (unsigned long long)at, (unsigned long long)len);
				goto out;
			}
			memset(dst, 0, len * PAGE_SIZE);
			st->pages_zero += len;
			break;
		case SEC_VCPU:
			if (s.len != sizeof(sv) || read_exact(&r, &sv, sizeof(sv))) {
				bad(&r, "bad vCPU section");
				goto out;
			}
			if (crc32_update(0, &sv, sizeof(sv)) != s.crc) {
				bad(&r, "vCPU section: checksum mismatch (corrupt file)");
				goto out;
			}
			if (sv.id < MAX_VCPUS && seen_vcpu[sv.id]) {
				bad(&r, "vCPU %u saved twice", sv.id);
				goto out;
			}
			if (set_vcpu(&r, &sv))
				goto out;
			seen_vcpu[sv.id] = true;
			nr_vcpus_seen++;
			break;
		case SEC_DEVICES:
			if (have_devices || nr_vcpus_seen != vm.nr_vcpus) {
				bad(&r, "device state out of place");
				goto out;
			}
			dev.buf = malloc(s.len ? s.len : 1);
			dev.len = s.len;
			if (!dev.buf || read_exact(&r, dev.buf, s.len)) {
				bad(&r, "bad device section");
				goto out;
			}
			if (crc32_update(0, dev.buf, s.len) != s.crc) {
				bad(&r, "device state: checksum mismatch (corrupt file)");
				goto out;
			}
			clock_gettime(CLOCK_MONOTONIC, &ts);
			dev.clock_ns = ts.tv_sec * 1000000000ull + ts.tv_nsec;
			if (devices_load(&dev)) {
				bad(&r, "the device state does not fit this machine's devices "
				    "(other disks or network devices than at the save?)");
				goto out;
			}
			have_devices = true;
			break;
		case SEC_END:
			if (s.len != sizeof(count) || read_exact(&r, &count, sizeof(count)) ||
			    crc32_update(0, &count, sizeof(count)) != s.crc || count != sections ||
			    !have_devices) {
				bad(&r, "bad end of snapshot (sections missing?)");
				goto out;
			}
			if (r.size != UINT64_MAX && r.pos != r.size) {
				bad(&r, "%llu bytes after the end of the snapshot",
				    (unsigned long long)(r.size - r.pos));
				goto out;
			}
			done = true;
			break;
		default:
			bad(&r, "unknown section type %u at byte %llu", s.type,
			    (unsigned long long)(at - sizeof(s)));
			goto out;
		}
		sections++;
	}
	st->bytes = r.pos;
	ret = 0;
out:
	if (ret) {
		snprintf(why, sizeof(why), "%s", r.why);
		*err = why;
	}
	free(dev.buf);
	return ret;
}
