// SPDX-License-Identifier: GPL-2.0
/* guest.c - the selftests' VMM side: VMs, vCPUs, CPU modes, payloads and the ucall port. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <unistd.h>

#include "guest.h"

#define PTE_P	0x1ull
#define PTE_W	0x2ull
#define PTE_PS	0x80ull

int guest_vm_create(struct guest_vm *vm, uint64_t mem_size)
{
	struct hvx_memory_region r = { .slot = 0, .size = mem_size };

	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
	vm->sys_fd = open("/dev/hvx", O_RDWR | O_CLOEXEC);
	if (vm->sys_fd < 0)
		return -errno;
	vm->fd = ioctl(vm->sys_fd, HVX_CREATE_VM, 0);
	if (vm->fd < 0)
		goto fail;
	if (ioctl(vm->fd, HVX_SET_MEMORY_REGION, &r))
		goto fail;
	vm->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->fd, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		goto fail;
	}
	vm->mem_size = mem_size;
	return 0;
fail:
	{
		int err = -errno;

		guest_vm_destroy(vm);
		return err;
	}
}

void guest_vm_destroy(struct guest_vm *vm)
{
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->sys_fd >= 0)
		close(vm->sys_fd);
	vm->mem = NULL;
	vm->fd = vm->sys_fd = -1;
}

int guest_vcpu_create(struct guest_vm *vm, struct guest_vcpu *vcpu, int id)
{
	vcpu->vm = vm;
	vcpu->fd = ioctl(vm->fd, HVX_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		return -errno;
	vcpu->run = mmap(NULL, HVX_RUN_MMAP_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		int err = -errno;

		close(vcpu->fd);
		return err;
	}
	return 0;
}

void guest_vcpu_destroy(struct guest_vcpu *vcpu)
{
	munmap(vcpu->run, HVX_RUN_MMAP_SIZE);
	close(vcpu->fd);
}

/* Identity maps for 32-bit (4 MiB pages) and 4-level (2 MiB pages) paging. */
void guest_build_page_tables(uint8_t *mem)
{
	uint64_t *pml4 = (uint64_t *)(mem + 0x1000);
	uint64_t *pdpt = (uint64_t *)(mem + 0x2000);
	uint64_t *pd = (uint64_t *)(mem + 0x3000);
	uint32_t *pd32 = (uint32_t *)(mem + 0x7000);
	int i;

	pml4[0] = 0x2000 | PTE_P | PTE_W;
	for (i = 0; i < 4; i++)
		pdpt[i] = (0x3000 + i * 0x1000) | PTE_P | PTE_W;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS;
	for (i = 0; i < 1024; i++)
		pd32[i] = ((uint32_t)i << 22) | PTE_P | PTE_W | PTE_PS;
}

static struct hvx_segment flat_seg(uint16_t sel, uint8_t type, bool code64, bool db)
{
	return (struct hvx_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .s = 1, .l = code64, .db = db, .g = 1,
	};
}

int guest_set_mode(struct guest_vcpu *vcpu, enum guest_mode mode, uint64_t rip)
{
	struct hvx_sregs s;
	struct hvx_regs r;

	if (ioctl(vcpu->fd, HVX_GET_SREGS, &s))
		return -errno;
	memset(s.reserved, 0, sizeof(s.reserved));
	if (mode == MODE_REAL) {
		struct hvx_segment rs = { .limit = 0xffff, .type = 3, .present = 1, .s = 1 };

		s.ds = s.es = s.fs = s.gs = s.ss = rs;
		/* IP is 16 bits: CS carries the 64 KiB-aligned part of @rip. */
		s.cs = rs;
		s.cs.type = 0xb;
		s.cs.base = rip & ~0xffffull;
		s.cs.selector = s.cs.base >> 4;
		rip &= 0xffff;
		s.cr0 = 0x10;		/* ET; caches on */
		s.cr4 = 0;
		s.efer = 0;
	} else {
		struct hvx_segment data = flat_seg(0x10, 3, false, true);

		guest_build_page_tables(vcpu->vm->mem);
		s.ds = s.es = s.fs = s.gs = s.ss = data;
		s.tr = (struct hvx_segment){ .limit = 0x67, .selector = 0x18,
					     .type = 0xb, .present = 1 };
		s.ldt = (struct hvx_segment){ .unusable = 1 };
		s.cr0 = 0x80000011;	/* PG | ET | PE */
		if (mode == MODE_PROT32) {
			s.cs = flat_seg(0x8, 0xb, false, true);
			s.cr3 = 0x7000;
			s.cr4 = 0x10;	/* PSE */
			s.efer = 0;
		} else {
			s.cs = flat_seg(0x8, 0xb, true, false);
			s.cr3 = 0x1000;
			s.cr4 = 0x20;	/* PAE */
			s.efer = 0x500;	/* LME | LMA */
		}
	}
	if (ioctl(vcpu->fd, HVX_SET_SREGS, &s))
		return -errno;
	memset(&r, 0, sizeof(r));
	r.rip = rip;
	r.rsp = GUEST_STACK;
	r.rflags = 2;
	if (ioctl(vcpu->fd, HVX_SET_REGS, &r))
		return -errno;
	return 0;
}

int guest_load(struct guest_vcpu *vcpu, enum guest_mode mode, struct payload p)
{
	memcpy(vcpu->vm->mem + GUEST_CODE, p.start, p.end - p.start);
	return guest_set_mode(vcpu, mode, GUEST_CODE);
}

int guest_run(struct guest_vcpu *vcpu)
{
	if (ioctl(vcpu->fd, HVX_RUN, 0))
		return -errno;
	return vcpu->run->exit_reason;
}

void *guest_io_data(struct guest_vcpu *vcpu)
{
	return (uint8_t *)vcpu->run + vcpu->run->io.data_offset;
}

uint32_t guest_io_data32(struct guest_vcpu *vcpu)
{
	uint32_t v = 0;

	memcpy(&v, guest_io_data(vcpu), vcpu->run->io.size);
	return v;
}

int guest_get_regs(struct guest_vcpu *vcpu, struct hvx_regs *regs)
{
	return ioctl(vcpu->fd, HVX_GET_REGS, regs) ? -errno : 0;
}

int guest_set_regs(struct guest_vcpu *vcpu, const struct hvx_regs *regs)
{
	return ioctl(vcpu->fd, HVX_SET_REGS, regs) ? -errno : 0;
}

int guest_run_to_ucall(struct guest_vcpu *vcpu, struct hvx_regs *regs)
{
	for (;;) {
		int reason = guest_run(vcpu);

		if (reason != HVX_EXIT_IO) {
			struct hvx_run *run = vcpu->run;

			printf("# unexpected exit %d (%s)", reason,
			       reason >= 0 ? guest_exit_name(reason) : strerror(-reason));
			if (reason == HVX_EXIT_INTERNAL_ERROR)
				printf(" suberror %u data 0x%llx 0x%llx 0x%llx 0x%llx",
				       run->internal.suberror,
				       (unsigned long long)run->internal.data[0],
				       (unsigned long long)run->internal.data[1],
				       (unsigned long long)run->internal.data[2],
				       (unsigned long long)run->internal.data[3]);
			if (reason == HVX_EXIT_UNKNOWN || reason == HVX_EXIT_FAIL_ENTRY)
				printf(" code 0x%llx info 0x%llx 0x%llx",
				       (unsigned long long)run->hw.exit_code,
				       (unsigned long long)run->hw.info1,
				       (unsigned long long)run->hw.info2);
			printf("\n");
			fflush(stdout);
			return -1;
		}
		if (vcpu->run->io.direction == HVX_IO_IN) {
			memset(guest_io_data(vcpu), 0, vcpu->run->io.size * vcpu->run->io.count);
			continue;
		}
		if (vcpu->run->io.port == UCALL_PORT) {
			if (regs && guest_get_regs(vcpu, regs))
				return -1;
			return guest_io_data32(vcpu);
		}
	}
}

const char *guest_exit_name(uint32_t reason)
{
	static const char *const names[] = {
		"UNKNOWN", "IO", "MMIO", "HLT", "SHUTDOWN", "HYPERCALL", "MSR",
		"FAIL_ENTRY", "INTERNAL_ERROR", "INTR",
	};

	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "?";
}

void guest_require_vcpus(void)
{
	struct guest_vcpu v;
	struct guest_vm vm;
	int ret;

	ret = guest_vm_create(&vm, GUEST_MEM_DEFAULT);
	if (ret) {
		printf("TAP version 13\n1..0 # %scannot create a VM: %s\n",
		       ret == -ENOENT ? "SKIP " : "", strerror(-ret));
		exit(ret == -ENOENT ? 4 : 1);
	}
	ret = guest_vcpu_create(&vm, &v, 0);
	if (ret) {
		printf("TAP version 13\n1..0 # cannot create a vCPU: %s\n", strerror(-ret));
		exit(1);
	}
	guest_vcpu_destroy(&v);
	guest_vm_destroy(&vm);
}
