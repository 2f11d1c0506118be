/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hvx.h - the complete ioctl ABI of /dev/hvx, shared by hvx.ko, hvx-run,
 * the tools and the selftests.
 *
 * Object model (the same shape as KVM's, with hvx's own names and numbers):
 *
 *   /dev/hvx            system fd: API version, capabilities, HVX_CREATE_VM
 *     -> VM fd          one virtual machine (anonymous inode "hvx-vm"):
 *                       guest memory regions, HVX_CREATE_VCPU; mmap of
 *                       the VM fd at offset = guest physical address
 *                       shows guest memory to the VMM
 *       -> vCPU fd      one virtual CPU (anonymous inode "hvx-vcpu"):
 *                       HVX_RUN, registers, CPUID, MSRs; mmap of the
 *                       vCPU fd shows struct hvx_run
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

/*
 * ---------------------------------------------------------------------
 * VM fd: guest memory
 * ---------------------------------------------------------------------
 *
 * Guest RAM belongs to hvx: pages are allocated on first touch (by the
 * guest or by the VMM), charged to the memory cgroup of the task that
 * touches them, and freed when the VM goes away.  The VMM sees a region
 * by mmap()ing the VM fd with MAP_SHARED at offset = guest_phys_addr
 * (any length inside the region).  Regions are added once and live as
 * long as the VM: in API version 1 they cannot be moved or removed.
 */
#define HVX_MAX_MEM_REGIONS	32

/* hvx_memory_region.flags */
#define HVX_MEM_READONLY	(1u << 0)	/* guest writes exit as MMIO */

/**
 * struct hvx_memory_region - HVX_SET_MEMORY_REGION argument
 * @slot:	0..HVX_MAX_MEM_REGIONS-1, unused so far (EEXIST otherwise).
 * @flags:	HVX_MEM_* bits; others EINVAL.
 * @guest_phys_addr: page aligned; the region must not overlap another
 *		(EEXIST) and must end at or below 2^HVX_MAX_GPA_BITS.
 * @size:	page aligned, non-zero.
 * @reserved:	must be 0.
 */
struct hvx_memory_region {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 size;
	__u64 reserved[4];
};

/* Guest physical addresses are below 2^48 (4-level EPT/NPT). */
#define HVX_MAX_GPA_BITS	48

/**
 * struct hvx_vm_stats - HVX_GET_VM_STATS result
 * @pages_allocated: guest pages hvx has allocated so far (4 KiB each).
 * @tdp_table_pages: pages in the second-level (EPT/NPT) tables.
 * @tdp_faults:	second-level faults that mapped a page.
 * @mmio_exits:	second-level faults outside any region (MMIO).
 * @nr_vcpus:	vCPUs created.
 * @irq_injections: interrupts the in-kernel local APICs injected.
 * @reserved:	0.
 */
struct hvx_vm_stats {
	__u64 pages_allocated;
	__u64 tdp_table_pages;
	__u64 tdp_faults;
	__u64 mmio_exits;
	__u32 nr_vcpus;
	__u32 reserved32;
	__u64 irq_injections;
	__u64 reserved[7];
};

/*
 * HVX_GET_PAGE_BITMAP: which pages of a region hvx has allocated, so that
 * a VMM saving guest RAM reads only those (reading a page through the mmap
 * allocates it).  Pages on a shared (merged) frame count as allocated, and
 * reading them through the mmap maps the shared frame: it does not unmerge.
 */
#define HVX_BITMAP_ALLOCATED	0
/*
 * ... or which pages the guest wrote since logging began or since the
 * last HVX_BITMAP_DIRTY call for them, which clears their bits and makes
 * the next guest write to each fault again (get and clear in one call).
 * Needs HVX_SET_DIRTY_LOG on the region (ENOENT without).  Counted are
 * the guest's writes and what hvx.ko writes for it (string I/O, MMIO
 * emulation), not the VMM's own writes through the mmap: a VMM that
 * writes guest memory (device DMA) tracks those pages itself, as with KVM.
 */
#define HVX_BITMAP_DIRTY	1

/**
 * struct hvx_page_bitmap - HVX_GET_PAGE_BITMAP argument
 * @slot:	a region's slot (ENOENT if none).
 * @kind:	HVX_BITMAP_ALLOCATED or HVX_BITMAP_DIRTY; others EINVAL.
 * @first_page:	page index inside the region, a multiple of 64.
 * @nr_pages:	pages to report, non-zero; first_page + nr_pages must not
 *		pass the region's end.
 * @bitmap:	user pointer to (nr_pages + 63) / 64 64-bit words; bit i of
 *		word w is page first_page + 64 * w + i.
 * @reserved:	0.
 */
struct hvx_page_bitmap {
	__u32 slot;
	__u32 kind;
	__u64 first_page;
	__u64 nr_pages;
	__u64 bitmap;
	__u64 reserved[4];
};

/* MSR policy for MSRs hvx does not handle itself (HVX_SET_MSR_POLICY). */
#define HVX_MSR_POLICY_EXIT	0	/* exit with HVX_EXIT_MSR (default) */
#define HVX_MSR_POLICY_GP	1	/* inject #GP, as hardware would */

/* ioctls on a VM fd */

/* Adds a region of guest RAM; see struct hvx_memory_region. */
#define HVX_SET_MEMORY_REGION	_IOW(HVXIO, 0x10, struct hvx_memory_region)
/*
 * HVX_CREATE_VCPU: the argument is the vCPU id, 0..max_vcpus-1 (EINVAL
 * otherwise; EEXIST if taken).  Returns a vCPU fd (close-on-exec).
 */
#define HVX_CREATE_VCPU		_IO(HVXIO, 0x11)
/* HVX_SET_MSR_POLICY: the argument is HVX_MSR_POLICY_*; others EINVAL. */
#define HVX_SET_MSR_POLICY	_IO(HVXIO, 0x12)
/* HVX_GET_VM_STATS: fills struct hvx_vm_stats. */
#define HVX_GET_VM_STATS	_IOR(HVXIO, 0x13, struct hvx_vm_stats)
/* HVX_GET_PAGE_BITMAP: see struct hvx_page_bitmap. */
#define HVX_GET_PAGE_BITMAP	_IOW(HVXIO, 0x1a, struct hvx_page_bitmap)

/* hvx_dirty_log.flags */
#define HVX_DIRTY_LOG_ON	(1u << 0)

/**
 * struct hvx_dirty_log - HVX_SET_DIRTY_LOG argument: dirty-page logging
 * @slot:	a region's slot (ENOENT if none); not a read-only region
 *		(EINVAL: the guest cannot write it).
 * @flags:	HVX_DIRTY_LOG_ON starts logging (the region's second-level
 *		entries become read-only, so that each page's first write
 *		faults and is logged; all bits start clear); 0 stops it and
 *		drops the log.  Starting twice is EEXIST, stopping when off
 *		ENOENT.  Other bits EINVAL.
 * @reserved:	0.
 */
struct hvx_dirty_log {
	__u32 slot;
	__u32 flags;
	__u64 reserved[3];
};

#define HVX_SET_DIRTY_LOG	_IOW(HVXIO, 0x1b, struct hvx_dirty_log)

/*
 * Page merging (KSM-style, inside hvx.ko).  A merge-enabled VM's pages are
 * scanned by the kernel thread "hvx_merged"; a page whose xxhash did not
 * change between two passes is merged with identical pages into one
 * read-only frame, and the first write to it (guest, VMM through the mmap,
 * or hvx itself) gets a private copy.  The scanner is driven from sysfs,
 * /sys/class/misc/hvx/merge/, in Linux KSM's words: run (0 stop, 1 merge,
 * 2 stop and unmerge everything), pages_to_scan, sleep_millisecs, and the
 * read-only pages_shared, pages_sharing, pages_unshared, pages_volatile,
 * full_scans, zero_pages and pages_scanned.
 *
 * The policy decides which pages a VM's page may share a frame with:
 */
#define HVX_MERGE_OFF		0	/* none; unmerges the VM (default) */
#define HVX_MERGE_ZERO		1	/* zero-filled pages only */
#define HVX_MERGE_WITHIN_VM	2	/* any content, inside this VM only */
#define HVX_MERGE_ACROSS_VMS	3	/* any content, with every VM whose
					 * policy is ACROSS_VMS too.  Merging
					 * across VMs lets one guest learn by
					 * timing its writes whether another
					 * holds a given page: a side channel
					 * the operator opts into. */
/*
 * Zero-filled pages of every policy share one frame: a guest learns
 * nothing about other VMs from it.
 */

/**
 * struct hvx_merge_config - HVX_SET_MERGE argument
 * @policy:	HVX_MERGE_*.  Leaving a policy for another first unmerges
 *		the VM's pages (ENOMEM if the copies cannot be allocated;
 *		the old policy then stays).
 * @flags:	0.
 * @reserved:	0.
 */
struct hvx_merge_config {
	__u32 policy;
	__u32 flags;
	__u64 reserved[3];
};

/**
 * struct hvx_merge_stats - HVX_GET_MERGE_STATS result, for one VM
 * @policy:	the VM's HVX_MERGE_* policy.
 * @pages_merged: the VM's guest pages that are backed by a shared frame
 *		now (zero pages included): host pages this VM does not own.
 * @zero_pages:	of @pages_merged, those on the zero frame.
 * @pages_unshared: pages unchanged between the last two passes that no
 *		identical page was found for (last complete pass).
 * @pages_volatile: pages whose content changed between the last two
 *		passes, too busy to merge (last complete pass).
 * @full_scans:	complete passes over this VM's memory.
 * @pages_scanned: pages the scanner has looked at in this VM.
 * @cow_guest:	private copies made for guest writes.
 * @cow_vmm:	private copies made for writes by the VMM or hvx itself.
 * @reserved:	0.
 */
struct hvx_merge_stats {
	__u32 policy;
	__u32 reserved32;
	__u64 pages_merged;
	__u64 zero_pages;
	__u64 pages_unshared;
	__u64 pages_volatile;
	__u64 full_scans;
	__u64 pages_scanned;
	__u64 cow_guest;
	__u64 cow_vmm;
	__u64 reserved[7];
};

/* HVX_SET_MERGE: see struct hvx_merge_config. */
#define HVX_SET_MERGE		_IOW(HVXIO, 0x14, struct hvx_merge_config)
/* HVX_GET_MERGE_STATS: fills struct hvx_merge_stats. */
#define HVX_GET_MERGE_STATS	_IOR(HVXIO, 0x15, struct hvx_merge_stats)

/*
 * Interrupt controllers: the split between hvx.ko and the VMM.
 *
 * hvx.ko (HVX_ENABLE_LAPIC): each vCPU's local APIC, in xAPIC mode at its
 * APIC base (0xfee00000 unless the guest moves it; guest accesses to that
 * page never reach the VMM), with its timer (one-shot and periodic; the
 * timer counts a 1 GHz bus clock before the divider; no TSC-deadline mode,
 * no x2APIC), inter-processor interrupts, and interrupt delivery into
 * the guest.  HLT then waits inside the kernel until an interrupt can be
 * taken; a HLT with interrupts disabled (RFLAGS.IF = 0), which nothing
 * but an NMI could end, exits with HVX_EXIT_HLT.  vCPUs other than 0 start
 * parked, as application processors do: HVX_RUN waits until another vCPU
 * sends them INIT and a start-up IPI, then runs them in real mode at the
 * SIPI vector's page.
 *
 * The VMM: the I/O APIC, PIC, PIT, RTC and the devices.  These run rarely
 * (the PIT only while Linux calibrates its clocks, the I/O APIC when a
 * device interrupts) while the local APIC is touched on every timer tick,
 * interrupt and IPI: it is the one on the hot path.  The VMM's I/O APIC
 * raises interrupts with HVX_SIGNAL_MSI, formatting its redirection entry
 * as an MSI.  There is no ExtINT (8259) delivery: guests find the I/O
 * APIC through an MP table or ACPI MADT.
 */

/* HVX_ENABLE_LAPIC: argument 0; before the first vCPU (EBUSY after). */
#define HVX_ENABLE_LAPIC	_IO(HVXIO, 0x16)

/**
 * struct hvx_msi - HVX_SIGNAL_MSI argument: one message-signalled interrupt
 * @address:	0xfeeXXXXX: destination APIC ID in bits 19:12, destination
 *		mode in bit 2 (1 logical), as on the bus.
 * @data:	vector in bits 7:0, delivery mode in bits 10:8 (fixed 0 or
 *		lowest priority 1; others EINVAL), trigger mode in bit 15
 *		(level-triggered interrupts are delivered as edge: there
 *		is no EOI message back to the VMM's I/O APIC).
 * @flags:	0.
 * @reserved:	0.
 *
 * Returns how many local APICs accepted it (0 if none matched); ENXIO
 * without HVX_ENABLE_LAPIC.  Any thread may call it: a vCPU waiting in HLT
 * is woken, one in the guest is interrupted to take it.
 */
struct hvx_msi {
	__u64 address;
	__u32 data;
	__u32 flags;
	__u64 reserved[2];
};

#define HVX_SIGNAL_MSI		_IOW(HVXIO, 0x17, struct hvx_msi)

/*
 * Eventfds: device threads and vCPUs run in parallel.
 *
 * HVX_IOEVENTFD: a guest write to a port or MMIO address (a virtio queue
 * notify register, say) signals an eventfd inside the kernel and the guest
 * goes on, without an exit to the vCPU thread.
 */
#define HVX_IOEVENTFD_PIO	(1u << 0)	/* @addr is a port, else MMIO */
#define HVX_IOEVENTFD_DATAMATCH	(1u << 1)	/* only writes of @datamatch */
#define HVX_IOEVENTFD_DEASSIGN	(1u << 2)	/* remove the matching entry */

/**
 * struct hvx_ioeventfd - HVX_IOEVENTFD argument
 * @addr:	port (below 0x10000) or guest physical address.
 * @len:	access size that matches: 1, 2, 4 or 8 (8: MMIO only).
 * @fd:		an eventfd.
 * @flags:	HVX_IOEVENTFD_*.
 * @datamatch:	with HVX_IOEVENTFD_DATAMATCH, the value written.
 * @reserved:	0.
 *
 * EEXIST for a second entry with the same address, length and data match;
 * ENOENT when a DEASSIGN finds none; ENOSPC past 256 entries per VM.
 */
struct hvx_ioeventfd {
	__u64 addr;
	__u32 len;
	__s32 fd;
	__u32 flags;
	__u32 reserved32;
	__u64 datamatch;
	__u64 reserved[2];
};

#define HVX_IOEVENTFD		_IOW(HVXIO, 0x18, struct hvx_ioeventfd)

/*
 * HVX_IRQFD: each write to the eventfd @fd (by any thread or process)
 * delivers the MSI @msi_address/@msi_data to the in-kernel local APICs, as
 * HVX_SIGNAL_MSI would.  Needs HVX_ENABLE_LAPIC.
 */
#define HVX_IRQFD_DEASSIGN	(1u << 0)

/**
 * struct hvx_irqfd - HVX_IRQFD argument
 * @fd:		an eventfd.
 * @flags:	HVX_IRQFD_DEASSIGN to remove the binding of @fd.
 * @msi_address, @msi_data: the MSI, as in struct hvx_msi.
 * @reserved:	0.
 *
 * EEXIST if @fd is bound already; ENOENT when a DEASSIGN finds no binding;
 * ENXIO without the local APIC; ENOSPC past 256 bindings per VM.
 */
struct hvx_irqfd {
	__s32 fd;
	__u32 flags;
	__u64 msi_address;
	__u32 msi_data;
	__u32 reserved32;
	__u64 reserved[2];
};

#define HVX_IRQFD		_IOW(HVXIO, 0x19, struct hvx_irqfd)

/*
 * ---------------------------------------------------------------------
 * vCPU fd
 * ---------------------------------------------------------------------
 */

/* General registers (HVX_GET_REGS / HVX_SET_REGS). */
struct hvx_regs {
	__u64 rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	__u64 r8, r9, r10, r11, r12, r13, r14, r15;
	__u64 rip, rflags;
};

/*
 * A segment register, in the unpacked form of the descriptor:
 * @type (4 bits), @s (1 = code/data), @dpl, @present, @avl, @l (64-bit
 * code), @db (default size), @g (granularity), and @unusable (a null
 * selector loaded in protected mode).  @limit is the expanded byte limit.
 */
struct hvx_segment {
	__u64 base;
	__u32 limit;
	__u16 selector;
	__u8 type;
	__u8 present, dpl, db, s, l, g, avl;
	__u8 unusable;
	__u8 padding;
};

/* GDTR or IDTR. */
struct hvx_dtable {
	__u64 base;
	__u16 limit;
	__u16 padding[3];
};

/*
 * Special registers (HVX_GET_SREGS / HVX_SET_SREGS).  SET checks what the
 * hardware would refuse to enter with (EINVAL): CR0.PG without CR0.PE,
 * CR0.NW without CR0.CD, reserved CR0/CR4/EFER bits, EFER.LME with paging
 * on but CR4.PAE off.  EFER.LMA is derived, not taken.
 * @reserved must be 0 on SET.
 */
struct hvx_sregs {
	struct hvx_segment cs, ds, es, fs, gs, ss;
	struct hvx_segment tr, ldt;
	struct hvx_dtable gdt, idt;
	__u64 cr0, cr2, cr3, cr4, cr8;
	__u64 efer;
	__u64 apic_base;
	__u64 reserved[8];
};

/* One CPUID leaf the guest sees. */
#define HVX_CPUID_FLAG_SIGNIFICANT_INDEX	(1u << 0)	/* match @index too */
struct hvx_cpuid_entry {
	__u32 function;
	__u32 index;
	__u32 flags;
	__u32 eax, ebx, ecx, edx;
	__u32 reserved[3];
};

/*
 * HVX_SET_CPUID argument: @nent entries follow (at most
 * HVX_MAX_CPUID_ENTRIES, E2BIG beyond).  The guest's CPUID is answered
 * in the kernel from this table; a leaf not in it reads as zeros.
 */
#define HVX_MAX_CPUID_ENTRIES	256
struct hvx_cpuid {
	__u32 nent;
	__u32 padding;
	struct hvx_cpuid_entry entries[];
};

/* One MSR for HVX_GET_MSRS / HVX_SET_MSRS. */
struct hvx_msr_entry {
	__u32 index;
	__u32 reserved;
	__u64 data;
};

/*
 * HVX_GET_MSRS / HVX_SET_MSRS argument: @nmsrs entries follow (at most
 * HVX_MAX_MSR_ENTRIES).  Returns how many were processed: it stops at the
 * first MSR hvx does not keep (see README for the list), and HVX_SET_MSRS
 * also at a value the CPU's WRMSR would refuse with #GP (a non-canonical
 * address in LSTAR, CSTAR, KERNEL_GS_BASE, FS/GS base or SYSENTER_ESP/EIP,
 * high bits in SYSCALL_MASK, a reserved PAT type, a reserved EFER bit); a
 * guest's WRMSR of such a value gets #GP.
 */
#define HVX_MAX_MSR_ENTRIES	256
struct hvx_msrs {
	__u32 nmsrs;
	__u32 padding;
	struct hvx_msr_entry entries[];
};

/* hvx_run.exit_reason */
#define HVX_EXIT_UNKNOWN	0	/* hw: hardware exit code and info */
#define HVX_EXIT_IO		1	/* io: port I/O to emulate */
#define HVX_EXIT_MMIO		2	/* mmio: access outside guest RAM */
#define HVX_EXIT_HLT		3	/* the guest executed HLT */
#define HVX_EXIT_SHUTDOWN	4	/* triple fault or shutdown */
#define HVX_EXIT_HYPERCALL	5	/* hypercall: VMMCALL or VMCALL */
#define HVX_EXIT_MSR		6	/* msr: RDMSR/WRMSR hvx does not keep */
#define HVX_EXIT_FAIL_ENTRY	7	/* hw: the CPU refused to enter */
#define HVX_EXIT_INTERNAL_ERROR	8	/* internal: hvx could not go on */
#define HVX_EXIT_INTR		9	/* a signal or immediate_exit: -EINTR */

/* hvx_run.io.direction */
#define HVX_IO_IN		0
#define HVX_IO_OUT		1

/* hvx_run.internal.suberror */
#define HVX_INTERNAL_EMULATION	1	/* an instruction hvx cannot decode */
#define HVX_INTERNAL_BAD_STATE	2	/* guest state hvx cannot continue from */
#define HVX_INTERNAL_UNHANDLED	3	/* a hardware exit hvx has no handler for */

/* Size of the vCPU fd mapping: struct hvx_run, then the I/O data page. */
#define HVX_RUN_MMAP_SIZE	8192
#define HVX_RUN_IO_DATA_OFFSET	4096

/**
 * struct hvx_run - the page shared by hvx and the VMM for one vCPU
 * @immediate_exit: in: if non-zero, HVX_RUN returns -EINTR at once
 *		(with exit_reason HVX_EXIT_INTR) after completing any
 *		pending I/O, MMIO or MSR exit; a signal handler may set it.
 * @exit_reason: out: HVX_EXIT_*; says which union member is valid.
 * @io:		HVX_EXIT_IO.  @count accesses of @size (1, 2 or 4) bytes
 *		at @port; the data is at @data_offset in this mapping,
 *		@size * @count bytes.  For IN the VMM fills it before the
 *		next HVX_RUN.  Repeated string I/O may exit several times.
 * @mmio:	HVX_EXIT_MMIO.  @len (1, 2, 4 or 8) bytes at @phys_addr;
 *		for a write @data holds them, for a read the VMM fills
 *		@data before the next HVX_RUN.
 * @hypercall:	HVX_EXIT_HYPERCALL (VMMCALL on SVM, VMCALL on VMX; the
 *		other vendor's instruction raises #UD).  @nr is RAX, @args are RBX, RCX,
 *		RDX, RSI (KVM's convention); the VMM sets @ret, which becomes
 *		the guest's RAX on the next HVX_RUN.
 * @msr:	HVX_EXIT_MSR.  For a read the VMM sets @data; setting @error
 *		injects #GP instead.
 * @hw:		HVX_EXIT_UNKNOWN, HVX_EXIT_FAIL_ENTRY: the raw exit code
 *		(SVM VMEXIT code; VMX exit reason, with bit 31 set for an
 *		entry that failed on guest state, or ~0 when VMLAUNCH/VMRESUME
 *		itself failed) and its qualifiers (@info1: EXITINFO1 or the exit
 *		qualification), and for a failed VMLAUNCH/VMRESUME the
 *		VM-instruction error number (VMX), otherwise 0.
 * @internal:	HVX_EXIT_INTERNAL_ERROR: HVX_INTERNAL_* and details.
 */
struct hvx_run {
	__u8 immediate_exit;
	__u8 padding1[7];
	__u32 exit_reason;
	__u32 padding2;
	union {
		struct {
			__u8 direction;
			__u8 size;
			__u16 port;
			__u32 count;
			__u64 data_offset;
		} io;
		struct {
			__u64 phys_addr;
			__u8 data[8];
			__u32 len;
			__u8 is_write;
			__u8 padding[3];
		} mmio;
		struct {
			__u64 nr;
			__u64 args[4];
			__u64 ret;
		} hypercall;
		struct {
			__u32 index;
			__u8 is_write;
			__u8 error;
			__u8 padding[2];
			__u64 data;
		} msr;
		struct {
			__u64 exit_code;
			__u64 info1;
			__u64 info2;
			__u64 vm_instruction_error;
		} hw;
		struct {
			__u32 suberror;
			__u32 ndata;
			__u64 data[8];
		} internal;
		__u8 padding[256];
	};
};

/*
 * HVX_RUN: the argument must be 0.  Runs the vCPU until an exit userspace
 * must see; returns 0 with hvx_run.exit_reason set, or -1 with errno
 * EINTR (a signal is pending or immediate_exit was set; exit_reason is
 * HVX_EXIT_INTR), ENOEXEC (no memory region yet), EBUSY (another thread
 * is inside HVX_RUN on this vCPU) or EFAULT/ENOMEM.
 */
#define HVX_RUN			_IO(HVXIO, 0x20)
#define HVX_GET_REGS		_IOR(HVXIO, 0x21, struct hvx_regs)
#define HVX_SET_REGS		_IOW(HVXIO, 0x22, struct hvx_regs)
#define HVX_GET_SREGS		_IOR(HVXIO, 0x23, struct hvx_sregs)
#define HVX_SET_SREGS		_IOW(HVXIO, 0x24, struct hvx_sregs)
#define HVX_SET_CPUID		_IOW(HVXIO, 0x25, struct hvx_cpuid)
#define HVX_GET_MSRS		_IOWR(HVXIO, 0x26, struct hvx_msrs)
#define HVX_SET_MSRS		_IOW(HVXIO, 0x27, struct hvx_msrs)

/*
 * ---------------------------------------------------------------------
 * vCPU state for saving and restoring a VM (additions to API version 1:
 * an older hvx.ko answers them ENOTTY)
 * ---------------------------------------------------------------------
 *
 * A vCPU's complete state is: HVX_GET_REGS, HVX_GET_SREGS, HVX_GET_MSRS
 * of the MSRs hvx keeps (README: among them MSR_IA32_TSC, 0x10, whose value
 * is the host TSC plus the vCPU's offset: setting it sets the offset),
 * HVX_GET_FPU, HVX_GET_LAPIC (with HVX_ENABLE_LAPIC) and
 * HVX_GET_VCPU_EVENTS.  Read them only while no thread is in HVX_RUN on
 * the vCPU, after an HVX_RUN that returned EINTR (immediate_exit or a
 * signal): every exit to userspace is then complete, and nothing the
 * vCPU holds lives outside these structures.  Restoring writes them
 * into a new vCPU of a VM with the same memory layout, in the order
 * SREGS, MSRS, REGS, FPU, LAPIC, VCPU_EVENTS.
 */

/**
 * struct hvx_fpu - HVX_GET_FPU / HVX_SET_FPU: the x87 and SSE state
 * @fxsave:	the 512-byte FXSAVE image (Intel SDM vol. 1, 10.5.1): FCW,
 *		FSW, FTW (abridged), FOP, FIP, FDP, MXCSR, ST0-7, XMM0-15.
 *		SET refuses (EINVAL) an MXCSR with bits the host CPU's
 *		MXCSR_MASK does not allow: FXRSTOR would fault on it.
 * @reserved:	0.
 */
struct hvx_fpu {
	__u8 fxsave[512];
	__u64 reserved[8];
};

/* hvx_lapic_state.flags */
#define HVX_LAPIC_TIMER_RUNNING	(1u << 0)	/* timer_ns_left is valid */

/**
 * struct hvx_lapic_state - HVX_GET_LAPIC / HVX_SET_LAPIC: the local APIC
 * @regs:	the first 1 KiB of the xAPIC register page as the guest reads
 *		it: 32-bit registers at 16-byte steps (offset 0x20 ID, 0x80
 *		TPR, 0xd0 LDR, 0xe0 DFR, 0xf0 SVR, 0x100-0x170 ISR, 0x200-0x270
 *		IRR, 0x310 ICR high, 0x320-0x370 LVT, 0x380 initial count,
 *		0x3e0 divide configuration).  SET takes TPR, LDR, DFR, SVR,
 *		ISR, IRR, ICR high, the LVTs, the initial count and the divide
 *		configuration, each masked to its writable bits as a guest
 *		write would be; read-only registers (ID, version, PPR,
 *		current count) are ignored.
 * @flags:	HVX_LAPIC_TIMER_RUNNING: the timer is counting; SET restarts
 *		it to fire after @timer_ns_left (then, if periodic, every
 *		period of the initial count).  Other bits EINVAL.
 * @timer_ns_left: nanoseconds until the timer fires next.
 * @tsc_deadline: IA32_TSC_DEADLINE as the guest reads it: in TSC-deadline
 *		mode (LVT timer mode 2) the guest TSC the armed timer fires at,
 *		else 0.  In that mode HVX_LAPIC_TIMER_RUNNING goes with a
 *		non-zero deadline, and SET re-arms it @timer_ns_left from now.
 * @reserved:	0.
 * ENXIO without HVX_ENABLE_LAPIC.
 */
struct hvx_lapic_state {
	__u32 regs[256];
	__u32 flags;
	__u32 reserved32;
	__u64 timer_ns_left;
	__u64 tsc_deadline;
	__u64 reserved[5];
};

/* hvx_vcpu_events.shadow: the one-instruction interrupt shadow */
#define HVX_SHADOW_STI		(1u << 0)	/* after STI */
#define HVX_SHADOW_MOV_SS	(1u << 1)	/* after MOV SS or POP SS */

/* hvx_vcpu_events.mp_state */
#define HVX_MP_RUNNABLE		0	/* runs when HVX_RUN is called */
#define HVX_MP_WAIT_SIPI	1	/* parked after INIT (or never started) */

/* hvx_vcpu_events.mp_pending: INIT/SIPI IPIs received, not yet acted on */
#define HVX_MP_PENDING_INIT	(1u << 0)
#define HVX_MP_PENDING_SIPI	(1u << 1)	/* with sipi_vector */

/*
 * hvx_vcpu_events.inject_info: an event the next entry delivers (one that
 * an exit interrupted, or an exception hvx queued), in the layout both
 * vendors use: vector in bits 7:0, type in bits 10:8, bit 11 an error
 * code in @inject_error is pushed, bit 31 valid.
 */
#define HVX_EVENT_VALID		(1u << 31)
#define HVX_EVENT_HAS_ERROR	(1u << 11)
#define HVX_EVENT_TYPE(info)	(((info) >> 8) & 7)
#define HVX_EVENT_EXT_INTR	0
#define HVX_EVENT_NMI		2
#define HVX_EVENT_EXCEPTION	3
#define HVX_EVENT_SOFT_INTR	4	/* INT n (VMX only) */
#define HVX_EVENT_PRIV_SOFT_EXC	5	/* INT1 (VMX only) */
#define HVX_EVENT_SOFT_EXC	6	/* INT3, INTO (VMX only) */

/**
 * struct hvx_vcpu_events - HVX_GET_VCPU_EVENTS / HVX_SET_VCPU_EVENTS
 * @flags:	0.
 * @shadow:	HVX_SHADOW_* (not both; SVM reports either as STI).
 * @nmi_masked:	NMIs blocked (VMX; always 0 on SVM, where hvx delivers no
 *		NMIs to the guest).
 * @mp_state:	HVX_MP_* (WAIT_SIPI only with the in-kernel local APIC).
 * @mp_pending:	HVX_MP_PENDING_* bits.
 * @sipi_vector: the vector of a pending SIPI.
 * @inject_info, @inject_error: see HVX_EVENT_*; 0 when none.  SET checks
 *		the type (4-6 only on VMX), the vector (2 for an NMI,
 *		below 32 for an exception) and that only exceptions carry
 *		error codes.
 * @inject_insn_len: software events (types 4-6): the length of the
 *		instruction that raised it, 1-15; else 0.
 * @reserved:	0.
 */
struct hvx_vcpu_events {
	__u32 flags;
	__u8 shadow;
	__u8 nmi_masked;
	__u8 mp_state;
	__u8 mp_pending;
	__u8 sipi_vector;
	__u8 padding[3];
	__u32 inject_info;
	__u32 inject_error;
	__u32 inject_insn_len;
	__u32 reserved32;
	__u64 reserved[6];
};

#define HVX_GET_FPU		_IOR(HVXIO, 0x28, struct hvx_fpu)
#define HVX_SET_FPU		_IOW(HVXIO, 0x29, struct hvx_fpu)
#define HVX_GET_LAPIC		_IOR(HVXIO, 0x2a, struct hvx_lapic_state)
#define HVX_SET_LAPIC		_IOW(HVXIO, 0x2b, struct hvx_lapic_state)
#define HVX_GET_VCPU_EVENTS	_IOR(HVXIO, 0x2c, struct hvx_vcpu_events)
#define HVX_SET_VCPU_EVENTS	_IOW(HVXIO, 0x2d, struct hvx_vcpu_events)

/*
 * Binary statistics (HVX_GET_STATS_FD, on a VM fd or a vCPU fd; the
 * argument must be 0).  The ioctl returns a read-only, close-on-exec fd
 * whose contents describe themselves, so a tool reads counters it was
 * not built with and new ones are only ever added:
 *
 *   offset 0             struct hvx_stats_header
 *   header.desc_offset   header.nr_desc descriptors, each desc_size bytes:
 *                        struct hvx_stats_desc then its NUL-padded name
 *   header.data_offset   header.data_size bytes of __u64 values
 *
 * The header and descriptors never change for the life of the fd; the
 * values are read fresh by each read()/pread() (read them with one
 * pread at data_offset for a consistent set).  Nothing is stopped to
 * read them: a value may be a few events behind a running vCPU.  The fd
 * holds its VM (or vCPU, and through it the VM) as the VM's other fds do:
 * the VM and its guest memory are freed when the last of them is closed,
 * so a tool should not keep stats fds of VMs their VMM has closed.
 */
#define HVX_STATS_MAGIC		0x53585648	/* "HVXS" in memory order */

/**
 * struct hvx_stats_header - at offset 0 of a stats fd
 * @magic:	HVX_STATS_MAGIC.
 * @nr_desc:	number of descriptors.
 * @desc_size:	bytes from one descriptor to the next (struct
 *		hvx_stats_desc plus its name field).
 * @name_size:	bytes of each descriptor's name field, NUL included.
 * @desc_offset: file offset of the first descriptor.
 * @data_offset: file offset of the values.
 * @data_size:	bytes of values (8 per value).
 * @id:		"vm-PID" (the creator's process id) or "vcpu-N", NUL-padded.
 * @reserved:	0.
 */
struct hvx_stats_header {
	__u32 magic;
	__u32 nr_desc;
	__u32 desc_size;
	__u32 name_size;
	__u64 desc_offset;
	__u64 data_offset;
	__u64 data_size;
	char id[32];
	__u64 reserved[4];
};

/* hvx_stats_desc.flags: the kind of value (bits 0-3) */
#define HVX_STATS_TYPE_MASK		0xfu
#define HVX_STATS_TYPE_CUMULATIVE	0u	/* a count that only grows */
#define HVX_STATS_TYPE_INSTANT		1u	/* a level that goes up and down */
/* ... its unit (bits 4-7) */
#define HVX_STATS_UNIT_MASK		0xf0u
#define HVX_STATS_UNIT_NONE		0x00u	/* events */
#define HVX_STATS_UNIT_PAGES		0x10u	/* 4 KiB pages */
#define HVX_STATS_UNIT_NSEC		0x20u	/* nanoseconds */
/* ... and where it comes from */
#define HVX_STATS_VCPU_SUM		(1u << 8)	/* in a VM's fd: the sum
							 * over its vCPUs, closed
							 * ones included */

/*
 * Arrays (hvx_stats_desc.count > 1): value i of "exits_hw" counts exits
 * whose hardware reason maps to i: on VMX the basic exit reason (bits
 * 15:0 of the exit reason, all below 256); on SVM the exit code when it
 * is below 0xf0, 0xf0 + (code - 0x400) for codes 0x400-0x40e (0x400:
 * nested page fault), and 0xff for anything else.  Value i of
 * "exits_user" counts exits to userspace with exit_reason i (HVX_EXIT_*).
 */
#define HVX_STATS_HW_BUCKETS		256
#define HVX_STATS_USER_BUCKETS		16

/**
 * struct hvx_stats_desc - one value or array in a stats fd
 * @flags:	HVX_STATS_TYPE_*, HVX_STATS_UNIT_*, HVX_STATS_VCPU_SUM.
 * @offset:	bytes from header.data_offset to its first value.
 * @count:	number of consecutive __u64 values (1, or an array's size).
 * @reserved:	0.
 * @name:	header.name_size bytes, NUL-terminated, [a-z0-9_].
 */
struct hvx_stats_desc {
	__u32 flags;
	__u32 offset;
	__u32 count;
	__u32 reserved;
	char name[];
};

/* HVX_GET_STATS_FD: on a VM fd or a vCPU fd; see above. */
#define HVX_GET_STATS_FD	_IO(HVXIO, 0x30)

#endif /* _UAPI_LINUX_HVX_H */
