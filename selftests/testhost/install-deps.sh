#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# install-deps.sh - installs the Debian packages the build and the test hosts need, if missing: Debian 12's 6.1 kernel and bookworm-backports' 6.12 kernel (image and headers), then builds the patched QEMU the SVM hosts run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo

# The second kernel (and the QEMU source) come from bookworm-backports; its
# sources also get deb-src lines, which 'apt-get source' needs.
bpo=/etc/apt/sources.list.d/hvx-bookworm-backports.sources
if [ ! -f "$bpo" ]; then
	$sudo tee "$bpo" >/dev/null <<'SRC'
Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	$sudo apt-get update -q
fi

# Debian 12's kernel metapackages give 6.1; the 6.12 kernel is named by its
# ABI (linux-image-6.12.NN+deb12-amd64): take the newest backports offers.
k612=$(apt-cache pkgnames linux-headers-6.12. | grep -E '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
	sed 's/^linux-headers-//' | sort -V | tail -n 1)
[ -n "$k612" ] || { echo "install-deps.sh: bookworm-backports offers no 6.12 kernel" >&2; exit 1; }

pkgs=(gcc make libc6-dev linux-image-amd64 linux-headers-amd64 busybox-static cpio kmod
      gzip qemu-system-x86 bochs bochs-term bochsbios vgabios isolinux syslinux-common
      genisoimage dkms sparse e2fsprogs xz-utils dpkg-dev
      # qcow2_test.sh's reference: qemu-img check, compare, snapshot
      qemu-utils
      # make deb and its check: Debian's packaging tools; udevd for the test host
      debhelper dh-dkms lintian help2man fakeroot udev
      # the operator's tools the deb host runs against hvx's tracepoints
      linux-perf trace-cmd
      "linux-image-$k612" "linux-headers-$k612"
      # what the patched QEMU needs to build (selftests/testhost/qemu/build.sh)
      ninja-build pkg-config python3 python3-venv libglib2.0-dev libpixman-1-dev
      zlib1g-dev flex bison libslirp-dev libfdt-dev
      # make check-debug's kernel (build-debug-kernel.sh)
      libelf-dev libssl-dev bc)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
		-t bookworm "${missing[@]}" ||
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

"$here/qemu/build.sh"
