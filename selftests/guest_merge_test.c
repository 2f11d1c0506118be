// SPDX-License-Identifier: GPL-2.0
/* guest_merge_test.c - page merging: counters, host memory, copy-on-write views, policies, unmerge, teardown, stress. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "hvx_util.h"
#include "lib/guest.h"
#include "lib/hostmem.h"
#include "lib/merge.h"

#define MIB		(1ul << 20)
#define DATA_GPA	(1 * MIB)	/* above the payload layout */
#define WAIT_MS		60000

static uint8_t *data_page(struct guest_vm *vm, uint64_t n)
{
	return vm->mem + DATA_GPA + n * 4096;
}

/* Create @nr VMs of @mem bytes, each filled with content pages 0..@pages-1. */
static int make_vms(struct guest_vm *vms, int nr, uint64_t mem, uint64_t pages)
{
	uint64_t n;
	int i;

	for (i = 0; i < nr; i++) {
		if (guest_vm_create(&vms[i], mem))
			return -1;
		for (n = 0; n < pages; n++)
			merge_fill_page(data_page(&vms[i], n), n);
	}
	return 0;
}

static void destroy_vms(struct guest_vm *vms, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		guest_vm_destroy(&vms[i]);
}

static bool set_policy_all(struct guest_vm *vms, int nr, uint32_t policy)
{
	int i;

	for (i = 0; i < nr; i++)
		if (merge_set_policy(vms[i].fd, policy))
			return false;
	return true;
}

static bool content_intact(struct guest_vm *vm, uint64_t pages)
{
	uint64_t n;

	for (n = 0; n < pages; n++)
		if (merge_check_page(data_page(vm, n), n))
			return false;
	return true;
}

static void test_bad_arguments(void)
{
	struct hvx_merge_config cfg = { .policy = 4 };
	struct hvx_merge_stats st;
	struct guest_vm vm;

	if (guest_vm_create(&vm, MIB)) {
		ktap_result(false, "merge_bad_arguments");
		return;
	}
	ktap_expect_errno("merge_policy_out_of_range", ioctl(vm.fd, HVX_SET_MERGE, &cfg), EINVAL);
	cfg = (struct hvx_merge_config){ .policy = HVX_MERGE_ZERO, .flags = 1 };
	ktap_expect_errno("merge_flags_nonzero", ioctl(vm.fd, HVX_SET_MERGE, &cfg), EINVAL);
	cfg = (struct hvx_merge_config){ .policy = HVX_MERGE_ZERO, .reserved[2] = 1 };
	ktap_expect_errno("merge_reserved_nonzero", ioctl(vm.fd, HVX_SET_MERGE, &cfg), EINVAL);
	ktap_expect_errno("merge_config_bad_pointer", ioctl(vm.fd, HVX_SET_MERGE, NULL), EFAULT);
	ktap_expect_errno("merge_stats_bad_pointer",
			  ioctl(vm.fd, HVX_GET_MERGE_STATS, (void *)8), EFAULT);
	ktap_result(!merge_stats(vm.fd, &st) && st.policy == HVX_MERGE_OFF &&
		    !st.pages_merged, "merge_off_by_default");
	ktap_result(merge_write("run", "3") == -EINVAL &&
		    merge_write("pages_to_scan", "0") == -EINVAL &&
		    merge_write("sleep_millisecs", "soon") == -EINVAL &&
		    merge_write("pages_shared", "1") == -EACCES, "merge_sysfs_rejects_bad_values");
	guest_vm_destroy(&vm);
}

/* Run @p on a vCPU of @vm to its first ucall. */
static int start_peekpoke(struct guest_vm *vm, struct guest_vcpu *v)
{
	return guest_vcpu_create(vm, v, 0) || guest_load(v, MODE_LONG, PAYLOAD(peekpoke64)) ||
	       guest_run_to_ucall(v, NULL) != UCALL_SYNC ? -1 : 0;
}

/* One peekpoke64 step: op 0 reads (*val out), 1 writes *val at @gpa. */
static int peekpoke(struct guest_vcpu *v, int op, uint64_t gpa, uint64_t *val)
{
	struct hvx_regs r;

	if (guest_get_regs(v, &r))
		return -1;
	r.rsi = op;
	r.rdi = gpa;
	r.rdx = *val;
	if (guest_set_regs(v, &r) || guest_run_to_ucall(v, &r) != UCALL_SYNC)
		return -1;
	if (op == 0)
		*val = r.rbx;
	return 0;
}

/*
 * Four VMs with the same 1024 pages: 3072 pages saved, and the host's free
 * memory says so.  Then copy-on-write from the guest and from the VMM,
 * and unmerge-all.
 */
static void test_across_vms(void)
{
	const uint64_t pages = 1024, k = 17, j = 99;
	struct guest_vm vms[4];
	struct guest_vcpu v0, v1;
	struct hvx_merge_stats st[4];
	long free0, free1, free2, shared, sharing;
	uint64_t val, orig;
	bool ok;
	int i;

	if (make_vms(vms, 4, 8 * MIB, pages)) {
		ktap_result(false, "across_vms_setup");
		destroy_vms(vms, 4);
		return;
	}
	free0 = host_free_kb();
	ok = set_policy_all(vms, 4, HVX_MERGE_ACROSS_VMS) && !merge_tune(1, 1000, 1);
	sharing = merge_wait_for("pages_sharing", 3 * pages, WAIT_MS);
	shared = merge_read("pages_shared");
	free1 = host_free_kb();
	for (i = 0; i < 4; i++)
		ok = ok && !merge_stats(vms[i].fd, &st[i]) && st[i].pages_merged == pages &&
		     st[i].full_scans >= 2 && !st[i].zero_pages;
	ktap_diag("pages_shared %ld pages_sharing %ld full_scans %ld; free %ld -> %ld KiB",
		  shared, sharing, merge_read("full_scans"), free0, free1);
	ktap_result(ok && shared == (long)pages && sharing == 3 * (long)pages,
		    "across_vms_counters");
	/* 3072 pages are 12288 KiB; hashes and tree nodes cost a little. */
	ktap_result(free1 - free0 > 11000 && free1 - free0 < 13000, "across_vms_frees_host_memory");
	/* Reading merged pages through the mmap (as a save does) leaves them merged. */
	for (i = 0, ok = true; i < 4; i++)
		ok = ok && content_intact(&vms[i], pages) && !merge_stats(vms[i].fd, &st[i]) &&
		     st[i].pages_merged == pages && !st[i].cow_vmm;
	ktap_result(ok, "merged_content_read_without_unmerging");

	/* A guest write in VM 0 changes VM 0's view only. */
	ok = !start_peekpoke(&vms[0], &v0) && !start_peekpoke(&vms[1], &v1);
	orig = *(uint64_t *)data_page(&vms[0], k);
	val = 0x5eed5eed;
	ok = ok && !peekpoke(&v0, 1, DATA_GPA + k * 4096, &val) &&
	     *(uint64_t *)data_page(&vms[0], k) == 0x5eed5eed &&
	     !peekpoke(&v1, 0, DATA_GPA + k * 4096, &val) && val == orig;
	for (i = 1; i < 4; i++)
		ok = ok && *(uint64_t *)data_page(&vms[i], k) == orig &&
		     !merge_check_page(data_page(&vms[i], k), k);
	ok = ok && !merge_stats(vms[0].fd, &st[0]) && st[0].cow_guest >= 1;
	ktap_result(ok, "guest_write_copies_only_its_page");

	/* A VMM write through VM 1's mapping: VM 1's guest sees it, VM 0's does not. */
	orig = *(uint64_t *)data_page(&vms[1], j);
	*(uint64_t *)data_page(&vms[1], j) = 0xfeedf00d;
	ok = !peekpoke(&v1, 0, DATA_GPA + j * 4096, &val) && val == 0xfeedf00d &&
	     !peekpoke(&v0, 0, DATA_GPA + j * 4096, &val) && val == orig &&
	     !merge_check_page(data_page(&vms[2], j), j) &&
	     !merge_stats(vms[1].fd, &st[1]) && st[1].cow_vmm == 1;
	ktap_result(ok, "vmm_write_copies_only_its_page");
	guest_vcpu_destroy(&v0);
	guest_vcpu_destroy(&v1);

	/* run=2: every page private again, content kept, memory back in use. */
	ok = !merge_write("run", "2") && merge_read("pages_shared") == 0 &&
	     merge_read("pages_sharing") == 0;
	free2 = host_free_kb();
	for (i = 0; i < 4; i++)
		ok = ok && !merge_stats(vms[i].fd, &st[i]) && !st[i].pages_merged;
	ok = ok && content_intact(&vms[2], pages) && content_intact(&vms[3], pages);
	ktap_diag("after unmerge: free %ld KiB (merged %ld)", free2, free1);
	ktap_result(ok && free1 - free2 > 11000, "unmerge_all_restores_private_pages");
	destroy_vms(vms, 4);
	merge_write("run", "1");
}

/*
 * Each policy merges what it should: ZERO only zero pages, WITHIN_VM
 * duplicates inside the VM only, ACROSS_VMS with other ACROSS_VMS VMs.
 * Every VM: 16 zero pages, content 0..63 and again 0..63 (ACROSS: once).
 */
static void test_policies(void)
{
	static const uint32_t policy[4] = {
		HVX_MERGE_ZERO, HVX_MERGE_WITHIN_VM, HVX_MERGE_ACROSS_VMS, HVX_MERGE_ACROSS_VMS,
	};
	static const uint64_t want_merged[4] = { 16, 16 + 128, 16 + 64, 16 + 64 };
	struct hvx_merge_stats st[4];
	struct guest_vm vms[4];
	uint64_t n;
	long sharing, shared, zero;
	bool ok = true;
	int i;

	for (i = 0; i < 4; i++) {
		if (guest_vm_create(&vms[i], 4 * MIB)) {
			ok = false;
			break;
		}
		for (n = 0; n < 64; n++)
			merge_fill_page(data_page(&vms[i], n), n);
		for (n = 0; n < 64 && policy[i] != HVX_MERGE_ACROSS_VMS; n++)
			merge_fill_page(data_page(&vms[i], 64 + n), n);
		for (n = 0; n < 16; n++)
			ok = ok && !*data_page(&vms[i], 128 + n);	/* allocates a zero page */
		ok = ok && !merge_set_policy(vms[i].fd, policy[i]);
	}
	/*
	 * Frames: the zero frame (64 sharers), 64 inside the WITHIN_VM VM
	 * (2 each), 64 across the ACROSS_VMS pair (2 each): 63 + 64 + 64 saved.
	 */
	sharing = ok ? merge_wait_for("pages_sharing", 63 + 64 + 64, WAIT_MS) : -1;
	/* Two more passes: nothing else may merge. */
	n = merge_read("full_scans");
	merge_wait_for("full_scans", n + 2, WAIT_MS);
	sharing = merge_read("pages_sharing");
	shared = merge_read("pages_shared");
	zero = merge_read("zero_pages");
	for (i = 0; i < 4; i++) {
		ok = ok && !merge_stats(vms[i].fd, &st[i]) && st[i].policy == policy[i] &&
		     st[i].pages_merged == want_merged[i] && st[i].zero_pages == 16;
		ktap_diag("policy %u: merged %llu zero %llu unshared %llu volatile %llu",
			  policy[i], (unsigned long long)st[i].pages_merged,
			  (unsigned long long)st[i].zero_pages,
			  (unsigned long long)st[i].pages_unshared,
			  (unsigned long long)st[i].pages_volatile);
	}
	ktap_diag("pages_shared %ld pages_sharing %ld zero_pages %ld", shared, sharing, zero);
	ktap_result(ok && shared == 1 + 64 + 64 && sharing == 63 + 64 + 64 && zero == 64,
		    "policies_merge_what_they_allow");
	/* ZERO's content pages stayed private: 64 unshared (twice 0..63 is 128). */
	ktap_result(ok && st[0].pages_unshared == 128, "zero_policy_leaves_content_alone");

	/* Turning merging off unmerges the VM. */
	ok = ok && !merge_set_policy(vms[1].fd, HVX_MERGE_OFF) &&
	     !merge_stats(vms[1].fd, &st[1]) && !st[1].pages_merged &&
	     content_intact(&vms[1], 64) && merge_read("pages_shared") == 1 + 64;
	ktap_result(ok, "policy_off_unmerges_the_vm");
	destroy_vms(vms, 4);
}

/* VMs sharing frames go away in every order; nothing is left behind. */
static void test_destroy_orders(void)
{
	static const int order[3][3] = { { 0, 1, 2 }, { 2, 0, 1 }, { 1, 2, 0 } };
	struct guest_vm vms[3];
	long free0, free1, slab0, slab1;
	bool ok = true;
	int o, i, k;

	/* Warm up slab caches and page tables once, then measure. */
	free0 = host_free_kb();
	slab0 = host_slab_bytes();
	for (o = 0; o < 3; o++) {
		ok = ok && !make_vms(vms, 3, 2 * MIB, 128);
		for (i = 0; i < 3; i++)
			ok = ok && !*data_page(&vms[i], 200);	/* and a zero page */
		ok = ok && set_policy_all(vms, 3, HVX_MERGE_ACROSS_VMS) &&
		     merge_wait_for("pages_sharing", 2 * 128 + 2, WAIT_MS) == 2 * 128 + 2;
		for (i = 0; i < 3; i++) {
			guest_vm_destroy(&vms[order[o][i]]);
			for (k = i + 1; k < 3; k++)
				ok = ok && content_intact(&vms[order[o][k]], 128);
		}
		ok = ok && merge_read("pages_shared") == 0 && merge_read("pages_sharing") == 0 &&
		     merge_read("zero_pages") == 0;
	}
	free1 = host_free_kb();
	slab1 = host_slab_bytes();
	ktap_diag("free %ld -> %ld KiB, slab %ld -> %ld bytes", free0, free1, slab0, slab1);
	ktap_result(ok, "destroy_in_any_order_keeps_content");
	ktap_result(free0 - free1 < 1024 && slab1 - slab0 < 256 * 1024,
		    "destroy_in_any_order_leaks_nothing");
}

/* The stress test: a guest and the VMM rewrite merged pages while the scanner runs. */
struct stress_vm {
	struct guest_vm vm;
	struct guest_vcpu v;
	int guest_fail, vmm_fail;
	uint64_t guest_rounds, vmm_rounds;
	bool stop;
};

#define STRESS_PAGES	32
#define STRESS_ROUNDS	120
#define VMM_DATA	(DATA_GPA + STRESS_PAGES * 4096)

static void *stress_vmm(void *arg)
{
	struct stress_vm *s = arg;
	uint64_t r, i;

	for (r = 1; r <= STRESS_ROUNDS && !s->vmm_fail; r++) {
		for (i = 0; i < STRESS_PAGES * 512; i++) {
			uint64_t *q = (uint64_t *)(s->vm.mem + VMM_DATA) + i;

			if (*q != r - 1) {
				s->vmm_fail = 1;
				ktap_diag("VMM page %llu qword %llu: %llu, want %llu",
					  (unsigned long long)(i / 512),
					  (unsigned long long)(i % 512),
					  (unsigned long long)*q, (unsigned long long)(r - 1));
				break;
			}
			*q = r;
		}
		s->vmm_rounds = r;
		usleep(3000);
	}
	return NULL;
}

static void *stress_guest(void *arg)
{
	struct stress_vm *s = arg;
	struct hvx_regs r;
	int ret;

	if (guest_vcpu_create(&s->vm, &s->v, 0) || guest_load(&s->v, MODE_LONG,
							    PAYLOAD(merge_stress64)) ||
	    guest_get_regs(&s->v, &r)) {
		s->guest_fail = 1;
		return NULL;
	}
	r.rdi = DATA_GPA;
	r.rcx = STRESS_PAGES;
	r.r8 = STRESS_ROUNDS;
	guest_set_regs(&s->v, &r);
	while ((ret = guest_run_to_ucall(&s->v, &r)) == UCALL_SYNC) {
		s->guest_rounds++;
		usleep(3000);
	}
	if (ret != UCALL_DONE) {
		s->guest_fail = 1;
		ktap_diag("guest: ucall %#x page %llu found %llu", ret,
			  (unsigned long long)r.rbx, (unsigned long long)r.rdx);
	}
	guest_vcpu_destroy(&s->v);
	return NULL;
}

static void test_stress(void)
{
	struct stress_vm s[2] = {};
	pthread_t g[2], m[2];
	struct hvx_merge_stats st;
	uint64_t cow = 0, scanned0 = merge_read("pages_scanned");
	bool ok = !merge_tune(1, 64, 0);
	int i;

	for (i = 0; i < 2; i++) {
		ok = ok && !guest_vm_create(&s[i].vm, 4 * MIB) &&
		     !merge_set_policy(s[i].vm.fd, HVX_MERGE_ACROSS_VMS);
		/* The VMM's pages start as zero pages, as the guest's do. */
		memset(s[i].vm.mem + VMM_DATA, 0, STRESS_PAGES * 4096);
	}
	for (i = 0; ok && i < 2; i++) {
		pthread_create(&g[i], NULL, stress_guest, &s[i]);
		pthread_create(&m[i], NULL, stress_vmm, &s[i]);
	}
	for (i = 0; ok && i < 2; i++) {
		pthread_join(g[i], NULL);
		pthread_join(m[i], NULL);
		ok = !s[i].guest_fail && !s[i].vmm_fail && ok;
		ok = ok && !merge_stats(s[i].vm.fd, &st);
		cow += st.cow_guest + st.cow_vmm;
		ktap_diag("vm %d: %llu guest rounds, %llu VMM rounds, merged %llu, cow guest %llu vmm %llu",
			  i, (unsigned long long)s[i].guest_rounds,
			  (unsigned long long)s[i].vmm_rounds,
			  (unsigned long long)st.pages_merged, (unsigned long long)st.cow_guest,
			  (unsigned long long)st.cow_vmm);
	}
	ktap_diag("pages scanned meanwhile: %ld", merge_read("pages_scanned") - (long)scanned0);
	ktap_result(ok && s[0].guest_rounds == STRESS_ROUNDS && s[1].vmm_rounds == STRESS_ROUNDS,
		    "stress_no_corrupted_bytes");
	ktap_result(ok && cow > 0, "stress_merged_pages_were_written");
	for (i = 0; i < 2; i++)
		guest_vm_destroy(&s[i].vm);
}

int main(void)
{
	guest_require_vcpus();
	if (merge_read("run") < 0) {
		printf("TAP version 13\n1..0 # no %s\n", MERGE_SYSFS);
		return KSFT_FAIL;
	}
	ktap_plan(20);
	test_bad_arguments();
	merge_tune(1, 1000, 1);
	test_across_vms();
	test_policies();
	test_destroy_orders();
	test_stress();
	merge_tune(0, 100, 20);
	return ktap_finish();
}
