/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hvx.h - the complete ioctl ABI of /dev/hvx, shared by hvx.ko, hvx-run,
 * the tools and the selftests.
 *
 * Object model (the same shape as KVM's, with hvx's own names and numbers):
 *
 *   /dev/hvx            system fd: API version, capabilities, HVX_CREATE_VM
 *     -> VM fd          one virtual machine (anonymous inode "hvx-vm")
 *
 * Conventions for every ioctl:
 *   - an unknown request number, or a known number with a different
 *     argument size encoded in it, fails with ENOTTY;
 *   - an argument pointer that cannot be read or written fails with EFAULT;
 *   - a non-zero flags word or reserved field fails with EINVAL: every
 *     reserved field must be zero so that it can gain a meaning later
 *     without breaking old binaries.
 */
#ifndef _UAPI_LINUX_HVX_H
#define _UAPI_LINUX_HVX_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * HVX_API_VERSION is what HVX_GET_API_VERSION returns.  It only changes
 * if the ABI changes incompatibly; additions are found with HVX_GET_CAPS.
 */
#define HVX_API_VERSION		1

/* The ioctl "type" byte of every hvx request. */
#define HVXIO			0xB9

/* Values of hvx_caps.vendor: which hardware extension hvx.ko drives. */
#define HVX_VENDOR_INTEL_VMX	1
#define HVX_VENDOR_AMD_SVM	2

/* Bits of hvx_caps.features. */
/* Second-level address translation: Intel EPT or AMD NPT (required). */
#define HVX_FEAT_TDP			(1u << 0)
/* Tagged TLB: Intel VPID or AMD ASID; nr_tlb_tags tells how many. */
#define HVX_FEAT_TAGGED_TLB		(1u << 1)
/* Guests may run real mode and unpaged protected mode (VMX: unrestricted
 * guest; always true on SVM). */
#define HVX_FEAT_UNRESTRICTED_GUEST	(1u << 2)
/* The second-level tables can map 2 MiB pages. */
#define HVX_FEAT_TDP_2M			(1u << 3)
/* The second-level tables can map 1 GiB pages. */
#define HVX_FEAT_TDP_1G			(1u << 4)
/* The CPU reports the next instruction's address on an exit (SVM NRIPS;
 * always true on VMX, where the exit gives the instruction length). */
#define HVX_FEAT_NEXT_RIP		(1u << 5)
/* The CPU supplies the faulting instruction's bytes on a nested page
 * fault (SVM decode assists).  Never true on VMX. */
#define HVX_FEAT_DECODE_ASSISTS		(1u << 6)
/* The TLB can be flushed for one tag alone (SVM flush-by-ASID, VMX
 * single-context INVVPID). */
#define HVX_FEAT_FLUSH_BY_TAG		(1u << 7)

/* Every bit above; new bits are only ever added. */
#define HVX_FEAT_ALL			0xffu

/**
 * struct hvx_caps - what hvx.ko found on this host (HVX_GET_CAPS)
 * @flags:	in: must be 0.
 * @vendor:	out: HVX_VENDOR_INTEL_VMX or HVX_VENDOR_AMD_SVM.
 * @features:	out: HVX_FEAT_* bits available on every online CPU.
 * @nr_tlb_tags: out: VPIDs or ASIDs usable by guests (0 if no tagged TLB).
 * @max_vcpus:	out: most vCPUs one VM may have.
 * @max_vms:	out: most VMs that may exist at once (module parameter
 *		max_vms).
 * @nr_vms:	out: VMs that exist right now, in all processes.
 * @tdp_levels:	out: levels of the second-level page table (4).
 * @vmx_basic:	out: VMX only, the IA32_VMX_BASIC MSR (0x480); 0 on SVM.
 * @vmx_procbased2: out: VMX only, IA32_VMX_PROCBASED_CTLS2 (0x48b).
 * @vmx_ept_vpid_cap: out: VMX only, IA32_VMX_EPT_VPID_CAP (0x48c).
 * @svm_features: out: SVM only, CPUID Fn8000_000A EDX; 0 on VMX.
 * @svm_revision: out: SVM only, CPUID Fn8000_000A EAX (SVM revision).
 * @reserved:	in: must be 0; out: 0.
 *
 * The raw vendor words let a user see exactly what the hardware offers;
 * @features is what hvx will use.
 */
struct hvx_caps {
	__u32 flags;
	__u32 vendor;
	__u32 features;
	__u32 nr_tlb_tags;
	__u32 max_vcpus;
	__u32 max_vms;
	__u32 nr_vms;
	__u32 tdp_levels;
	__u64 vmx_basic;
	__u64 vmx_procbased2;
	__u64 vmx_ept_vpid_cap;
	__u32 svm_features;
	__u32 svm_revision;
	__u64 reserved[8];
};

/* ioctls on /dev/hvx */

/*
 * HVX_GET_API_VERSION: the argument must be 0 (EINVAL otherwise).
 * Returns HVX_API_VERSION.
 */
#define HVX_GET_API_VERSION	_IO(HVXIO, 0x00)

/* HVX_GET_CAPS: fills struct hvx_caps (see its @flags and @reserved). */
#define HVX_GET_CAPS		_IOWR(HVXIO, 0x01, struct hvx_caps)

/*
 * HVX_CREATE_VM: the argument is a flags word and must be 0 (EINVAL
 * otherwise).  Returns a new VM file descriptor (close-on-exec).
 * Hardware virtualization (VMXON / EFER.SVME) is switched on on every
 * online CPU while at least one VM exists, and off when the last VM is
 * closed; CPUs brought online meanwhile are switched on too.
 * Errors: ENOSPC when max_vms VMs exist; EBUSY when another hypervisor
 * (for instance KVM with a VM alive) holds VMX/SVM on some CPU; ENOMEM.
 */
#define HVX_CREATE_VM		_IO(HVXIO, 0x02)

#endif /* _UAPI_LINUX_HVX_H */
