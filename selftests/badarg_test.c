// SPDX-License-Identifier: GPL-2.0
/* badarg_test.c - every /dev/hvx and VM-fd ioctl rejects bad arguments with a clear errno. */
#include <sys/mman.h>

#include "hvx_util.h"

/* A request number hvx.ko has never defined. */
#define HVX_BOGUS_NR		_IO(HVXIO, 0x7f)
/* GET_CAPS's number with a different argument size encoded. */
#define HVX_GET_CAPS_SHORT	_IOWR(HVXIO, 0x01, __u64)
/* KVM_GET_API_VERSION: another driver's magic must not be understood. */
#define KVM_GET_API_VERSION_NR	_IO(0xAE, 0x00)

int main(void)
{
	struct hvx_caps caps;
	char name[64];
	void *unmapped;
	int fd, vm, i;
	char buf[8];

	fd = hvx_open_or_exit();
	ktap_plan(17 + 8);

	ktap_expect_errno("dev_unknown_ioctl_enotty",
			  ioctl(fd, HVX_BOGUS_NR, 0), ENOTTY);
	ktap_expect_errno("dev_foreign_magic_enotty",
			  ioctl(fd, KVM_GET_API_VERSION_NR, 0), ENOTTY);
	ktap_expect_errno("dev_get_caps_wrong_size_enotty",
			  ioctl(fd, HVX_GET_CAPS_SHORT, &caps), ENOTTY);
	ktap_expect_errno("api_version_nonzero_arg_einval",
			  ioctl(fd, HVX_GET_API_VERSION, 1), EINVAL);
	ktap_expect_errno("get_caps_null_efault",
			  ioctl(fd, HVX_GET_CAPS, NULL), EFAULT);

	unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ktap_expect_errno("get_caps_unreadable_efault",
			  ioctl(fd, HVX_GET_CAPS, unmapped), EFAULT);
	mprotect(unmapped, 4096, PROT_READ);
	ktap_expect_errno("get_caps_readonly_efault",
			  ioctl(fd, HVX_GET_CAPS, unmapped), EFAULT);
	/* A struct that straddles the end of a mapping. */
	munmap(unmapped, 4096);
	unmapped = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap((char *)unmapped + 4096, 4096);
	ktap_expect_errno("get_caps_straddling_efault",
			  ioctl(fd, HVX_GET_CAPS, (char *)unmapped + 4096 - 8),
			  EFAULT);
	munmap(unmapped, 4096);

	memset(&caps, 0, sizeof(caps));
	caps.flags = 1;
	ktap_expect_errno("get_caps_flags_einval",
			  ioctl(fd, HVX_GET_CAPS, &caps), EINVAL);
	memset(&caps, 0, sizeof(caps));
	caps.flags = 0x80000000u;
	ktap_expect_errno("get_caps_high_flag_einval",
			  ioctl(fd, HVX_GET_CAPS, &caps), EINVAL);
	for (i = 0; i < 8; i++) {
		memset(&caps, 0, sizeof(caps));
		caps.reserved[i] = 1ull << (i * 8);
		snprintf(name, sizeof(name), "get_caps_reserved%d_einval", i);
		ktap_expect_errno(name, ioctl(fd, HVX_GET_CAPS, &caps), EINVAL);
	}
	/* Output-only fields are ignored on input, not rejected. */
	memset(&caps, 0xff, sizeof(caps));
	caps.flags = 0;
	memset(caps.reserved, 0, sizeof(caps.reserved));
	ktap_result(ioctl(fd, HVX_GET_CAPS, &caps) == 0 && caps.vendor != ~0u,
		    "get_caps_overwrites_output_fields");

	ktap_expect_errno("create_vm_flags_einval",
			  ioctl(fd, HVX_CREATE_VM, 1), EINVAL);
	ktap_expect_errno("create_vm_high_flags_einval",
			  ioctl(fd, HVX_CREATE_VM, ~0ul), EINVAL);

	vm = ioctl(fd, HVX_CREATE_VM, 0);
	if (!ktap_result(vm >= 0, "create_vm_succeeds")) {
		ktap_skip("vm_unknown_ioctl_enotty", "no VM");
		ktap_skip("vm_rejects_dev_ioctls", "no VM");
		ktap_skip("read_write_mmap_rejected", "no VM");
		return ktap_finish();
	}
	ktap_expect_errno("vm_unknown_ioctl_enotty",
			  ioctl(vm, HVX_BOGUS_NR, 0), ENOTTY);
	memset(&caps, 0, sizeof(caps));
	ktap_result(ioctl(vm, HVX_GET_CAPS, &caps) == -1 && errno == ENOTTY &&
		    ioctl(vm, HVX_CREATE_VM, 0) == -1 && errno == ENOTTY,
		    "vm_rejects_dev_ioctls");
	ktap_result(read(fd, buf, sizeof(buf)) == -1 && errno == EINVAL &&
		    write(fd, buf, sizeof(buf)) == -1 && errno == EINVAL &&
		    mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED &&
		    errno == ENODEV,
		    "read_write_mmap_rejected");
	close(vm);
	close(fd);
	return ktap_finish();
}
