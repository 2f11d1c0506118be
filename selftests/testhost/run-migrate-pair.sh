#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run-migrate-pair.sh - two SVM test hosts joined by a QEMU stream network on the loopback: a live migration from one to the other, and the guest's count checked across both.
# Usage: run-migrate-pair.sh NAME KVER INITRAMFS LOGDIR
#
# NAME-dst listens (its NIC is the stream's server), NAME-src connects;
# each runs its half of selftests/hvx_migrate_pair.sh.  Both are judged as
# test hosts; then the guest's console, printed by each, must count on
# from the source's last number on the receiver with no gap.
set -uo pipefail
name=$1 kver=$2 initrd=$3 logdir=$4
here=$(cd "$(dirname "$0")" && pwd)
# A port of its own for each pair (6.1 and 6.12 may run side by side).
port=$((20000 + $(cksum <<<"$name" | cut -d' ' -f1) % 20000))
mkdir -p "$logdir"

"$here/run-qemu.sh" "$name-dst" "$kver" "$initrd" "$logdir" -mode pair -append hvxpair=dst \
	-net-stream server:$port -timeout 1200 >"$logdir/$name-dst.out" 2>&1 &
dst=$!
sleep 2
"$here/run-qemu.sh" "$name-src" "$kver" "$initrd" "$logdir" -mode pair -append hvxpair=src \
	-net-stream client:$port -timeout 1200 >"$logdir/$name-src.out" 2>&1
wait $dst
cat "$logdir/$name-dst.out" "$logdir/$name-src.out"

# The console of both halves, joined where the switch-over cut a line.
console() {
	tr -d '\r' <"$logdir/$name-$1.log" | sed -n "s/^ *# $1| //p"
}
{
	if grep -q "# src-cut yes" "$logdir/$name-src.log"; then
		console src | sed '$d'
		printf '%s' "$(console src | tail -n 1)"
	else
		console src
	fi
	# The receiver's last line, when cut, was the guest's still being written.
	if grep -q "# dst-cut yes" "$logdir/$name-dst.log"; then
		console dst | sed '$d'
	else
		console dst
	fi
} | sed -n 's/.*HVX-GUEST: count \([0-9][0-9]*\)$/\1/p' >"$logdir/$name.counts"
pass=0 fail=0
for side in src dst; do
	line=$(grep -E "^$name-$side: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$" \
		"$logdir/$name-$side.out" | tail -n 1)
	read -r p f <<<"$(echo "$line" | awk '{ print $2, $4 }')"
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-1}))
done
if awk 'NR != $1 { bad = 1 } END { exit bad || NR < 20 }' "$logdir/$name.counts"; then
	echo "$name: the count runs 1 to $(tail -n 1 "$logdir/$name.counts") across both hosts"
	pass=$((pass + 1))
else
	echo "FAIL $name: the count has a gap or a repeat across the hosts:" \
		"$(tr '\n' ' ' <"$logdir/$name.counts" | cut -c1-400)"
	fail=$((fail + 1))
fi
echo "$name: $pass passed, $fail failed, 0 skipped"
