// SPDX-License-Identifier: GPL-2.0
/* mem.c - guest RAM owned by hvx: regions, lazily allocated pages, the VMM's mmap. */
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hvx.h"

int hvx_set_memory_region(struct hvx_vm *vm,
			  const struct hvx_memory_region __user *argp)
{
	struct hvx_memory_region req;
	struct hvx_region *region;
	unsigned int i;
	int ret = 0;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	for (i = 0; i < ARRAY_SIZE(req.reserved); i++)
		if (req.reserved[i])
			return -EINVAL;
	if (req.flags & ~HVX_MEM_READONLY || req.slot >= HVX_MAX_MEM_REGIONS ||
	    !req.size || !PAGE_ALIGNED(req.size) ||
	    !PAGE_ALIGNED(req.guest_phys_addr) ||
	    req.guest_phys_addr + req.size < req.guest_phys_addr ||
	    req.guest_phys_addr + req.size > (1ull << HVX_MAX_GPA_BITS))
		return -EINVAL;

	region = kzalloc(sizeof(*region), GFP_KERNEL_ACCOUNT);
	if (!region)
		return -ENOMEM;
	region->slot = req.slot;
	region->flags = req.flags;
	region->gpa = req.guest_phys_addr;
	region->size = req.size;
	xa_init(&region->pages);

	mutex_lock(&vm->lock);
	if (vm->regions[req.slot]) {
		ret = -EEXIST;
		goto out;
	}
	for (i = 0; i < HVX_MAX_MEM_REGIONS; i++) {
		struct hvx_region *r = vm->regions[i];

		if (r && region->gpa < r->gpa + r->size &&
		    r->gpa < region->gpa + region->size) {
			ret = -EEXIST;
			goto out;
		}
	}
	/* Fault paths look regions up without the lock: publish it whole. */
	smp_store_release(&vm->regions[req.slot], region);
	vm->nr_regions++;
out:
	mutex_unlock(&vm->lock);
	if (ret)
		kfree(region);
	return ret;
}

struct hvx_region *hvx_find_region(struct hvx_vm *vm, u64 gpa)
{
	unsigned int i;

	for (i = 0; i < HVX_MAX_MEM_REGIONS; i++) {
		struct hvx_region *r = smp_load_acquire(&vm->regions[i]);

		if (r && gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

/*
 * The page backing @gpa in @region, allocated (zeroed, charged to the
 * caller's memory cgroup) on first touch.  The region's xarray holds the
 * only long-lived reference; mappings take their own.
 */
struct page *hvx_region_page(struct hvx_vm *vm, struct hvx_region *region,
			     u64 gpa)
{
	unsigned long index = (gpa - region->gpa) >> PAGE_SHIFT;
	struct page *page, *old;

	page = xa_load(&region->pages, index);
	if (page)
		return page;

	page = alloc_page(GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT);
	if (!page)
		return ERR_PTR(-ENOMEM);
	old = xa_cmpxchg(&region->pages, index, NULL, page, GFP_KERNEL_ACCOUNT);
	if (old) {
		/* Lost a race with another toucher, or no memory for the slot. */
		__free_page(page);
		return xa_is_err(old) ? ERR_PTR(xa_err(old)) : old;
	}
	atomic64_inc(&vm->pages_allocated);
	return page;
}

void hvx_free_regions(struct hvx_vm *vm)
{
	unsigned int i;

	for (i = 0; i < HVX_MAX_MEM_REGIONS; i++) {
		struct hvx_region *r = vm->regions[i];
		struct page *page;
		unsigned long index;

		if (!r)
			continue;
		xa_for_each(&r->pages, index, page)
			put_page(page);
		xa_destroy(&r->pages);
		kfree(r);
		vm->regions[i] = NULL;
	}
}

/* Copy between guest RAM and a kernel buffer; -EFAULT outside RAM. */
static int hvx_access_guest(struct hvx_vm *vm, u64 gpa, void *buf, size_t len,
			    bool write)
{
	while (len) {
		size_t off = offset_in_page(gpa);
		size_t chunk = min_t(size_t, len, PAGE_SIZE - off);
		struct hvx_region *region = hvx_find_region(vm, gpa);
		struct page *page;
		void *va;

		if (!region)
			return -EFAULT;
		page = hvx_region_page(vm, region, gpa);
		if (IS_ERR(page))
			return PTR_ERR(page);
		va = kmap_local_page(page);
		if (write)
			memcpy(va + off, buf, chunk);
		else
			memcpy(buf, va + off, chunk);
		kunmap_local(va);
		gpa += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

int hvx_read_guest(struct hvx_vm *vm, u64 gpa, void *buf, size_t len)
{
	return hvx_access_guest(vm, gpa, buf, len, false);
}

int hvx_write_guest(struct hvx_vm *vm, u64 gpa, const void *buf, size_t len)
{
	return hvx_access_guest(vm, gpa, (void *)buf, len, true);
}

static vm_fault_t hvx_vm_fault(struct vm_fault *vmf)
{
	struct hvx_vm *vm = vmf->vma->vm_file->private_data;
	u64 gpa = (u64)vmf->pgoff << PAGE_SHIFT;
	struct hvx_region *region = hvx_find_region(vm, gpa);
	struct page *page;

	if (!region)
		return VM_FAULT_SIGBUS;
	page = hvx_region_page(vm, region, gpa);
	if (IS_ERR(page))
		return PTR_ERR(page) == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct hvx_vm_vm_ops = {
	.fault = hvx_vm_fault,
};

/*
 * The VMM maps guest RAM with MAP_SHARED at offset = guest physical
 * address; the mapping must lie inside one region.
 */
int hvx_vm_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct hvx_vm *vm = file->private_data;
	u64 gpa = (u64)vma->vm_pgoff << PAGE_SHIFT;
	u64 len = vma->vm_end - vma->vm_start;
	struct hvx_region *region;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	region = hvx_find_region(vm, gpa);
	if (!region || len > region->gpa + region->size - gpa)
		return -EINVAL;
	vma->vm_flags |= VM_DONTEXPAND;
	vma->vm_ops = &hvx_vm_vm_ops;
	return 0;
}
