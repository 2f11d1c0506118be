# SPDX-License-Identifier: GPL-2.0
# ktap-check.awk - is a test host's console output valid KTAP at the top level: version line, plan 1..N, results 1..N in order, nothing else unprefixed.
# Usage: awk -v host=NAME -f ktap-check.awk console.log
#
# The KTAP starts at its first "TAP version 13" (or "KTAP version 1")
# line and ends at the host's dmesg dump (HVX-DMESG-BEGIN) or the end of
# the log.  In between, besides the plan and the results, only
# diagnostics ("#" lines) and nested lines (indented by four spaces) may
# appear at the top level, and the kernel's own console lines
# ("[ 12.345678] ..."), which are the console's, not the runner's: what
# they say is ktap-summary.awk's to judge.  Prints one "PROBLEM host: KTAP: ..."
# line per fault (the first few) and exits 1 when there is one.

function bad(msg) {
	if (++nbad <= BAD_SHOWN)
		printf "PROBLEM %s: KTAP: %s\n", host, msg
}

BEGIN { BAD_SHOWN = 5; plan = -1; started = 0; seen = 0 }

{ sub(/\r$/, "") }

!started {
	# What comes before (firmware, the host's own lines) is not KTAP's.
	if ($0 ~ /^(TAP version 13|KTAP version 1)$/) {
		started = 1
		vline = NR
	}
	next
}

/^HVX-DMESG-BEGIN/ { exit }

/^    / || /^#/ { next }

/^\[ *[0-9]+\.[0-9]+\] / { next }

/^1\.\.[0-9]+( # .*)?$/ {
	if (plan >= 0)
		bad("line " NR ": a second plan: " $0)
	else if (seen)
		bad("line " NR ": plan after " seen " results")
	else
		plan = substr($1, 4) + 0
	next
}

/^(not )?ok [0-9]+( |$)/ {
	num = $0 ~ /^not / ? $3 : $2
	seen++
	if (plan < 0)
		bad("line " NR ": result before the plan: " $0)
	if (num + 0 != seen)
		bad("line " NR ": result numbered " num ", expected " seen ": " $0)
	if ($0 !~ /^(not )?ok [0-9]+ [^#]/)
		bad("line " NR ": result without a description: " $0)
	next
}

{ bad("line " NR ": not KTAP at the top level: " substr($0, 1, 120)) }

END {
	if (!started)
		bad("no \"TAP version 13\" line")
	else if (plan < 0)
		bad("no plan after the version line (line " vline ")")
	else if (seen != plan)
		bad("planned " plan " results, saw " seen)
	if (nbad > BAD_SHOWN)
		printf "PROBLEM %s: KTAP: %d more faults\n", host, nbad - BAD_SHOWN
	exit nbad ? 1 : 0
}
