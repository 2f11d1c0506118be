// SPDX-License-Identifier: GPL-2.0
/* main.c - module load/unload, vendor choice and the /dev/hvx device. */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "hvx.h"
#include "vmenter.h"

unsigned int hvx_max_vms = 256;
module_param_named(max_vms, hvx_max_vms, uint, 0444);
MODULE_PARM_DESC(max_vms, "Most VMs that may exist at once (1-65536, default 256)");

const struct hvx_vendor_ops *hvx_ops;
struct hvx_caps hvx_host_caps;

static int hvx_get_caps(struct hvx_caps __user *argp)
{
	struct hvx_caps caps;

	if (copy_from_user(&caps, argp, sizeof(caps)))
		return -EFAULT;
	if (caps.flags)
		return -EINVAL;
	if (memchr_inv(caps.reserved, 0, sizeof(caps.reserved)))
		return -EINVAL;

	caps = hvx_host_caps;
	caps.nr_vms = hvx_hw_nr_vms();
	if (copy_to_user(argp, &caps, sizeof(caps)))
		return -EFAULT;
	return 0;
}

static long hvx_dev_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	switch (cmd) {
	case HVX_GET_API_VERSION:
		return arg ? -EINVAL : HVX_API_VERSION;
	case HVX_GET_CAPS:
		return hvx_get_caps((struct hvx_caps __user *)arg);
	case HVX_CREATE_VM:
		return hvx_create_vm(arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations hvx_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= hvx_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/*
 * devtmpfs creates the node with this mode (root:root); the udev rule
 * shipped beside the module makes the group kvm, as for /dev/kvm.
 */
static struct miscdevice hvx_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "hvx",
	.fops	= &hvx_dev_fops,
	.mode	= 0660,
	.groups	= hvx_merge_groups,	/* /sys/class/misc/hvx/merge/ */
};

static const struct hvx_vendor_ops *const hvx_backends[] = {
	&hvx_vmx_ops,
	&hvx_svm_ops,
};

static int __init hvx_init(void)
{
	const char *why[ARRAY_SIZE(hvx_backends)];
	int i, ret;

	/* The world switches index hvx_vcpu.regs with these offsets. */
	BUILD_BUG_ON(HVX_GPR_RSI != HVX_RSI * 8 || HVX_GPR_R15 != HVX_R15 * 8);

	if (hvx_max_vms < 1 || hvx_max_vms > 65536) {
		pr_err("hvx: max_vms=%u is out of range 1-65536\n", hvx_max_vms);
		return -EINVAL;
	}

	for (i = 0; i < ARRAY_SIZE(hvx_backends); i++) {
		why[i] = "unknown";
		memset(&hvx_host_caps, 0, sizeof(hvx_host_caps));
		if (!hvx_backends[i]->probe(&hvx_host_caps, &why[i])) {
			hvx_ops = hvx_backends[i];
			break;
		}
	}
	if (!hvx_ops) {
		pr_err("hvx: no usable hardware virtualization: vmx: %s; svm: %s\n",
		       why[0], why[1]);
		return -ENODEV;
	}
	hvx_host_caps.max_vcpus = HVX_MAX_VCPUS;
	hvx_host_caps.max_vms = hvx_max_vms;
	hvx_host_caps.tdp_levels = HVX_TDP_LEVELS;

	ret = hvx_merge_init();
	if (ret)
		goto unload;
	ret = misc_register(&hvx_dev);
	if (ret) {
		pr_err("hvx: cannot register /dev/hvx: %d\n", ret);
		hvx_merge_exit();
		goto unload;
	}
	pr_info("hvx: %s with %s, %u TLB tags, features 0x%x\n",
		hvx_ops->name, hvx_ops->tdp_name, hvx_host_caps.nr_tlb_tags,
		hvx_host_caps.features);
	return 0;

unload:
	if (hvx_ops->unload)
		hvx_ops->unload();
	return ret;
}

/*
 * Every open /dev/hvx or VM file holds a module reference (fops owner), so
 * the module cannot go away while a VM exists: no hardware to switch off.
 */
static void __exit hvx_exit(void)
{
	misc_deregister(&hvx_dev);
	hvx_merge_exit();
	if (hvx_ops->unload)
		hvx_ops->unload();
}

module_init(hvx_init);
module_exit(hvx_exit);
MODULE_DESCRIPTION("hvx: a lean hypervisor for Intel VMX and AMD SVM");
MODULE_LICENSE("GPL");
