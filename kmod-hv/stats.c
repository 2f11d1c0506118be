// SPDX-License-Identifier: GPL-2.0
/* stats.c - the binary stats fds of VMs and vCPUs (HVX_GET_STATS_FD), and where the tracepoints are defined. */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/math64.h>
#include <linux/uaccess.h>
#include <asm/tsc.h>

#include "hvx.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* Long enough for every name below, NUL included; a multiple of 8. */
#define HVX_STATS_NAME_SIZE	48

struct hvx_stat_def {
	const char *name;
	u32 flags;
	u32 offset;	/* into the layout's value struct */
	u32 count;
};

#define CUM	HVX_STATS_TYPE_CUMULATIVE
#define INST	HVX_STATS_TYPE_INSTANT

#define VCPU_STAT(field, fl) \
	{ #field, (fl), offsetof(struct hvx_vcpu_stats, field), \
	  sizeof_field(struct hvx_vcpu_stats, field) / sizeof(u64) }
#define VCPU_KIND(kind, name) \
	{ "exits_" name, CUM, offsetof(struct hvx_vcpu_stats, exits_kind[kind]), 1 }

static const struct hvx_stat_def hvx_vcpu_stat_defs[] = {
	VCPU_STAT(exits, CUM),
	VCPU_KIND(HVX_X_NONE, "host_irq"),	/* host interrupts and NMIs */
	VCPU_KIND(HVX_X_IO, "io"),
	VCPU_KIND(HVX_X_TDP_FAULT, "tdp_fault"),
	VCPU_KIND(HVX_X_CPUID, "cpuid"),
	VCPU_KIND(HVX_X_RDMSR, "rdmsr"),
	VCPU_KIND(HVX_X_WRMSR, "wrmsr"),
	VCPU_KIND(HVX_X_HLT, "hlt"),
	VCPU_KIND(HVX_X_HYPERCALL, "hypercall"),
	VCPU_KIND(HVX_X_SHUTDOWN, "shutdown"),
	VCPU_KIND(HVX_X_CR_ACCESS, "cr_access"),
	VCPU_KIND(HVX_X_FAIL_ENTRY, "fail_entry"),
	VCPU_KIND(HVX_X_UNHANDLED, "unhandled"),
	VCPU_STAT(exits_hw, CUM),
	VCPU_STAT(exits_user, CUM),
	/* Counted in TSC cycles, read out in nanoseconds (hvx_stats_tsc_to_ns). */
	{ "guest_ns", CUM | HVX_STATS_UNIT_NSEC, offsetof(struct hvx_vcpu_stats, guest_tsc), 1 },
	{ "exit_ns", CUM | HVX_STATS_UNIT_NSEC, offsetof(struct hvx_vcpu_stats, exit_tsc), 1 },
	VCPU_STAT(halt_waits, CUM),
	VCPU_STAT(halt_wakeups, CUM),
	VCPU_STAT(halt_wait_ns, CUM | HVX_STATS_UNIT_NSEC),
	VCPU_STAT(irq_injections, CUM),
	VCPU_STAT(tdp_faults, CUM),
	VCPU_STAT(mmio_exits, CUM),
};

/*
 * A VM's own values, in the order of hvx_vm_stat_defs.  What its vCPUs
 * count (exits, faults, injections) follows as their sum, not twice here.
 */
struct hvx_vm_values {
	u64 nr_vcpus;
	u64 pages_allocated;
	u64 tdp_table_pages;
	u64 irq_raised[HVX_IRQ_NR];
	u64 pages_merged;
	u64 zero_pages;
	u64 cow_guest;
	u64 cow_vmm;
	u64 merge_pages_scanned;
	u64 merge_full_scans;
	u64 dirty_pages_logged;
	u64 dirty_pages_reported;
};

#define VM_STAT(field, fl) \
	{ #field, (fl), offsetof(struct hvx_vm_values, field), \
	  sizeof_field(struct hvx_vm_values, field) / sizeof(u64) }
#define VM_IRQ(src, name) \
	{ "irq_from_" name, CUM, offsetof(struct hvx_vm_values, irq_raised[src]), 1 }

static const struct hvx_stat_def hvx_vm_stat_defs[] = {
	VM_STAT(nr_vcpus, INST),
	VM_STAT(pages_allocated, INST | HVX_STATS_UNIT_PAGES),
	VM_STAT(tdp_table_pages, INST | HVX_STATS_UNIT_PAGES),
	VM_IRQ(HVX_IRQ_TIMER, "timer"),
	VM_IRQ(HVX_IRQ_IPI, "ipi"),
	VM_IRQ(HVX_IRQ_MSI, "msi"),
	VM_IRQ(HVX_IRQ_IRQFD, "irqfd"),
	VM_STAT(pages_merged, INST | HVX_STATS_UNIT_PAGES),
	VM_STAT(zero_pages, INST | HVX_STATS_UNIT_PAGES),
	VM_STAT(cow_guest, CUM),
	VM_STAT(cow_vmm, CUM),
	VM_STAT(merge_pages_scanned, CUM),
	VM_STAT(merge_full_scans, CUM),
	VM_STAT(dirty_pages_logged, CUM | HVX_STATS_UNIT_PAGES),
	VM_STAT(dirty_pages_reported, CUM | HVX_STATS_UNIT_PAGES),
};

/* What one stats fd reads: a VM (its values, then its vCPUs' sum) or a vCPU. */
struct hvx_stats_file {
	struct file *owner;	/* the VM or vCPU file, referenced */
	struct hvx_vm *vm;
	struct hvx_vcpu *vcpu;	/* NULL for a VM */
};

void hvx_stats_add(struct hvx_vcpu_stats *sum, const struct hvx_vcpu_stats *st)
{
	const u64 *src = (const u64 *)st;
	u64 *dst = (u64 *)sum;
	unsigned int i;

	for (i = 0; i < sizeof(*st) / sizeof(u64); i++)
		dst[i] += READ_ONCE(src[i]);
}

/* Cycles of the TSC (tsc_khz kHz) as nanoseconds; 0 without a TSC rate. */
static void hvx_stats_tsc_to_ns(struct hvx_vcpu_stats *vs)
{
	u32 khz = READ_ONCE(tsc_khz);

	vs->guest_tsc = khz ? mul_u64_u32_div(vs->guest_tsc, 1000000, khz) : 0;
	vs->exit_tsc = khz ? mul_u64_u32_div(vs->exit_tsc, 1000000, khz) : 0;
}

static size_t hvx_stats_nr_desc(const struct hvx_stats_file *sf)
{
	return ARRAY_SIZE(hvx_vcpu_stat_defs) + (sf->vcpu ? 0 : ARRAY_SIZE(hvx_vm_stat_defs));
}

static size_t hvx_stats_data_size(const struct hvx_stats_file *sf)
{
	return sizeof(struct hvx_vcpu_stats) + (sf->vcpu ? 0 : sizeof(struct hvx_vm_values));
}

static void hvx_stats_fill_desc(void *p, const struct hvx_stat_def *def, u32 base, u32 extra)
{
	struct hvx_stats_desc *d = p;

	d->flags = def->flags | extra;
	d->offset = base + def->offset;
	d->count = def->count;
	strscpy(d->name, def->name, HVX_STATS_NAME_SIZE);
}

static void hvx_vm_values(struct hvx_vm *vm, struct hvx_vm_values *v)
{
	int i;

	v->nr_vcpus = READ_ONCE(vm->nr_vcpus);
	v->pages_allocated = atomic64_read(&vm->pages_allocated);
	v->tdp_table_pages = atomic64_read(&vm->tdp_table_pages);
	for (i = 0; i < HVX_IRQ_NR; i++)
		v->irq_raised[i] = atomic64_read(&vm->irq_raised[i]);
	v->pages_merged = atomic64_read(&vm->merge.pages_merged);
	v->zero_pages = atomic64_read(&vm->merge.zero_pages);
	v->cow_guest = atomic64_read(&vm->merge.cow_guest);
	v->cow_vmm = atomic64_read(&vm->merge.cow_vmm);
	v->merge_pages_scanned = READ_ONCE(vm->merge.pages_scanned);
	v->merge_full_scans = READ_ONCE(vm->merge.full_scans);
	v->dirty_pages_logged = atomic64_read(&vm->dirty_pages_logged);
	v->dirty_pages_reported = atomic64_read(&vm->dirty_pages_reported);
}

/*
 * The whole file, built afresh for each read: header, descriptors, then
 * values.  A few KiB; reads are rare next to the events they count.
 */
static void *hvx_stats_image(const struct hvx_stats_file *sf, size_t *sizep)
{
	size_t nr_desc = hvx_stats_nr_desc(sf);
	size_t desc_size = sizeof(struct hvx_stats_desc) + HVX_STATS_NAME_SIZE;
	size_t desc_offset = sizeof(struct hvx_stats_header);
	size_t data_offset = desc_offset + nr_desc * desc_size;
	size_t size = data_offset + hvx_stats_data_size(sf);
	struct hvx_stats_header *h;
	struct hvx_vcpu_stats *vs;
	void *buf, *d, *data;
	u32 vcpu_base = 0;
	unsigned int i;

	buf = kvzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return NULL;
	h = buf;
	h->magic = HVX_STATS_MAGIC;
	h->nr_desc = nr_desc;
	h->desc_size = desc_size;
	h->name_size = HVX_STATS_NAME_SIZE;
	h->desc_offset = desc_offset;
	h->data_offset = data_offset;
	h->data_size = size - data_offset;
	d = buf + desc_offset;
	data = buf + data_offset;
	if (sf->vcpu) {
		snprintf(h->id, sizeof(h->id), "vcpu-%u", sf->vcpu->id);
		vs = data;
		hvx_stats_add(vs, &sf->vcpu->stats);
		hvx_stats_tsc_to_ns(vs);
	} else {
		snprintf(h->id, sizeof(h->id), "vm-%d", sf->vm->creator);
		for (i = 0; i < ARRAY_SIZE(hvx_vm_stat_defs); i++, d += desc_size)
			hvx_stats_fill_desc(d, &hvx_vm_stat_defs[i], 0, 0);
		vcpu_base = sizeof(struct hvx_vm_values);
		hvx_vm_values(sf->vm, data);
		vs = data + vcpu_base;
		/* vm->lock: a vCPU leaves vcpus[] and adds to closed_vcpus under it. */
		mutex_lock(&sf->vm->lock);
		hvx_stats_add(vs, &sf->vm->closed_vcpus);
		for (i = 0; i < HVX_MAX_VCPUS; i++)
			if (sf->vm->vcpus[i])
				hvx_stats_add(vs, &sf->vm->vcpus[i]->stats);
		mutex_unlock(&sf->vm->lock);
		hvx_stats_tsc_to_ns(vs);
	}
	for (i = 0; i < ARRAY_SIZE(hvx_vcpu_stat_defs); i++, d += desc_size)
		hvx_stats_fill_desc(d, &hvx_vcpu_stat_defs[i], vcpu_base,
				    sf->vcpu ? 0 : HVX_STATS_VCPU_SUM);
	*sizep = size;
	return buf;
}

static ssize_t hvx_stats_read(struct file *file, char __user *ubuf, size_t len, loff_t *pos)
{
	size_t size;
	void *buf = hvx_stats_image(file->private_data, &size);
	ssize_t ret;

	if (!buf)
		return -ENOMEM;
	ret = simple_read_from_buffer(ubuf, len, pos, buf, size);
	kvfree(buf);
	return ret;
}

static int hvx_stats_release(struct inode *inode, struct file *file)
{
	struct hvx_stats_file *sf = file->private_data;

	fput(sf->owner);
	kfree(sf);
	return 0;
}

static const struct file_operations hvx_stats_fops = {
	.owner		= THIS_MODULE,
	.read		= hvx_stats_read,
	.release	= hvx_stats_release,
	.llseek		= generic_file_llseek,
};

static int hvx_stats_fd(struct hvx_vm *vm, struct hvx_vcpu *vcpu, struct file *owner)
{
	struct hvx_stats_file *sf;
	struct file *file;
	int fd;

	sf = kzalloc(sizeof(*sf), GFP_KERNEL_ACCOUNT);
	if (!sf)
		return -ENOMEM;
	sf->vm = vm;
	sf->vcpu = vcpu;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		goto free;
	file = anon_inode_getfile(vcpu ? "hvx-vcpu-stats" : "hvx-vm-stats",
				  &hvx_stats_fops, sf, O_RDONLY);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		fd = PTR_ERR(file);
		goto free;
	}
	/* pread() at the values' offset, as the header describes. */
	file->f_mode |= FMODE_LSEEK | FMODE_PREAD;
	sf->owner = get_file(owner);
	fd_install(fd, file);
	return fd;

free:
	kfree(sf);
	return fd;
}

int hvx_vm_stats_fd(struct hvx_vm *vm, struct file *vm_file)
{
	return hvx_stats_fd(vm, NULL, vm_file);
}

int hvx_vcpu_stats_fd(struct hvx_vcpu *vcpu, struct file *vcpu_file)
{
	return hvx_stats_fd(vcpu->vm, vcpu, vcpu_file);
}
