/* SPDX-License-Identifier: GPL-2.0 */
/* trace.h - hvx's tracepoints (system "hvx"): entries, exits, interrupts, second-level faults, merging. */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM hvx

#if !defined(HVX_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define HVX_TRACE_H

#include <linux/tracepoint.h>

#include "hvx.h"

/*
 * The enums below are printed by name: TRACE_DEFINE_ENUM puts their values
 * into the events' format files, which perf and trace-cmd parse.
 */
TRACE_DEFINE_ENUM(HVX_X_NONE);
TRACE_DEFINE_ENUM(HVX_X_IO);
TRACE_DEFINE_ENUM(HVX_X_TDP_FAULT);
TRACE_DEFINE_ENUM(HVX_X_CPUID);
TRACE_DEFINE_ENUM(HVX_X_RDMSR);
TRACE_DEFINE_ENUM(HVX_X_WRMSR);
TRACE_DEFINE_ENUM(HVX_X_HLT);
TRACE_DEFINE_ENUM(HVX_X_HYPERCALL);
TRACE_DEFINE_ENUM(HVX_X_SHUTDOWN);
TRACE_DEFINE_ENUM(HVX_X_CR_ACCESS);
TRACE_DEFINE_ENUM(HVX_X_FAIL_ENTRY);
TRACE_DEFINE_ENUM(HVX_X_UNHANDLED);
TRACE_DEFINE_ENUM(HVX_IRQ_TIMER);
TRACE_DEFINE_ENUM(HVX_IRQ_IPI);
TRACE_DEFINE_ENUM(HVX_IRQ_MSI);
TRACE_DEFINE_ENUM(HVX_IRQ_IRQFD);

#define hvx_exit_kinds					\
	{ HVX_X_NONE,		"none" },		\
	{ HVX_X_IO,		"io" },			\
	{ HVX_X_TDP_FAULT,	"tdp_fault" },		\
	{ HVX_X_CPUID,		"cpuid" },		\
	{ HVX_X_RDMSR,		"rdmsr" },		\
	{ HVX_X_WRMSR,		"wrmsr" },		\
	{ HVX_X_HLT,		"hlt" },		\
	{ HVX_X_HYPERCALL,	"hypercall" },		\
	{ HVX_X_SHUTDOWN,	"shutdown" },		\
	{ HVX_X_CR_ACCESS,	"cr_access" },		\
	{ HVX_X_FAIL_ENTRY,	"fail_entry" },		\
	{ HVX_X_UNHANDLED,	"unhandled" }

#define hvx_user_exit_reasons				\
	{ HVX_EXIT_UNKNOWN,	"unknown" },		\
	{ HVX_EXIT_IO,		"io" },			\
	{ HVX_EXIT_MMIO,	"mmio" },		\
	{ HVX_EXIT_HLT,		"hlt" },		\
	{ HVX_EXIT_SHUTDOWN,	"shutdown" },		\
	{ HVX_EXIT_HYPERCALL,	"hypercall" },		\
	{ HVX_EXIT_MSR,		"msr" },		\
	{ HVX_EXIT_FAIL_ENTRY,	"fail_entry" },		\
	{ HVX_EXIT_INTERNAL_ERROR, "internal_error" },	\
	{ HVX_EXIT_INTR,	"intr" }

#define hvx_irq_sources					\
	{ HVX_IRQ_TIMER,	"timer" },		\
	{ HVX_IRQ_IPI,		"ipi" },		\
	{ HVX_IRQ_MSI,		"msi" },		\
	{ HVX_IRQ_IRQFD,	"irqfd" }

TRACE_EVENT(hvx_entry,
	TP_PROTO(const struct hvx_vcpu *vcpu),
	TP_ARGS(vcpu),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u64, rip)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu->id;
		__entry->rip = vcpu->rip;
	),
	TP_printk("vcpu %u rip 0x%llx", __entry->vcpu_id, __entry->rip)
);

TRACE_EVENT(hvx_exit,
	TP_PROTO(const struct hvx_vcpu *vcpu),
	TP_ARGS(vcpu),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u32, kind)
		__field(u64, hw_code)
		__field(u64, info1)
		__field(u64, rip)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu->id;
		__entry->kind = vcpu->exit.kind;
		__entry->hw_code = vcpu->exit.hw_code;
		__entry->info1 = vcpu->exit.info1;
		__entry->rip = vcpu->rip;
	),
	TP_printk("vcpu %u %s hw 0x%llx info1 0x%llx rip 0x%llx",
		  __entry->vcpu_id, __print_symbolic(__entry->kind, hvx_exit_kinds),
		  __entry->hw_code, __entry->info1, __entry->rip)
);

TRACE_EVENT(hvx_user_exit,
	TP_PROTO(const struct hvx_vcpu *vcpu, u32 reason, u64 addr),
	TP_ARGS(vcpu, reason, addr),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u32, reason)
		__field(u64, addr)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu->id;
		__entry->reason = reason;
		__entry->addr = addr;
	),
	TP_printk("vcpu %u %s addr 0x%llx", __entry->vcpu_id,
		  __print_symbolic(__entry->reason, hvx_user_exit_reasons),
		  __entry->addr)
);

TRACE_EVENT(hvx_tdp_fault,
	TP_PROTO(const struct hvx_vcpu *vcpu, u64 gpa, bool write, bool fetch, bool mmio),
	TP_ARGS(vcpu, gpa, write, fetch, mmio),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u64, gpa)
		__field(bool, write)
		__field(bool, fetch)
		__field(bool, mmio)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu->id;
		__entry->gpa = gpa;
		__entry->write = write;
		__entry->fetch = fetch;
		__entry->mmio = mmio;
	),
	TP_printk("vcpu %u gpa 0x%llx %s%s", __entry->vcpu_id, __entry->gpa,
		  __entry->fetch ? "fetch" : __entry->write ? "write" : "read",
		  __entry->mmio ? " mmio" : "")
);

TRACE_EVENT(hvx_irq,
	TP_PROTO(u32 vcpu_id, u8 vector, enum hvx_irq_source source),
	TP_ARGS(vcpu_id, vector, source),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u8, vector)
		__field(u32, source)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->vector = vector;
		__entry->source = source;
	),
	TP_printk("vcpu %u vector 0x%x from %s", __entry->vcpu_id, __entry->vector,
		  __print_symbolic(__entry->source, hvx_irq_sources))
);

TRACE_EVENT(hvx_inject,
	TP_PROTO(const struct hvx_vcpu *vcpu, u8 vector),
	TP_ARGS(vcpu, vector),
	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u8, vector)
	),
	TP_fast_assign(
		__entry->vcpu_id = vcpu->id;
		__entry->vector = vector;
	),
	TP_printk("vcpu %u vector 0x%x", __entry->vcpu_id, __entry->vector)
);

TRACE_EVENT(hvx_merge,
	TP_PROTO(u64 gpa, bool zero, bool new_frame),
	TP_ARGS(gpa, zero, new_frame),
	TP_STRUCT__entry(
		__field(u64, gpa)
		__field(bool, zero)
		__field(bool, new_frame)
	),
	TP_fast_assign(
		__entry->gpa = gpa;
		__entry->zero = zero;
		__entry->new_frame = new_frame;
	),
	TP_printk("gpa 0x%llx %s%s", __entry->gpa,
		  __entry->zero ? "zero frame" : "shared frame",
		  __entry->new_frame ? " (new)" : "")
);

TRACE_EVENT(hvx_unmerge,
	TP_PROTO(u64 gpa, bool by_guest),
	TP_ARGS(gpa, by_guest),
	TP_STRUCT__entry(
		__field(u64, gpa)
		__field(bool, by_guest)
	),
	TP_fast_assign(
		__entry->gpa = gpa;
		__entry->by_guest = by_guest;
	),
	TP_printk("gpa 0x%llx copy on %s write", __entry->gpa,
		  __entry->by_guest ? "guest" : "vmm")
);

#endif /* HVX_TRACE_H */

/* Out of the kernel tree: define_trace.h finds this file by path. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
