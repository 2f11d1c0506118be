# SPDX-License-Identifier: GPL-2.0
# qmp_lib.sh - what the tests of hvx-run's QMP socket share: runs in the background, waits, QMP requests, console counts.
# Sourced after the test sets RUN, QC, T and BOOT_TIMEOUT.

# start NAME ARGS...: hvx-run in the background, QMP on $T/NAME.sock,
# console in $T/NAME.out, messages in $T/NAME.err; its pid in $T/NAME.pid,
# its exit status in $T/NAME.rc once it has ended.
start() {
	local name=$1
	shift
	rm -f $T/$name.sock $T/$name.rc
	( $RUN --qmp $T/$name.sock "$@" </dev/null >$T/$name.out 2>$T/$name.err &
	  echo $! >$T/$name.pid
	  wait $!
	  # Whole or absent: the waiters poll for this file.
	  echo $? >$T/$name.rc.new && mv $T/$name.rc.new $T/$name.rc ) &
}

# wait_for NAME PATTERN [SECONDS]: until the console has PATTERN; 1 if it
# never comes or hvx-run ends first.
wait_for() {
	local n=0
	while ! tr -d '\r' <$T/$1.out 2>/dev/null | grep -q "$2"; do
		[ -f $T/$1.rc ] && return 1
		[ $n -ge $((${3:-$BOOT_TIMEOUT} * 5)) ] && return 1
		sleep 0.2
		n=$((n + 1))
	done
}

# wait_exit NAME [SECONDS]: until hvx-run NAME has ended; its status in $rc.
wait_exit() {
	local n=0
	while [ ! -f $T/$1.rc ] && [ $n -lt $((${2:-60} * 5)) ]; do
		sleep 0.2
		n=$((n + 1))
	done
	rc=$(cat $T/$1.rc 2>/dev/null || echo none)
}

# qmp NAME REQUEST...: replies (and events) appended to $T/NAME.qmp, the
# last reply in $T/NAME.reply.
qmp() {
	local name=$1
	shift
	$QC -t 60 $T/$name.sock "$@" >$T/$name.reply 2>&1
	qrc=$?
	cat $T/$name.reply >>$T/$name.qmp
	return $qrc
}

# migration_status NAME SECONDS: poll query-migrate until it ends; its status in $mst.
migration_status() {
	local n=0
	mst=
	while [ $n -lt $(($2 * 5)) ]; do
		qmp $1 '{"execute": "query-migrate"}'
		mst=$(sed -n 's/.*"status": "\([a-z-]*\)".*/\1/p' $T/$1.reply | tail -n 1)
		case $mst in completed|failed|cancelled) return ;; esac
		sleep 0.2
		n=$((n + 1))
	done
}

# counts FILE...: the count markers of the console files, concatenated
# (a line the save cut in two is whole again).  A last line without its
# newline is one the guest is still writing, a byte per exit: "count 4"
# may be the start of "count 45", so it is left out.
counts() {
	{ cat "$@"; echo " (end)"; } | tr -d '\r' | sed -n 's/.*HVX-GUEST: count \([0-9][0-9]*\)$/\1/p'
}

# consecutive FILE...: the counts run 1, 2, 3, ... with no gap and no repeat.
consecutive() {
	counts "$@" | awk 'NR != $1 { bad = 1; print "# count " $1 " at line " NR } END { exit bad || NR < 2 }'
}

last_count() {
	counts "$@" | tail -n 1
}

# marker NAME KEY: the first "HVX-GUEST: KEY value" (the last line may be cut).
marker() {
	tr -d '\r' <$T/$1.out | sed -n "s/^HVX-GUEST: $2 //p" | head -n 1
}

# refused NAME ARGS...: hvx-run --incoming refuses: status 2, one line, no guest output.
refused() {
	local name=$1
	shift
	timeout 60 $RUN "$@" </dev/null >$T/$name.out 2>$T/$name.err
	rc=$?
	ktap_diag "$name: exit $rc: $(cat $T/$name.err)"
	[ $rc -eq 2 ] && [ "$(wc -l <$T/$name.err)" -eq 1 ] && [ ! -s $T/$name.out ]
	ktap_result $name $?
}

# At the end: any hvx-run still running (a failed test's) is killed.
stop_all() {
	for p in $T/*.pid; do
		[ -f "$p" ] && [ ! -f "${p%.pid}.rc" ] && kill -9 $(cat $p) 2>/dev/null
	done
	[ -n "${nc_pid:-}" ] && kill $nc_pid 2>/dev/null
}
trap stop_all EXIT
