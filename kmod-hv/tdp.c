// SPDX-License-Identifier: GPL-2.0
/* tdp.c - the second-level page table (EPT or NPT): one walker, vendor entry bits. */
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/smp.h>

#include "hvx.h"

#define TDP_ENTRIES		512
#define TDP_ADDR_MASK		GENMASK_ULL(51, 12)

/* Index into the table at @level (4 = root) for @gpa. */
static unsigned int tdp_index(u64 gpa, int level)
{
	return (gpa >> (PAGE_SHIFT + 9 * (level - 1))) & (TDP_ENTRIES - 1);
}

static u64 *tdp_alloc_table(struct hvx_vm *vm, struct page **pagep)
{
	struct page *page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);

	if (!page)
		return NULL;
	atomic64_inc(&vm->tdp_table_pages);
	if (pagep)
		*pagep = page;
	return page_address(page);
}

int tdp_init(struct hvx_vm *vm)
{
	mutex_init(&vm->mmu_lock);
	if (!zalloc_cpumask_var(&vm->in_guest, GFP_KERNEL_ACCOUNT))
		return -ENOMEM;
	if (tdp_alloc_table(vm, &vm->tdp_root))
		return 0;
	free_cpumask_var(vm->in_guest);
	return -ENOMEM;
}

/*
 * Map the 4 KiB guest frame at @gpa to @page.  Entries only ever go from
 * empty to present here, which needs no TLB flush: no CPU caches a
 * translation that was not present (tdp_unmap() empties them).
 */
int tdp_map(struct hvx_vm *vm, u64 gpa, struct page *page, bool writable)
{
	u64 *table = page_address(vm->tdp_root);
	struct page *child;
	int level;

	lockdep_assert_held(&vm->mmu_lock);
	for (level = HVX_TDP_LEVELS; level > 1; level--) {
		u64 *entry = &table[tdp_index(gpa, level)];

		if (!*entry) {
			if (!tdp_alloc_table(vm, &child))
				return -ENOMEM;
			WRITE_ONCE(*entry, hvx_ops->tdp_table(page_to_phys(child)));
		}
		table = __va(*entry & TDP_ADDR_MASK);
	}
	WRITE_ONCE(table[tdp_index(gpa, 1)],
		   hvx_ops->tdp_leaf(page_to_phys(page), writable));
	return 0;
}

/* The leaf entry for @gpa, or NULL where no table reaches it. */
static u64 *tdp_leaf_entry(struct hvx_vm *vm, u64 gpa)
{
	u64 *table = page_address(vm->tdp_root);
	int level;

	lockdep_assert_held(&vm->mmu_lock);
	for (level = HVX_TDP_LEVELS; level > 1; level--) {
		u64 entry = table[tdp_index(gpa, level)];

		if (!entry)
			return NULL;
		table = __va(entry & TDP_ADDR_MASK);
	}
	return &table[tdp_index(gpa, 1)];
}

/*
 * Empty the entry for the guest frame at @gpa.  True if it was present:
 * the caller must then flush (hvx_flush_guest_tlbs) before relying on it.
 */
bool tdp_unmap(struct hvx_vm *vm, u64 gpa)
{
	u64 *leaf = tdp_leaf_entry(vm, gpa);

	if (!leaf || !*leaf)
		return false;
	WRITE_ONCE(*leaf, 0);
	return true;
}

/*
 * Make the entry for @gpa read-only (bit 1 is W in an EPT entry and R/W in
 * an NPT one).  True if it was writable: the caller must then flush.
 */
bool tdp_write_protect(struct hvx_vm *vm, u64 gpa)
{
	u64 *leaf = tdp_leaf_entry(vm, gpa);

	if (!leaf || !(*leaf & BIT_ULL(1)))
		return false;
	WRITE_ONCE(*leaf, *leaf & ~BIT_ULL(1));
	return true;
}

/*
 * Second-level TLB shootdown.  A vCPU marks its CPU in vm->in_guest and
 * then reads tlb_gen with interrupts off right before entering; this side
 * bumps tlb_gen and then reads the mask.  Either the vCPU sees the new
 * generation and flushes its tag before entering, or its CPU is in the
 * mask and the IPI forces it out of the guest, to flush on re-entry.
 * When the IPIs have been handled no CPU can use a stale entry.
 */
static void hvx_tlb_kick(void *unused)
{
}

void hvx_flush_guest_tlbs(struct hvx_vm *vm)
{
	atomic64_inc(&vm->tlb_gen);
	smp_mb__after_atomic();
	preempt_disable();
	smp_call_function_many(vm->in_guest, hvx_tlb_kick, NULL, true);
	preempt_enable();
}

/*
 * Called by the backend with interrupts off right before entering the
 * guest on @cpu; true if the vCPU's second-level translations must be
 * flushed first.
 */
bool hvx_guest_mode_enter(struct hvx_vcpu *vcpu, int cpu)
{
	struct hvx_vm *vm = vcpu->vm;
	u64 gen;

	WRITE_ONCE(vcpu->guest_cpu, cpu);
	cpumask_set_cpu(cpu, vm->in_guest);
	smp_mb__after_atomic();
	gen = atomic64_read(&vm->tlb_gen);
	if (gen == vcpu->tlb_gen)
		return false;
	vcpu->tlb_gen = gen;
	return true;
}

void hvx_guest_mode_exit(struct hvx_vcpu *vcpu, int cpu)
{
	cpumask_clear_cpu(cpu, vcpu->vm->in_guest);
	WRITE_ONCE(vcpu->guest_cpu, -1);
}

static void tdp_free_table(u64 *table, int level)
{
	unsigned int i;

	if (level > 1)
		for (i = 0; i < TDP_ENTRIES; i++)
			if (table[i])
				tdp_free_table(__va(table[i] & TDP_ADDR_MASK),
					       level - 1);
	free_page((unsigned long)table);
}

/* Called when no vCPU of @vm can run any more. */
void tdp_destroy(struct hvx_vm *vm)
{
	if (vm->tdp_root)
		tdp_free_table(page_address(vm->tdp_root), HVX_TDP_LEVELS);
	vm->tdp_root = NULL;
	free_cpumask_var(vm->in_guest);
}
