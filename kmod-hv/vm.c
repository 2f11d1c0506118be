// SPDX-License-Identifier: GPL-2.0
/* vm.c - the VM object and its file descriptor. */
#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "hvx.h"

/*
 * One virtual machine.  For now it only holds the reference that keeps
 * hardware virtualization on; memory regions and vCPUs hang off it as
 * they are added to the ABI.
 */
struct hvx_vm {
	struct mutex lock;
};

static int hvx_vm_release(struct inode *inode, struct file *file)
{
	struct hvx_vm *vm = file->private_data;

	kfree(vm);
	hvx_hw_put();
	return 0;
}

static long hvx_vm_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	/* No VM-level requests exist in API version 1 yet. */
	return -ENOTTY;
}

static const struct file_operations hvx_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= hvx_vm_release,
	.unlocked_ioctl	= hvx_vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

int hvx_create_vm(unsigned long flags)
{
	struct hvx_vm *vm;
	int ret;

	if (flags)
		return -EINVAL;

	ret = hvx_hw_get();
	if (ret)
		return ret;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm) {
		ret = -ENOMEM;
		goto put_hw;
	}
	mutex_init(&vm->lock);

	ret = anon_inode_getfd("hvx-vm", &hvx_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (ret < 0)
		goto free_vm;
	return ret;

free_vm:
	kfree(vm);
put_hw:
	hvx_hw_put();
	return ret;
}
