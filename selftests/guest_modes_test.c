// SPDX-License-Identifier: GPL-2.0
/* guest_modes_test.c - guest code runs in real mode, 32-bit paged protected mode and 64-bit long mode. */
#include <sys/ioctl.h>

#include "hvx_util.h"
#include "lib/guest.h"

static void test_real_mode(void)
{
	struct guest_vm vm;
	struct guest_vcpu v;
	struct hvx_regs r;
	struct hvx_run *run;
	bool ok;

	if (guest_vm_create(&vm, GUEST_MEM_DEFAULT) ||
	    guest_vcpu_create(&vm, &v, 0) ||
	    guest_load(&v, MODE_REAL, PAYLOAD(real_io))) {
		ktap_result(false, "real_mode_out_in_hlt");
		return;
	}
	run = v.run;
	ok = guest_run(&v) == HVX_EXIT_IO;
	if (!ok)
		ktap_diag("real mode: first exit %u (%s) hw 0x%llx 0x%llx", run->exit_reason,
			  guest_exit_name(run->exit_reason),
			  (unsigned long long)run->hw.exit_code,
			  (unsigned long long)run->hw.info1);
	ok = ok && run->io.direction == HVX_IO_OUT &&
	     run->io.port == 0x10 && run->io.size == 2 && run->io.count == 1 &&
	     guest_io_data32(&v) == 0xbeef;
	ok = ok && guest_run(&v) == HVX_EXIT_IO && run->io.direction == HVX_IO_IN &&
	     run->io.port == 0x11 && run->io.size == 1;
	*(uint8_t *)guest_io_data(&v) = 0x5a;
	ok = ok && guest_run(&v) == HVX_EXIT_IO && run->io.port == 0x12 &&
	     guest_io_data32(&v) == 0x5a;
	ok = ok && guest_run(&v) == HVX_EXIT_HLT;
	/* After HLT, RIP is past it: the next run goes on. */
	ok = ok && guest_run_to_ucall(&v, &r) == UCALL_DONE && (r.rcx & 0xffff) == 0x1234 &&
	     vm.mem[0x2000] == 0x34;
	ktap_result(ok, "real_mode_out_in_hlt");
	guest_vcpu_destroy(&v);
	guest_vm_destroy(&vm);
}

static void test_prot32(void)
{
	struct hvx_cpuid_entry e = { .function = 0x40000000, .ebx = 0x78766878 };
	struct {
		struct hvx_cpuid hdr;
		struct hvx_cpuid_entry ent[1];
	} cpuid = { .hdr.nent = 1, .ent[0] = e };
	struct guest_vm vm;
	struct guest_vcpu v;
	struct hvx_regs r;
	bool ok;

	if (guest_vm_create(&vm, GUEST_MEM_DEFAULT) ||
	    guest_vcpu_create(&vm, &v, 0) ||
	    ioctl(v.fd, HVX_SET_CPUID, &cpuid) ||
	    guest_load(&v, MODE_PROT32, PAYLOAD(prot32))) {
		ktap_result(false, "prot32_paged_mode");
		return;
	}
	ok = guest_run_to_ucall(&v, &r) == UCALL_SYNC &&
	     (r.rbx & 0x80000001) == 0x80000001 && (uint32_t)r.rdi == 0xa5a5a5a5 &&
	     (uint32_t)r.rsi == 0x78766878;
	ok = ok && guest_run_to_ucall(&v, NULL) == UCALL_DONE;
	ktap_result(ok, "prot32_paged_mode");
	guest_vcpu_destroy(&v);
	guest_vm_destroy(&vm);
}

static void test_long64(void)
{
	struct guest_vm vm;
	struct guest_vcpu v;
	struct hvx_sregs s;
	struct hvx_regs r;
	bool ok;

	if (guest_vm_create(&vm, GUEST_MEM_DEFAULT) ||
	    guest_vcpu_create(&vm, &v, 0) ||
	    guest_load(&v, MODE_LONG, PAYLOAD(long64)) ||
	    ioctl(v.fd, HVX_GET_SREGS, &s)) {
		ktap_result(false, "long_mode");
		return;
	}
	/* CR2 is the guest's own: what the VMM sets, the guest reads. */
	s.cr2 = 0xfeedf00d000ull;
	ok = !ioctl(v.fd, HVX_SET_SREGS, &s);
	ok = ok && guest_run_to_ucall(&v, &r) == UCALL_SYNC && r.rsi == 0xfeedf00d000ull &&
	     (r.rbx & 0x80000001) == 0x80000001 && (r.rcx & 0x20) &&
	     r.rdx == 0x0123456789abcdefull &&
	     *(uint64_t *)(vm.mem + 0x20000) == 0x0123456789abcdefull;
	ok = ok && !ioctl(v.fd, HVX_GET_SREGS, &s) && (s.efer & 0x500) == 0x500 && s.cs.l;
	ok = ok && guest_run_to_ucall(&v, NULL) == UCALL_DONE;
	ktap_result(ok, "long_mode");
	guest_vcpu_destroy(&v);
	guest_vm_destroy(&vm);
}

int main(void)
{
	guest_require_vcpus();
	ktap_plan(3);
	test_real_mode();
	test_prot32();
	test_long64();
	return ktap_finish();
}
