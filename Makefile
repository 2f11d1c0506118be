# SPDX-License-Identifier: GPL-2.0
# Makefile - builds hvx.ko, the tools and the selftests; runs them in the emulated test hosts.
#
#   make            hvx.ko + hvx-info + selftests (W=1 and C=1 are passed to Kbuild)
#   make run        boots the SVM test host (QEMU TCG), loads hvx.ko, shows what it found
#   make check      everything: both test hosts (QEMU SVM, Bochs VMX) and the Debian packages
#   make deb        the Debian packages hvx-dkms, hvx-tools, hvx-guest-dkms in build/deb/
#   make bench      hvx against Debian's KVM on the same guest workloads (SVM and VMX hosts)
#   make soak       100 guest boots, then 4 guests x 2 vCPUs for 10 minutes (2-CPU SVM host)
#   make fuzz       both fuzzers for FUZZ_SECONDS each, in the 2-CPU SVM host and the 2-CPU VMX host
#   make fuzz-qcow2 the qcow2 tests with QCOW2_FUZZ (100,000) mutated images, on this machine
#   make check-debug  the suite in SVM hosts booting a debug kernel (lockdep, KASAN, kmemleak, UBSAN)
#   make kvm-unit-tests  upstream kvm-unit-tests (KUT_SRC, outside the project) under hvx-run and
#                   QEMU+KVM in the 2-CPU SVM host (KUT_VMX=1: then the Bochs VMX host,
#                   hours): a table each (KUT_TESTS=a,b for some)
#   make install    installs hvx.ko and the udev rule for the running kernel

# Debian's kernels: Debian 12's 6.1 and Debian 13's 6.12 (bookworm-backports),
# the newest installed of each.  The test hosts boot both; hvx.ko is built
# for each.  KVER (make module, install) defaults to the newest of all.
KVERS := $(shell ls /lib/modules 2>/dev/null | grep -- '-amd64$$' | sort -V)
KVER_61 := $(lastword $(filter 6.1.0-%,$(KVERS)))
KVER_612 := $(lastword $(filter 6.12.%,$(KVERS)))
KVER = $(lastword $(KVERS))
KDIR = /lib/modules/$(KVER)/build
BUILD := $(CURDIR)/build
TESTHOST := selftests/testhost
# The kernel make run and make bench boot.
HOST_KVER ?= $(KVER_61)

all: module tools selftests guest-drivers guest-tests

deps:
	@$(TESTHOST)/install-deps.sh

module:
	@test -d "$(KDIR)" || { echo "no kernel headers in $(KDIR): run 'make deps'"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools:
	$(MAKE) -C userspace-tools

guest-drivers:
	$(MAKE) -C guest-drivers KVER=$(KVER)

# Modules the test guest loads (hvx_vq_hostile.ko), built for the same kernel.
guest-tests:
	$(MAKE) -C selftests/guest KVER=$(KVER)

selftests:
	$(MAKE) -C selftests

# One test-host initramfs per kernel: its own hvx.ko, guest drivers and
# guest test module (build-kmods.sh), the same tools and selftests.
$(BUILD)/%/host.cpio.gz: tools selftests
	@test -n "$*" -a -d "/lib/modules/$*/build" || { echo "no kernel headers for '$*': run 'make deps'"; exit 1; }
	$(TESTHOST)/build-kmods.sh $* $(BUILD)/$*/kmods
	$(TESTHOST)/build-initramfs.sh $* $(BUILD)/$*/kmods $@

initramfs: $(BUILD)/$(KVER_61)/host.cpio.gz $(BUILD)/$(KVER_612)/host.cpio.gz

# On a terminal: a guest shell under hvx-run in the SVM test host; else the demo.
run: deps
	$(MAKE) $(BUILD)/$(HOST_KVER)/host.cpio.gz
	@if [ -t 0 ]; then $(TESTHOST)/run-interactive.sh $(HOST_KVER) $(BUILD)/$(HOST_KVER)/host.cpio.gz; \
	else $(TESTHOST)/run-qemu.sh run-svm $(HOST_KVER) $(BUILD)/$(HOST_KVER)/host.cpio.gz $(BUILD)/logs -mode run -smp 1; fi

# The SVM bench host also carries QEMU, to boot the guest on KVM (microvm, pc).
$(BUILD)/bench.cpio.gz: $(BUILD)/$(HOST_KVER)/host.cpio.gz
	$(TESTHOST)/add-qemu.sh $(BUILD)/qemu.cpio.gz
	cat $< $(BUILD)/qemu.cpio.gz >$@

# Same guest workloads on /dev/hvx and Debian's KVM, one boot, instruction clock.
# Debian's QEMU (7.2) for the -icount host: the patched 10.0 never leaves
# SeaBIOS under -icount; its fix (an interrupt delivered twice) needs 2+ CPUs.
bench: deps
	$(MAKE) $(BUILD)/bench.cpio.gz
	$(TESTHOST)/run-qemu.sh bench-svm $(HOST_KVER) $(BUILD)/bench.cpio.gz $(BUILD)/logs -mode bench -icount -qemu debian -mem 2048 -timeout 5400
	$(TESTHOST)/run-bochs.sh bench-vmx $(HOST_KVER) $(BUILD)/$(HOST_KVER)/host.cpio.gz $(BUILD)/logs -mode bench -tests hvx_bench,merge_bench -timeout 1500

# Not part of make check: in the 2-CPU SVM host (6.12), SOAK_BOOTS guest
# boots in a row, then SOAK_GUESTS guests x 2 vCPUs at once for
# SOAK_SECONDS of disk, network and IPI traffic (selftests/soak.sh).
SOAK_BOOTS ?= 100
SOAK_SECONDS ?= 600
SOAK_GUESTS ?= 4
soak: deps
	$(MAKE) $(BUILD)/$(KVER_612)/host.cpio.gz
	$(TESTHOST)/run-qemu.sh soak-svm $(KVER_612) $(BUILD)/$(KVER_612)/host.cpio.gz $(BUILD)/logs \
		-smp 2 -mem 2048 -tests soak.sh -timeout $$(($(SOAK_BOOTS) * 70 + $(SOAK_SECONDS) + 900)) \
		-append "hvxtimeout=$$(($(SOAK_BOOTS) * 65 + $(SOAK_SECONDS) + 600)) hvxsoakboots=$(SOAK_BOOTS) hvxsoakseconds=$(SOAK_SECONDS) hvxsoakguests=$(SOAK_GUESTS)"

# Not part of make check (which runs each fuzzer for a bounded count):
# ioctl_fuzz and guest_fuzz for FUZZ_SECONDS each (and FUZZ_SECONDS/60+1
# hvx_devfuzz_test.sh boots), from a new seed each
# time (FUZZ_SEED= replays one; make check's runs use the fixed seed 1),
# side by side in the 2-CPU SVM host (6.12) and the 2-CPU Bochs VMX
# host (6.1; Bochs' clock: its seconds are slower than the wall's).
FUZZ_SECONDS ?= 600
FUZZ_SEED ?= $(shell date +%s)
override FUZZ_SEED := $(FUZZ_SEED)
fuzz: deps
	$(MAKE) initramfs
	$(TESTHOST)/run-qemu.sh fuzz-svm $(KVER_612) $(BUILD)/$(KVER_612)/host.cpio.gz $(BUILD)/logs \
		-smp 2 -tests ioctl_fuzz,guest_fuzz,hvx_devfuzz_test.sh -timeout $$((3 * $(FUZZ_SECONDS) + 900)) \
		-append "hvxtimeout=$$(($(FUZZ_SECONDS) + 300)) HVX_FUZZ_SECONDS=$(FUZZ_SECONDS) HVX_FUZZ_SEED=$(FUZZ_SEED) HVX_DEVFUZZ_RUNS=$$(($(FUZZ_SECONDS) / 60 + 1))" & \
	$(TESTHOST)/run-bochs.sh fuzz-vmx $(KVER_61) $(BUILD)/$(KVER_61)/host.cpio.gz $(BUILD)/logs \
		-cpus 2 -tests ioctl_fuzz,guest_fuzz -timeout $$((20 * $(FUZZ_SECONDS) + 1800)) \
		-append "hvxtimeout=$$(($(FUZZ_SECONDS) + 300)) HVX_FUZZ_SECONDS=$(FUZZ_SECONDS) HVX_FUZZ_SEED=$(FUZZ_SEED)"; \
	vmx=$$?; wait $$!; svm=$$?; [ $$vmx -eq 0 ] && [ $$svm -eq 0 ]

# Not part of make check (which mutates 5000 images): qcow2_test.sh with
# QCOW2_FUZZ mutated images for its metadata fuzzer, on this machine.
QCOW2_FUZZ ?= 100000
fuzz-qcow2: deps
	$(MAKE) -C selftests block_io
	HVX_QCOW2_FUZZ=$(QCOW2_FUZZ) HVX_FUZZ_SEED=$(FUZZ_SEED) selftests/qcow2_test.sh

# Not part of make check: the whole suite on a debug build of Debian's
# 6.1 (1-CPU SVM host) and 6.12 (2-CPU SVM host) kernels, built once into
# ~/.cache/hvx (selftests/testhost/build-debug-kernel.sh); any lockdep,
# KASAN, kmemleak or UBSAN report fails it.
check-debug: deps
	$(MAKE) tools selftests
	$(TESTHOST)/check-debug.sh $(BUILD) $(KVER_61) $(KVER_612)

# kvm-unit-tests (GPL-2.0) stays outside the project: built from KUT_SRC into
# ~/.cache/hvx, its tests packed beside the host's initramfs and QEMU's.
KUT_SRC ?= $(CURDIR)/../shared/kvm-unit-tests
KUT_TIMEOUT ?= 90
kvm-unit-tests: deps
	@if [ ! -f "$(KUT_SRC)/x86/unittests.cfg" ]; then \
		echo "kvm-unit-tests: SKIP: no kvm-unit-tests sources in $(KUT_SRC) (set KUT_SRC=DIR)"; exit 0; fi; \
	set -e; \
	$(MAKE) $(BUILD)/bench.cpio.gz; \
	$(TESTHOST)/build-kvm-unit-tests.sh "$(KUT_SRC)" $(BUILD)/kut-tests.cpio.gz; \
	cat $(BUILD)/bench.cpio.gz $(BUILD)/kut-tests.cpio.gz >$(BUILD)/kut.cpio.gz; \
	$(TESTHOST)/run-qemu.sh kut-svm $(HOST_KVER) $(BUILD)/kut.cpio.gz $(BUILD)/logs -smp 2 -mem 1024 \
		-tests kvm_unit_tests.sh -append "KUT_TIMEOUT=$(KUT_TIMEOUT) $(if $(KUT_TESTS),KUT_TESTS=$(KUT_TESTS)) hvxtimeout=7000" -timeout 7200 || \
		echo "kvm-unit-tests: kut-svm: a test KVM passes failed under hvx (table above)"; \
	[ -n "$(KUT_VMX)" ] || exit 0; \
	$(TESTHOST)/run-bochs.sh kut-vmx $(HOST_KVER) $(BUILD)/kut.cpio.gz $(BUILD)/logs -mem 1024 \
		-tests kvm_unit_tests.sh -append "KUT_TIMEOUT=$(KUT_TIMEOUT) $(if $(KUT_TESTS),KUT_TESTS=$(KUT_TESTS)) hvxtimeout=7000" -timeout 7200 || \
		echo "kvm-unit-tests: kut-vmx: a test KVM passes failed under hvx (table above)"

check: deps
	$(MAKE) W=1 initramfs
	$(TESTHOST)/check.sh $(BUILD) $(KVER_61) $(KVER_612)

# Debian packages, built from a copy of the sources with Debian's tooling
# (debhelper, dh-dkms): $(BUILD)/deb/hvx-dkms_*.deb, hvx-tools_*.deb and
# hvx-guest-dkms_*.deb, then checked by lintian.
DEB_SRC := $(BUILD)/deb/hvx
deb: deps
	rm -rf $(BUILD)/deb
	mkdir -p $(DEB_SRC)/guest-drivers
	cp -r debian Kbuild dkms.conf kmod-hv uapi userspace-tools README.md $(DEB_SRC)/
	cp guest-drivers/Kbuild guest-drivers/dkms.conf guest-drivers/*.c guest-drivers/*.h $(DEB_SRC)/guest-drivers/
	find $(DEB_SRC) \( -name '*.o' -o -name '.*.cmd' -o -name '*.ko' -o -name '*.mod*' \) -delete
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error $(BUILD)/deb/*.deb

dkms-check: deps
	$(TESTHOST)/dkms-check.sh $(KVER_61) $(KVER_612)

install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	install -D -m 0644 kmod-hv/99-hvx.rules /etc/udev/rules.d/99-hvx.rules
	depmod -a $(KVER)

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C userspace-tools clean
	$(MAKE) -C selftests clean
	$(MAKE) -C selftests/guest KVER=$(KVER) clean
	$(MAKE) -C guest-drivers KVER=$(KVER) clean
	rm -rf $(BUILD)

.PHONY: all deps module tools selftests guest-drivers guest-tests initramfs run bench soak fuzz fuzz-qcow2 check check-debug kvm-unit-tests deb dkms-check install clean
.PHONY: $(BUILD)/bench.cpio.gz
