/* SPDX-License-Identifier: GPL-2.0 */
/* compat.h - the kernel interfaces hvx.ko uses that changed between Linux 6.1 and 6.12, behind one name each. */
#ifndef HVX_COMPAT_H
#define HVX_COMPAT_H

#include <linux/anon_inodes.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/version.h>

/*
 * Each shim is keyed on the release that changed the interface: these are
 * plain renames or signature changes with nothing to probe for at compile
 * time, and Debian's 6.1 and 6.12 (the kernels the suite runs) sit on either
 * side of every one of them.
 */

/*
 * vm_area_struct.vm_flags became read-only in 6.3; vm_flags_set() takes
 * the mmap lock assertion with it.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}
#endif

/* eventfd_signal() lost its always-1 count argument in 6.8. */
static inline void hvx_eventfd_signal(struct eventfd_ctx *ctx)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
	eventfd_signal(ctx, 1);
#else
	eventfd_signal(ctx);
#endif
}

/*
 * An anonymous file with an inode of its own rather than the one all
 * anonymous files share.  6.1 exports anon_inode_getfd_secure(); 6.8
 * renamed it anon_inode_create_getfd() and exports only the file
 * variant, anon_inode_create_getfile(), so the fd is made here.
 */
static inline int hvx_anon_inode_getfd_own_inode(const char *name,
						 const struct file_operations *fops,
						 void *priv, int flags)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
	return anon_inode_getfd_secure(name, fops, priv, flags, NULL);
#else
	struct file *file;
	int fd = get_unused_fd_flags(flags);

	if (fd < 0)
		return fd;
	file = anon_inode_create_getfile(name, fops, priv, flags, NULL);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	fd_install(fd, file);
	return fd;
#endif
}

#endif /* HVX_COMPAT_H */
