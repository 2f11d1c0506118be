#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build-kmods.sh - builds every kernel module a test host carries (hvx.ko, the guest drivers, the guest test module) for one kernel, out of tree.
# Usage: build-kmods.sh KVER OUTDIR   (OUTDIR gets the .ko files; sources are copied to OUTDIR/src)
#   HOST_KDIR=DIR: hvx.ko against that kernel tree instead (make check-debug:
#   the debug kernel the host boots; the guest modules stay KVER's, the guest's)
#
# Each kernel's objects live under their own OUTDIR, so the test hosts of
# 6.1 and 6.12 are built side by side without cleaning the source tree.
set -euo pipefail
kver=$1 out=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
kdir=/lib/modules/$kver/build
[ -d "$kdir" ] || { echo "build-kmods.sh: no kernel headers in $kdir: run 'make deps'" >&2; exit 1; }
mkdir -p "$out/src"
out=$(cd "$out" && pwd)

# copy_tree DEST FILES...: the sources, refreshed (make sees what changed).
copy_tree() {
	local dest=$out/src/$1
	shift
	mkdir -p "$dest"
	cp -ru "$@" "$dest/"
}
copy_tree hvx "$top/Kbuild" "$top/kmod-hv" "$top/uapi"
copy_tree guest-drivers "$top"/guest-drivers/{Kbuild,*.c,*.h}
copy_tree guest-tests "$top"/selftests/guest/{Kbuild,*.c}
make -s -C "${HOST_KDIR:-$kdir}" M="$out/src/hvx" modules
for d in guest-drivers guest-tests; do
	make -s -C "$kdir" M="$out/src/$d" modules
done
cp "$out/src/hvx/hvx.ko" "$out/src/guest-drivers/hvx_vblk.ko" \
	"$out/src/guest-drivers/hvx_vnet.ko" "$out/src/guest-tests/hvx_vq_hostile.ko" "$out/"
