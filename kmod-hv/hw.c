// SPDX-License-Identifier: GPL-2.0
/* hw.c - switches VMX/SVM on every online CPU while VMs exist, hotplug aware. */
#include <linux/cpuhotplug.h>
#include <linux/mutex.h>
#include <linux/printk.h>

#include "hvx.h"

/*
 * Virtualization is enabled only while a VM exists, so that hvx.ko can sit
 * beside kvm_amd/kvm_intel (which on this kernel also enable per VM) and
 * each can be used in turn.  The first VM registers a dynamic CPU hotplug
 * state: the core runs our online callback on every online CPU now, and on
 * each CPU that comes online later; removing the state runs the offline
 * callback everywhere.  A failure on any CPU rolls back the others.
 */
static DEFINE_MUTEX(hvx_hw_lock);
static unsigned int hvx_nr_vms;
static int hvx_cpuhp_state;

static int hvx_cpu_online(unsigned int cpu)
{
	int ret = hvx_ops->cpu_enable();

	if (ret)
		pr_warn_ratelimited("hvx: cannot enable %s on CPU %u: %d%s\n",
				    hvx_ops->name, cpu, ret,
				    ret == -EBUSY ? " (in use by another hypervisor)" : "");
	return ret;
}

static int hvx_cpu_offline(unsigned int cpu)
{
	hvx_ops->cpu_disable();
	return 0;
}

int hvx_hw_get(void)
{
	int ret = 0;

	mutex_lock(&hvx_hw_lock);
	if (hvx_nr_vms >= hvx_max_vms) {
		ret = -ENOSPC;
		goto out;
	}
	if (!hvx_nr_vms) {
		ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "hvx/hw:online",
					hvx_cpu_online, hvx_cpu_offline);
		if (ret < 0)
			goto out;
		hvx_cpuhp_state = ret;
		ret = 0;
	}
	hvx_nr_vms++;
out:
	mutex_unlock(&hvx_hw_lock);
	return ret;
}

void hvx_hw_put(void)
{
	mutex_lock(&hvx_hw_lock);
	if (!--hvx_nr_vms)
		cpuhp_remove_state(hvx_cpuhp_state);
	mutex_unlock(&hvx_hw_lock);
}

unsigned int hvx_hw_nr_vms(void)
{
	return READ_ONCE(hvx_nr_vms);
}
