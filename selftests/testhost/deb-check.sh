#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# deb-check.sh - the Debian packages end to end: built and lintian-clean, installed here (DKMS builds for each kernel), their files at work in an SVM test host, and nothing left after purge.
# Usage: deb-check.sh BUILDDIR KVER_61 KVER_612 LOGDIR   (root; this machine's
# packages are changed: hvx-dkms, hvx-tools and hvx-guest-dkms are installed,
# then purged)
set -uo pipefail
build=$1 k61=$2 k612=$3 logs=$4
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
deb=$build/deb
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
pkgs="hvx-dkms hvx-tools hvx-guest-dkms"
passed=0 failed=0

check() {
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1))
		echo "deb: ok $1"
	else
		failed=$((failed + 1))
		echo "FAIL deb: $1"
	fi
}
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@"; }
purge() { apt_get purge $pkgs >"$logs/deb-purge.log" 2>&1; }

make -C "$top" -s deb >"$logs/deb-build.log" 2>&1
rc=$?
grep -E '^[WE]: ' "$logs/deb-build.log"
check packages_build_lintian_clean $rc
[ $rc -eq 0 ] || { echo "deb: $passed passed, $((failed + 1)) failed, 0 skipped"; exit 1; }

# Installed as a user would (apt, from the files), over nothing of ours.
purge
apt_get install "$deb/hvx-dkms_${ver}_all.deb" "$deb/hvx-tools_${ver}_amd64.deb" \
	"$deb/hvx-guest-dkms_${ver}_all.deb" >"$logs/deb-install.log" 2>&1
check packages_install $?

ok=0
for k in "$k61" "$k612"; do
	for m in hvx:hvx hvx-guest:hvx_vblk hvx-guest:hvx_vnet; do
		ko=$(ls /lib/modules/$k/updates/dkms/${m#*:}.ko* 2>/dev/null | head -n 1)
		if [ -n "$ko" ] && modinfo "$ko" | grep -q "^vermagic: *$k "; then
			echo "deb: DKMS built $ko"
		else
			echo "deb: no ${m#*:}.ko for $k"
			ok=1
		fi
	done
	# No warning from our code on any kernel.
	grep -E 'warning:|error:' /var/lib/dkms/{hvx,hvx-guest}/"$ver/$k"/*/log/make.log && ok=1
done
check dkms_builds_each_kernel_warning_free $ok

ok=0
for f in /usr/bin/hvx-run /usr/bin/hvx-info /usr/bin/hvx-stat /lib/udev/rules.d/60-hvx.rules \
	 /usr/share/man/man1/hvx-run.1.gz /usr/share/man/man1/hvx-info.1.gz \
	 /usr/share/man/man1/hvx-stat.1.gz; do
	[ -e "$f" ] || { echo "deb: $f missing"; ok=1; }
done
getent group kvm >/dev/null || { echo "deb: no kvm group"; ok=1; }
/usr/bin/hvx-run --help >/dev/null || ok=1
check tools_rule_and_group_installed $ok

# The test host: its usual initramfs, then one with what the packages
# installed (the 6.1 hvx.ko DKMS built, the rule, the dynamic tools and
# the libraries they and udevd need), Debian's perf and trace-cmd for
# hvx_trace_tools_test.sh, and a kvm member.
root=$build/deb/hostroot
rm -rf "$root"
mkdir -p "$root/lib/hvx/deb" "$root/etc" "$root/lib/systemd" "$root/usr/bin"
cp /lib/modules/$k61/updates/dkms/hvx.ko /lib/udev/rules.d/60-hvx.rules \
   /usr/bin/hvx-run /usr/bin/hvx-info /usr/bin/hvx-stat "$root/lib/hvx/deb/"
cp "$(readlink -f /usr/bin/perf)" "$root/lib/hvx/deb/perf"
cp "$(readlink -f /usr/bin/trace-cmd)" "$root/lib/hvx/deb/trace-cmd"
cp "$(readlink -f /usr/bin/udevadm)" "$root/usr/bin/udevadm"
ln -s /usr/bin/udevadm "$root/lib/systemd/systemd-udevd"
for lib in $(ldd /usr/bin/hvx-run /usr/bin/hvx-stat /usr/bin/udevadm /usr/bin/perf /usr/bin/trace-cmd | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | sort -u); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
kvm_gid=$(getent group kvm | cut -d: -f3)
cat >"$root/etc/passwd" <<PW
root:x:0:0:root:/root:/bin/sh
hvxuser:x:1000:100:hvx user:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/sh
PW
cat >"$root/etc/group" <<GR
root:x:0:
users:x:100:
kvm:x:$kvm_gid:hvxuser
nogroup:x:65534:
GR
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip >"$build/deb/overlay.cpio.gz"
cat "$build/$k61/host.cpio.gz" "$build/deb/overlay.cpio.gz" >"$build/deb/host.cpio.gz"
"$here/run-qemu.sh" deb-host "$k61" "$build/deb/host.cpio.gz" "$logs" -smp 1 \
	-tests deb_install_test.sh,hvx_trace_tools_test.sh -timeout 900 >"$logs/deb-host.out" 2>&1
grep -E '^(FAIL|PROBLEM) ' "$logs/deb-host.out"
line=$(grep -E '^deb-host: [0-9]+ passed, [0-9]+ failed' "$logs/deb-host.out" | tail -n 1)
read -r hp hf <<<"$(echo "$line" | awk '{ print $2, $4 }')"
passed=$((passed + ${hp:-0}))
failed=$((failed + ${hf:-1}))
echo "deb: test host: ${line:-no verdict}"

# Purge: every file, module and DKMS tree gone (the kvm group stays: KVM
# and QEMU use it too).
purge
check packages_purge $?
left=$(ls -d /usr/src/hvx-* /var/lib/dkms/hvx /var/lib/dkms/hvx-guest \
	/lib/modules/*/updates/dkms/hvx*.ko* /usr/bin/hvx-run /usr/bin/hvx-info /usr/bin/hvx-stat \
	/lib/udev/rules.d/60-hvx.rules /usr/share/doc/hvx-* 2>/dev/null)
[ -n "$left" ] && echo "deb: left after purge: $left"
[ -z "$left" ] && ! dpkg -l $pkgs 2>/dev/null | grep -q '^[ir]'
check purge_leaves_nothing $?
echo "deb: $passed passed, $failed failed, 0 skipped"
[ $failed -eq 0 ]
