// SPDX-License-Identifier: GPL-2.0
/* vm.c - the VM object, its file descriptor and VM-level ioctls. */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "hvx.h"

/*
 * The VM is freed when its file's last reference goes: every vCPU file
 * and every mapping of guest RAM holds one, so nothing can run or touch
 * guest memory by then.
 */
static int hvx_vm_release(struct inode *inode, struct file *file)
{
	struct hvx_vm *vm = file->private_data;

	hvx_eventfd_vm_release(vm);
	hvx_merge_vm_release(vm);
	tdp_destroy(vm);
	hvx_free_regions(vm);
	kfree(vm);
	hvx_hw_put();
	return 0;
}

static int hvx_get_vm_stats(struct hvx_vm *vm, struct hvx_vm_stats __user *argp)
{
	struct hvx_vm_stats st = {
		.pages_allocated = atomic64_read(&vm->pages_allocated),
		.tdp_table_pages = atomic64_read(&vm->tdp_table_pages),
		.tdp_faults = atomic64_read(&vm->tdp_faults),
		.mmio_exits = atomic64_read(&vm->mmio_exits),
		.irq_injections = atomic64_read(&vm->irq_injections),
		.nr_vcpus = READ_ONCE(vm->nr_vcpus),
	};

	return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
}

static long hvx_vm_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct hvx_vm *vm = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case HVX_SET_MEMORY_REGION:
		return hvx_set_memory_region(vm, argp);
	case HVX_CREATE_VCPU:
		return hvx_create_vcpu(vm, file, arg);
	case HVX_SET_MSR_POLICY:
		if (arg != HVX_MSR_POLICY_EXIT && arg != HVX_MSR_POLICY_GP)
			return -EINVAL;
		WRITE_ONCE(vm->msr_policy, arg);
		return 0;
	case HVX_GET_VM_STATS:
		return hvx_get_vm_stats(vm, argp);
	case HVX_SET_MERGE:
		return hvx_set_merge(vm, argp);
	case HVX_GET_MERGE_STATS:
		return hvx_get_merge_stats(vm, argp);
	case HVX_ENABLE_LAPIC:
		return hvx_enable_lapic(vm, arg);
	case HVX_SIGNAL_MSI:
		return hvx_signal_msi(vm, argp);
	case HVX_IOEVENTFD:
		return hvx_ioeventfd(vm, argp);
	case HVX_IRQFD:
		return hvx_irqfd(vm, argp);
	case HVX_GET_PAGE_BITMAP:
		return hvx_get_page_bitmap(vm, argp);
	case HVX_SET_DIRTY_LOG:
		return hvx_set_dirty_log(vm, argp);
	case HVX_GET_STATS_FD:
		return arg ? -EINVAL : hvx_vm_stats_fd(vm, file);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations hvx_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= hvx_vm_release,
	.unlocked_ioctl	= hvx_vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= hvx_vm_mmap,
	.llseek		= noop_llseek,
};

/*
 * A close-on-exec fd for a new anonymous file.  The caller installs it with
 * fd_install() once nothing can fail, so userspace never sees a half-made
 * object.
 */
int hvx_anon_fd(const char *name, const struct file_operations *fops,
		void *priv, struct file **filep)
{
	struct file *file;
	int fd = get_unused_fd_flags(O_CLOEXEC);

	if (fd < 0)
		return fd;
	file = anon_inode_getfile(name, fops, priv, O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	*filep = file;
	return fd;
}

int hvx_create_vm(unsigned long flags)
{
	struct hvx_vm *vm;
	int fd, ret;

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
	vm->creator = task_tgid_vnr(current);
	hvx_merge_vm_init(vm);
	hvx_eventfd_vm_init(vm);
	ret = tdp_init(vm);
	if (ret)
		goto free_vm;

	/*
	 * An inode of its own (the "secure" variant), not the inode all
	 * anonymous files share: hvx unmaps one VM's pages from the VMM
	 * through it.  The fd is live on return, so this comes last.
	 */
	fd = hvx_anon_inode_getfd_own_inode("hvx-vm", &hvx_vm_fops, vm,
					    O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto free_tdp;
	}
	return fd;

free_tdp:
	tdp_destroy(vm);
free_vm:
	kfree(vm);
put_hw:
	hvx_hw_put();
	return ret;
}
