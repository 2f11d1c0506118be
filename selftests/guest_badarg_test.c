// SPDX-License-Identifier: GPL-2.0
/* guest_badarg_test.c - memory-region, vCPU and run ioctls reject bad arguments with a clear errno. */
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "hvx_util.h"
#include "lib/guest.h"

#define HVX_BOGUS_NR	_IO(HVXIO, 0x7e)

static int set_region(int vm, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size)
{
	struct hvx_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa, .size = size,
	};

	return ioctl(vm, HVX_SET_MEMORY_REGION, &r);
}

static void test_regions(int vm)
{
	struct hvx_memory_region r = { .slot = 1, .size = 4096, .guest_phys_addr = 1ull << 32 };
	void *p;

	ktap_expect_errno("region_unaligned_gpa_einval", set_region(vm, 1, 0, 0x100800, 4096), EINVAL);
	ktap_expect_errno("region_unaligned_size_einval", set_region(vm, 1, 0, 0x100000, 100), EINVAL);
	ktap_expect_errno("region_zero_size_einval", set_region(vm, 1, 0, 0x100000, 0), EINVAL);
	ktap_expect_errno("region_beyond_gpa_limit_einval",
			  set_region(vm, 1, 0, (1ull << 48) - 4096, 8192), EINVAL);
	ktap_expect_errno("region_wrapping_einval",
			  set_region(vm, 1, 0, ~0ull & ~4095ull, 8192), EINVAL);
	ktap_expect_errno("region_slot_out_of_range_einval",
			  set_region(vm, HVX_MAX_MEM_REGIONS, 0, 0x100000, 4096), EINVAL);
	ktap_expect_errno("region_unknown_flag_einval", set_region(vm, 1, 2, 0x100000, 4096), EINVAL);
	r.reserved[3] = 1;
	ktap_expect_errno("region_reserved_einval", ioctl(vm, HVX_SET_MEMORY_REGION, &r), EINVAL);
	ktap_expect_errno("region_null_efault", ioctl(vm, HVX_SET_MEMORY_REGION, NULL), EFAULT);
	ktap_result(set_region(vm, 0, 0, 0, 2 << 20) == 0, "region_valid_accepted");
	ktap_expect_errno("region_same_slot_eexist", set_region(vm, 0, 0, 4 << 20, 4096), EEXIST);
	ktap_expect_errno("region_overlap_eexist", set_region(vm, 1, 0, 1 << 20, 2 << 20), EEXIST);
	ktap_expect_errno("region_overlap_inside_eexist", set_region(vm, 1, 0, 8192, 4096), EEXIST);

	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, vm, 0);
	ktap_result(p == MAP_FAILED && errno == EINVAL, "mmap_private_einval");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, vm, 16 << 20);
	ktap_result(p == MAP_FAILED && errno == EINVAL, "mmap_outside_regions_einval");
	p = mmap(NULL, 4 << 20, PROT_READ, MAP_SHARED, vm, 0);
	ktap_result(p == MAP_FAILED && errno == EINVAL, "mmap_past_region_end_einval");
}

struct run_job {
	int fd, ret, err;
};

static void *run_thread(void *arg)
{
	struct run_job *job = arg;

	job->ret = ioctl(job->fd, HVX_RUN, 0);
	job->err = errno;
	return NULL;
}

static void test_vcpu(int vm_nomem, int vm, unsigned int max_vcpus)
{
	struct {
		struct hvx_cpuid hdr;
		struct hvx_cpuid_entry ent[1];
	} cpuid = { .hdr.nent = 1 };
	struct {
		struct hvx_msrs hdr;
		struct hvx_msr_entry ent[2];
	} msrs = { .hdr.nmsrs = 2 };
	struct hvx_sregs s, good;
	struct run_job job;
	int v, v2;
	void *p;

	ktap_expect_errno("vcpu_id_max_vcpus_einval", ioctl(vm, HVX_CREATE_VCPU, max_vcpus), EINVAL);
	ktap_expect_errno("vcpu_id_huge_einval", ioctl(vm, HVX_CREATE_VCPU, ~0ul), EINVAL);
	ktap_expect_errno("msr_policy_unknown_einval", ioctl(vm, HVX_SET_MSR_POLICY, 2), EINVAL);

	v = ioctl(vm_nomem, HVX_CREATE_VCPU, 0);
	ktap_expect_errno("run_before_memory_enoexec", ioctl(v, HVX_RUN, 0), ENOEXEC);
	close(v);

	v = ioctl(vm, HVX_CREATE_VCPU, 5);
	ktap_result(v >= 0, "vcpu_create_id_5");
	ktap_expect_errno("vcpu_duplicate_id_eexist", ioctl(vm, HVX_CREATE_VCPU, 5), EEXIST);
	ktap_expect_errno("run_nonzero_arg_einval", ioctl(v, HVX_RUN, 1), EINVAL);
	ktap_expect_errno("vcpu_unknown_ioctl_enotty", ioctl(v, HVX_BOGUS_NR, 0), ENOTTY);
	ktap_expect_errno("vcpu_rejects_vm_ioctl_enotty", ioctl(v, HVX_CREATE_VCPU, 1), ENOTTY);
	ktap_expect_errno("vm_rejects_vcpu_ioctl_enotty", ioctl(vm, HVX_RUN, 0), ENOTTY);
	ktap_expect_errno("get_regs_null_efault", ioctl(v, HVX_GET_REGS, NULL), EFAULT);
	ktap_expect_errno("set_sregs_null_efault", ioctl(v, HVX_SET_SREGS, NULL), EFAULT);

	ioctl(v, HVX_GET_SREGS, &good);
	s = good; s.reserved[0] = 1;
	ktap_expect_errno("sregs_reserved_einval", ioctl(v, HVX_SET_SREGS, &s), EINVAL);
	s = good; s.cr0 = 0x80000000;
	ktap_expect_errno("sregs_pg_without_pe_einval", ioctl(v, HVX_SET_SREGS, &s), EINVAL);
	s = good; s.cr0 = 0x20000011;
	ktap_expect_errno("sregs_nw_without_cd_einval", ioctl(v, HVX_SET_SREGS, &s), EINVAL);
	s = good; s.cr0 = 1ull << 32;
	ktap_expect_errno("sregs_cr0_high_bits_einval", ioctl(v, HVX_SET_SREGS, &s), EINVAL);
	s = good; s.cr4 = 1ull << 13;	/* VMXE */
	ktap_expect_errno("sregs_cr4_reserved_einval", ioctl(v, HVX_SET_SREGS, &s), EINVAL);
	s = good; s.efer = 1ull << 12;	/* SVME */
	ktap_expect_errno("sregs_efer_reserved_einval", ioctl(v, HVX_SET_SREGS, &s), EINVAL);
	s = good; s.efer = 0x100; s.cr0 = 0x80000011; s.cr4 = 0;
	ktap_expect_errno("sregs_long_mode_without_pae_einval", ioctl(v, HVX_SET_SREGS, &s), EINVAL);
	s = good; s.cr8 = 16;
	ktap_expect_errno("sregs_cr8_out_of_range_einval", ioctl(v, HVX_SET_SREGS, &s), EINVAL);

	cpuid.hdr.nent = HVX_MAX_CPUID_ENTRIES + 1;
	ktap_expect_errno("cpuid_too_many_e2big", ioctl(v, HVX_SET_CPUID, &cpuid), E2BIG);
	cpuid.hdr.nent = 1;
	cpuid.ent[0].flags = 2;
	ktap_expect_errno("cpuid_unknown_flag_einval", ioctl(v, HVX_SET_CPUID, &cpuid), EINVAL);
	cpuid.ent[0].flags = 0;
	cpuid.ent[0].reserved[1] = 1;
	ktap_expect_errno("cpuid_reserved_einval", ioctl(v, HVX_SET_CPUID, &cpuid), EINVAL);

	msrs.hdr.nmsrs = HVX_MAX_MSR_ENTRIES + 1;
	ktap_expect_errno("msrs_too_many_e2big", ioctl(v, HVX_GET_MSRS, &msrs), E2BIG);
	msrs.hdr.nmsrs = 2;
	msrs.ent[0].index = 0xc0000082;
	msrs.ent[0].reserved = 1;
	ktap_expect_errno("msrs_reserved_einval", ioctl(v, HVX_SET_MSRS, &msrs), EINVAL);
	msrs.ent[0].reserved = 0;
	msrs.ent[1].index = 0x40001234;		/* not kept by hvx: stops there */
	ktap_result(ioctl(v, HVX_GET_MSRS, &msrs) == 1, "msrs_stop_at_unknown");
	msrs.ent[0].index = 0xc0000080;		/* EFER with a reserved bit */
	msrs.ent[0].data = 1ull << 20;
	ktap_result(ioctl(v, HVX_SET_MSRS, &msrs) == 0, "msrs_bad_efer_value_refused");

	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, v, 4096 * 2);
	ktap_result(p == MAP_FAILED && errno == EINVAL, "vcpu_mmap_offset_einval");
	p = mmap(NULL, HVX_RUN_MMAP_SIZE + 4096, PROT_READ, MAP_SHARED, v, 0);
	ktap_result(p == MAP_FAILED && errno == EINVAL, "vcpu_mmap_too_big_einval");

	/* A vCPU in RUN: a second RUN on it from another thread is EBUSY. */
	v2 = ioctl(vm, HVX_CREATE_VCPU, 6);
	{
		struct guest_vm gvm = { .fd = vm };
		struct guest_vcpu gv = { .vm = &gvm, .fd = v2 };
		pthread_t th;

		gv.run = mmap(NULL, HVX_RUN_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, v2, 0);
		gvm.mem = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, vm, 0);
		gvm.mem_size = 2 << 20;
		guest_load(&gv, MODE_LONG, PAYLOAD(loop64));
		job.fd = v2;
		pthread_create(&th, NULL, run_thread, &job);
		usleep(100000);
		ktap_expect_errno("concurrent_run_ebusy", ioctl(v2, HVX_RUN, 0), EBUSY);
		gv.run->immediate_exit = 1;
		pthread_kill(th, SIGUSR1);
		pthread_join(th, NULL);
		munmap(gv.run, HVX_RUN_MMAP_SIZE);
		munmap(gvm.mem, 2 << 20);
	}
	close(v2);
	close(v);
}

static void on_usr1(int sig)
{
	(void)sig;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct hvx_caps caps;
	int sys, vm, vm_nomem;

	guest_require_vcpus();
	sigaction(SIGUSR1, &sa, NULL);
	sys = hvx_open_or_exit();
	hvx_get_caps(sys, &caps);
	vm = ioctl(sys, HVX_CREATE_VM, 0);
	vm_nomem = ioctl(sys, HVX_CREATE_VM, 0);
	ktap_plan(16 + 30);
	test_regions(vm);
	test_vcpu(vm_nomem, vm, caps.max_vcpus);
	close(vm_nomem);
	close(vm);
	close(sys);
	return ktap_finish();
}
