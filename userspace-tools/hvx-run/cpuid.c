// SPDX-License-Identifier: GPL-2.0
/* cpuid.c - the CPUID table each vCPU sees: the host's, filtered to what hvx virtualizes. */
#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hvx-run.h"

#define BIT(n)	(1u << (n))

/*
 * Feature bits are passed through from allow-lists, never from deny-lists:
 * a bit a newer CPU adds stays hidden until someone checks that hvx can
 * virtualize it.  Left out on purpose, among others: VMX, SVM (no nested
 * virtualization), x2APIC (the in-kernel local APIC is xAPIC; its timer
 * has TSC-deadline mode, offered below), XSAVE/OSXSAVE and everything that
 * needs XCR0 (AVX, FMA, F16C, AVX2, AVX-512: XSETBV raises #UD),
 * MONITOR/MWAIT (#UD in hvx), PDCM/perfmon and the PMU leaves (no PMU),
 * MCE/MCA (no machine-check banks), RDTSCP/RDPID (TSC_AUX is not kept),
 * INVPCID, PKU, LA57, WAITPKG, RTM/HLE, MPX, SGX, TSC_ADJUST, the
 * speculation-control MSRs (SPEC_CTRL is the host's), topology extensions
 * and the SVM leaf.
 */
static const uint32_t leaf1_ecx_ok =
	BIT(0) |	/* SSE3 */
	BIT(1) |	/* PCLMULQDQ */
	BIT(9) |	/* SSSE3 */
	BIT(13) |	/* CMPXCHG16B */
	BIT(17) |	/* PCID: hvx leaves CR4.PCIDE to the guest */
	BIT(19) |	/* SSE4.1 */
	BIT(20) |	/* SSE4.2 */
	BIT(22) |	/* MOVBE */
	BIT(23) |	/* POPCNT */
	BIT(25) |	/* AES-NI */
	BIT(30);	/* RDRAND */

static const uint32_t leaf1_edx_ok =
	BIT(0) | BIT(1) | BIT(2) | BIT(3) |	/* FPU VME DE PSE */
	BIT(4) | BIT(5) | BIT(6) | BIT(8) |	/* TSC MSR PAE CX8 */
	BIT(9) | BIT(11) | BIT(13) | BIT(15) |	/* APIC SEP PGE CMOV */
	BIT(16) | BIT(17) | BIT(19) | BIT(23) |	/* PAT PSE36 CLFSH MMX */
	BIT(24) | BIT(25) | BIT(26) | BIT(27);	/* FXSR SSE SSE2 SS */

static const uint32_t leaf7_ebx_ok =
	BIT(0) |	/* FSGSBASE */
	BIT(3) |	/* BMI1 */
	BIT(6) |	/* FDP_EXCPTN_ONLY */
	BIT(7) |	/* SMEP */
	BIT(8) |	/* BMI2 */
	BIT(9) |	/* ERMS */
	BIT(13) |	/* FPU CS/DS deprecated */
	BIT(18) |	/* RDSEED */
	BIT(19) |	/* ADX */
	BIT(20) |	/* SMAP */
	BIT(23) |	/* CLFLUSHOPT */
	BIT(24) |	/* CLWB */
	BIT(29);	/* SHA */

static const uint32_t leaf7_edx_ok = BIT(4);	/* FSRM */

static const uint32_t ext1_ecx_ok =
	BIT(0) |	/* LAHF/SAHF in long mode */
	BIT(5) |	/* LZCNT */
	BIT(6) |	/* SSE4A */
	BIT(7) |	/* misaligned SSE */
	BIT(8);		/* PREFETCHW */

static const uint32_t ext1_edx_ok =
	(leaf1_edx_ok & 0x0183f3ff) |	/* AMD's copies of the leaf-1 bits */
	BIT(11) |	/* SYSCALL */
	BIT(20) |	/* NX */
	BIT(22) |	/* MMX extensions */
	BIT(25) |	/* FFXSR */
	BIT(26) |	/* 1 GiB pages */
	BIT(29);	/* long mode */

uint32_t cpuid_features[CPUID_FEATURE_WORDS];

struct cpuid_table {
	struct hvx_cpuid hdr;
	struct hvx_cpuid_entry e[HVX_MAX_CPUID_ENTRIES];
};

static struct hvx_cpuid_entry *add(struct cpuid_table *t, uint32_t fn, uint32_t index,
				   bool indexed)
{
	struct hvx_cpuid_entry *e = &t->e[t->hdr.nent++];

	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = index;
	e->flags = indexed ? HVX_CPUID_FLAG_SIGNIFICANT_INDEX : 0;
	__cpuid_count(fn, index, e->eax, e->ebx, e->ecx, e->edx);
	return e;
}

static int bits_for(int n)
{
	int b = 0;

	while ((1 << b) < n)
		b++;
	return b;
}

void cpuid_setup(struct vcpu *vcpu)
{
	struct cpuid_table *t = calloc(1, sizeof(*t));
	struct hvx_cpuid_entry *e;
	uint32_t max, fn, i, a, b, c, d;
	int n = vm.nr_vcpus;
	bool amd;

	if (!t)
		die(ST_INTERNAL, "out of memory");
	__cpuid(0, max, b, c, d);
	amd = b == 0x68747541;	/* "AuthenticAMD" */
	/* Leaves past 0xd (PT, TSC/crystal ratios, ...) are not offered. */
	if (max > 0xd)
		max = 0xd;
	for (fn = 0; fn <= max; fn++) {
		switch (fn) {
		case 0:
			e = add(t, 0, 0, false);
			e->eax = max;
			break;
		case 1:
			e = add(t, 1, 0, false);
			/* Initial APIC ID = vCPU id; EBX[23:16] counts the package's CPUs. */
			e->ebx = (e->ebx & 0xffff) | (uint32_t)vcpu->id << 24 |
				 (uint32_t)(n > 1 ? n : 1) << 16;
			e->ecx = (e->ecx & leaf1_ecx_ok) | BIT(31);	/* hypervisor */
			/* TSC-deadline is the in-kernel local APIC's, not the host's. */
			if (vm.lapic)
				e->ecx |= BIT(24);
			e->edx &= leaf1_edx_ok;
			if (n > 1)
				e->edx |= BIT(28);	/* HTT: EBX[23:16] is meaningful */
			break;
		case 2:
			add(t, 2, 0, false);	/* cache descriptors */
			break;
		case 4:
			/* Deterministic caches (Intel): the vCPUs are one package's cores. */
			for (i = 0; i < 16; i++) {
				e = add(t, 4, i, true);
				if (!(e->eax & 0x1f))
					break;
				e->eax = (e->eax & 0x3fff) | (uint32_t)(n - 1) << 26;
			}
			break;
		case 6:
			/* Only ARAT: the local APIC timer does not stop in C-states. */
			e = add(t, 6, 0, false);
			e->eax = BIT(2);
			e->ebx = e->ecx = e->edx = 0;
			break;
		case 7:
			e = add(t, 7, 0, true);
			e->eax = 0;	/* no subleaf 1 */
			e->ebx &= leaf7_ebx_ok;
			e->ecx = 0;
			e->edx &= leaf7_edx_ok;
			break;
		default:
			/*
			 * 3 (PSN), 5 (MONITOR), 8, 9, 0xa (perfmon),
			 * 0xb (x2APIC topology), 0xd (XSAVE): zero.
			 */
			break;
		}
	}

	/* The hypervisor leaves, where Linux looks for a signature. */
	e = add(t, 0x40000000, 0, false);
	e->eax = 0x40000001;
	memcpy(&e->ebx, "hvxh", 4);
	memcpy(&e->ecx, "vxhv", 4);
	memcpy(&e->edx, "xhvx", 4);
	e = add(t, 0x40000001, 0, false);
	e->eax = e->ebx = e->ecx = e->edx = 0;

	__cpuid(0x80000000, max, b, c, d);
	/* Not offered: 0x8000000a (SVM), 0x8000001d/1e (topology), 0x8000001f (SME/SEV). */
	if (max > 0x80000008)
		max = 0x80000008;
	for (fn = 0x80000000; fn <= max; fn++) {
		e = add(t, fn, 0, false);
		switch (fn) {
		case 0x80000000:
			e->eax = max;
			break;
		case 0x80000001:
			e->ecx &= ext1_ecx_ok;
			if (amd && n > 1)
				e->ecx |= BIT(1);	/* CmpLegacy: the HTT CPUs are cores */
			e->edx &= ext1_edx_ok;
			break;
		case 0x80000007:
			/* Only the invariant TSC: no power management, no RAS. */
			e->eax = e->ebx = e->ecx = 0;
			e->edx &= BIT(8);
			break;
		case 0x80000008:
			/* Address sizes: second-level tables stop at 48 bits. */
			a = e->eax & 0xff;
			e->eax = (e->eax & 0xff00) | (a > HVX_MAX_GPA_BITS ? HVX_MAX_GPA_BITS : a);
			e->ebx = 0;
			/* AMD core count: NC = cores - 1, and the APIC-ID bits that number them. */
			e->ecx = amd ? (uint32_t)(n - 1) | (uint32_t)bits_for(n) << 12 : 0;
			e->edx = 0;
			break;
		case 0x80000002: case 0x80000003: case 0x80000004:	/* brand string */
		case 0x80000005: case 0x80000006:			/* caches and TLBs */
			break;
		default:
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		}
	}

	/* What a snapshot records of the guest's CPU, to refuse a restore on another. */
	if (vcpu->id == 0) {
		for (i = 0; i < t->hdr.nent; i++) {
			e = &t->e[i];
			if (e->function == 1) {
				cpuid_features[0] = e->ecx & ~BIT(31);
				cpuid_features[1] = e->edx & ~BIT(28);
			} else if (e->function == 7) {
				cpuid_features[2] = e->ebx;
				cpuid_features[3] = e->edx;
			} else if (e->function == 0x80000001) {
				cpuid_features[4] = e->ecx & ~BIT(1);
				cpuid_features[5] = e->edx;
			}
		}
	}
	if (ioctl(vcpu->fd, HVX_SET_CPUID, &t->hdr))
		die(ST_INTERNAL, "HVX_SET_CPUID (%u leaves): %s", t->hdr.nent, strerror(errno));
	free(t);
}
