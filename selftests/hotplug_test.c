// SPDX-License-Identifier: GPL-2.0
/* hotplug_test.c - CPUs going offline and online while a VM exists get VMX/SVM switched off and on. */
#include "hvx_util.h"

#define MSR_EFER	0xc0000080
#define EFER_SVME	(1ull << 12)

/* EFER.SVME of @cpu: 1, 0, or -1 when it cannot be read (not SVM, no msr). */
static int svme(int cpu)
{
	uint64_t efer;

	if (host_read_msr(cpu, MSR_EFER, &efer))
		return -1;
	return !!(efer & EFER_SVME);
}

int main(void)
{
	struct hvx_caps caps;
	int fd, vm, last;
	bool svm;

	fd = hvx_open_or_exit();
	if (host_nr_online_cpus() < 2 || host_set_cpu_online(1, true)) {
		printf("TAP version 13\n1..0 # SKIP needs a second hotpluggable CPU\n");
		return KSFT_SKIP;
	}
	hvx_get_caps(fd, &caps);
	svm = caps.vendor == HVX_VENDOR_AMD_SVM && svme(0) >= 0;
	last = host_nr_online_cpus() - 1;
	ktap_plan(5);

	vm = ioctl(fd, HVX_CREATE_VM, 0);
	ktap_result(vm >= 0, "create_vm");
	ktap_result(host_set_cpu_online(last, false) == 0, "offline_cpu_with_vm_alive");
	ktap_result(host_set_cpu_online(last, true) == 0, "online_cpu_with_vm_alive");
	if (svm)
		ktap_result(svme(last) == 1, "onlined_cpu_has_svme");
	else
		ktap_skip("onlined_cpu_has_svme", "EFER.SVME readable on SVM only");
	close(vm);

	/* With no VM left, a CPU cycled through offline/online stays off. */
	host_set_cpu_online(last, false);
	host_set_cpu_online(last, true);
	if (svm)
		ktap_result(svme(last) == 0 && svme(0) == 0, "no_svme_without_vm");
	else
		ktap_skip("no_svme_without_vm", "EFER.SVME readable on SVM only");
	close(fd);
	return ktap_finish();
}
