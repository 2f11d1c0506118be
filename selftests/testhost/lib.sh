# SPDX-License-Identifier: GPL-2.0
# lib.sh - what run-qemu.sh and run-bochs.sh share: showing a host's output and judging its log.

# finish_host NAME MODE LOG: print what a person wants to see of MODE (bench
# lines, or the run section), then judge LOG; the exit status is the verdict.
# The modes that run the suite must print valid KTAP (ktap-check.awk).
finish_host() {
	local name=$1 mode=$2 log=$3 here invalid=0
	here=$(dirname "${BASH_SOURCE[0]}")
	case $mode in
	check|novirt|pair)
		awk -v host="$name" -f "$here/ktap-check.awk" "$log" || invalid=1 ;;
	esac
	if [ "$mode" = bench ]; then
		tr -d '\r' <"$log" | grep -E '^(bench|# )'
		mode=run	# judged like run: a clean, finished log
	elif [ "$mode" = run ]; then
		tr -d '\r' <"$log" | sed -n '/HVX-HOST: /,/^HVX-DMESG-BEGIN/p' |
			sed '$d; s/.*HVX-HOST: /HVX-HOST: /'
	fi
	awk -v host="$name" -v mode="$mode" -v ktap_invalid=$invalid -f "$here/ktap-summary.awk" "$log"
}
