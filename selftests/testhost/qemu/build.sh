#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build.sh - builds the SVM test hosts' QEMU: Debian's bookworm-backports source plus our patches here, x86_64-softmmu only, cached outside the clone.
# Usage: build.sh          build it unless the cached build matches these patches
#        build.sh --path   print the cached qemu-system-x86_64 (status 1 if not built)
#
# Why: Debian's QEMU delivers an interrupt that a hypervisor injects through
# the VMCB's EVENTINJ twice when it emulates more than one CPU (see
# 0001-svm-evtinj-intr-deliver-once.patch); guests under hvx (or KVM) in a
# 2-CPU SVM test host then break.  And its TCG translator crashes on a
# MOV to a segment register that does not exist (guest_fuzz's random code
# hits it: 0002-i386-mov-sreg-invalid-ud.patch).  The cache lives in $HVX_CACHE (default
# ~/.cache/hvx) and is keyed on the patches and BUILD_REV (raise it when
# the build below changes what comes out).
BUILD_REV=1
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${HVX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hvx}
key=$( (cat "$here"/*.patch; echo "$BUILD_REV") | sha256sum | cut -c1-12)
dir=$cache/qemu-$key
bin=$dir/bin/qemu-system-x86_64

if [ "${1:-}" = --path ]; then
	[ -x "$bin" ] || { echo "build.sh: no patched QEMU in $dir: run 'make deps'" >&2; exit 1; }
	echo "$bin"
	exit 0
fi
[ -x "$bin" ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
# QEMU 10's configure wants meson 1.5 or later and pycotap, which it would
# otherwise fetch from PyPI: bookworm-backports has both.
if ! dpkg-query -W -f='${Version}' meson 2>/dev/null | grep -q '^1\.[5-9]' ||
   ! dpkg-query -W -f='${Status}' python3-pycotap 2>/dev/null | grep -q 'ok installed'; then
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
		-t bookworm-backports meson python3-pycotap
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hvx-qemu.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "build.sh: building QEMU for the SVM test hosts in $work (5 to 10 minutes on two cores)"
# The source package's upstream tarball (Debian's repack of QEMU 10.0),
# without Debian's own patch series: the same source on every machine,
# whether or not a mirror serves the rest of the package (some lag behind
# their Sources index and answer 404 for the .dsc).
apt-get source -q --download-only qemu/bookworm-backports >fetch.log 2>&1 || :
orig=$(ls qemu_*.orig.tar.* 2>/dev/null | head -n 1)
[ -n "$orig" ] || { cat fetch.log >&2; echo "build.sh: cannot fetch QEMU's source" >&2; exit 1; }
echo "build.sh: building $orig"
tar xf "$orig"
src=$(find . -maxdepth 1 -type d -name 'qemu-*' | head -n 1)
cd "$src"
for p in "$here"/*.patch; do
	patch -p1 --forward <"$p"
done
# Debian's repacked source has no firmware blobs; the test hosts take
# Debian's installed firmware (-L /usr/share/qemu), so the compressed EDK2
# images meson insists on unpacking may be empty stand-ins.
for fd in $(sed -n "s/^ *'\(edk2-[a-z0-9_-]*\.fd\)',$/\1/p" pc-bios/meson.build); do
	[ -e "pc-bios/$fd.bz2" ] || bzip2 </dev/null >"pc-bios/$fd.bz2"
done
mkdir build && cd build
../configure --prefix="$dir" --python=/usr/bin/python3 --target-list=x86_64-softmmu \
	--without-default-features --disable-docs --disable-werror --disable-tools \
	--disable-install-blobs \
	--enable-tcg --enable-fdt=system >configure.log 2>&1 ||
	{ tail -n 30 configure.log >&2; exit 1; }
make -j"$(nproc)" >make.log 2>&1 || { tail -n 30 make.log >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir/bin"
cp qemu-system-x86_64 "$bin"
echo "build.sh: $bin"
