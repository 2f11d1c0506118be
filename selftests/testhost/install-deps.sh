#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# install-deps.sh - installs the Debian packages the build and the test hosts need, if missing.
set -euo pipefail
pkgs=(gcc make libc6-dev linux-image-amd64 linux-headers-amd64 busybox-static cpio kmod
      gzip qemu-system-x86 bochs bochs-term bochsbios vgabios isolinux syslinux-common
      genisoimage dkms sparse e2fsprogs xz-utils)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
