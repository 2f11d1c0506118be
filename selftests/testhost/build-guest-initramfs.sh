#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build-guest-initramfs.sh - packs the initramfs of hvx-run's test guest: busybox, a CPUID helper, an /init that prints checks.
# Usage: build-guest-initramfs.sh OUT.cpio.gz
#
# The guest's /init prints "HVX-GUEST: <check> <value>" lines on its console
# for hvx_run_test.sh to judge, then powers off.  hvxguest= on the guest
# command line picks a variant: panic (a deliberate kernel panic), reboot,
# wait (sleeps until killed) or shell (make run: a console shell).
set -euo pipefail
out=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,proc,sys,dev}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"

# CPUID leaf 0x40000000: the hypervisor signature and the highest hypervisor leaf.
cat >"$root/cpuid-sig.c" <<'C'
#include <cpuid.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	unsigned int a, b, c, d;
	char sig[13];

	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = 0;
	printf("%s 0x%x\n", sig, a);
	return 0;
}
C
${CC:-gcc} -O2 -Wall -Werror -static -o "$root/bin/cpuid-sig" "$root/cpuid-sig.c"
rm "$root/cpuid-sig.c"

cat >"$root/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
say() { echo "HVX-GUEST: $*"; }

variant=
for arg in $(cat /proc/cmdline); do
	case $arg in hvxguest=*) variant=${arg#hvxguest=} ;; esac
done
say init $variant
case $variant in
panic)
	echo c >/proc/sysrq-trigger	# needs CONFIG_MAGIC_SYSRQ
	say still-alive
	;;
reboot)
	reboot -f
	;;
wait)
	while :; do sleep 1; done
	;;
shell)	# make run on a terminal: a shell on the console, power-off on exit
	echo "hvx guest shell ($(nproc) vCPUs); 'exit' powers the guest off"
	setsid cttyhack sh -l
	poweroff -f
	;;
esac

grep -qw hypervisor /proc/cpuinfo && say hypervisor-flag yes || say hypervisor-flag no
say cpuid-signature $(cpuid-sig)
jiffies() { awk '/^jiffies:/ { print $2; exit }' /proc/timer_list; }
j1=$(jiffies) u1=$(cut -d' ' -f1 /proc/uptime)
sleep 1
j2=$(jiffies) u2=$(cut -d' ' -f1 /proc/uptime)
say jiffies $j1 $j2
say uptime $u1 $u2
say memtotal-kb $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
# "Memory: free/totalK available": the total is every page of e820 RAM.
say ram-kb $(dmesg | sed -n 's|.*Memory: [0-9]*K/\([0-9]*\)K available.*|\1|p')
say cpus $(grep -c ^processor /proc/cpuinfo)
say done
poweroff -f
INIT
chmod +x "$root/init"

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -9 >"$out"
