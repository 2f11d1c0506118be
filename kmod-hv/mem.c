// SPDX-License-Identifier: GPL-2.0
/* mem.c - guest RAM owned by hvx: regions, lazily allocated pages, the VMM's mmap. */
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "hvx.h"
#include "trace.h"

int hvx_set_memory_region(struct hvx_vm *vm,
			  const struct hvx_memory_region __user *argp)
{
	struct hvx_memory_region req;
	struct hvx_region *region;
	unsigned int i;
	int ret = 0;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (memchr_inv(req.reserved, 0, sizeof(req.reserved)))
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
	xa_init(&region->sums);

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

/* A guest write to @gpa in @region, while its log is on; mmu_lock held. */
void hvx_mark_dirty(struct hvx_vm *vm, struct hvx_region *region, u64 gpa)
{
	if (region->dirty &&
	    !test_and_set_bit((gpa - region->gpa) >> PAGE_SHIFT, region->dirty))
		atomic64_inc(&vm->dirty_pages_logged);
}

/* Bitmap words per mmu_lock hold in HVX_GET_PAGE_BITMAP. */
#define HVX_BITMAP_CHUNK	32

/* One word of the dirty log: taken and cleared, its pages write-protected again. */
static u64 hvx_dirty_word(struct hvx_vm *vm, struct hvx_region *region, unsigned long first,
			  unsigned int n, bool *flush)
{
	u64 bits = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!test_and_clear_bit(first + i, region->dirty))
			continue;
		bits |= 1ull << i;
		if (tdp_write_protect(vm, region->gpa + ((u64)(first + i) << PAGE_SHIFT)))
			*flush = true;
	}
	if (bits)
		atomic64_add(hweight64(bits), &vm->dirty_pages_reported);
	return bits;
}

int hvx_get_page_bitmap(struct hvx_vm *vm, const struct hvx_page_bitmap __user *argp)
{
	struct hvx_page_bitmap b;
	struct hvx_region *region;
	u64 __user *out;
	u64 words, w, npages;
	int ret = 0;

	if (copy_from_user(&b, argp, sizeof(b)))
		return -EFAULT;
	if ((b.kind != HVX_BITMAP_ALLOCATED && b.kind != HVX_BITMAP_DIRTY) ||
	    memchr_inv(b.reserved, 0, sizeof(b.reserved)) || b.first_page % 64 || !b.nr_pages)
		return -EINVAL;
	if (b.slot >= HVX_MAX_MEM_REGIONS)
		return -ENOENT;
	region = smp_load_acquire(&vm->regions[b.slot]);
	if (!region)
		return -ENOENT;
	npages = region->size >> PAGE_SHIFT;
	if (b.first_page >= npages || b.nr_pages > npages - b.first_page)
		return -EINVAL;
	out = u64_to_user_ptr(b.bitmap);
	words = DIV_ROUND_UP(b.nr_pages, 64);
	/* In chunks: the user's buffer is written with mmu_lock dropped. */
	for (w = 0; w < words && !ret; w += HVX_BITMAP_CHUNK) {
		unsigned int nw = min_t(u64, HVX_BITMAP_CHUNK, words - w), i;
		u64 chunk[HVX_BITMAP_CHUNK];
		bool flush = false;

		if (b.kind == HVX_BITMAP_DIRTY) {
			mutex_lock(&vm->mmu_lock);
			if (!region->dirty)
				ret = -ENOENT;
		}
		for (i = 0; i < nw && !ret; i++) {
			unsigned long first = b.first_page + 64 * (w + i);
			unsigned int n = min_t(u64, 64, b.nr_pages - 64 * (w + i));
			unsigned long index = first;
			struct page *page;

			chunk[i] = 0;
			if (b.kind == HVX_BITMAP_DIRTY) {
				chunk[i] = hvx_dirty_word(vm, region, first, n, &flush);
				continue;
			}
			xa_for_each_range(&region->pages, index, page, first, first + n - 1)
				chunk[i] |= 1ull << (index - first);
		}
		if (b.kind == HVX_BITMAP_DIRTY) {
			/* No CPU writes through a stale writable entry once this returns. */
			if (flush)
				hvx_flush_guest_tlbs(vm);
			mutex_unlock(&vm->mmu_lock);
		}
		if (!ret && copy_to_user(out + w, chunk, nw * sizeof(u64)))
			ret = -EFAULT;
		cond_resched();
	}
	return ret;
}

int hvx_set_dirty_log(struct hvx_vm *vm, const struct hvx_dirty_log __user *argp)
{
	struct hvx_dirty_log d;
	struct hvx_region *region;
	unsigned long *bitmap = NULL, index;
	struct page *page;
	bool flush = false;
	int ret = 0;

	if (copy_from_user(&d, argp, sizeof(d)))
		return -EFAULT;
	if (d.flags & ~HVX_DIRTY_LOG_ON || memchr_inv(d.reserved, 0, sizeof(d.reserved)))
		return -EINVAL;
	if (d.slot >= HVX_MAX_MEM_REGIONS)
		return -ENOENT;
	region = smp_load_acquire(&vm->regions[d.slot]);
	if (!region)
		return -ENOENT;
	if (region->flags & HVX_MEM_READONLY)
		return -EINVAL;
	if (d.flags & HVX_DIRTY_LOG_ON) {
		bitmap = kvcalloc(BITS_TO_LONGS(region->size >> PAGE_SHIFT), sizeof(long),
				  GFP_KERNEL_ACCOUNT);
		if (!bitmap)
			return -ENOMEM;
	}
	mutex_lock(&vm->mmu_lock);
	if (d.flags & HVX_DIRTY_LOG_ON) {
		if (region->dirty) {
			ret = -EEXIST;
		} else {
			region->dirty = bitmap;
			bitmap = NULL;
			xa_for_each(&region->pages, index, page)
				if (tdp_write_protect(vm, region->gpa + ((u64)index << PAGE_SHIFT)))
					flush = true;
			if (flush)
				hvx_flush_guest_tlbs(vm);
		}
	} else if (!region->dirty) {
		ret = -ENOENT;
	} else {
		/* Pages stay read-only where they are: they fault once more, unlogged. */
		bitmap = region->dirty;
		region->dirty = NULL;
	}
	mutex_unlock(&vm->mmu_lock);
	kvfree(bitmap);
	return ret;
}

/*
 * Take the guest frame at @gpa away from every mapping that may write it:
 * the second-level entry (remote TLBs flushed) and the VMM's page tables.
 * Their next access faults and finds what the slot holds then.
 */
void hvx_zap_gpa(struct hvx_vm *vm, u64 gpa)
{
	struct address_space *mapping = READ_ONCE(vm->mapping);

	lockdep_assert_held(&vm->mmu_lock);
	if (tdp_unmap(vm, gpa))
		hvx_flush_guest_tlbs(vm);
	if (mapping)
		unmap_mapping_range(mapping, gpa, PAGE_SIZE, 1);
}

/*
 * Give the slot a private copy of the shared frame @shared.  The caller
 * drops the frame's sharer reference (*@dropped) and page reference after
 * unlocking: the merge mutex ranks above mmu_lock.
 */
static struct page *hvx_cow(struct hvx_vm *vm, struct hvx_region *region,
			    u64 gpa, struct page *shared, bool by_guest,
			    struct hvx_stable **dropped)
{
	unsigned long index = (gpa - region->gpa) >> PAGE_SHIFT;
	struct hvx_stable *node = hvx_page_stable(shared);
	struct page *page;

	page = alloc_page(GFP_HIGHUSER | __GFP_ACCOUNT);
	if (!page)
		return ERR_PTR(-ENOMEM);
	copy_highpage(page, shared);
	/* The slot exists: replacing its entry allocates nothing. */
	xa_store(&region->pages, index, page, GFP_NOWAIT);
	hvx_zap_gpa(vm, gpa & PAGE_MASK);
	atomic64_dec(&vm->merge.pages_merged);
	if (node->zero)
		atomic64_dec(&vm->merge.zero_pages);
	atomic64_inc(by_guest ? &vm->merge.cow_guest : &vm->merge.cow_vmm);
	trace_hvx_unmerge(gpa & PAGE_MASK, by_guest);
	atomic64_inc(&vm->pages_allocated);
	*dropped = node;
	return page;
}

/*
 * The page backing @gpa in @region, allocated (zeroed, charged to the
 * caller's memory cgroup) on first touch; for a @write, a private copy if
 * the slot holds a shared frame (*@dropped is then the frame to release
 * with hvx_release_dropped() once mmu_lock is dropped).  The slot holds
 * the only long-lived reference; mappings take their own.
 */
struct page *hvx_region_page(struct hvx_vm *vm, struct hvx_region *region,
			     u64 gpa, bool write, bool by_guest,
			     struct hvx_stable **dropped)
{
	unsigned long index = (gpa - region->gpa) >> PAGE_SHIFT;
	struct page *page, *old;

	lockdep_assert_held(&vm->mmu_lock);
	*dropped = NULL;
	page = xa_load(&region->pages, index);
	if (page) {
		if (write && hvx_page_stable(page))
			return hvx_cow(vm, region, gpa, page, by_guest, dropped);
		return page;
	}

	page = alloc_page(GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT);
	if (!page)
		return ERR_PTR(-ENOMEM);
	old = xa_store(&region->pages, index, page, GFP_KERNEL_ACCOUNT);
	if (xa_is_err(old)) {
		__free_page(page);
		return ERR_PTR(xa_err(old));
	}
	atomic64_inc(&vm->pages_allocated);
	return page;
}

/* Release what hvx_region_page() replaced, with mmu_lock dropped. */
void hvx_release_dropped(struct hvx_stable *node)
{
	struct page *page;

	if (!node)
		return;
	page = node->page;
	hvx_stable_put(node);
	put_page(page);
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
		xa_for_each(&r->pages, index, page) {
			struct hvx_stable *node = hvx_page_stable(page);

			if (node)
				hvx_stable_put(node);
			put_page(page);
		}
		xa_destroy(&r->pages);
		xa_destroy(&r->sums);
		kvfree(r->dirty);
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
		struct hvx_stable *dropped;
		struct page *page;
		void *va;

		if (!region)
			return -EFAULT;
		mutex_lock(&vm->mmu_lock);
		page = hvx_region_page(vm, region, gpa, write, false, &dropped);
		if (IS_ERR(page)) {
			mutex_unlock(&vm->mmu_lock);
			return PTR_ERR(page);
		}
		va = kmap_local_page(page);
		if (write) {
			hvx_mark_dirty(vm, region, gpa);	/* on the guest's behalf */
			memcpy(va + off, buf, chunk);
		}
		else
			memcpy(buf, va + off, chunk);
		kunmap_local(va);
		mutex_unlock(&vm->mmu_lock);
		hvx_release_dropped(dropped);
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

/*
 * The VMM's mapping.  Pages come in read-only unless the fault is a write
 * (the mapping has page_mkwrite, so the kernel asks before any write): a
 * shared frame must never become writable in the VMM's page tables.
 */
static vm_fault_t hvx_vm_fault(struct vm_fault *vmf)
{
	struct hvx_vm *vm = vmf->vma->vm_file->private_data;
	u64 gpa = (u64)vmf->pgoff << PAGE_SHIFT;
	struct hvx_region *region = hvx_find_region(vm, gpa);
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	struct hvx_stable *dropped;
	struct page *page;

	if (!region)
		return VM_FAULT_SIGBUS;
	mutex_lock(&vm->mmu_lock);
	page = hvx_region_page(vm, region, gpa, write, false, &dropped);
	if (!IS_ERR(page))
		get_page(page);
	mutex_unlock(&vm->mmu_lock);
	hvx_release_dropped(dropped);
	if (IS_ERR(page))
		return PTR_ERR(page) == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	vmf->page = page;
	return 0;
}

/*
 * A write to a page the VMM maps read-only.  A private page that is still
 * the slot's becomes writable; a shared frame is first copied, and any
 * page the slot no longer holds is unmapped, so that the retried fault
 * maps what the slot holds now.
 */
static vm_fault_t hvx_vm_page_mkwrite(struct vm_fault *vmf)
{
	struct hvx_vm *vm = vmf->vma->vm_file->private_data;
	u64 gpa = (u64)vmf->pgoff << PAGE_SHIFT;
	struct hvx_region *region = hvx_find_region(vm, gpa);
	struct hvx_stable *dropped = NULL;
	struct page *cur;

	if (!region)
		return VM_FAULT_SIGBUS;
	mutex_lock(&vm->mmu_lock);
	cur = xa_load(&region->pages, (gpa - region->gpa) >> PAGE_SHIFT);
	if (cur == vmf->page && !hvx_page_stable(cur)) {
		/* Locked for the fault core: a page without a mapping. */
		lock_page(cur);
		mutex_unlock(&vm->mmu_lock);
		return VM_FAULT_LOCKED;
	}
	if (cur == vmf->page)
		cur = hvx_region_page(vm, region, gpa, true, false, &dropped);
	else
		unmap_mapping_range(vmf->vma->vm_file->f_mapping, gpa,
				    PAGE_SIZE, 1);
	mutex_unlock(&vm->mmu_lock);
	hvx_release_dropped(dropped);
	if (IS_ERR(cur))
		return PTR_ERR(cur) == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	return VM_FAULT_NOPAGE;
}

static const struct vm_operations_struct hvx_vm_vm_ops = {
	.fault = hvx_vm_fault,
	.page_mkwrite = hvx_vm_page_mkwrite,
};

/*
 * The VMM maps guest RAM with MAP_SHARED at offset = guest physical
 * address; the mapping must lie inside one region.  Each VM file has an
 * inode of its own, so its mapping reaches exactly this VM's mappings.
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
	/* Before any of this mapping's faults can take mmu_lock. */
	WRITE_ONCE(vm->mapping, file->f_mapping);
	vm_flags_set(vma, VM_DONTEXPAND);
	vma->vm_ops = &hvx_vm_vm_ops;
	return 0;
}
