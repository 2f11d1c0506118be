// SPDX-License-Identifier: GPL-2.0
/* emulate.c - guest page-table walks and the MOV-family decoder behind MMIO exits. */
#include <linux/bits.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>

#include "hvx.h"

#define PTE_P		BIT_ULL(0)
#define PTE_PS		BIT_ULL(7)
#define PTE_ADDR	GENMASK_ULL(51, 12)

static int hvx_read_pte(struct hvx_vcpu *vcpu, u64 gpa, u64 *pte, bool wide)
{
	u32 pte32;
	int ret;

	if (wide)
		return hvx_read_guest(vcpu->vm, gpa, pte, 8);
	ret = hvx_read_guest(vcpu->vm, gpa, &pte32, 4);
	*pte = pte32;
	return ret;
}

/*
 * Translate a guest linear address through the guest's own page tables,
 * as the CPU would for a supervisor access (SDM vol. 3 ch. 4): no paging,
 * 32-bit (with PSE), PAE, and 4-level.  Permissions are not checked: the
 * access has already passed them in hardware before it reached us.
 */
int hvx_gva_to_gpa(struct hvx_vcpu *vcpu, const struct hvx_sregs *sregs,
		   u64 gva, bool write, u64 *gpa)
{
	u64 pte, table;
	int level, ret;

	if (!(sregs->cr0 & X86_CR0_PG)) {
		*gpa = (sregs->efer & EFER_LMA) ? gva : (u32)gva;
		return 0;
	}
	if (!(sregs->cr4 & X86_CR4_PAE)) {
		/* 32-bit paging: 10 + 10 + 12 bits, 4 MiB pages with PSE. */
		gva = (u32)gva;
		ret = hvx_read_pte(vcpu, (sregs->cr3 & 0xfffff000) + (gva >> 22) * 4,
				   &pte, false);
		if (ret || !(pte & PTE_P))
			return -EFAULT;
		if ((pte & PTE_PS) && (sregs->cr4 & X86_CR4_PSE)) {
			*gpa = (pte & 0xffc00000) | (gva & 0x3fffff);
			return 0;
		}
		ret = hvx_read_pte(vcpu, (pte & 0xfffff000) + ((gva >> 12) & 0x3ff) * 4,
				   &pte, false);
		if (ret || !(pte & PTE_P))
			return -EFAULT;
		*gpa = (pte & 0xfffff000) | (gva & 0xfff);
		return 0;
	}
	if (sregs->efer & EFER_LMA) {
		level = 4;
		table = sregs->cr3 & PTE_ADDR;
	} else {
		/* PAE: the 4 PDPTEs sit at CR3[31:5]. */
		gva = (u32)gva;
		ret = hvx_read_pte(vcpu, (sregs->cr3 & 0xffffffe0) + (gva >> 30) * 8,
				   &pte, true);
		if (ret || !(pte & PTE_P))
			return -EFAULT;
		level = 2;
		table = pte & PTE_ADDR;
	}
	for (; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);

		ret = hvx_read_pte(vcpu, table + ((gva >> shift) & 511) * 8, &pte, true);
		if (ret || !(pte & PTE_P))
			return -EFAULT;
		if (level == 1 || ((level == 2 || level == 3) && (pte & PTE_PS))) {
			u64 mask = BIT_ULL(shift) - 1;

			*gpa = ((pte & PTE_ADDR) & ~mask) | (gva & mask);
			return 0;
		}
		table = pte & PTE_ADDR;
	}
	return -EFAULT;
}

/* Fetch up to 15 instruction bytes at CS:RIP; returns how many were read. */
static int hvx_fetch_insn(struct hvx_vcpu *vcpu, const struct hvx_sregs *sregs,
			  u8 *buf)
{
	u64 gva = sregs->cs.base + vcpu->rip, gpa;
	int got = 0;

	while (got < 15) {
		int chunk = min_t(int, 15 - got, PAGE_SIZE - offset_in_page(gva + got));

		if (hvx_gva_to_gpa(vcpu, sregs, gva + got, false, &gpa) ||
		    hvx_read_guest(vcpu->vm, gpa, buf + got, chunk))
			break;
		got += chunk;
	}
	return got;
}

/* A decoded MOV to or from memory. */
struct hvx_mov {
	u8 len;			/* whole instruction */
	u8 size;		/* memory operand bytes */
	u8 reg;			/* register operand (ModRM.reg + REX.R) */
	u8 dst_size;		/* register bytes written by a load */
	bool store, high_byte, imm, zext;
	u64 imm_val;
};

/*
 * Decode the MOV forms compilers emit for MMIO (readl/writel and friends):
 * 88/89/8A/8B, C6/C7 with an immediate, 0F B6/B7 (MOVZX), and A0-A3 (the
 * accumulator and an absolute address, as for a constant MMIO pointer).  Anything
 * else is refused: the VMM gets an emulation error, the host stays safe.
 */
static int hvx_decode_mov(const u8 *b, int avail, bool long_mode, bool cs_db,
			  struct hvx_mov *m)
{
	bool opsize = false, adsize = false, rex_w = false, rex = false;
	unsigned int rex_r = 0, mod, rm, op, addr_bits, op_bytes;
	int i = 0;

	memset(m, 0, sizeof(*m));
	for (; i < avail; i++) {
		switch (b[i]) {
		case 0x66: opsize = true; continue;
		case 0x67: adsize = true; continue;
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
		case 0xf0:
			continue;
		}
		break;
	}
	if (long_mode && i < avail && (b[i] & 0xf0) == 0x40) {
		rex = true;
		rex_w = b[i] & 8;
		rex_r = (b[i] & 4) ? 8 : 0;
		i++;
	}
	if (i >= avail)
		return -EINVAL;

	if (long_mode)
		op_bytes = rex_w ? 8 : opsize ? 2 : 4;
	else
		op_bytes = (cs_db ^ opsize) ? 4 : 2;
	addr_bits = long_mode ? (adsize ? 32 : 64) : ((cs_db ^ adsize) ? 32 : 16);

	op = b[i++];
	switch (op) {
	case 0xa0: case 0xa1: case 0xa2: case 0xa3:
		/* AL/eAX to or from an absolute address (moffs), no ModRM. */
		m->store = op >= 0xa2;
		m->size = (op & 1) ? op_bytes : 1;
		m->dst_size = m->size;
		m->reg = 0;
		i += addr_bits / 8;
		if (i > avail)
			return -EINVAL;
		m->len = i;
		return 0;
	case 0x88: m->store = true; m->size = 1; break;
	case 0x89: m->store = true; m->size = op_bytes; break;
	case 0x8a: m->size = 1; break;
	case 0x8b: m->size = op_bytes; break;
	case 0xc6: m->store = m->imm = true; m->size = 1; break;
	case 0xc7: m->store = m->imm = true; m->size = op_bytes; break;
	case 0x0f:
		if (i >= avail || (b[i] != 0xb6 && b[i] != 0xb7))
			return -EINVAL;
		m->size = b[i++] == 0xb6 ? 1 : 2;
		m->zext = true;
		break;
	default:
		return -EINVAL;
	}
	m->dst_size = m->zext ? op_bytes : m->size;

	if (i >= avail)
		return -EINVAL;
	mod = b[i] >> 6;
	m->reg = ((b[i] >> 3) & 7) | rex_r;
	rm = b[i] & 7;
	i++;
	if (mod == 3)
		return -EINVAL;		/* register operand: not a memory access */
	if ((op == 0xc6 || op == 0xc7) && (m->reg & 7))
		return -EINVAL;
	/* Without REX, byte registers 4-7 are AH, CH, DH, BH. */
	if (m->size == 1 && !m->zext && !m->imm && !rex && m->reg >= 4 && m->reg < 8) {
		m->high_byte = true;
		m->reg -= 4;
	}

	if (addr_bits == 16) {
		if (mod == 0 && rm == 6)
			i += 2;
		else
			i += mod == 1 ? 1 : mod == 2 ? 2 : 0;
	} else {
		if (rm == 4) {
			if (i >= avail)
				return -EINVAL;
			if (mod == 0 && (b[i] & 7) == 5)
				i += 4;
			i++;
		} else if (mod == 0 && rm == 5) {
			i += 4;
		}
		i += mod == 1 ? 1 : mod == 2 ? 4 : 0;
	}
	if (m->imm) {
		unsigned int n = min(m->size, 4);

		if (i + n > avail)
			return -EINVAL;
		m->imm_val = 0;
		memcpy(&m->imm_val, &b[i], n);
		if (m->size == 8 && (m->imm_val & BIT_ULL(31)))
			m->imm_val |= GENMASK_ULL(63, 32);	/* sign-extended */
		i += n;
	}
	if (i > avail)
		return -EINVAL;
	m->len = i;
	return 0;
}

/* Remember where the data of a decoded load goes. */
static void hvx_mmio_read_setup(struct hvx_vcpu *vcpu, const struct hvx_mov *m)
{
	vcpu->pending_len = m->len;
	vcpu->mmio_reg = m->reg | (m->high_byte ? 0x80 : 0);
	vcpu->mmio_size = m->dst_size;
	vcpu->mmio_zext = m->zext;
	vcpu->mmio_read_size = m->size;
}

/*
 * An access outside guest RAM (or a write to a read-only region): decode
 * the instruction and hand the access to userspace as HVX_EXIT_MMIO.
 */
int hvx_emulate_mmio(struct hvx_vcpu *vcpu, u64 gpa, bool write)
{
	struct hvx_run *run = vcpu->run;
	struct hvx_sregs sregs;
	struct hvx_mov m;
	u8 insn[15];
	u64 val;
	int n;

	hvx_ops->get_sregs(vcpu, &sregs);
	n = hvx_fetch_insn(vcpu, &sregs, insn);
	if (hvx_decode_mov(insn, n, (sregs.efer & EFER_LMA) && sregs.cs.l,
			   sregs.cs.db, &m) || m.store != write) {
		run->exit_reason = HVX_EXIT_INTERNAL_ERROR;
		run->internal.suberror = HVX_INTERNAL_EMULATION;
		run->internal.ndata = 4;
		run->internal.data[0] = gpa;
		run->internal.data[1] = vcpu->rip;
		memcpy(&run->internal.data[2], insn, min(n, 15));
		return 0;
	}

	if (m.store)
		val = m.imm ? m.imm_val : m.high_byte ? vcpu->regs[m.reg] >> 8 :
		      vcpu->regs[m.reg];
	/* The local APIC page is handled here, without a trip to the VMM. */
	if (hvx_lapic_covers(vcpu, gpa)) {
		if (m.store) {
			hvx_lapic_mmio(vcpu, gpa, true, &val, m.size);
			vcpu->rip += m.len;
			return 1;
		}
		hvx_lapic_mmio(vcpu, gpa, false, &val, m.size);
		hvx_mmio_read_setup(vcpu, &m);
		return hvx_complete_mmio_read(vcpu, &val) ?: 1;
	}

	/* So is a write an ioeventfd is bound to: the device thread gets it. */
	if (m.store && hvx_ioeventfd_write(vcpu->vm, false, gpa, m.size, val)) {
		vcpu->rip += m.len;
		return 1;
	}

	run->exit_reason = HVX_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = m.size;
	run->mmio.is_write = m.store;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (m.store) {
		memcpy(run->mmio.data, &val, m.size);
		vcpu->rip += m.len;
		return 0;
	}
	hvx_mmio_read_setup(vcpu, &m);
	vcpu->pending = HVX_PENDING_MMIO_READ;
	return 0;
}

/* Put the data read (by userspace or the local APIC) into the register. */
int hvx_complete_mmio_read(struct hvx_vcpu *vcpu, const void *data)
{
	u64 val = 0, *reg = &vcpu->regs[vcpu->mmio_reg & 0xf];

	memcpy(&val, data, vcpu->mmio_read_size);
	if (vcpu->mmio_reg & 0x80)		/* AH, CH, DH, BH */
		*reg = (*reg & ~0xff00ull) | ((val & 0xff) << 8);
	else if (vcpu->mmio_size == 1)
		*reg = (*reg & ~0xffull) | (val & 0xff);
	else if (vcpu->mmio_size == 2)
		*reg = (*reg & ~0xffffull) | (val & 0xffff);
	else if (vcpu->mmio_size == 4)
		*reg = (u32)val;		/* 32-bit writes zero-extend */
	else
		*reg = val;
	vcpu->rip += vcpu->pending_len;
	return 0;
}
