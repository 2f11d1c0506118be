// SPDX-License-Identifier: GPL-2.0
/* guest_exits_test.c - every exit kind: CPUID, hypercall, MSRs, shutdown, string I/O, MMIO, read-only memory. */
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "hvx_util.h"
#include "lib/guest.h"

/* A VM with one vCPU loaded with @p in long mode; false if anything failed. */
static bool setup(struct guest_vm *vm, struct guest_vcpu *v, struct payload p)
{
	if (guest_vm_create(vm, GUEST_MEM_DEFAULT))
		return false;
	if (guest_vcpu_create(vm, v, 0)) {
		guest_vm_destroy(vm);
		return false;
	}
	if (guest_load(v, MODE_LONG, p)) {
		guest_vcpu_destroy(v);
		guest_vm_destroy(vm);
		return false;
	}
	return true;
}

static void teardown(struct guest_vm *vm, struct guest_vcpu *v)
{
	guest_vcpu_destroy(v);
	guest_vm_destroy(vm);
}

static void test_cpuid(void)
{
	struct {
		struct hvx_cpuid hdr;
		struct hvx_cpuid_entry ent[2];
	} cpuid = {
		.hdr.nent = 2,
		.ent = {
			{ .function = 0x40000000, .eax = 0x40000001,
			  .ebx = 0x68787668, .ecx = 0x76687876, .edx = 0x78766878 },
			{ .function = 7, .index = 0,
			  .flags = HVX_CPUID_FLAG_SIGNIFICANT_INDEX, .ebx = 1 },
		},
	};
	struct guest_vm vm;
	struct guest_vcpu v;
	struct hvx_regs r;
	bool ok;

	if (!setup(&vm, &v, PAYLOAD(cpuid64))) {
		ktap_result(false, "cpuid_answered_from_table");
		return;
	}
	ok = !ioctl(v.fd, HVX_SET_CPUID, &cpuid);
	ok = ok && guest_run_to_ucall(&v, &r) == UCALL_SYNC &&
	     (uint32_t)r.rsi == 0x40000001 && (uint32_t)r.rbx == 0x68787668 &&
	     (uint32_t)r.rcx == 0x76687876 && (uint32_t)r.rdx == 0x78766878;
	/* A leaf that is not in the table reads as zeros. */
	ok = ok && guest_run_to_ucall(&v, &r) == UCALL_SYNC &&
	     !(uint32_t)r.rsi && !(uint32_t)r.rbx && !(uint32_t)r.rcx && !(uint32_t)r.rdx;
	ok = ok && guest_run_to_ucall(&v, NULL) == UCALL_DONE;
	ktap_result(ok, "cpuid_answered_from_table");
	teardown(&vm, &v);
}

static void test_hypercall(bool intel)
{
	struct guest_vm vm;
	struct guest_vcpu v;
	struct hvx_regs r;
	bool ok;

	if (!setup(&vm, &v, intel ? PAYLOAD(hypercall64_vmcall) : PAYLOAD(hypercall64))) {
		ktap_result(false, "hypercall_exit_and_return_value");
		return;
	}
	ok = guest_run(&v) == HVX_EXIT_HYPERCALL && v.run->hypercall.nr == 42 &&
	     v.run->hypercall.args[0] == 1 && v.run->hypercall.args[1] == 2 &&
	     v.run->hypercall.args[2] == 3 && v.run->hypercall.args[3] == 4;
	v.run->hypercall.ret = 0x1234567;
	ok = ok && guest_run_to_ucall(&v, &r) == UCALL_SYNC && r.rbx == 0x1234567;
	ktap_result(ok, "hypercall_exit_and_return_value");
	teardown(&vm, &v);
}

static void test_msrs(void)
{
	struct guest_vm vm;
	struct guest_vcpu v;
	struct hvx_regs r;
	struct {
		struct hvx_msrs hdr;
		struct hvx_msr_entry ent[1];
	} msrs = { .hdr.nmsrs = 1, .ent[0].index = 0xc0000082 };
	bool ok;

	if (!setup(&vm, &v, PAYLOAD(msr64))) {
		ktap_result(false, "known_msr_kept_in_kernel");
		ktap_result(false, "unknown_msr_exits_to_vmm");
		ktap_result(false, "unknown_msr_gp_policy");
		return;
	}
	ok = guest_run_to_ucall(&v, &r) == UCALL_SYNC &&
	     (uint32_t)r.rbx == 0x11223344 && (uint32_t)r.rsi == 0xffff8000;
	ok = ok && ioctl(v.fd, HVX_GET_MSRS, &msrs) == 1 &&
	     msrs.ent[0].data == 0xffff800011223344ull;
	ktap_result(ok, "known_msr_kept_in_kernel");

	ok = guest_run(&v) == HVX_EXIT_MSR && v.run->msr.index == 0x40001234 &&
	     !v.run->msr.is_write;
	v.run->msr.data = 0xabcdef0012345678ull;
	ok = ok && guest_run(&v) == HVX_EXIT_MSR && v.run->msr.is_write &&
	     v.run->msr.data == 0x99;
	ok = ok && guest_run_to_ucall(&v, &r) == UCALL_SYNC &&
	     (uint32_t)r.rbx == 0x12345678 && (uint32_t)r.rsi == 0xabcdef00;
	ktap_result(ok, "unknown_msr_exits_to_vmm");
	teardown(&vm, &v);

	/* With the #GP policy the guest faults; with no IDT that is a triple fault. */
	if (!setup(&vm, &v, PAYLOAD(msr64))) {
		ktap_result(false, "unknown_msr_gp_policy");
		return;
	}
	ok = !ioctl(vm.fd, HVX_SET_MSR_POLICY, HVX_MSR_POLICY_GP) &&
	     guest_run_to_ucall(&v, &r) == UCALL_SYNC &&
	     guest_run(&v) == HVX_EXIT_SHUTDOWN;
	ktap_result(ok, "unknown_msr_gp_policy");
	teardown(&vm, &v);

	/*
	 * Values the CPU's WRMSR refuses: hvx once took a non-canonical LSTAR
	 * from the guest and wrote it to the host's MSR at the next VMX entry
	 * (guest_fuzz found it).  Now the guest gets #GP and LSTAR keeps its value.
	 */
	if (!setup(&vm, &v, PAYLOAD(msr_bad64))) {
		ktap_result(false, "wrmsr_noncanonical_lstar_gp");
		ktap_result(false, "set_msrs_refuses_bad_values");
		return;
	}
	msrs.ent[0].data = 0xffffffff81000000ull;
	ok = ioctl(v.fd, HVX_SET_MSRS, &msrs) == 1 && guest_run(&v) == HVX_EXIT_SHUTDOWN;
	msrs.ent[0].data = 0;
	ok = ok && ioctl(v.fd, HVX_GET_MSRS, &msrs) == 1 &&
	     msrs.ent[0].data == 0xffffffff81000000ull;
	ktap_result(ok, "wrmsr_noncanonical_lstar_gp");
	{
		static const struct hvx_msr_entry bad[] = {
			{ .index = 0xc0000082, .data = 0x0001000011223344ull },	/* LSTAR */
			{ .index = 0xc0000102, .data = 0x8000000000000000ull },	/* KERNEL_GS_BASE */
			{ .index = 0xc0000100, .data = 0x0000800000000000ull },	/* FS_BASE */
			{ .index = 0x175, .data = 0x00ff000000000000ull },	/* SYSENTER_ESP */
			{ .index = 0xc0000084, .data = 1ull << 32 },		/* SYSCALL_MASK */
			{ .index = 0x277, .data = 0x0007040600070402ull },	/* PAT, type 2 */
			{ .index = 0x277, .data = 0x0007040600070408ull },	/* PAT, type 8 */
		};
		unsigned int i;

		ok = true;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			msrs.ent[0] = bad[i];
			if (ioctl(v.fd, HVX_SET_MSRS, &msrs) != 0) {
				ktap_diag("SET_MSRS took 0x%x = 0x%llx", bad[i].index,
					  (unsigned long long)bad[i].data);
				ok = false;
			}
		}
		/* ... and still takes good ones: Linux's PAT, a canonical high address. */
		msrs.ent[0] = (struct hvx_msr_entry){ .index = 0x277, .data = 0x0407050600070106ull };
		ok = ok && ioctl(v.fd, HVX_SET_MSRS, &msrs) == 1;
		msrs.ent[0] = (struct hvx_msr_entry){ .index = 0xc0000100, .data = 0xffff800000001000ull };
		ok = ok && ioctl(v.fd, HVX_SET_MSRS, &msrs) == 1;
		ktap_result(ok, "set_msrs_refuses_bad_values");
	}
	teardown(&vm, &v);
}

static void test_triple_fault(void)
{
	struct guest_vm vm;
	struct guest_vcpu v;

	if (!setup(&vm, &v, PAYLOAD(triple64))) {
		ktap_result(false, "triple_fault_is_shutdown");
		return;
	}
	ktap_result(guest_run(&v) == HVX_EXIT_SHUTDOWN, "triple_fault_is_shutdown");
	teardown(&vm, &v);
}

static void test_string_io(void)
{
	struct guest_vm vm;
	struct guest_vcpu v;
	struct hvx_regs r;
	unsigned int i, out = 0, in = 0, exits = 0;
	uint8_t got[10000];
	uint16_t next = 0;
	bool ok = true;

	if (!setup(&vm, &v, PAYLOAD(stringio64))) {
		ktap_result(false, "rep_outsb_rep_insw");
		return;
	}
	for (i = 0; i < sizeof(got); i++)
		vm.mem[0x20000 + i] = i * 13 + 1;
	for (;;) {
		int reason = guest_run(&v);
		struct hvx_run *run = v.run;

		if (reason != HVX_EXIT_IO) {
			ok = false;
			break;
		}
		if (run->io.port == UCALL_PORT)
			break;
		exits++;
		if (run->io.port == 0x20 && run->io.direction == HVX_IO_OUT &&
		    run->io.size == 1 && out + run->io.count <= sizeof(got)) {
			memcpy(got + out, guest_io_data(&v), run->io.count);
			out += run->io.count;
		} else if (run->io.port == 0x22 && run->io.direction == HVX_IO_IN &&
			   run->io.size == 2) {
			uint16_t *d = guest_io_data(&v);

			for (i = 0; i < run->io.count; i++)
				d[i] = next++;
			in += run->io.count;
		} else {
			ok = false;
			break;
		}
	}
	for (i = 0; ok && i < sizeof(got); i++)
		if (got[i] != (uint8_t)(i * 13 + 1)) {
			ktap_diag("OUTS byte %u: 0x%x", i, got[i]);
			ok = false;
		}
	for (i = 0; ok && i < 3000; i++)
		if (((uint16_t *)(vm.mem + 0x24000))[i] != i) {
			ktap_diag("INS word %u: 0x%x", i, ((uint16_t *)(vm.mem + 0x24000))[i]);
			ok = false;
		}
	ok = ok && out == 10000 && in == 3000 && !guest_get_regs(&v, &r) &&
	     r.rbx == 0x20000 + 10000 && r.r8 == 0 && r.r9 == 0x24000 + 6000 &&
	     r.r10 == 0;
	ktap_diag("string I/O took %u exits: out %u in %u rsi 0x%llx rcx %llu rdi 0x%llx rcx %llu",
		  exits, out, in, (unsigned long long)r.rbx, (unsigned long long)r.r8,
		  (unsigned long long)r.r9, (unsigned long long)r.r10);
	/* Chunks never cross a guest page, so several exits were needed. */
	ktap_result(ok && exits > 2, "rep_outsb_rep_insw");
	teardown(&vm, &v);
}

static void test_mmio(void)
{
	struct hvx_memory_region ro = {
		.slot = 1, .flags = HVX_MEM_READONLY,
		.guest_phys_addr = 0x400000, .size = 4096,
	};
	struct guest_vm vm;
	struct guest_vcpu v;
	struct hvx_run *run;
	struct hvx_regs r;
	uint64_t val;
	uint8_t *rom;
	bool ok;

	if (!setup(&vm, &v, PAYLOAD(mmio64))) {
		ktap_result(false, "mmio_stores_decoded");
		ktap_result(false, "mmio_loads_completed");
		ktap_result(false, "readonly_region_reads_ram_writes_exit");
		return;
	}
	run = v.run;
	ok = !ioctl(vm.fd, HVX_SET_MEMORY_REGION, &ro);
	rom = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, vm.fd, 0x400000);
	ok = ok && rom != MAP_FAILED;
	if (ok)
		*(uint64_t *)rom = 0x0badc0ffee0ddf00dull;

	ok = ok && guest_run(&v) == HVX_EXIT_MMIO && run->mmio.is_write &&
	     run->mmio.phys_addr == 0xd0000000 && run->mmio.len == 4 &&
	     *(uint32_t *)run->mmio.data == 0xdeadbeef;
	ok = ok && guest_run(&v) == HVX_EXIT_MMIO && run->mmio.is_write &&
	     run->mmio.phys_addr == 0xd0000004 && run->mmio.len == 1 &&
	     run->mmio.data[0] == 0x5a;
	memcpy(&val, run->mmio.data, 8);
	ok = ok && guest_run(&v) == HVX_EXIT_MMIO && run->mmio.is_write &&
	     run->mmio.phys_addr == 0xd0000008 && run->mmio.len == 8 &&
	     !memcmp(run->mmio.data, &(uint64_t){ 0x1122334455667788ull }, 8);
	ktap_result(ok, "mmio_stores_decoded");

	ok = guest_run(&v) == HVX_EXIT_MMIO && !run->mmio.is_write &&
	     run->mmio.phys_addr == 0xd0000000 && run->mmio.len == 4;
	memcpy(run->mmio.data, &(uint32_t){ 0xcafef00d }, 4);
	ok = ok && guest_run(&v) == HVX_EXIT_MMIO && !run->mmio.is_write &&
	     run->mmio.phys_addr == 0xd0000010 && run->mmio.len == 1;
	run->mmio.data[0] = 0xfe;
	ok = ok && guest_run(&v) == HVX_EXIT_MMIO && !run->mmio.is_write &&
	     run->mmio.phys_addr == 0xd0000018 && run->mmio.len == 8;
	memcpy(run->mmio.data, &(uint64_t){ 0x8877665544332211ull }, 8);
	/* Next: the read-only region: its read is RAM, its write an exit. */
	ok = ok && guest_run(&v) == HVX_EXIT_MMIO && run->mmio.is_write &&
	     run->mmio.phys_addr == 0x400000 && run->mmio.len == 4 &&
	     *(uint32_t *)run->mmio.data == 0x77;
	ok = ok && guest_run_to_ucall(&v, &r) == UCALL_SYNC;
	ktap_result(ok && r.rcx == 0xcafef00d && r.rdx == 0xfe &&
		    r.r9 == 0x8877665544332211ull, "mmio_loads_completed");
	ktap_result(ok && r.r10 == 0x0badc0ffee0ddf00dull &&
		    *(uint64_t *)rom == 0x0badc0ffee0ddf00dull,
		    "readonly_region_reads_ram_writes_exit");
	if (rom != MAP_FAILED)
		munmap(rom, 4096);
	teardown(&vm, &v);
}

/* MOV between the accumulator and an absolute address: A3, REX.W A1, A0. */
static void test_mmio_moffs(void)
{
	struct guest_vm vm;
	struct guest_vcpu v;
	struct hvx_run *run;
	struct hvx_regs r;
	bool ok;

	if (!setup(&vm, &v, PAYLOAD(mmio_moffs64))) {
		ktap_result(false, "mmio_absolute_address_forms");
		return;
	}
	run = v.run;
	ok = guest_run(&v) == HVX_EXIT_MMIO && run->mmio.is_write &&
	     run->mmio.phys_addr == 0xd0000020 && run->mmio.len == 4 &&
	     *(uint32_t *)run->mmio.data == 0x5566;
	ok = ok && guest_run(&v) == HVX_EXIT_MMIO && !run->mmio.is_write &&
	     run->mmio.phys_addr == 0xd0000028 && run->mmio.len == 8;
	memcpy(run->mmio.data, &(uint64_t){ 0x0102030405060708ull }, 8);
	ok = ok && guest_run(&v) == HVX_EXIT_MMIO && !run->mmio.is_write &&
	     run->mmio.phys_addr == 0xd0000024 && run->mmio.len == 1;
	run->mmio.data[0] = 0x99;
	ok = ok && guest_run_to_ucall(&v, &r) == UCALL_SYNC;
	ktap_result(ok && r.r11 == 0x0102030405060708ull && r.r12 == 0x0102030405060799ull,
		    "mmio_absolute_address_forms");
	teardown(&vm, &v);
}

static void test_unsupported_mmio(void)
{
	struct guest_vm vm;
	struct guest_vcpu v;

	if (!setup(&vm, &v, PAYLOAD(mmio_bad64))) {
		ktap_result(false, "unsupported_mmio_is_emulation_error");
		return;
	}
	ktap_result(guest_run(&v) == HVX_EXIT_INTERNAL_ERROR &&
		    v.run->internal.suberror == HVX_INTERNAL_EMULATION &&
		    v.run->internal.data[0] == 0xd0000000,
		    "unsupported_mmio_is_emulation_error");
	teardown(&vm, &v);
}

/*
 * REP INSB into MMIO: once an I/O exit whose completion failed the next
 * HVX_RUN with EFAULT (guest_fuzz found it); now an emulation error at once.
 */
static void test_ins_into_mmio(void)
{
	struct guest_vm vm;
	struct guest_vcpu v;
	int reason;

	if (!setup(&vm, &v, PAYLOAD(insb_mmio64))) {
		ktap_result(false, "ins_into_mmio_is_emulation_error");
		return;
	}
	reason = guest_run(&v);
	if (reason == HVX_EXIT_IO)	/* the old way: the completion fails */
		ktap_diag("I/O exit, then HVX_RUN: %d", guest_run(&v));
	ktap_result(reason == HVX_EXIT_INTERNAL_ERROR &&
		    v.run->internal.suberror == HVX_INTERNAL_EMULATION,
		    "ins_into_mmio_is_emulation_error");
	teardown(&vm, &v);
}

/* State our checks let through but the CPU refuses: CS.L and CS.D both set. */
static void test_failed_entry(void)
{
	struct guest_vm vm;
	struct guest_vcpu v;
	struct hvx_sregs s;
	bool ok;

	if (!setup(&vm, &v, PAYLOAD(long64))) {
		ktap_result(false, "failed_entry_reports_hardware_reason");
		return;
	}
	ok = !ioctl(v.fd, HVX_GET_SREGS, &s);
	s.cs.db = 1;
	ok = ok && !ioctl(v.fd, HVX_SET_SREGS, &s);
	ok = ok && guest_run(&v) == HVX_EXIT_FAIL_ENTRY;
	ktap_diag("failed entry: code 0x%llx", (unsigned long long)v.run->hw.exit_code);
	ktap_result(ok, "failed_entry_reports_hardware_reason");
	teardown(&vm, &v);
}

int main(void)
{
	uint32_t vendor;

	guest_require_vcpus();
	vendor = hvx_vendor_or_exit();
	ktap_plan(16);
	test_cpuid();
	test_hypercall(vendor == HVX_VENDOR_INTEL_VMX);
	test_msrs();
	test_triple_fault();
	test_string_io();
	test_mmio();
	test_mmio_moffs();
	test_unsupported_mmio();
	test_ins_into_mmio();
	test_failed_entry();
	return ktap_finish();
}
