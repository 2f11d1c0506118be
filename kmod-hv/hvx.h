/* SPDX-License-Identifier: GPL-2.0 */
/* hvx.h - declarations shared by the vendor-neutral core and the backends. */
#ifndef HVX_INTERNAL_H
#define HVX_INTERNAL_H

#include <linux/types.h>
#include <linux/hvx.h>

#define HVX_MAX_VCPUS		64
#define HVX_TDP_LEVELS		4

/*
 * struct hvx_vendor_ops - what a hardware backend (vmx/ or svm/) provides.
 * The core calls these and never asks which vendor it runs on.
 *
 * @name:	"vmx" or "svm", for messages.
 * @tdp_name:	"EPT" or "NPT", for messages.
 * @probe:	called once at module load on any CPU: decide whether this
 *		backend can run here and fill the vendor, features and raw
 *		fields of @caps.  On failure return -ENODEV and point *@why
 *		at a short reason for the one-line refusal message.
 * @cpu_enable:	switch hardware virtualization on for the calling CPU
 *		(preemption is off: it runs in that CPU's hotplug thread).
 *		-EBUSY if another hypervisor already holds it.
 * @cpu_disable: undo @cpu_enable on the calling CPU.
 */
struct hvx_vendor_ops {
	const char *name;
	const char *tdp_name;
	int (*probe)(struct hvx_caps *caps, const char **why);
	int (*cpu_enable)(void);
	void (*cpu_disable)(void);
};

extern const struct hvx_vendor_ops hvx_vmx_ops;
extern const struct hvx_vendor_ops hvx_svm_ops;

/* The backend chosen at load, and what it found (read-only after load). */
extern const struct hvx_vendor_ops *hvx_ops;
extern struct hvx_caps hvx_host_caps;
extern unsigned int hvx_max_vms;

/* hw.c: hardware virtualization is on while at least one VM exists. */
int hvx_hw_get(void);
void hvx_hw_put(void);
unsigned int hvx_hw_nr_vms(void);

/* vm.c */
int hvx_create_vm(unsigned long flags);

#endif /* HVX_INTERNAL_H */
