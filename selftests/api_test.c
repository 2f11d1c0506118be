// SPDX-License-Identifier: GPL-2.0
/* api_test.c - /dev/hvx exists, speaks API version 1 and reports the host truthfully. */
#include <cpuid.h>
#include <sys/stat.h>

#include "hvx_util.h"

#define EFER_MSR 0xc0000080

static unsigned int read_max_vms_param(void)
{
	unsigned int v = 0;
	FILE *f = fopen("/sys/module/hvx/parameters/max_vms", "r");

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

int main(void)
{
	struct hvx_caps caps, zero = { 0 };
	unsigned int eax, ebx, ecx, edx;
	bool amd = host_has_cpu_flag("svm"), intel = host_has_cpu_flag("vmx");
	struct stat st;
	int fd, vm;

	ktap_plan(10);

	ktap_result(stat("/dev/hvx", &st) == 0 && S_ISCHR(st.st_mode) &&
		    (st.st_mode & 0777) == 0660, "dev_node_is_char_device_mode_0660");

	fd = hvx_open_or_exit();
	ktap_result(ioctl(fd, HVX_GET_API_VERSION, 0) == HVX_API_VERSION,
		    "api_version_matches_header");

	if (!ktap_result(hvx_get_caps(fd, &caps) == 0, "get_caps_succeeds"))
		return ktap_finish();

	ktap_diag("vendor %u features 0x%x tlb_tags %u max_vcpus %u max_vms %u",
		  caps.vendor, caps.features, caps.nr_tlb_tags, caps.max_vcpus,
		  caps.max_vms);

	if (amd) {
		__cpuid(0x8000000a, eax, ebx, ecx, edx);
		ktap_result(caps.vendor == HVX_VENDOR_AMD_SVM &&
			    caps.svm_features == edx &&
			    caps.svm_revision == (eax & 0xff) &&
			    !caps.vmx_basic && !caps.vmx_ept_vpid_cap,
			    "vendor_and_raw_words_match_host");
		ktap_result(!!(caps.features & HVX_FEAT_TDP) == host_has_cpu_flag("npt"),
			    "tdp_matches_host_npt_flag");
		ktap_result(caps.nr_tlb_tags == ebx - 1, "tlb_tags_match_cpuid_asids");
		ktap_result(!!(caps.features & HVX_FEAT_NEXT_RIP) ==
			    host_has_cpu_flag("nrip_save"),
			    "next_rip_matches_host_nrip_save_flag");
	} else if (intel) {
		ktap_result(caps.vendor == HVX_VENDOR_INTEL_VMX && caps.vmx_basic &&
			    caps.vmx_ept_vpid_cap && !caps.svm_features,
			    "vendor_and_raw_words_match_host");
		ktap_result(!!(caps.features & HVX_FEAT_TDP) == host_has_cpu_flag("ept"),
			    "tdp_matches_host_ept_flag");
		ktap_result(caps.nr_tlb_tags == 0xffff && host_has_cpu_flag("vpid"),
			    "tlb_tags_are_vpids");
		ktap_result(!!(caps.features & HVX_FEAT_UNRESTRICTED_GUEST) ==
			    host_has_cpu_flag("unrestricted_guest"),
			    "unrestricted_guest_matches_host");
	} else {
		ktap_result(false, "host_has_vmx_or_svm");
		ktap_skip("tdp_matches_host", "no vmx/svm flag");
		ktap_skip("tlb_tags_match_host", "no vmx/svm flag");
		ktap_skip("feature_matches_host", "no vmx/svm flag");
	}

	ktap_result(caps.max_vcpus >= 1 && caps.tdp_levels == 4 &&
		    caps.max_vms == read_max_vms_param() &&
		    !(caps.features & ~HVX_FEAT_ALL) &&
		    !memcmp(caps.reserved, zero.reserved, sizeof(caps.reserved)),
		    "limits_sane_and_reserved_zero");

	vm = ioctl(fd, HVX_CREATE_VM, 0);
	hvx_get_caps(fd, &caps);
	ktap_result(vm >= 0 && caps.nr_vms == 1, "nr_vms_counts_live_vm");
	close(vm);
	hvx_get_caps(fd, &caps);
	ktap_result(caps.nr_vms == 0, "nr_vms_drops_on_close");
	close(fd);
	return ktap_finish();
}
