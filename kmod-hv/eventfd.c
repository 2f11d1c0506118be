// SPDX-License-Identifier: GPL-2.0
/* eventfd.c - ioeventfd (guest writes signal an eventfd in the kernel) and irqfd (an eventfd write injects an MSI). */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "hvx.h"

#define HVX_MAX_EVENTFDS	256

struct hvx_ioeventfd_entry {
	struct list_head link;
	u64 addr, datamatch;
	u32 len, flags;
	struct eventfd_ctx *ctx;
};

struct hvx_irqfd_entry {
	struct list_head link;
	struct hvx_vm *vm;
	struct eventfd_ctx *ctx;
	u64 msi_address;
	u32 msi_data;
	wait_queue_entry_t wait;
	poll_table pt;
	struct work_struct inject;
};

void hvx_eventfd_vm_init(struct hvx_vm *vm)
{
	mutex_init(&vm->eventfd_lock);
	INIT_LIST_HEAD(&vm->ioeventfds);
	INIT_LIST_HEAD(&vm->irqfds);
}

/* ---- ioeventfd ------------------------------------------------------------ */

static bool ioeventfd_same(const struct hvx_ioeventfd_entry *e,
			   const struct hvx_ioeventfd *req)
{
	return e->addr == req->addr && e->len == req->len &&
	       (e->flags & HVX_IOEVENTFD_PIO) == (req->flags & HVX_IOEVENTFD_PIO) &&
	       (e->flags & HVX_IOEVENTFD_DATAMATCH) ==
	       (req->flags & HVX_IOEVENTFD_DATAMATCH) &&
	       (!(e->flags & HVX_IOEVENTFD_DATAMATCH) || e->datamatch == req->datamatch);
}

int hvx_ioeventfd(struct hvx_vm *vm, const struct hvx_ioeventfd __user *argp)
{
	struct hvx_ioeventfd_entry *e, *found = NULL;
	struct hvx_ioeventfd req;
	struct eventfd_ctx *ctx;
	int ret = 0;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (memchr_inv(req.reserved, 0, sizeof(req.reserved)))
		return -EINVAL;
	if (req.reserved32 || req.flags & ~(HVX_IOEVENTFD_PIO | HVX_IOEVENTFD_DATAMATCH |
					    HVX_IOEVENTFD_DEASSIGN) ||
	    (req.len != 1 && req.len != 2 && req.len != 4 && req.len != 8) ||
	    req.addr + req.len < req.addr)
		return -EINVAL;
	if (req.flags & HVX_IOEVENTFD_PIO ? req.len == 8 || req.addr + req.len > 0x10000 :
	    req.addr + req.len > (1ull << HVX_MAX_GPA_BITS))
		return -EINVAL;

	mutex_lock(&vm->eventfd_lock);
	list_for_each_entry(e, &vm->ioeventfds, link)
		if (ioeventfd_same(e, &req))
			found = e;
	if (req.flags & HVX_IOEVENTFD_DEASSIGN) {
		if (found) {
			list_del(&found->link);
			vm->nr_ioeventfds--;
		}
		mutex_unlock(&vm->eventfd_lock);
		if (!found)
			return -ENOENT;
		eventfd_ctx_put(found->ctx);
		kfree(found);
		return 0;
	}
	if (found || vm->nr_ioeventfds >= HVX_MAX_EVENTFDS) {
		ret = found ? -EEXIST : -ENOSPC;
		goto unlock;
	}
	ctx = eventfd_ctx_fdget(req.fd);
	if (IS_ERR(ctx)) {
		ret = PTR_ERR(ctx);
		goto unlock;
	}
	e = kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e) {
		eventfd_ctx_put(ctx);
		ret = -ENOMEM;
		goto unlock;
	}
	e->addr = req.addr;
	e->len = req.len;
	e->flags = req.flags;
	e->datamatch = req.datamatch;
	e->ctx = ctx;
	list_add_tail(&e->link, &vm->ioeventfds);
	vm->nr_ioeventfds++;
unlock:
	mutex_unlock(&vm->eventfd_lock);
	return ret;
}

/*
 * A guest write of @len bytes of @val to port or address @addr: true if
 * an ioeventfd took it (the caller skips the instruction and goes on).
 */
bool hvx_ioeventfd_write(struct hvx_vm *vm, bool pio, u64 addr, u32 len, u64 val)
{
	struct hvx_ioeventfd_entry *e;
	bool hit = false;

	if (list_empty_careful(&vm->ioeventfds))
		return false;
	if (len < 8)
		val &= (1ull << (len * 8)) - 1;
	mutex_lock(&vm->eventfd_lock);
	list_for_each_entry(e, &vm->ioeventfds, link) {
		if (e->addr != addr || e->len != len ||
		    !(e->flags & HVX_IOEVENTFD_PIO) != !pio ||
		    (e->flags & HVX_IOEVENTFD_DATAMATCH && e->datamatch != val))
			continue;
		hvx_eventfd_signal(e->ctx);
		hit = true;
		break;
	}
	mutex_unlock(&vm->eventfd_lock);
	return hit;
}

/* ---- irqfd ------------------------------------------------------------------ */

/* Routing takes vm->lock, a mutex: the wakeup below cannot; a worker can. */
static void irqfd_inject(struct work_struct *work)
{
	struct hvx_irqfd_entry *irq = container_of(work, struct hvx_irqfd_entry, inject);

	hvx_deliver_msi(irq->vm, irq->msi_address, irq->msi_data, HVX_IRQ_IRQFD);
}

/* Called by the eventfd's wake-up, with its wait-queue lock held. */
static int irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode, int sync,
			void *key)
{
	struct hvx_irqfd_entry *irq = container_of(wait, struct hvx_irqfd_entry, wait);
	u64 cnt;

	if (key_to_poll(key) & EPOLLIN) {
		eventfd_ctx_do_read(irq->ctx, &cnt);
		schedule_work(&irq->inject);
	}
	return 0;
}

static void irqfd_queue_proc(struct file *file, wait_queue_head_t *wqh,
			     poll_table *pt)
{
	struct hvx_irqfd_entry *irq = container_of(pt, struct hvx_irqfd_entry, pt);

	add_wait_queue(wqh, &irq->wait);
}

static void irqfd_free(struct hvx_irqfd_entry *irq)
{
	u64 cnt;

	eventfd_ctx_remove_wait_queue(irq->ctx, &irq->wait, &cnt);
	cancel_work_sync(&irq->inject);
	eventfd_ctx_put(irq->ctx);
	kfree(irq);
}

static int irqfd_assign(struct hvx_vm *vm, const struct hvx_irqfd *req)
{
	struct hvx_irqfd_entry *irq, *e;
	struct file *file;
	__poll_t events;
	int ret;

	if (!READ_ONCE(vm->lapic_enabled))
		return -ENXIO;
	ret = hvx_check_msi(req->msi_address, req->msi_data);
	if (ret)
		return ret;
	file = fget(req->fd);
	if (!file)
		return -EBADF;
	irq = kzalloc(sizeof(*irq), GFP_KERNEL_ACCOUNT);
	if (!irq) {
		ret = -ENOMEM;
		goto put_file;
	}
	irq->vm = vm;
	irq->msi_address = req->msi_address;
	irq->msi_data = req->msi_data;
	INIT_WORK(&irq->inject, irqfd_inject);
	irq->ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(irq->ctx)) {
		ret = PTR_ERR(irq->ctx);
		kfree(irq);
		goto put_file;
	}

	mutex_lock(&vm->eventfd_lock);
	list_for_each_entry(e, &vm->irqfds, link)
		if (e->ctx == irq->ctx)
			ret = -EEXIST;
	if (!ret && vm->nr_irqfds >= HVX_MAX_EVENTFDS)
		ret = -ENOSPC;
	if (ret) {
		mutex_unlock(&vm->eventfd_lock);
		eventfd_ctx_put(irq->ctx);
		kfree(irq);
		goto put_file;
	}
	list_add_tail(&irq->link, &vm->irqfds);
	vm->nr_irqfds++;
	init_waitqueue_func_entry(&irq->wait, irqfd_wakeup);
	init_poll_funcptr(&irq->pt, irqfd_queue_proc);
	events = vfs_poll(file, &irq->pt);
	/* Written before it was bound: deliver that one too. */
	if (events & EPOLLIN) {
		u64 cnt;

		eventfd_ctx_do_read(irq->ctx, &cnt);
		schedule_work(&irq->inject);
	}
	mutex_unlock(&vm->eventfd_lock);
put_file:
	fput(file);
	return ret;
}

int hvx_irqfd(struct hvx_vm *vm, const struct hvx_irqfd __user *argp)
{
	struct hvx_irqfd_entry *e, *found = NULL;
	struct eventfd_ctx *ctx;
	struct hvx_irqfd req;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (memchr_inv(req.reserved, 0, sizeof(req.reserved)))
		return -EINVAL;
	if (req.reserved32 || req.flags & ~HVX_IRQFD_DEASSIGN)
		return -EINVAL;
	if (!(req.flags & HVX_IRQFD_DEASSIGN))
		return irqfd_assign(vm, &req);

	ctx = eventfd_ctx_fdget(req.fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	mutex_lock(&vm->eventfd_lock);
	list_for_each_entry(e, &vm->irqfds, link)
		if (e->ctx == ctx)
			found = e;
	if (found) {
		list_del(&found->link);
		vm->nr_irqfds--;
	}
	mutex_unlock(&vm->eventfd_lock);
	eventfd_ctx_put(ctx);
	if (!found)
		return -ENOENT;
	irqfd_free(found);
	return 0;
}

/* The VM is going away: no eventfd may reach it any more. */
void hvx_eventfd_vm_release(struct hvx_vm *vm)
{
	struct hvx_ioeventfd_entry *io, *io_next;
	struct hvx_irqfd_entry *irq, *irq_next;

	list_for_each_entry_safe(irq, irq_next, &vm->irqfds, link)
		irqfd_free(irq);
	list_for_each_entry_safe(io, io_next, &vm->ioeventfds, link) {
		eventfd_ctx_put(io->ctx);
		kfree(io);
	}
}
