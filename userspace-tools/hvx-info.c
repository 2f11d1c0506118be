// SPDX-License-Identifier: GPL-2.0
/* hvx-info.c - prints what hvx.ko found on this host: API version and capabilities. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/hvx.h>

static const char *const feature_names[] = {
	"tdp", "tagged-tlb", "unrestricted-guest", "tdp-2m", "tdp-1g",
	"next-rip", "decode-assists", "flush-by-tag",
};

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/hvx";
	struct hvx_caps caps;
	unsigned int i;
	int fd, version;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: hvx-info [DEVICE]   (default /dev/hvx)\n"
		       "Prints what hvx.ko found on this host: the API version, the vendor\n"
		       "(Intel VMX with EPT or AMD SVM with NPT), its features, TLB tags, limits\n"
		       "and the VMs running now.\n\n"
		       "Exit status:\n"
		       "    0  printed\n"
		       "    1  DEVICE is missing or cannot be opened (is hvx.ko loaded?)\n"
		       "    2  bad arguments\n");
		return 0;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: hvx-info [DEVICE]   (default /dev/hvx)\n");
		return 2;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "hvx-info: cannot open %s: %s%s\n", path, strerror(errno),
			errno == ENOENT ? " (is hvx.ko loaded?)" : "");
		return 1;
	}
	version = ioctl(fd, HVX_GET_API_VERSION, 0);
	memset(&caps, 0, sizeof(caps));
	if (version < 0 || ioctl(fd, HVX_GET_CAPS, &caps)) {
		fprintf(stderr, "hvx-info: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("api version:   %d%s\n", version,
	       version == HVX_API_VERSION ? "" : " (this hvx-info expects another)");
	printf("vendor:        %s\n",
	       caps.vendor == HVX_VENDOR_INTEL_VMX ? "Intel VMX with EPT" :
	       caps.vendor == HVX_VENDOR_AMD_SVM ? "AMD SVM with NPT" : "unknown");
	printf("features:     ");
	for (i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
		if (caps.features & (1u << i))
			printf(" %s", feature_names[i]);
	printf("\n");
	printf("tlb tags:      %u %s\n", caps.nr_tlb_tags,
	       caps.vendor == HVX_VENDOR_INTEL_VMX ? "VPIDs" : "ASIDs");
	printf("max vcpus/vm:  %u\n", caps.max_vcpus);
	printf("max vms:       %u (%u now)\n", caps.max_vms, caps.nr_vms);
	printf("tdp levels:    %u\n", caps.tdp_levels);
	if (caps.vendor == HVX_VENDOR_INTEL_VMX)
		printf("vmx msrs:      basic 0x%llx procbased2 0x%llx ept_vpid_cap 0x%llx\n",
		       (unsigned long long)caps.vmx_basic,
		       (unsigned long long)caps.vmx_procbased2,
		       (unsigned long long)caps.vmx_ept_vpid_cap);
	else
		printf("svm cpuid:     revision %u features 0x%x\n",
		       caps.svm_revision, caps.svm_features);
	close(fd);
	return 0;
}
