// SPDX-License-Identifier: GPL-2.0
/* merge.c - KSM-style merging of identical guest pages: the scanner thread, shared frames, policies, sysfs. */
#include <linux/device.h>
#include <linux/freezer.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xxhash.h>

#include "hvx.h"
#include "trace.h"

/*
 * How it fits together.  Every guest page slot (region xarray entry) holds
 * either a private page or a shared frame (struct hvx_stable).  The
 * scanner walks the slots of merge-enabled VMs; a private page whose hash
 * did not change since the previous pass is looked up by hash, first among
 * the shared frames of its domain (stable tree), then among this pass's
 * other candidates (unstable tree).  Before a page is merged it is taken
 * out of every mapping that could write it (hvx_zap_gpa), and its content
 * is compared byte for byte under the VM's mmu_lock: nothing can change
 * it then.  Writers get private copies (hvx_region_page).
 *
 * Locks: hvx_merge_mutex (trees, VM list, counters, the scanner's cursor)
 * ranks above each VM's mmu_lock.  Code holding an mmu_lock drops a
 * shared frame's reference only after unlocking (hvx_stable_put takes the
 * merge mutex when the frame dies).
 */

enum { MERGE_STOP, MERGE_RUN, MERGE_UNMERGE };

static DEFINE_MUTEX(hvx_merge_mutex);
static DECLARE_WAIT_QUEUE_HEAD(hvx_merge_wait);
static LIST_HEAD(hvx_merge_vms);
static struct task_struct *hvx_merge_thread;

static unsigned int merge_run = MERGE_STOP;
static unsigned int merge_pages_to_scan = 100;
static unsigned int merge_sleep_ms = 20;

static struct hvx_merge_domain hvx_global_domain = {
	.stable = RB_ROOT, .unstable = RB_ROOT,
};
static struct hvx_stable *hvx_zero_frame;
static u64 hvx_zero_hash;

static atomic64_t merge_nr_frames;	/* shared frames alive */
static atomic64_t merge_nr_sharers;	/* slots mapping them */
static u64 merge_full_scans, merge_pages_scanned;

/* The scanner's position: VM, region slot, page index. */
static struct {
	struct hvx_vm *vm;
	unsigned int slot;
	unsigned long index;
} cursor;

/* A candidate of this pass: a page seen unchanged, not yet matched. */
struct hvx_candidate {
	struct hvx_hash_node hn;
	struct hvx_vm *vm;
	struct hvx_region *region;
	unsigned long index;
	struct page *page;	/* identity only: revalidated under mmu_lock */
};

static u64 page_hash(struct page *page)
{
	void *va = kmap_local_page(page);
	u64 hash = xxh64(va, PAGE_SIZE, 0);

	kunmap_local(va);
	return hash;
}

/* mm.h's pages_identical() needs memcmp_pages(), which is not exported. */
static bool frames_identical(struct page *a, struct page *b)
{
	void *va = kmap_local_page(a), *vb = kmap_local_page(b);
	bool same = !memcmp(va, vb, PAGE_SIZE);

	kunmap_local(vb);
	kunmap_local(va);
	return same;
}

static bool page_is_zero(struct page *page)
{
	void *va = kmap_local_page(page);
	bool zero = !memchr_inv(va, 0, PAGE_SIZE);

	kunmap_local(va);
	return zero;
}

static u64 slot_gpa(struct hvx_region *region, unsigned long index)
{
	return region->gpa + ((u64)index << PAGE_SHIFT);
}

/* ---- shared frames ------------------------------------------------------ */

static void stable_free(struct hvx_stable *node)
{
	lockdep_assert_held(&hvx_merge_mutex);
	if (node->root)
		rb_erase(&node->hn.rb, node->root);
	else
		hvx_zero_frame = NULL;
	set_page_private(node->page, 0);
	atomic64_dec(&merge_nr_frames);
	kfree(node);
}

/* Drop one slot's sharer reference, merge mutex held. */
static void stable_put_locked(struct hvx_stable *node)
{
	atomic64_dec(&merge_nr_sharers);
	if (refcount_dec_and_test(&node->sharers))
		stable_free(node);
}

/*
 * Drop one slot's sharer reference; the caller then puts its page
 * reference.  The frame leaves its tree under the merge mutex, so the
 * scanner never finds a frame without sharers.
 */
void hvx_stable_put(struct hvx_stable *node)
{
	atomic64_dec(&merge_nr_sharers);
	if (!refcount_dec_and_mutex_lock(&node->sharers, &hvx_merge_mutex))
		return;
	stable_free(node);
	mutex_unlock(&hvx_merge_mutex);
}

/* ---- the trees: stable frames and this pass's candidates, by hash ------ */

static int hash_node_cmp(const void *key, const struct rb_node *n)
{
	u64 hash = *(const u64 *)key, other = rb_entry(n, struct hvx_hash_node, rb)->hash;

	return hash < other ? -1 : hash > other;
}

static bool hash_node_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct hvx_hash_node, rb)->hash <
	       rb_entry(b, struct hvx_hash_node, rb)->hash;
}

/* Some node with @hash in @root (twins by hash are rare: content decides). */
static struct hvx_hash_node *hash_search(struct rb_root *root, u64 hash)
{
	struct rb_node *n = rb_find(&hash, root, hash_node_cmp);

	return n ? rb_entry(n, struct hvx_hash_node, rb) : NULL;
}

static struct hvx_stable *stable_search(struct rb_root *root, u64 hash)
{
	struct hvx_hash_node *hn = hash_search(root, hash);

	return hn ? container_of(hn, struct hvx_stable, hn) : NULL;
}

static void stable_insert(struct rb_root *root, struct hvx_stable *node)
{
	rb_add(&node->hn.rb, root, hash_node_less);
	node->root = root;
}

static struct hvx_candidate *candidate_search(struct rb_root *root, u64 hash)
{
	struct hvx_hash_node *hn = hash_search(root, hash);

	return hn ? container_of(hn, struct hvx_candidate, hn) : NULL;
}

static void candidate_insert(struct rb_root *root, u64 hash, struct hvx_vm *vm,
			     struct hvx_region *region, unsigned long index,
			     struct page *page)
{
	struct hvx_candidate *c = kmalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return;		/* a lost chance to merge, nothing more */
	*c = (struct hvx_candidate){ .hn.hash = hash, .vm = vm, .region = region,
				     .index = index, .page = page };
	rb_add(&c->hn.rb, root, hash_node_less);
}

static void candidates_clear(struct rb_root *root)
{
	struct hvx_candidate *c, *next;

	rbtree_postorder_for_each_entry_safe(c, next, root, hn.rb)
		kfree(c);
	*root = RB_ROOT;
}

/* A new pass starts, or a VM left: candidates may point at stale slots. */
static void candidates_clear_all(void)
{
	struct hvx_vm *vm;

	candidates_clear(&hvx_global_domain.unstable);
	list_for_each_entry(vm, &hvx_merge_vms, merge.link)
		candidates_clear(&vm->merge.own.unstable);
}

/* ---- merging one page ---------------------------------------------------- */

/*
 * Lock @vm's mmu_lock and make the private page @expect at the slot
 * unwritable by anyone: no second-level entry, no VMM mapping, and no
 * reference but the slot's (one held elsewhere, for example by
 * get_user_pages or a fault in flight, could still write it).  Returns
 * false, unlocked, if the slot moved on or the page is in use.
 */
static bool merge_protect(struct hvx_vm *vm, struct hvx_region *region,
			  unsigned long index, struct page *expect)
{
	struct page *page;

	mutex_lock(&vm->mmu_lock);
	page = xa_load(&region->pages, index);
	if (page == expect && !hvx_page_stable(page)) {
		hvx_zap_gpa(vm, slot_gpa(region, index));
		if (page_count(page) == 1)
			return true;
	}
	mutex_unlock(&vm->mmu_lock);
	return false;
}

/* Point the slot at @node's frame if its page @expect is identical. */
static bool merge_into(struct hvx_stable *node, struct hvx_vm *vm,
		       struct hvx_region *region, unsigned long index,
		       struct page *expect)
{
	if (!merge_protect(vm, region, index, expect))
		return false;
	if (!frames_identical(expect, node->page)) {
		mutex_unlock(&vm->mmu_lock);
		return false;
	}
	refcount_inc(&node->sharers);
	get_page(node->page);
	xa_store(&region->pages, index, node->page, GFP_NOWAIT);
	atomic64_inc(&vm->merge.pages_merged);
	if (node->zero)
		atomic64_inc(&vm->merge.zero_pages);
	trace_hvx_merge(slot_gpa(region, index), node->zero, false);
	atomic64_inc(&merge_nr_sharers);
	mutex_unlock(&vm->mmu_lock);
	put_page(expect);	/* the slot's reference: frees the duplicate */
	return true;
}

/*
 * Turn the private page @expect at the slot into a shared frame (its slot
 * the first sharer) if its content still hashes to @hash, and add it to
 * @root (NULL: it becomes the zero frame).
 */
static struct hvx_stable *merge_new_frame(struct rb_root *root, u64 hash,
					  struct hvx_vm *vm,
					  struct hvx_region *region,
					  unsigned long index, struct page *expect)
{
	struct hvx_stable *node;

	node = kzalloc(sizeof(*node), GFP_KERNEL);
	if (!node)
		return NULL;
	if (!merge_protect(vm, region, index, expect)) {
		kfree(node);
		return NULL;
	}
	if (page_hash(expect) != hash || (!root && !page_is_zero(expect))) {
		mutex_unlock(&vm->mmu_lock);
		kfree(node);
		return NULL;
	}
	node->hn.hash = hash;
	node->page = expect;
	node->zero = !root;
	refcount_set(&node->sharers, 1);
	set_page_private(expect, (unsigned long)node);
	if (root)
		stable_insert(root, node);
	else
		hvx_zero_frame = node;
	atomic64_inc(&vm->merge.pages_merged);
	if (node->zero)
		atomic64_inc(&vm->merge.zero_pages);
	trace_hvx_merge(slot_gpa(region, index), node->zero, true);
	atomic64_inc(&merge_nr_frames);
	atomic64_inc(&merge_nr_sharers);
	mutex_unlock(&vm->mmu_lock);
	return node;
}

/* What became of a scanned page, for the counters. */
enum merge_result { SCAN_SHARED, SCAN_MERGED, SCAN_UNSHARED, SCAN_VOLATILE };

static enum merge_result merge_page(struct hvx_vm *vm, struct hvx_region *region,
				    unsigned long index, struct page *page,
				    u64 hash)
{
	struct hvx_merge_domain *dom = vm->merge.domain;
	struct hvx_candidate *c;
	struct hvx_stable *node;
	void *old;

	/* Unchanged since the last pass?  Otherwise it is too busy to merge. */
	old = xa_store(&region->sums, index, xa_mk_value(hash >> 2), GFP_KERNEL);
	if (!xa_is_value(old) || xa_to_value(old) != hash >> 2)
		return SCAN_VOLATILE;

	if (hash == hvx_zero_hash) {
		if (hvx_zero_frame)
			return merge_into(hvx_zero_frame, vm, region, index, page) ?
			       SCAN_MERGED : SCAN_UNSHARED;
		return merge_new_frame(NULL, hash, vm, region, index, page) ?
		       SCAN_MERGED : SCAN_UNSHARED;
	}
	if (!dom)
		return SCAN_UNSHARED;	/* HVX_MERGE_ZERO */

	node = stable_search(&dom->stable, hash);
	if (node)
		return merge_into(node, vm, region, index, page) ?
		       SCAN_MERGED : SCAN_UNSHARED;

	c = candidate_search(&dom->unstable, hash);
	if (c && c->vm == vm && c->region == region && c->index == index)
		return SCAN_UNSHARED;
	if (!c) {
		candidate_insert(&dom->unstable, hash, vm, region, index, page);
		return SCAN_UNSHARED;
	}
	/* Two pages with one hash: the earlier becomes the shared frame. */
	rb_erase(&c->hn.rb, &dom->unstable);
	node = merge_new_frame(&dom->stable, hash, c->vm, c->region, c->index,
			       c->page);
	kfree(c);
	if (node && merge_into(node, vm, region, index, page))
		return SCAN_MERGED;
	return SCAN_UNSHARED;
}

/* Look at the next present page of @vm from the cursor; false at its end. */
static bool merge_scan_next(struct hvx_vm *vm)
{
	enum merge_result res;

	for (; cursor.slot < HVX_MAX_MEM_REGIONS; cursor.slot++, cursor.index = 0) {
		struct hvx_region *region = smp_load_acquire(&vm->regions[cursor.slot]);
		unsigned long index = cursor.index;
		struct page *page;
		bool shared = false;
		u64 hash = 0;

		if (!region)
			continue;
		mutex_lock(&vm->mmu_lock);
		page = xa_find(&region->pages, &index, ULONG_MAX, XA_PRESENT);
		if (page) {
			shared = hvx_page_stable(page);
			if (!shared)
				hash = page_hash(page);
		}
		mutex_unlock(&vm->mmu_lock);
		if (!page)
			continue;

		cursor.index = index + 1;
		vm->merge.pages_scanned++;
		merge_pages_scanned++;
		res = shared ? SCAN_SHARED :
		      merge_page(vm, region, index, page, hash);
		if (res == SCAN_UNSHARED)
			vm->merge.pass_unshared++;
		else if (res == SCAN_VOLATILE)
			vm->merge.pass_volatile++;
		return true;
	}
	return false;
}

/* One batch of the scanner: up to pages_to_scan pages. */
static void merge_scan_batch(unsigned int budget)
{
	lockdep_assert_held(&hvx_merge_mutex);
	while (budget && !list_empty(&hvx_merge_vms)) {
		struct hvx_vm *vm = cursor.vm;

		if (!vm) {
			vm = list_first_entry(&hvx_merge_vms, struct hvx_vm,
					      merge.link);
			cursor.vm = vm;
			cursor.slot = 0;
			cursor.index = 0;
		}
		if (merge_scan_next(vm)) {
			budget--;
			cond_resched();
			continue;
		}
		/* The VM's pass is complete: publish its figures. */
		vm->merge.full_scans++;
		vm->merge.pages_unshared = vm->merge.pass_unshared;
		vm->merge.pages_volatile = vm->merge.pass_volatile;
		vm->merge.pass_unshared = 0;
		vm->merge.pass_volatile = 0;
		cursor.slot = 0;
		cursor.index = 0;
		if (list_is_last(&vm->merge.link, &hvx_merge_vms)) {
			merge_full_scans++;
			candidates_clear_all();
			cursor.vm = NULL;
			break;	/* a pass over no pages must end too */
		} else {
			cursor.vm = list_next_entry(vm, merge.link);
		}
	}
}

static int hvx_merge_thread_fn(void *unused)
{
	set_freezable();
	set_user_nice(current, 5);
	while (!kthread_should_stop()) {
		mutex_lock(&hvx_merge_mutex);
		if (merge_run == MERGE_RUN)
			merge_scan_batch(merge_pages_to_scan);
		mutex_unlock(&hvx_merge_mutex);
		cond_resched();

		if (READ_ONCE(merge_run) == MERGE_RUN && !list_empty_careful(&hvx_merge_vms))
			wait_event_freezable_timeout(hvx_merge_wait,
				kthread_should_stop(),
				msecs_to_jiffies(READ_ONCE(merge_sleep_ms)));
		else
			wait_event_freezable(hvx_merge_wait,
				kthread_should_stop() ||
				(READ_ONCE(merge_run) == MERGE_RUN &&
				 !list_empty_careful(&hvx_merge_vms)));
	}
	return 0;
}

/* ---- unmerging, VMs joining and leaving ----------------------------------- */

/* Give every slot of @vm that maps a shared frame a private copy. */
static int merge_unmerge_vm(struct hvx_vm *vm)
{
	unsigned int slot;

	lockdep_assert_held(&hvx_merge_mutex);
	for (slot = 0; slot < HVX_MAX_MEM_REGIONS; slot++) {
		struct hvx_region *region = vm->regions[slot];
		unsigned long index;
		struct page *page;

		if (!region)
			continue;
		xa_for_each(&region->pages, index, page) {
			struct hvx_stable *dropped = NULL;

			mutex_lock(&vm->mmu_lock);
			page = xa_load(&region->pages, index);
			if (page && hvx_page_stable(page))
				page = hvx_region_page(vm, region,
						       slot_gpa(region, index),
						       true, false, &dropped);
			mutex_unlock(&vm->mmu_lock);
			if (IS_ERR(page))
				return PTR_ERR(page);
			if (dropped) {
				page = dropped->page;
				stable_put_locked(dropped);
				put_page(page);
			}
			cond_resched();
		}
	}
	return 0;
}

static void merge_leave(struct hvx_vm *vm)
{
	lockdep_assert_held(&hvx_merge_mutex);
	if (cursor.vm == vm) {
		cursor.vm = list_is_last(&vm->merge.link, &hvx_merge_vms) ?
			    NULL : list_next_entry(vm, merge.link);
		cursor.slot = 0;
		cursor.index = 0;
	}
	candidates_clear_all();
	list_del_init(&vm->merge.link);
}

void hvx_merge_vm_init(struct hvx_vm *vm)
{
	INIT_LIST_HEAD(&vm->merge.link);
	vm->merge.own.stable = RB_ROOT;
	vm->merge.own.unstable = RB_ROOT;
}

/* The VM is going away: out of the scanner's sight before its pages go. */
void hvx_merge_vm_release(struct hvx_vm *vm)
{
	if (vm->merge.policy == HVX_MERGE_OFF)
		return;
	mutex_lock(&hvx_merge_mutex);
	merge_leave(vm);
	mutex_unlock(&hvx_merge_mutex);
}

int hvx_set_merge(struct hvx_vm *vm, const struct hvx_merge_config __user *argp)
{
	struct hvx_merge_config cfg;
	int ret = 0;

	if (copy_from_user(&cfg, argp, sizeof(cfg)))
		return -EFAULT;
	if (memchr_inv(cfg.reserved, 0, sizeof(cfg.reserved)))
		return -EINVAL;
	if (cfg.flags || cfg.policy > HVX_MERGE_ACROSS_VMS)
		return -EINVAL;

	mutex_lock(&hvx_merge_mutex);
	if (cfg.policy == vm->merge.policy)
		goto out;
	if (vm->merge.policy != HVX_MERGE_OFF) {
		ret = merge_unmerge_vm(vm);
		if (ret)
			goto out;
		merge_leave(vm);
	}
	vm->merge.policy = cfg.policy;
	switch (cfg.policy) {
	case HVX_MERGE_ACROSS_VMS:
		vm->merge.domain = &hvx_global_domain;
		break;
	case HVX_MERGE_WITHIN_VM:
		vm->merge.domain = &vm->merge.own;
		break;
	default:
		vm->merge.domain = NULL;
		break;
	}
	if (cfg.policy != HVX_MERGE_OFF) {
		list_add_tail(&vm->merge.link, &hvx_merge_vms);
		wake_up(&hvx_merge_wait);
	}
out:
	mutex_unlock(&hvx_merge_mutex);
	return ret;
}

int hvx_get_merge_stats(struct hvx_vm *vm, struct hvx_merge_stats __user *argp)
{
	struct hvx_merge_stats st = {};

	mutex_lock(&hvx_merge_mutex);
	st.policy = vm->merge.policy;
	st.pages_merged = atomic64_read(&vm->merge.pages_merged);
	st.zero_pages = atomic64_read(&vm->merge.zero_pages);
	st.pages_unshared = vm->merge.pages_unshared;
	st.pages_volatile = vm->merge.pages_volatile;
	st.full_scans = vm->merge.full_scans;
	st.pages_scanned = vm->merge.pages_scanned;
	st.cow_guest = atomic64_read(&vm->merge.cow_guest);
	st.cow_vmm = atomic64_read(&vm->merge.cow_vmm);
	mutex_unlock(&hvx_merge_mutex);
	return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
}

/* ---- sysfs: /sys/class/misc/hvx/merge/ ------------------------------------ */

static ssize_t run_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(merge_run));
}

/* 2 unmerges every VM now, like writing 2 to Linux KSM's run. */
static ssize_t run_store(struct device *dev, struct device_attribute *attr,
			 const char *buf, size_t count)
{
	struct hvx_vm *vm;
	unsigned int val;
	int ret = 0;

	if (kstrtouint(buf, 10, &val) || val > MERGE_UNMERGE)
		return -EINVAL;
	mutex_lock(&hvx_merge_mutex);
	WRITE_ONCE(merge_run, val);
	if (val == MERGE_UNMERGE) {
		list_for_each_entry(vm, &hvx_merge_vms, merge.link) {
			ret = merge_unmerge_vm(vm);
			if (ret)
				break;
		}
		candidates_clear_all();
	}
	mutex_unlock(&hvx_merge_mutex);
	wake_up(&hvx_merge_wait);
	return ret ?: count;
}
static DEVICE_ATTR_RW(run);

/* A numeric knob: @min..@max, or EINVAL; the scanner sees it next batch. */
#define MERGE_KNOB(name, var, min, max)					\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%u\n", READ_ONCE(var));			\
}									\
static ssize_t name##_store(struct device *dev,				\
			    struct device_attribute *attr,		\
			    const char *buf, size_t count)		\
{									\
	unsigned int val;						\
									\
	if (kstrtouint(buf, 10, &val) || val < (min) || val > (max))	\
		return -EINVAL;						\
	WRITE_ONCE(var, val);						\
	wake_up(&hvx_merge_wait);					\
	return count;							\
}									\
static DEVICE_ATTR_RW(name)

MERGE_KNOB(pages_to_scan, merge_pages_to_scan, 1, 1u << 20);
MERGE_KNOB(sleep_millisecs, merge_sleep_ms, 0, 3600000);

/* Figures summed over the VMs in the scanner's list. */
enum merge_figure { FIG_UNSHARED, FIG_VOLATILE };

static u64 merge_sum(enum merge_figure fig)
{
	struct hvx_vm *vm;
	u64 sum = 0;

	mutex_lock(&hvx_merge_mutex);
	list_for_each_entry(vm, &hvx_merge_vms, merge.link)
		sum += fig == FIG_UNSHARED ? vm->merge.pages_unshared :
					     vm->merge.pages_volatile;
	mutex_unlock(&hvx_merge_mutex);
	return sum;
}

/* Slots on the zero frame. */
static u64 merge_zero_sharers(void)
{
	u64 n;

	mutex_lock(&hvx_merge_mutex);
	n = hvx_zero_frame ? refcount_read(&hvx_zero_frame->sharers) : 0;
	mutex_unlock(&hvx_merge_mutex);
	return n;
}

#define MERGE_COUNTER(name, expr)					\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%llu\n", (unsigned long long)(expr));	\
}									\
static DEVICE_ATTR_RO(name)

/* Shared frames in use. */
MERGE_COUNTER(pages_shared, atomic64_read(&merge_nr_frames));
/* Slots mapping a shared frame beyond one per frame: host pages saved. */
MERGE_COUNTER(pages_sharing, max_t(s64, 0, atomic64_read(&merge_nr_sharers) -
					   atomic64_read(&merge_nr_frames)));
MERGE_COUNTER(pages_unshared, merge_sum(FIG_UNSHARED));
MERGE_COUNTER(pages_volatile, merge_sum(FIG_VOLATILE));
MERGE_COUNTER(full_scans, READ_ONCE(merge_full_scans));
MERGE_COUNTER(pages_scanned, READ_ONCE(merge_pages_scanned));
MERGE_COUNTER(zero_pages, merge_zero_sharers());

static struct attribute *hvx_merge_attrs[] = {
	&dev_attr_run.attr,
	&dev_attr_pages_to_scan.attr,
	&dev_attr_sleep_millisecs.attr,
	&dev_attr_pages_shared.attr,
	&dev_attr_pages_sharing.attr,
	&dev_attr_pages_unshared.attr,
	&dev_attr_pages_volatile.attr,
	&dev_attr_full_scans.attr,
	&dev_attr_pages_scanned.attr,
	&dev_attr_zero_pages.attr,
	NULL,
};

static const struct attribute_group hvx_merge_group = {
	.name = "merge",
	.attrs = hvx_merge_attrs,
};

const struct attribute_group *hvx_merge_groups[] = {
	&hvx_merge_group,
	NULL,
};

int hvx_merge_init(void)
{
	hvx_zero_hash = xxh64(page_address(ZERO_PAGE(0)), PAGE_SIZE, 0);
	hvx_merge_thread = kthread_run(hvx_merge_thread_fn, NULL, "hvx_merged");
	return PTR_ERR_OR_ZERO(hvx_merge_thread);
}

/* Module unload: no VM is left, so no frame is either. */
void hvx_merge_exit(void)
{
	kthread_stop(hvx_merge_thread);
}
