#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# deb_install_test.sh - what the Debian packages installed, in a test host: DKMS's hvx.ko, the udev rule (kvm group, 0660) under udevd, the packaged hvx-run booting the guest.
# Runs in the test host deb-check.sh boots: the packaged files are under
# /lib/hvx/deb (hvx.ko as DKMS built it, the udev rule, hvx-run and
# hvx-info with their shared libraries), udevd under /lib/systemd.
dir=$(dirname "$0")
. "$dir/ktap.sh"
D=/lib/hvx/deb
KERNEL=/boot/vmlinuz-$(uname -r)
GUEST=/boot/hvx-guest.cpio.gz
T=/tmp/deb-test

ktap_plan 7
if [ ! -f $D/hvx.ko ]; then
	for t in dkms_module_loads dev_hvx_is_kvm_0660 kvm_member_opens_dev_hvx \
		 others_cannot_open_dev_hvx packaged_hvx_info packaged_hvx_run_boots_guest \
		 module_unloads_after; do
		ktap_skip $t "no packaged files here (deb-check.sh's host has them)"
	done
	ktap_finish
fi
mkdir -p $T /run/udev /etc/udev/rules.d

# The host's init loaded the make-built module: swap in DKMS's, with
# udevd running as on a Debian system, so the package's rule applies.
rmmod hvx
cp $D/60-hvx.rules /etc/udev/rules.d/
/lib/systemd/systemd-udevd --daemon 2>$T/udevd.err
insmod $D/hvx.ko
rc=$?
ktap_diag "DKMS's hvx.ko: vermagic $(modinfo $D/hvx.ko | sed -n 's/^vermagic: *//p')"
[ $rc -eq 0 ] && [ -d /sys/module/hvx ]
ktap_result dkms_module_loads $?

udevadm settle -t 30
perm=$(stat -c '%G %a' /dev/hvx 2>/dev/null)
ktap_diag "/dev/hvx: $perm"
[ "$perm" = "kvm 660" ]
ktap_result dev_hvx_is_kvm_0660 $?

# A user in the kvm group (as after 'adduser USER kvm') and one outside it.
su -s /bin/sh hvxuser -c "$D/hvx-info" >$T/user.out 2>&1
ktap_result kvm_member_opens_dev_hvx $?
su -s /bin/sh nobody -c "$D/hvx-info" >$T/nobody.out 2>&1
rc=$?
ktap_diag "not in kvm: exit $rc: $(head -n 1 $T/nobody.out)"
[ $rc -eq 1 ] && grep -q 'Permission denied' $T/nobody.out
ktap_result others_cannot_open_dev_hvx $?

$D/hvx-info >$T/info.out 2>&1
rc=$?
ktap_diag "$(grep '^vendor' $T/info.out)"
[ $rc -eq 0 ] && grep -q '^api version' $T/info.out
ktap_result packaged_hvx_info $?

# The packaged (dynamically linked) hvx-run, as the kvm group's user.
su -s /bin/sh hvxuser -c "timeout 300 $D/hvx-run -k $KERNEL -i $GUEST -m 128M \
	-p 'console=ttyS0 reboot=k panic=-1 tsc=reliable'" </dev/null >$T/boot.out 2>$T/boot.err
rc=$?
ktap_diag "packaged hvx-run: exit $rc: $(tail -n 1 $T/boot.err)"
[ $rc -eq 0 ] && grep -q '^HVX-GUEST: done' $T/boot.out
ktap_result packaged_hvx_run_boots_guest $?

rmmod hvx
ktap_result module_unloads_after $?
udevadm control --exit 2>/dev/null
ktap_finish
