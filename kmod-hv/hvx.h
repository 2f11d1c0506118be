/* SPDX-License-Identifier: GPL-2.0 */
/* hvx.h - declarations shared by the vendor-neutral core and the backends. */
#ifndef HVX_INTERNAL_H
#define HVX_INTERNAL_H

#include <linux/cpumask.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/hvx.h>

#define HVX_MAX_VCPUS		64
#define HVX_TDP_LEVELS		4

struct address_space;
struct attribute_group;
struct file;
struct file_operations;
struct vm_area_struct;
struct hvx_vm;
struct hvx_vcpu;
struct hvx_lapic;

/* Index of a general register in hvx_vcpu.regs (the x86 encoding order). */
enum hvx_reg {
	HVX_RAX, HVX_RCX, HVX_RDX, HVX_RBX, HVX_RSP, HVX_RBP, HVX_RSI, HVX_RDI,
	HVX_R8, HVX_R9, HVX_R10, HVX_R11, HVX_R12, HVX_R13, HVX_R14, HVX_R15,
	HVX_NR_REGS
};

/*
 * What the vendor backend reports after one guest entry, in words the core
 * understands.  The backend handles what only it can (its own failures);
 * everything with a common meaning comes back here.
 */
enum hvx_exit_kind {
	HVX_X_NONE,		/* nothing to do (host interrupt, NMI) */
	HVX_X_IO,		/* port I/O: io.* */
	HVX_X_TDP_FAULT,	/* second-level fault: gpa, write, fetch */
	HVX_X_CPUID,
	HVX_X_RDMSR,
	HVX_X_WRMSR,
	HVX_X_HLT,
	HVX_X_HYPERCALL,
	HVX_X_SHUTDOWN,
	HVX_X_CR_ACCESS,	/* backend-specific: handle_cr_access */
	HVX_X_FAIL_ENTRY,	/* hw_code, info1, info2 */
	HVX_X_UNHANDLED,	/* hw_code, info1, info2 */
};
#define HVX_X_NR	(HVX_X_UNHANDLED + 1)

/*
 * Exits whose instruction the core completes and skips.  Its STI or MOV SS
 * interrupt shadow ends with it, so the backend drops the shadow: else an
 * interrupt that ends a STI;HLT wait would wait out the next instruction
 * too (a CLI, in Linux's idle loop).
 */
static inline bool hvx_exit_skips_insn(enum hvx_exit_kind kind)
{
	return kind == HVX_X_IO || kind == HVX_X_CPUID || kind == HVX_X_RDMSR ||
	       kind == HVX_X_WRMSR || kind == HVX_X_HLT || kind == HVX_X_HYPERCALL;
}

struct hvx_exit {
	enum hvx_exit_kind kind;
	u8 insn_len;		/* length of the exiting instruction, 0 unknown */
	u64 hw_code, info1, info2;
	u64 vm_insn_error;	/* VMX: VM-instruction error of a failed entry */
	u64 gpa;
	bool write, fetch;
	struct {
		bool in, string, rep;
		u8 size;	/* 1, 2, 4 */
		u8 addr_size;	/* 2, 4, 8 (string forms; set by the core) */
		u16 port;
	} io;
};

/*
 * Where an interrupt raised in a local APIC came from (stats, tracing):
 * its own timer, another vCPU's IPI, HVX_SIGNAL_MSI, an irqfd.
 */
enum hvx_irq_source {
	HVX_IRQ_TIMER,
	HVX_IRQ_IPI,
	HVX_IRQ_MSI,
	HVX_IRQ_IRQFD,
	HVX_IRQ_NR
};

/*
 * A vCPU's counters (stats.c describes them to userspace).  Only the vCPU's
 * own thread writes them, inside HVX_RUN; readers take them as they are.
 */
struct hvx_vcpu_stats {
	u64 exits;
	u64 exits_kind[HVX_X_NR];
	u64 exits_hw[HVX_STATS_HW_BUCKETS];
	u64 exits_user[HVX_STATS_USER_BUCKETS];
	u64 guest_tsc;		/* from entry to exit, the world switch included */
	u64 exit_tsc;		/* from an exit to the next entry or to userspace */
	u64 halt_waits;		/* HLTs that waited in the kernel */
	u64 halt_wakeups;	/* ... and were ended by an interrupt */
	u64 halt_wait_ns;	/* part of exit_tsc */
	u64 irq_injections;
	u64 tdp_faults;
	u64 mmio_exits;
};

/* A guest RAM region: its pages, allocated on first touch. */
struct hvx_region {
	u32 slot;
	u32 flags;
	u64 gpa;
	u64 size;
	struct xarray pages;	/* page index in region -> struct page */
	struct xarray sums;	/* page index -> xxhash of the last merge pass */
	unsigned long *dirty;	/* guest-written pages while logging, else NULL;
				 * set and swapped under the VM's mmu_lock */
};

/* A set of shared frames and merge candidates (merge.c). */
struct hvx_merge_domain {
	struct rb_root stable;	/* struct hvx_stable by content hash */
	struct rb_root unstable; /* candidates of the current pass */
};

/* A VM's part in page merging; guarded by the merge mutex unless atomic. */
struct hvx_vm_merge {
	u32 policy;			/* HVX_MERGE_* */
	struct list_head link;		/* in the scanner's list while on */
	struct hvx_merge_domain *domain; /* global, own, or NULL (zero only) */
	struct hvx_merge_domain own;	/* HVX_MERGE_WITHIN_VM */
	atomic64_t pages_merged, zero_pages, cow_guest, cow_vmm;
	u64 pages_scanned, full_scans;
	u64 pass_unshared, pass_volatile;	/* the pass under way */
	u64 pages_unshared, pages_volatile;	/* the last complete pass */
};

/* A node of the merge trees: rbtrees ordered by the content's xxhash. */
struct hvx_hash_node {
	struct rb_node rb;
	u64 hash;
};

/*
 * A shared frame: one page that several guest page slots map read-only.
 * page_private() of the page points back here while it is shared.
 */
struct hvx_stable {
	struct hvx_hash_node hn;
	struct rb_root *root;	/* tree it is in; NULL for the zero frame */
	struct page *page;
	refcount_t sharers;	/* slots mapping it, each with a page ref */
	bool zero;
};

struct hvx_vm {
	struct mutex lock;	/* regions, vcpus, msr_policy */
	struct hvx_region *regions[HVX_MAX_MEM_REGIONS];
	unsigned int nr_regions;
	struct hvx_vcpu *vcpus[HVX_MAX_VCPUS];
	unsigned int nr_vcpus;
	u32 msr_policy;
	struct address_space *mapping;	/* the VM file's, once mmap'd */

	/*
	 * Guards what each guest page slot holds and the second-level table:
	 * a page is replaced (merged, copied on write) only under it.
	 */
	struct mutex mmu_lock;
	struct page *tdp_root;
	/* Second-level TLB shootdown: bumped, then CPUs in guest mode kicked. */
	atomic64_t tlb_gen;
	cpumask_var_t in_guest;
	struct hvx_vm_merge merge;
	atomic64_t pages_allocated;
	atomic64_t tdp_table_pages;
	atomic64_t tdp_faults;
	atomic64_t mmio_exits;
	atomic64_t irq_injections;
	atomic64_t irq_raised[HVX_IRQ_NR];
	atomic64_t dirty_pages_logged;	/* first guest writes while logging */
	atomic64_t dirty_pages_reported; /* dirty bits HVX_GET_PAGE_BITMAP took */
	struct hvx_vcpu_stats closed_vcpus; /* sum over closed vCPUs; lock */
	pid_t creator;		/* tgid that made it, for stats fds */
	bool lapic_enabled;	/* HVX_ENABLE_LAPIC: every vCPU gets one */

	struct mutex eventfd_lock;	/* the two lists below */
	struct list_head ioeventfds, irqfds;
	unsigned int nr_ioeventfds, nr_irqfds;
};

/* A pending exit to userspace that the next HVX_RUN must complete. */
enum hvx_pending {
	HVX_PENDING_NONE,
	HVX_PENDING_IO_IN,	/* copy the data page into RAX or guest memory */
	HVX_PENDING_IO_OUT,	/* string OUT: advance registers */
	HVX_PENDING_MMIO_READ,	/* write run->mmio.data into a register */
	HVX_PENDING_RDMSR,
	HVX_PENDING_WRMSR,
	HVX_PENDING_HYPERCALL,
};

struct hvx_vcpu {
	struct hvx_vm *vm;
	struct file *vm_file;	/* a reference that keeps the VM alive */
	u32 id;
	struct mutex mutex;	/* held by ioctls, including RUN */
	struct hvx_run *run;	/* shared with userspace (mmap page 0) */
	struct page *io_page;	/* I/O data area (mmap page 1) */

	u64 regs[HVX_NR_REGS];
	u64 rip, rflags;

	struct hvx_exit exit;
	enum hvx_pending pending;
	u8 pending_len;		/* instruction length to skip on completion */
	u8 mmio_reg;		/* destination register of an MMIO read */
	u8 mmio_size;		/* operand size of an MMIO read */
	u8 mmio_read_size;	/* bytes read from the device */
	bool mmio_zext;		/* MOVZX-style read */
	u32 io_count;		/* elements of a string I/O exit */
	u64 io_gpa;		/* guest memory of a string I/O exit */

	struct hvx_cpuid_entry *cpuid;
	u32 cpuid_nent;
	u64 msr_apic_base;
	u64 tlb_gen;		/* vm->tlb_gen of the last flush */
	int guest_cpu;		/* CPU it is in guest mode on, or -1 */
	struct hvx_lapic *lapic;
	bool wait_sipi;		/* INIT received: runs only after a SIPI */
	unsigned long mp_events; /* HVX_MP_INIT, HVX_MP_SIPI: set by other vCPUs */
	u8 sipi_vector;
	wait_queue_head_t wq;	/* HLT waits here for an interrupt */

	struct hvx_vcpu_stats stats;

	void *vendor;		/* backend state */
};

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
 * @unload:	free what a successful @probe allocated (module unload).
 * @cpu_enable:	switch hardware virtualization on for the calling CPU
 *		(preemption is off: it runs in that CPU's hotplug thread).
 *		-EBUSY if another hypervisor already holds it.
 * @cpu_disable: undo @cpu_enable on the calling CPU.
 * @vcpu_create: set up backend state for a new vCPU in its reset state.
 * @vcpu_free:	undo @vcpu_create.
 * @vcpu_enter:	enter the guest once with the registers in the vCPU and
 *		describe the exit in vcpu->exit; called with preemption and
 *		interrupts enabled, in the vCPU thread.  0 or -errno.
 * @handle_cr_access: a control-register access the backend intercepts
 *		(VMX: CR0.NE and CR4.VMXE are owned by hvx); -errno if it
 *		cannot emulate it.
 * @get_sregs, @set_sregs: special registers; @set_sregs has been checked
 *		by the core for what hardware would refuse.
 * @get_msr, @set_msr: MSRs the backend keeps in its own state;
 *		-ENOENT for one it does not keep.
 * @inject_exception: queue a hardware exception for the next entry.
 * @fpu:	the vCPU's FXSAVE image, which the next entry loads.
 * @get_events, @set_events: the interrupt shadow, NMI blocking and the
 *		event the next entry injects (HVX_GET/SET_VCPU_EVENTS); the
 *		core has checked what is common to both vendors, @set_events
 *		refuses (-EINVAL) what its vendor cannot take.
 * @tdp_leaf, @tdp_table: second-level entry bits for a page of guest RAM
 *		(writable or not, executable) and for a lower-level table.
 * @irq_window_open: can an external interrupt be injected at this entry
 *		(RFLAGS.IF, no STI/MOV SS shadow, no event already queued)?
 * @inject_irq:	queue external interrupt @vector for this entry.
 * @set_irq_window: exit as soon as the guest can take an interrupt (on),
 *		or stop asking (off).
 * The last three run with interrupts off, right before an entry.
 */
struct hvx_vendor_ops {
	const char *name;
	const char *tdp_name;
	int (*probe)(struct hvx_caps *caps, const char **why);
	void (*unload)(void);
	int (*cpu_enable)(void);
	void (*cpu_disable)(void);

	int (*vcpu_create)(struct hvx_vcpu *vcpu);
	void (*vcpu_free)(struct hvx_vcpu *vcpu);
	int (*vcpu_enter)(struct hvx_vcpu *vcpu);
	int (*handle_cr_access)(struct hvx_vcpu *vcpu);
	void (*get_sregs)(struct hvx_vcpu *vcpu, struct hvx_sregs *sregs);
	void (*set_sregs)(struct hvx_vcpu *vcpu, const struct hvx_sregs *sregs);
	int (*get_msr)(struct hvx_vcpu *vcpu, u32 index, u64 *data);
	int (*set_msr)(struct hvx_vcpu *vcpu, u32 index, u64 data);
	void (*inject_exception)(struct hvx_vcpu *vcpu, u8 vector,
				 bool has_error, u32 error);
	u8 *(*fpu)(struct hvx_vcpu *vcpu);
	void (*get_events)(struct hvx_vcpu *vcpu, struct hvx_vcpu_events *ev);
	int (*set_events)(struct hvx_vcpu *vcpu, const struct hvx_vcpu_events *ev);
	u64 (*tdp_leaf)(phys_addr_t pa, bool writable);
	u64 (*tdp_table)(phys_addr_t pa);
	bool (*irq_window_open)(struct hvx_vcpu *vcpu);
	void (*inject_irq)(struct hvx_vcpu *vcpu, u8 vector);
	void (*set_irq_window)(struct hvx_vcpu *vcpu, bool on);
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
int hvx_anon_fd(const char *name, const struct file_operations *fops,
		void *priv, struct file **filep);

/* mem.c: guest RAM */
int hvx_set_memory_region(struct hvx_vm *vm,
			  const struct hvx_memory_region __user *argp);
struct hvx_region *hvx_find_region(struct hvx_vm *vm, u64 gpa);
int hvx_get_page_bitmap(struct hvx_vm *vm, const struct hvx_page_bitmap __user *argp);
int hvx_set_dirty_log(struct hvx_vm *vm, const struct hvx_dirty_log __user *argp);
void hvx_mark_dirty(struct hvx_vm *vm, struct hvx_region *region, u64 gpa);
struct page *hvx_region_page(struct hvx_vm *vm, struct hvx_region *region,
			     u64 gpa, bool write, bool by_guest,
			     struct hvx_stable **dropped);
void hvx_release_dropped(struct hvx_stable *node);
void hvx_zap_gpa(struct hvx_vm *vm, u64 gpa);
int hvx_vm_mmap(struct file *file, struct vm_area_struct *vma);
void hvx_free_regions(struct hvx_vm *vm);
int hvx_read_guest(struct hvx_vm *vm, u64 gpa, void *buf, size_t len);
int hvx_write_guest(struct hvx_vm *vm, u64 gpa, const void *buf, size_t len);

/* tdp.c: the second-level table, shared by EPT and NPT */
int tdp_init(struct hvx_vm *vm);
void tdp_destroy(struct hvx_vm *vm);
int tdp_map(struct hvx_vm *vm, u64 gpa, struct page *page, bool writable);
bool tdp_unmap(struct hvx_vm *vm, u64 gpa);
bool tdp_write_protect(struct hvx_vm *vm, u64 gpa);
void hvx_flush_guest_tlbs(struct hvx_vm *vm);
bool hvx_guest_mode_enter(struct hvx_vcpu *vcpu, int cpu);
void hvx_guest_mode_exit(struct hvx_vcpu *vcpu, int cpu);

/* merge.c: KSM-style page merging */
extern const struct attribute_group *hvx_merge_groups[];
int hvx_merge_init(void);
void hvx_merge_exit(void);
void hvx_merge_vm_init(struct hvx_vm *vm);
void hvx_merge_vm_release(struct hvx_vm *vm);
int hvx_set_merge(struct hvx_vm *vm, const struct hvx_merge_config __user *argp);
int hvx_get_merge_stats(struct hvx_vm *vm, struct hvx_merge_stats __user *argp);
void hvx_stable_put(struct hvx_stable *node);

/* The shared frame @page belongs to, or NULL for a private page. */
static inline struct hvx_stable *hvx_page_stable(struct page *page)
{
	return (struct hvx_stable *)page_private(page);
}

/* stats.c: binary stats fds, and the tracepoints' home */
int hvx_vm_stats_fd(struct hvx_vm *vm, struct file *vm_file);
int hvx_vcpu_stats_fd(struct hvx_vcpu *vcpu, struct file *vcpu_file);
void hvx_stats_add(struct hvx_vcpu_stats *sum, const struct hvx_vcpu_stats *st);

/* See the uapi header: the bucket of "exits_hw" a hardware exit code goes to. */
static inline unsigned int hvx_stats_hw_bucket(u64 hw_code)
{
	if (hvx_host_caps.vendor == HVX_VENDOR_INTEL_VMX)
		return hw_code < 0xff ? hw_code : 0xff;
	if (hw_code < 0xf0)
		return hw_code;
	if (hw_code >= 0x400 && hw_code < 0x40f)
		return 0xf0 + (hw_code - 0x400);
	return 0xff;
}

/* vcpu.c */
int hvx_create_vcpu(struct hvx_vm *vm, struct file *vm_file, unsigned long id);

/* lapic.c: the in-kernel local APIC */
enum { HVX_MP_INIT, HVX_MP_SIPI };	/* bits of hvx_vcpu.mp_events */
int hvx_enable_lapic(struct hvx_vm *vm, unsigned long arg);
int hvx_signal_msi(struct hvx_vm *vm, const struct hvx_msi __user *argp);
int hvx_check_msi(u64 address, u32 data);
int hvx_deliver_msi(struct hvx_vm *vm, u64 address, u32 data,
		    enum hvx_irq_source source);
int hvx_lapic_create(struct hvx_vcpu *vcpu);
void hvx_lapic_free(struct hvx_vcpu *vcpu);
bool hvx_lapic_covers(struct hvx_vcpu *vcpu, u64 gpa);
u64 hvx_lapic_get_deadline(struct hvx_vcpu *vcpu);
int hvx_lapic_set_deadline(struct hvx_vcpu *vcpu, u64 deadline);
void hvx_lapic_mmio(struct hvx_vcpu *vcpu, u64 gpa, bool write, u64 *val,
		    unsigned int size);
bool hvx_lapic_pending(struct hvx_vcpu *vcpu);
int hvx_lapic_mp_events(struct hvx_vcpu *vcpu);
void hvx_lapic_deliver(struct hvx_vcpu *vcpu);
void hvx_vcpu_kick(struct hvx_vcpu *vcpu);
void hvx_lapic_get(struct hvx_vcpu *vcpu, struct hvx_lapic_state *st);
int hvx_lapic_set(struct hvx_vcpu *vcpu, const struct hvx_lapic_state *st);

/* eventfd.c: ioeventfd and irqfd */
void hvx_eventfd_vm_init(struct hvx_vm *vm);
void hvx_eventfd_vm_release(struct hvx_vm *vm);
int hvx_ioeventfd(struct hvx_vm *vm, const struct hvx_ioeventfd __user *argp);
int hvx_irqfd(struct hvx_vm *vm, const struct hvx_irqfd __user *argp);
bool hvx_ioeventfd_write(struct hvx_vm *vm, bool pio, u64 addr, u32 len, u64 val);

/* emulate.c: guest address translation and the MMIO instruction decoder */
int hvx_gva_to_gpa(struct hvx_vcpu *vcpu, const struct hvx_sregs *sregs,
		   u64 gva, bool write, u64 *gpa);
int hvx_emulate_mmio(struct hvx_vcpu *vcpu, u64 gpa, bool write);
int hvx_complete_mmio_read(struct hvx_vcpu *vcpu, const void *data);

#endif /* HVX_INTERNAL_H */
