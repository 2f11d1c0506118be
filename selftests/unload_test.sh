#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# unload_test.sh - hvx.ko cannot be unloaded while /dev/hvx or any VM fd is open, and unloads cleanly after.
dir=$(dirname "$0")
. "$dir/ktap.sh"
. "$dir/hvx_module.sh"
hvx_module_or_skip

ktap_plan 6

exec 3</dev/hvx
rmmod hvx 2>/dev/null
[ $? -ne 0 ] && [ -e /sys/module/hvx ]
ktap_result rmmod_refused_while_dev_fd_open $?
exec 3<&-

# A VM fd alone (its /dev/hvx fd already closed) must pin the module too.
rm -f /tmp/hold.fifo /tmp/hold.out
mkfifo /tmp/hold.fifo
"$dir/hvx_hold" </tmp/hold.fifo >/tmp/hold.out &
holder=$!
exec 4>/tmp/hold.fifo
i=0
while [ "$(cat /tmp/hold.out)" != ready ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ "$(cat /tmp/hold.out)" = ready ]
ktap_result vm_held_by_helper $?
rmmod hvx 2>/dev/null
[ $? -ne 0 ] && [ -e /sys/module/hvx ]
ktap_result rmmod_refused_while_vm_fd_open $?
exec 4>&-
wait $holder
ktap_result helper_closed_vm_cleanly $?

rmmod hvx && [ ! -e /sys/module/hvx ] && [ ! -e /dev/hvx ]
ktap_result rmmod_succeeds_when_idle $?
insmod "$KO" && [ -c /dev/hvx ]
ktap_result insmod_again $?
ktap_finish
