# SPDX-License-Identifier: GPL-2.0
# hvx_module.sh - what the tests that unload hvx.ko share: the hvx.ko file they load back afterwards, or why there is none here.
# Sourced after ktap.sh, with dir set to the test's directory.

# hvx_module_find: KO, the file to insmod after an rmmod; or KO empty,
# status 1 and the reason in KO_WHY.  In a test host it is the one /init
# loaded, /lib/hvx/hvx.ko.  Elsewhere it is $HVX_KO, else the source
# tree's (Kbuild leaves hvx.ko above selftests/), else the installed
# module (modinfo -n hvx); only a file built for the running kernel is
# taken: an rmmod followed by a refused insmod would leave the tests after
# without hvx.ko.
hvx_module_find() {
	KO='' KO_WHY=''
	if [ -n "$HVX_TESTHOST" ]; then
		KO=/lib/hvx/hvx.ko
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		KO_WHY="unloading and loading hvx.ko needs root"
		return 1
	fi
	if [ -n "$HVX_KO" ]; then
		set -- "$HVX_KO"
	else
		set -- "$dir/../hvx.ko" "$(modinfo -n hvx 2>/dev/null)"
	fi
	for f in "$@"; do
		[ -n "$f" ] && [ -f "$f" ] || continue
		# vermagic's first word is the kernel release it was built for.
		if [ "$(modinfo -F vermagic "$f" 2>/dev/null | cut -d' ' -f1)" = "$(uname -r)" ]; then
			KO=$f
			return 0
		fi
		KO_WHY="$f is not built for this kernel ($(uname -r))"
	done
	[ -n "$KO_WHY" ] ||
		KO_WHY="no hvx.ko file to load back after rmmod (set HVX_KO=/path/to/hvx.ko)"
	return 1
}

# hvx_module_or_skip: KO set, or the whole test skipped with the reason.
hvx_module_or_skip() {
	hvx_module_find && return 0
	echo "TAP version 13"
	echo "1..0 # SKIP $KO_WHY"
	exit 4
}
