#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# qcow2_test.sh - hvx-run's qcow2 backend against qemu-img, on the build machine: images of every kind qemu-img makes written at random and compared, thin provisioning, SIGKILLs mid-write, malformed images, a metadata fuzzer.
#
# Runs where qemu-img is (make check runs it on the build machine; it needs
# no /dev/hvx: block_io links hvx-run's block/ code alone).  The guest
# boots on qcow2 disks are hvx_virtio_test.sh's.  Sizes:
# HVX_QCOW2_OPS (random requests per image, 1500), HVX_QCOW2_KILLS (200),
# HVX_QCOW2_FUZZ (mutated images, 5000; make fuzz-qcow2 runs 100,000).
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/ktap.sh"
B=$dir/block_io
RUN=${HVX_RUN:-$dir/../userspace-tools/hvx-run/hvx-run}
OPS=${HVX_QCOW2_OPS:-1500}
KILLS=${HVX_QCOW2_KILLS:-200}
FUZZ=${HVX_QCOW2_FUZZ:-5000}
SEED=${HVX_FUZZ_SEED:-1}
if ! command -v qemu-img >/dev/null || [ ! -x "$B" ]; then
	echo "TAP version 13"
	echo "1..0 # SKIP needs qemu-img (Debian's qemu-utils) and block_io (make -C selftests)"
	exit 4
fi
T=$(mktemp -d /tmp/hvx-qcow2-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

# poke_at FILE OFFSET HEX: big-endian bytes into the file.
poke_at() {
	printf "$(echo "$3" | sed 's/../\\x&/g')" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# be64 FILE OFFSET: a big-endian 64-bit field, in decimal.
be64() {
	od -An -tx1 -j "$2" -N 8 "$1" | tr -d ' \n' | { read -r h; echo $((16#$h)); }
}

# check_clean NAME IMAGE [REF]: qemu-img check exit 0, and the same disk as REF.
check_clean() {
	qemu-img check "$2" >"$1.check" 2>&1
	c=$?
	[ $c -eq 0 ] || { ktap_diag "$1: qemu-img check exit $c:"; sed 's/^/# | /' "$1.check" | head -n 12; }
	m=0
	if [ -n "${3:-}" ]; then
		qemu-img compare -q "$2" "$3" 2>&1 | sed 's/^/# | /'
		m=${PIPESTATUS[0]}
		[ $m -eq 0 ] || ktap_diag "$1: qemu-img compare exit $m"
	fi
	[ $c -eq 0 ] && [ $m -eq 0 ]
}

# rand NAME zero|keep|RAW: NAME.qcow2 (64 MiB) takes random requests,
# checked against NAME.raw (zeroes, kept as it is, or a copy of RAW);
# then qemu-img check and compare.
rand() {
	name=$1 init=$2
	shift 2
	case $init in
	zero) truncate -s 64M "$name.raw" ;;
	keep) ;;
	*) cp "$init" "$name.raw" ;;
	esac
	out=$("$B" rand "$name.qcow2" "$name.raw" "$SEED" "$OPS" 2>&1)
	r=$?
	ktap_diag "$name: $out"
	[ $r -eq 0 ] && check_clean "$name" "$name.qcow2" "$name.raw"
}

# made NAME [options]: an empty 64 MiB image as qemu-img makes it.
made() {
	name=$1
	shift
	qemu-img create -q -f qcow2 "$@" "$name.qcow2" 64M
}

# refused NAME IMAGE WORDS [open options]: block_io open fails with one line containing WORDS.
refused() {
	name=$1 img=$2 words=$3
	shift 3
	"$B" open "$img" "$@" >"$name.out" 2>&1
	r=$?
	ktap_diag "$name: exit $r: $(head -c 300 "$name.out")"
	[ $r -eq 1 ] && [ "$(wc -l <"$name.out")" -eq 1 ] && grep -q -- "$words" "$name.out"
	ktap_result "$name" $?
}

ktap_plan 43
ktap_diag "qemu-img: $(qemu-img --version | head -n 1); seed $SEED, $OPS requests per image"

# ---- images of every kind qemu-img makes, written at random ----
head -c 64M /dev/urandom >base.raw
made v3_default && rand v3_default zero
ktap_result v3_64k_clusters_random_io_matches_raw_and_checks_clean $?
made v2 -o compat=0.10 && rand v2 zero
ktap_result v2_random_io_matches_raw_and_checks_clean $?
made c512 -o cluster_size=512 && rand c512 zero
ktap_result v3_512_byte_clusters_refcount_table_grows $?
made c2m -o cluster_size=2M && rand c2m zero
ktap_result v3_2m_clusters $?
made rc1 -o refcount_bits=1,cluster_size=4096 && rand rc1 zero
ktap_result refcount_bits_1 $?
made rc64 -o refcount_bits=64 && rand rc64 zero
ktap_result refcount_bits_64 $?
made lazy -o lazy_refcounts=on && rand lazy zero
ktap_result lazy_refcounts_image_stays_clean $?
made pre -o preallocation=metadata && rand pre zero
ktap_result preallocated_metadata $?
qemu-img convert -q -f raw -O qcow2 base.raw full.qcow2 && rand full base.raw
ktap_result converted_full_image $?
# Compressed clusters (zlib): text-like data compresses.
awk 'BEGIN { srand(1); for (i = 0; i < 65536; i++) { s = ""; for (j = 0; j < 20; j++) s = s "word" int(rand() * 1000) " "; printf "%-1023s\n", s } }' >text.raw
qemu-img convert -q -c -f raw -O qcow2 text.raw comp.qcow2 &&
	"$B" read comp.qcow2 comp.out >/dev/null && cmp -s comp.out text.raw &&
	ktap_diag "comp: $(stat -c %s comp.qcow2) bytes for 64 MiB" && rand comp text.raw
ktap_result compressed_clusters_read_and_overwritten $?

# Backing chains: three deep with relative names, a raw base by absolute name, v2 over v3.
qemu-img convert -q -f raw -O qcow2 base.raw chain0.qcow2 &&
	mkdir -p sub && qemu-img create -q -f qcow2 -b ../chain0.qcow2 -F qcow2 sub/chain1.qcow2 &&
	qemu-img create -q -f qcow2 -b sub/chain1.qcow2 -F qcow2 chain2.qcow2 &&
	"$B" do sub/chain1.qcow2 write 1048576 65536 >/dev/null &&
	"$B" read chain2.qcow2 chain2.start >/dev/null &&
	qemu-img compare -q chain2.qcow2 chain2.start && rand chain2 chain2.start &&
	check_clean chain1 sub/chain1.qcow2 && check_clean chain0 chain0.qcow2 base.raw
ktap_result backing_chain_three_deep_relative_names $?
qemu-img create -q -f qcow2 -b "$T/base.raw" -F raw rawback.qcow2 && rand rawback base.raw &&
	cmp -s base.raw "$(readlink -f base.raw)"
ktap_result raw_backing_file_absolute_name $?
qemu-img create -q -f qcow2 -o compat=0.10 -b chain0.qcow2 -F qcow2 v2top.qcow2 && rand v2top base.raw
ktap_result v2_overlay_discard_and_zeroes_over_backing $?

# Internal snapshots: kept through copy-on-write, shown read-only, reverted by qemu-img.
made snap -o cluster_size=4096 && truncate -s 64M snap.raw && "$B" rand snap.qcow2 snap.raw 2 800 >/dev/null &&
	qemu-img snapshot -c s1 snap.qcow2 && cp snap.raw s1.raw && rand snap keep &&
	"$B" read snap.qcow2 s1.view snapshot=s1 >/dev/null && cmp -s s1.view s1.raw
ktap_result internal_snapshot_kept_through_writes_and_readable $?
"$B" open snap.qcow2 snapshot=s1 | grep -q 'read-only' &&
	qemu-img snapshot -a s1 snap.qcow2 && qemu-img compare -q snap.qcow2 s1.raw &&
	qemu-img snapshot -d s1 snap.qcow2 && check_clean snap_deleted snap.qcow2 s1.raw
ktap_result snapshot_opens_read_only_and_reverts_with_qemu_img $?

# External snapshots of a disk in use (QMP's blockdev-snapshot-sync does the same switch):
# a raw disk, then two overlays made over it while it takes writes.
cp base.raw ext.raw && cp base.raw ext.ref &&
	out=$("$B" rand ext.raw ext.ref "$SEED" 500 "$T/ext1.qcow2" ext2.qcow2) &&
	ktap_diag "external: $out" &&
	check_clean ext1 ext1.qcow2 && check_clean ext2 ext2.qcow2 ext.ref &&
	cmp -s ext.raw ext1.qcow2.ref && qemu-img compare -q ext1.qcow2 ext2.qcow2.ref &&
	qemu-img info --backing-chain ext2.qcow2 | grep -c '^image:' | grep -qx 3
ktap_result external_snapshots_freeze_the_images_below $?

# ---- thin provisioning ----
qemu-img create -q -f qcow2 thin.qcow2 16G
i=0 ok=0
while [ $i -lt 128 ]; do
	"$B" do thin.qcow2 write $(( (i * 2654435761 % 262144) * 65536 )) 65536 >/dev/null || ok=1
	i=$((i + 1))
done
size=$(stat -c %s thin.qcow2)
alloc=$(qemu-img check thin.qcow2 2>&1 | sed -n 's/^\([0-9]*\)\/[0-9]* = .*allocated.*/\1/p')
du_before=$(du -k thin.qcow2 | cut -f1)
ktap_diag "thin: 16 GiB disk, 8 MiB written: file $size bytes, $alloc clusters allocated, $du_before KiB on disk"
[ $ok -eq 0 ] && [ "$size" -le $(( (8 + 4) << 20 )) ] && [ "$alloc" = 128 ]
ktap_result thin_16g_image_grows_by_what_was_written $?
i=0
while [ $i -lt 128 ]; do
	"$B" do thin.qcow2 discard $(( (i * 2654435761 % 262144) * 65536 )) 65536 >/dev/null || ok=1
	i=$((i + 1))
done
alloc=$(qemu-img check thin.qcow2 2>&1 | sed -n 's/^\([0-9]*\)\/[0-9]* = .*allocated.*/\1/p')
du_after=$(du -k thin.qcow2 | cut -f1)
# qemu-img check leaves the "allocated" line out when nothing is.
ktap_diag "thin: after discarding it all: ${alloc:-0} clusters allocated, $du_after KiB on disk"
[ $ok -eq 0 ] && [ "${alloc:-0}" = 0 ] && [ "$du_after" -le $((du_before - 7 * 1024)) ] &&
	check_clean thin thin.qcow2
ktap_result discard_frees_clusters_and_file_space $?

# ---- SIGKILL in the middle of writes ----
qemu-img create -q -f qcow2 -o cluster_size=4096 kill.qcow2 16M
i=0 bad= leaks=0 t0=$(date +%s)
while [ $i -lt "$KILLS" ] && [ -z "$bad" ]; do
	"$B" writer kill.qcow2 kill.journal $((SEED * 1000 + i)) >/dev/null &
	pid=$!
	sleep 0.0$((i % 7 + 1))
	kill -KILL $pid
	wait $pid 2>/dev/null
	qemu-img check kill.qcow2 >kill.check 2>&1
	c=$?
	[ $c -eq 3 ] && leaks=$((leaks + 1))
	if [ $c -ne 0 ] && [ $c -ne 3 ]; then
		bad="kill $i: qemu-img check exit $c"
		sed 's/^/# | /' kill.check | head -n 12
	elif ! "$B" verify kill.qcow2 kill.journal >kill.verify; then
		bad="kill $i: flushed data lost"
		sed 's/^/# | /' kill.verify
	fi
	i=$((i + 1))
done
ktap_diag "kill: $i SIGKILLs in $(($(date +%s) - t0)) s: $leaks left leaked clusters (check exit 3), ${bad:-none worse}; $(tail -n 1 kill.verify)"
[ -z "$bad" ]
ktap_result sigkill_leaves_leaks_at_worst_and_flushed_data_intact $?
qemu-img check -q -r leaks kill.qcow2 >/dev/null 2>&1; check_clean kill_repaired kill.qcow2
ktap_result leaks_reclaimed_by_qemu_img_check_r_leaks $?

# ---- malformed images: refused at open with one line, or EIO at run time ----
made good -o cluster_size=65536 && "$B" do good.qcow2 write 0 65536 >/dev/null
l1=$(be64 good.qcow2 40)
m() { cp good.qcow2 "$1.qcow2"; }
m trunc && truncate -s 100 trunc.qcow2
refused truncated_header trunc.qcow2 "too short\|truncated"
m trunc2 && truncate -s 32768 trunc2.qcow2
refused truncated_first_cluster trunc2.qcow2 "truncated"
# NAME OFFSET BYTES WORDS: good.qcow2 with BYTES (hex) at OFFSET, refused naming WORDS.
while read -r name at hex words; do
	m "$name" && poke_at "$name.qcow2" "$at" "$hex"
	refused "$name" "$name.qcow2" "$words" </dev/null
done <<EOF
version_4 4 00000004 version 4
cluster_bits_30 20 0000001e cluster size
absurd_size 24 1000000000000000 too large
l1_table_past_end 40 0000000100000000 L1 table
l1_table_misaligned 40 0000000000030200 L1 table
refcount_table_past_end 48 0000001000000000 refcount table
refcount_table_overlaps_l1 48 $(printf %016x "$l1") overlaps
unknown_incompatible_feature 72 0000000000000400 incompatible features 0x400
external_data_file 72 0000000000000004 external data file
encrypted 32 00000001 encrypted
dirty_image_read_write 72 0000000000000001 check -r all
EOF
"$B" open dirty_image_read_write.qcow2 ro | grep -q read-only
ktap_result dirty_image_opens_read_only $?
qemu-img create -q -f qcow2 loopa.qcow2 64M && qemu-img create -q -f qcow2 -b loopa.qcow2 -F qcow2 loopb.qcow2 &&
	qemu-img rebase -q -u -b loopb.qcow2 -F qcow2 loopa.qcow2
refused backing_chain_loop loopa.qcow2 "loop in the backing chain"
qemu-img create -q -f qcow2 deep0.qcow2 1M
for i in $(seq 1 17); do qemu-img create -q -f qcow2 -b deep$((i - 1)).qcow2 -F qcow2 -u deep$i.qcow2 1M; done
refused backing_chain_too_deep deep17.qcow2 "deeper than 16"
m nobacking && qemu-img rebase -q -u -b /nonexistent/base.qcow2 -F qcow2 nobacking.qcow2
refused missing_backing_file nobacking.qcow2 "backing chain: cannot open /nonexistent"
# Run time: an L2 table past the end of the file, a data cluster on the L1 table.
m l2past && poke_at l2past.qcow2 "$l1" 8000001000000000
"$B" open l2past.qcow2 >/dev/null && ! "$B" do l2past.qcow2 read 0 4096 >l2past.out &&
	grep -q "Input/output error" l2past.out && ! "$B" do l2past.qcow2 write 0 4096 >/dev/null &&
	[ "$(stat -c %s l2past.qcow2)" = "$(stat -c %s good.qcow2)" ]
ktap_result l2_table_past_end_is_eio_not_a_write $?
m ondata && l2=$(( $(be64 ondata.qcow2 "$l1") & 0x00fffffffffffe00 )) &&
	poke_at ondata.qcow2 "$l2" "$(printf %016x $((l1 | (1 << 63))))" && cp ondata.qcow2 ondata.before &&
	! "$B" do ondata.qcow2 read 0 4096 >/dev/null && ! "$B" do ondata.qcow2 write 0 4096 >/dev/null &&
	cmp -s ondata.qcow2 ondata.before
ktap_result data_cluster_on_metadata_is_eio_and_untouched $?
# hvx-run itself: a usage error (status 2), one line, before any VM.
"$RUN" -d l1_table_past_end.qcow2 >run.out 2>&1
r=$?
ktap_diag "hvx-run -d l1_table_past_end.qcow2: exit $r: $(cat run.out)"
[ $r -eq 2 ] && [ "$(wc -l <run.out)" -eq 1 ] && grep -q "L1 table" run.out
ktap_result hvx_run_refuses_a_bad_image_with_one_line $?
"$RUN" -d good.qcow2,format=vmdk >run.out 2>&1
[ $? -eq 2 ] && grep -q "unknown format" run.out
ktap_result hvx_run_refuses_an_unknown_format $?

# A guest must not turn its raw disk into a qcow2 image with a backing file of its choosing.
truncate -s 1M guest.img
! "$B" do guest.img magic 0 512 >magic.out && grep -q "Operation not permitted" magic.out &&
	"$B" do guest.img magic 512 512 >/dev/null && "$B" open guest.img | grep -q '^raw' &&
	"$B" do guest.img magic 0 512 format=raw >/dev/null && "$B" open guest.img | grep -q qcow2
r=$?
"$B" open guest.img >magic.out 2>&1
ktap_diag "raw guard: after format=raw wrote the magic, a probe says: $(cat magic.out)"
[ $r -eq 0 ]
ktap_result probed_raw_disk_cannot_write_a_qcow2_header $?

# ---- the metadata fuzzer ----
qemu-img create -q -f qcow2 -o cluster_size=512 t1.qcow2 1M && truncate -s 1M t1.raw &&
	"$B" rand t1.qcow2 t1.raw 1 40 >/dev/null &&
	qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=1024 t2.qcow2 1M && truncate -s 1M t2.raw &&
	"$B" rand t2.qcow2 t2.raw 2 30 >/dev/null && qemu-img snapshot -c x t2.qcow2 &&
	"$B" rand t2.qcow2 t2.raw 3 10 >/dev/null &&
	qemu-img create -q -f qcow2 -o cluster_size=4096,refcount_bits=1 -b t1.qcow2 -F qcow2 t3.qcow2 1M &&
	cp t1.raw t3.raw && "$B" rand t3.qcow2 t3.raw 4 20 >/dev/null &&
	qemu-img convert -q -c -O qcow2 -o cluster_size=4096 t1.qcow2 t4.qcow2
out=$("$B" fuzz "$SEED" "$FUZZ" t1.qcow2 t2.qcow2 t3.qcow2 t4.qcow2)
r=$?
ktap_diag "fuzz: $out"
[ $r -eq 0 ]
ktap_result metadata_fuzzer_no_crash $?
ktap_finish
