/* SPDX-License-Identifier: GPL-2.0 */
/* guest.h - the selftests' VMM side: VMs, vCPUs, CPU modes, payloads and the ucall port. */
#ifndef HVX_GUEST_H
#define HVX_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/hvx.h>

/*
 * Guest physical layout every payload assumes:
 *   0x1000 PML4, 0x2000 PDPT, 0x3000-0x6fff four PDs: 4 GiB identity, 2 MiB pages
 *   0x7000 32-bit page directory: 4 GiB identity, 4 MiB pages
 *   0x9000 top of the stack
 *   0x10000 code, 0x20000 data
 * Guest RAM is the region at 0; everything above it is MMIO.
 */
#define GUEST_CODE		0x10000
#define GUEST_DATA		0x20000
#define GUEST_STACK		0x9000
#define GUEST_MEM_DEFAULT	(2ul << 20)

/* The ucall channel: a 4-byte OUT to this port; RBX..RDX carry arguments. */
#define UCALL_PORT		0xf1
#define UCALL_DONE		0x600d
#define UCALL_SYNC		0x5111
#define UCALL_FAIL		0xbad

enum guest_mode { MODE_REAL, MODE_PROT32, MODE_LONG };

struct guest_vm {
	int sys_fd, fd;
	uint8_t *mem;
	uint64_t mem_size;
};

struct guest_vcpu {
	struct guest_vm *vm;
	int fd;
	struct hvx_run *run;
};

/* A payload: bytes of guest code assembled in guest_code.S. */
struct payload {
	const uint8_t *start, *end;
};

#define PAYLOAD(name) ({						\
	extern const uint8_t name##_start[], name##_end[];		\
	(struct payload){ name##_start, name##_end };			\
})

int guest_vm_create(struct guest_vm *vm, uint64_t mem_size);
void guest_vm_destroy(struct guest_vm *vm);
int guest_vcpu_create(struct guest_vm *vm, struct guest_vcpu *vcpu, int id);
void guest_vcpu_destroy(struct guest_vcpu *vcpu);

/* Put @p at GUEST_CODE and set the vCPU up in @mode to run it. */
int guest_load(struct guest_vcpu *vcpu, enum guest_mode mode, struct payload p);
int guest_set_mode(struct guest_vcpu *vcpu, enum guest_mode mode, uint64_t rip);
/* The identity page tables of the layout above, into guest memory @mem. */
void guest_build_page_tables(uint8_t *mem);

/* HVX_RUN; returns the exit reason or -errno. */
int guest_run(struct guest_vcpu *vcpu);
/* Run, answering IN with 0, until a ucall; returns its code or -1. */
int guest_run_to_ucall(struct guest_vcpu *vcpu, struct hvx_regs *regs);

int guest_get_regs(struct guest_vcpu *vcpu, struct hvx_regs *regs);
int guest_set_regs(struct guest_vcpu *vcpu, const struct hvx_regs *regs);
uint32_t guest_io_data32(struct guest_vcpu *vcpu);
void *guest_io_data(struct guest_vcpu *vcpu);
const char *guest_exit_name(uint32_t reason);

/* Exit (skip without /dev/hvx, fail without a vCPU) if guests cannot run. */
void guest_require_vcpus(void);

#endif /* HVX_GUEST_H */
