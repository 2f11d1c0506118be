// SPDX-License-Identifier: GPL-2.0
/* vm_test.c - VM fds: creation limits, lifetime, and hardware switched on only while VMs exist. */
#include <sys/resource.h>

#include "hvx_util.h"

#define MSR_EFER	0xc0000080
#define EFER_SVME	(1ull << 12)

/*
 * On SVM the msr driver shows EFER.SVME on each CPU: returns how many
 * online CPUs have it set, or -1 if MSRs cannot be read.
 */
static int cpus_with_svme(void)
{
	int cpu, n = 0, ncpu = host_nr_online_cpus();
	uint64_t efer;

	for (cpu = 0; cpu < ncpu; cpu++) {
		if (host_read_msr(cpu, MSR_EFER, &efer))
			return -1;
		n += !!(efer & EFER_SVME);
	}
	return n;
}

int main(void)
{
	struct hvx_caps caps;
	struct rlimit rl;
	int fd, vm, vm2, i, n, *vms;
	bool svm;

	fd = hvx_open_or_exit();
	hvx_get_caps(fd, &caps);
	svm = caps.vendor == HVX_VENDOR_AMD_SVM;
	ktap_plan(7);

	vm = ioctl(fd, HVX_CREATE_VM, 0);
	ktap_result(vm >= 0 && (fcntl(vm, F_GETFD) & FD_CLOEXEC),
		    "create_vm_returns_cloexec_fd");

	/* The VM outlives the /dev/hvx fd that made it. */
	close(fd);
	fd = hvx_open_or_exit();
	hvx_get_caps(fd, &caps);
	ktap_result(caps.nr_vms == 1, "vm_outlives_system_fd");
	vm2 = ioctl(fd, HVX_CREATE_VM, 0);
	hvx_get_caps(fd, &caps);
	ktap_result(vm2 >= 0 && caps.nr_vms == 2, "two_vms_at_once");
	close(vm2);

	if (svm && cpus_with_svme() >= 0) {
		int with_vm = cpus_with_svme();

		close(vm);
		ktap_result(with_vm == host_nr_online_cpus() && cpus_with_svme() == 0,
			    "svme_on_all_cpus_only_while_vm_exists");
	} else {
		close(vm);
		ktap_skip("svme_on_all_cpus_only_while_vm_exists",
			  svm ? "no /dev/cpu/N/msr" : "EFER.SVME is SVM only");
	}

	/* Fill up to max_vms; one more is ENOSPC; freeing one makes room. */
	rl.rlim_cur = rl.rlim_max = caps.max_vms + 64;
	setrlimit(RLIMIT_NOFILE, &rl);
	vms = calloc(caps.max_vms, sizeof(*vms));
	for (n = 0; n < (int)caps.max_vms; n++) {
		vms[n] = ioctl(fd, HVX_CREATE_VM, 0);
		if (vms[n] < 0)
			break;
	}
	ktap_result(n == (int)caps.max_vms, "create_up_to_max_vms");
	ktap_expect_errno("create_beyond_max_vms_enospc",
			  ioctl(fd, HVX_CREATE_VM, 0), ENOSPC);
	close(vms[0]);
	vms[0] = ioctl(fd, HVX_CREATE_VM, 0);
	ktap_result(vms[0] >= 0, "closing_a_vm_makes_room");
	for (i = 0; i < n; i++)
		close(vms[i]);
	free(vms);
	close(fd);
	return ktap_finish();
}
