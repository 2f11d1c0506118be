#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build-kvm-unit-tests.sh - builds upstream kvm-unit-tests (x86_64) from a source tree kept outside the project into a cache, and packs its tests as an initramfs overlay (/kut).
# Usage: build-kvm-unit-tests.sh SRC OUT.cpio.gz
# The build lands in ~/.cache/hvx/kvm-unit-tests-HASH (HASH of the sources),
# reused while the sources stay the same. kvm-unit-tests is GPL-2.0 and is
# neither copied into nor shipped with hvx: only its built tests travel, in
# the test host's initramfs.
set -euo pipefail
src=$(cd "$1" && pwd)
out=$2
hash=$(cd "$src" && find . -type f ! -path './.git/*' -print0 | sort -z | xargs -0 sha1sum | sha1sum | cut -c1-12)
cache=${HVX_CACHE:-$HOME/.cache/hvx}/kvm-unit-tests-$hash
if [ ! -f "$cache/built" ]; then
	echo "build-kvm-unit-tests.sh: building $src in $cache"
	rm -rf "$cache"
	mkdir -p "$(dirname "$cache")"
	cp -a "$src" "$cache"
	# A copy that lost its symbolic links holds their targets as text
	# (x86/sieve.c is "../common/sieve.c"): make them links again.
	find "$cache" -type f -size -200c | while read -r f; do
		t=$(head -c 200 "$f")
		case $t in
		../*) [ "$(wc -l <"$f")" -le 1 ] && [ -f "$(dirname "$f")/$t" ] && ln -sf "$t" "$f" ;;
		esac
	done
	(cd "$cache" && ./configure --arch=x86_64 >/dev/null && make -j"$(nproc)" -s >/dev/null)
	touch "$cache/built"
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/kut/x86"
cp "$cache"/x86/*.flat "$cache/x86/unittests.cfg" "$root/kut/x86/"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out"
echo "build-kvm-unit-tests.sh: $(ls "$root/kut/x86" | grep -c '\.flat$') tests in $out"
