# SPDX-License-Identifier: GPL-2.0
# ktap-summary.awk - judges one test host's console log: nested KTAP results,
# missing results, kernel splats; prints "N passed, N failed, N skipped".
# Usage: awk -v host=NAME [-v mode=run] [-v ktap_invalid=1] -f ktap-summary.awk console.log
# In run mode no tests are expected: only a clean, finished log.
# Top-level results are run_kselftest.sh's: "ok N selftests: hvx: NAME
# [# SKIP]", "not ok N selftests: hvx: NAME # exit=RC|TIMEOUT S seconds".
# ktap_invalid=1: ktap-check.awk found the log's KTAP malformed (a problem).
# Exit status: 0 only when everything planned ran and passed and the log is clean.

function finish_test(name, ok, skip) {
	if (sub_plan >= 0 && sub_seen != sub_plan) {
		problem("test " name ": planned " sub_plan " subtests, saw " sub_seen + 0)
		failed++
	} else if (!ok && !sub_failed) {
		# The program failed without a failing subtest (crash, timeout).
		failed++
	} else if (skip && sub_seen == 0) {
		skipped++
	}
	sub_plan = -1; sub_seen = 0; sub_failed = 0
}

function problem(msg) {
	problems[++nproblems] = msg
}

BEGIN { top_plan = -1; sub_plan = -1; in_dmesg = 0; DIAG_KEPT = 8 }

{ sub(/\r$/, "") }

/^HVX-DMESG-BEGIN/ { in_dmesg = 1; next }
/^HVX-DMESG-END/ { in_dmesg = 0; next }
/^HVX-HOST-DONE/ { done = 1 }
/HVX-HOST: insmod hvx.ko failed/ { problem("hvx.ko did not load") }

# Kernel trouble, wherever it shows (console or the dmesg dump).
# The debug kernel's checkers too: lockdep ("WARNING: possible ...",
# "inconsistent lock state"), KASAN, UBSAN, kmemleak, list debugging.
/Oops|BUG:|WARNING: CPU:|Call Trace|general protection fault|Kernel panic|possible circular locking|lockdep|UBSAN:|KASAN:|kernel BUG at|soft lockup|hung_task|WARNING: (possible|inconsistent|suspicious|bad unlock|held lock|lock held|nested lock)|unreferenced object|list_(add|del) corruption|unchecked MSR access/ {
	problem("kernel: " $0)
}

in_dmesg { next }

/^1\.\.[0-9]+/ && top_plan < 0 { top_plan = substr($1, 4) + 0; next }
/^    1\.\.[0-9]+/ { sub_plan = substr($1, 4) + 0; next }

# A subtest's diagnostics since the one before: the last few are shown
# with its failure, so a CI log alone says why.
/^    # / { diag[ndiag++ % DIAG_KEPT] = substr($0, 5); next }

/^    (not )?ok [0-9]+ / {
	sub_seen++
	if ($0 ~ /^    not ok/) {
		failed++; sub_failed++
		print "FAIL " host ": " substr($0, 5)
		for (i = ndiag > DIAG_KEPT ? ndiag - DIAG_KEPT : 0; i < ndiag; i++)
			print "FAIL " host ":   " diag[i % DIAG_KEPT]
	}
	else if ($0 ~ /# SKIP/) skipped++
	else passed++
	ndiag = 0
	next
}

/^(not )?ok [0-9]+ / {
	top_seen++
	ok = $0 !~ /^not ok/
	name = $0
	sub(/^(not )?ok [0-9]+ (selftests: hvx: )?/, "", name)
	sub(/ # .*/, "", name)
	finish_test(name, ok, $0 ~ /# SKIP/)
	if (!ok) print "FAIL " host ": " $0
	next
}

END {
	if (ktap_invalid)
		problem("the console's KTAP is malformed (see the KTAP lines above)")
	if (mode == "run")
		;
	else if (top_plan < 0)
		problem("no test plan seen")
	else if (top_seen != top_plan)
		problem("planned " top_plan " tests, saw " top_seen " results")
	if (!done)
		problem("test host did not finish (timeout or crash)")
	for (i = 1; i <= nproblems; i++)
		print "PROBLEM " host ": " problems[i]
	if (nproblems && !failed)
		failed = 1
	if (mode == "run")
		print host ": " (nproblems ? "host log has problems" : "host log clean")
	else
		printf "%s: %d passed, %d failed, %d skipped\n", host, passed, failed, skipped
	exit (failed || nproblems) ? 1 : 0
}
