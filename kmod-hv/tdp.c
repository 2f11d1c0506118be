// SPDX-License-Identifier: GPL-2.0
/* tdp.c - the second-level page table (EPT or NPT): one walker, vendor entry bits. */
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>

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
	mutex_init(&vm->tdp_lock);
	return tdp_alloc_table(vm, &vm->tdp_root) ? 0 : -ENOMEM;
}

/*
 * Map the 4 KiB guest frame at @gpa to @page.  Entries only ever go from
 * empty to present here, which needs no TLB flush: no CPU caches a
 * translation that was not present.
 */
int tdp_map(struct hvx_vm *vm, u64 gpa, struct page *page, bool writable)
{
	u64 *table = page_address(vm->tdp_root);
	struct page *child;
	int level;

	mutex_lock(&vm->tdp_lock);
	for (level = HVX_TDP_LEVELS; level > 1; level--) {
		u64 *entry = &table[tdp_index(gpa, level)];

		if (!*entry) {
			u64 *next = tdp_alloc_table(vm, &child);

			if (!next) {
				mutex_unlock(&vm->tdp_lock);
				return -ENOMEM;
			}
			WRITE_ONCE(*entry, hvx_ops->tdp_table(page_to_phys(child)));
		}
		table = __va(*entry & TDP_ADDR_MASK);
	}
	WRITE_ONCE(table[tdp_index(gpa, 1)],
		   hvx_ops->tdp_leaf(page_to_phys(page), writable));
	mutex_unlock(&vm->tdp_lock);
	return 0;
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
}
