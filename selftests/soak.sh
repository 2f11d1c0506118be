#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# soak.sh - make soak: 100 hvx-run guest boots in a row, then 4 guests x 2 vCPUs at once for 10 minutes of disk, network and IPI traffic.
# The host command line may change the figures: hvxsoakboots=100 hvxsoakseconds=600 hvxsoakguests=4.
dir=$(dirname "$0")
. "$dir/ktap.sh"
. "$dir/guest_boot.sh"
. "$dir/hvx_module.sh"
guest_boot_needs tunctl ip httpd md5sum /dev/net/tun
hvx_module_find
CMDLINE="console=ttyS0 reboot=k panic=-1 tsc=reliable"
BOOTS=100 SECONDS_=600 GUESTS=4
for arg in $(cat /proc/cmdline); do
	case $arg in
	hvxsoakboots=*) BOOTS=${arg#*=} ;;
	hvxsoakseconds=*) SECONDS_=${arg#*=} ;;
	hvxsoakguests=*) GUESTS=${arg#*=} ;;
	esac
done
T=/tmp/soak
mkdir -p $T
ktap_plan 4

# Boots: the test guest's checks and power-off, 1 and 2 vCPUs in turn;
# broken is anything but status 0 with the guest's last line seen.
broken=0
i=1
while [ $i -le $BOOTS ]; do
	c=$((i % 2 + 1))
	t0=$(date +%s)
	timeout 60 $RUN -k "$KERNEL" -i "$GUEST" -m 256M -c $c -p "$CMDLINE" \
		</dev/null >$T/boot.out 2>$T/boot.err
	rc=$?
	if [ $rc -ne 0 ] || ! grep -q '^HVX-GUEST: done' $T/boot.out; then
		broken=$((broken + 1))
		ktap_diag "boot $i ($c vCPUs): exit $rc after $(($(date +%s) - t0)) s: $(tail -n 1 $T/boot.err)"
		grep 'stopped at' $T/boot.err | while read -r l; do ktap_diag "$l"; done
		tail -n 20 $T/boot.out | defuse
	fi
	i=$((i + 1))
done
echo "# soak: $BOOTS boots, $broken broken"
ktap_result soak_boots_none_broken $([ $broken -eq 0 ]; echo $?)

# Guests at once: each with its own disk and tap (10.0.N.1 on the host,
# where one httpd serves a pattern on every tap).
mkdir -p $T/www
head -c 262144 /dev/urandom >$T/www/pattern
md5=$(md5sum <$T/www/pattern | cut -d' ' -f1)
n=1
while [ $n -le $GUESTS ]; do
	tunctl -t hvxsoak$n >/dev/null && ip addr add 10.0.$n.1/24 dev hvxsoak$n &&
		ip link set hvxsoak$n up || ktap_diag "tap hvxsoak$n: cannot set it up"
	head -c $((32 << 20)) /dev/zero >$T/disk$n.img
	n=$((n + 1))
done
httpd -p 8080 -h $T/www
t0=$(date +%s)
n=1
while [ $n -le $GUESTS ]; do
	timeout $((SECONDS_ + 300)) $RUN -k "$KERNEL" -i "$GUEST" -m 256M -c 2 \
		-d $T/disk$n.img -n tap=hvxsoak$n \
		-p "$CMDLINE hvxguest=soak hvxsoak=$SECONDS_ hvxsoaknet=$n hvxsoakmd5=$md5" \
		</dev/null >$T/guest$n.out 2>$T/guest$n.err &
	echo $! >$T/guest$n.pid
	n=$((n + 1))
done
failed=0 rounds=0 bad=0 ipis=0
n=1
while [ $n -le $GUESTS ]; do
	wait "$(cat $T/guest$n.pid)"
	rc=$?
	set -- $(tr -d '\r' <$T/guest$n.out | sed -n 's/^HVX-GUEST: soak-rounds //p')
	ktap_diag "guest $n: exit $rc, ${1:-?} rounds, disk-bad ${3:-?}, net-bad ${5:-?}, IPIs $(tr -d '\r' <$T/guest$n.out | sed -n 's/^HVX-GUEST: soak-ipis //p')"
	if [ $rc -ne 0 ] || [ -z "$1" ] || ! grep -q '^HVX-GUEST: done' $T/guest$n.out; then
		failed=$((failed + 1))
		grep 'stopped at' $T/guest$n.err | while read -r l; do ktap_diag "$l"; done
		tail -n 30 $T/guest$n.out | defuse
	else
		rounds=$((rounds + $1))
		bad=$((bad + $3 + $5))
		ipis=$((ipis + $(tr -d '\r' <$T/guest$n.out | sed -n 's/^HVX-GUEST: soak-ipis //p')))
	fi
	! grep -E 'WARNING: CPU:|Call Trace|BUG:|Oops' $T/guest$n.out | defuse | grep . || failed=$((failed + 1))
	n=$((n + 1))
done
echo "# soak: $GUESTS guests x 2 vCPUs for $(($(date +%s) - t0)) s: $rounds rounds (a MiB written and read back, a ping, a 256 KiB fetch each), $bad bad, $ipis IPIs in the guests, $failed broken"
ktap_result soak_guests_none_broken $([ $failed -eq 0 ]; echo $?)
ktap_result soak_traffic_all_correct $([ $failed -eq 0 ] && [ $bad -eq 0 ] && [ $rounds -gt 0 ]; echo $?)
killall httpd 2>/dev/null
# Nothing of the VMs is left.
if [ -z "$KO" ]; then
	ktap_skip soak_no_vm_left "$KO_WHY"
else
	rmmod hvx && insmod "$KO"
	ktap_result soak_no_vm_left $?
fi
rm -rf $T
ktap_finish
